//! The package as a Bot Framework `handoff.initiate` event activity, for agent hubs
//! that speak the Bot Framework handoff protocol.
//!
//! Shape checked against the publisher's own sources (read, not copied):
//! microsoft/botbuilder-js `libraries/botbuilder/src/eventFactory.ts`
//! (`EventFactory.createHandoffInitiation`: an activity of type `event`, name
//! `handoff.initiate`, the hub-specific context as `value`, the conversation account,
//! and the transcript as an attachment named `Transcript` with content type
//! `application/json` whose content is a `Transcript` object, `{ "activities": [...] }`),
//! and the Microsoft Learn reference pages for `EventFactory.CreateHandoffInitiation`
//! (.NET) and `EventFactory` (botbuilder-ts).
//!
//! The activity is JSON built by serde, so every string is JSON-escaped. Each transcript
//! message says `"textFormat": "plain"`: the activity spec calls plain the default,
//! but the Bot Connector documentation and the SDKs' `Activity.TextFormat` say
//! markdown, and a hub that renders markdown would turn a customer's `[x](javascript:..)`
//! into a link. Saying it costs one field and removes the doubt.

use serde_json::{Value, json};

use super::model::ContextPackage;
use crate::event::EventKind;

fn role(actor: &str) -> &'static str {
    if actor == "customer" { "user" } else { "bot" }
}

/// Renders the `handoff.initiate` event activity.
pub fn render_botframework(p: &ContextPackage) -> Value {
    let conversation = json!({ "id": p.background.conversation_id });
    let activities: Vec<Value> = p
        .transcript
        .iter()
        .filter(|line| line.kind != EventKind::Note)
        .map(|line| {
            json!({
                "type": "message",
                "id": format!("{}:{}", p.background.conversation_id, line.seq),
                "timestamp": line.at.to_string(),
                "from": { "id": line.actor, "role": role(&line.actor) },
                "conversation": conversation,
                "text": line.text,
                "textFormat": "plain",
            })
        })
        .collect();
    let last_seq = p.transcript.last().map_or(0, |l| l.seq);
    let s = &p.situation;
    json!({
        "type": "event",
        "name": "handoff.initiate",
        "id": format!("{}:handoff:{}", p.background.conversation_id, last_seq),
        "channelId": "baton",
        "from": { "id": "baton", "role": "bot" },
        "conversation": conversation,
        "value": {
            "skills": p.recommendation.skills,
            "priority": s.priority,
            "intent": p.assessment.intent.as_ref().map(|i| &i.name),
            "confidence": p.assessment.intent.as_ref().map(|i| i.confidence),
            "sentiment": p.assessment.sentiment.as_ref().map(|x| x.label),
            "reasons": s.reasons,
            "customerId": p.background.identity.customer_id,
            "waitingSeconds": s.waiting_seconds,
            "summary": {
                "situation": s.summary,
                "background": p.background.timeline.iter().map(|t| t.what.as_str()).collect::<Vec<_>>(),
                "assessment": {
                    "facts": p.assessment.facts,
                    "openActions": p.assessment.open_actions,
                    "commitments": p.assessment.commitments,
                },
                "recommendation": {
                    "nextActions": p.recommendation.next_actions,
                    "openingLine": p.recommendation.opening_line,
                    "doNotAsk": p.recommendation.do_not_ask.iter().map(|d| d.kind.as_str()).collect::<Vec<_>>(),
                },
            },
            "packageVersion": p.version,
        },
        "attachments": [{
            "contentType": "application/json",
            "name": "Transcript",
            "content": { "activities": activities },
        }],
        "entities": [],
    })
}
