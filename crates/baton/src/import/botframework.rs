//! Bot Framework transcripts (`.transcript` files: a JSON array of activities, as the
//! Bot Framework Emulator and `TranscriptLoggerMiddleware` write them; activity schema:
//! github.com/microsoft/botframework-sdk `specs/botframework-activity/botframework-activity.md`;
//! handoff events: botbuilder's `EventFactory.createHandoffInitiation`).
//!
//! | activity | baton |
//! |---|---|
//! | `message`, `from.role` `user` | `customer_message` |
//! | `message`, `from.role` `bot` | `bot_message` |
//! | `message` with another or no role | skipped (`message_without_role`) |
//! | `message` without text (attachments only) | skipped (`message_without_text`) |
//! | `event` `handoff.initiate` | `handoff_requested`; the hub-specific `value` is kept in `meta.handoff_context` |
//! | `event` `handoff.status` | skipped (`handoff_status`): baton's router writes its own assignment events |
//! | other `event` | skipped (`other_event`) |
//! | `conversationUpdate`, `typing`, `trace` | skipped under their own reason |
//! | anything else | skipped (`other_activity`) |
//!
//! Some transcripts mark a human agent's messages with role `bot` (the agent replied
//! through the bot's channel); they import as `bot_message`, since the transcript does
//! not say otherwise and guessing would put words in an agent's mouth.

use baton_core::{ConversationId, Timestamp};
use serde_json::{Map, Value, json};

use super::Out;
use super::source::Location;

/// Maps one activity; `index` is its place in the file (the id when it has none).
pub fn map(activity: Value, at: &Location, out: &mut Vec<Out>) {
    let Some(kind) = activity.get("type").and_then(Value::as_str) else {
        out.push(Out::Error(
            at.clone(),
            "an activity needs a string type".into(),
        ));
        return;
    };
    let Some(raw_cid) = activity.pointer("/conversation/id").and_then(Value::as_str) else {
        out.push(Out::Error(
            at.clone(),
            "an activity needs conversation.id".into(),
        ));
        return;
    };
    let cid = match ConversationId::parse(raw_cid) {
        Ok(cid) => cid,
        Err(e) => {
            out.push(Out::Error(
                at.clone(),
                format!("conversation.id {raw_cid:?} is not a baton conversation id: {e}"),
            ));
            return;
        }
    };
    let time = match activity.get("timestamp").and_then(Value::as_str) {
        None => None,
        Some(raw) => match Timestamp::parse(raw) {
            Ok(time) => Some(time.to_string()),
            Err(e) => {
                out.push(Out::Error(at.clone(), format!("timestamp {raw:?}: {e}")));
                return;
            }
        },
    };
    let position = match (activity.get("id").and_then(Value::as_str), at.element) {
        (Some(id), _) => format!("id:{id}"),
        (None, Some(index)) => format!("index:{index}"),
        (None, None) => format!("line:{}", at.line.unwrap_or(0)),
    };
    let mut meta = json!({"imported_from": "botframework"});
    let body = match kind {
        "message" => {
            let Some(text) = activity
                .get("text")
                .and_then(Value::as_str)
                .filter(|t| !t.trim().is_empty())
            else {
                out.push(Out::Skip("message_without_text"));
                return;
            };
            match activity.pointer("/from/role").and_then(Value::as_str) {
                Some("user") => {
                    json!({"type": "customer_message", "actor": "customer", "text": text})
                }
                Some("bot") => json!({"type": "bot_message", "actor": "bot", "text": text}),
                _ => {
                    out.push(Out::Skip("message_without_role"));
                    return;
                }
            }
        }
        "event" => match activity.get("name").and_then(Value::as_str) {
            Some("handoff.initiate") => {
                if let Some(value) = activity.get("value").filter(|v| !v.is_null()) {
                    meta["handoff_context"] = value.clone();
                }
                json!({"type": "handoff_requested", "actor": "bot"})
            }
            Some("handoff.status") => {
                out.push(Out::Skip("handoff_status"));
                return;
            }
            _ => {
                out.push(Out::Skip("other_event"));
                return;
            }
        },
        "conversationUpdate" => return out.push(Out::Skip("conversation_update")),
        "typing" => return out.push(Out::Skip("typing")),
        "trace" => return out.push(Out::Skip("trace")),
        _ => return out.push(Out::Skip("other_activity")),
    };
    let Value::Object(mut body) = body else {
        return;
    };
    let mut extra = Map::new();
    extra.insert(
        "id".into(),
        super::stable_id("botframework", &cid, &position).into(),
    );
    if let Some(time) = time {
        extra.insert("at".into(), time.into());
    }
    extra.insert("meta".into(), meta);
    body.extend(extra);
    out.push(Out::Event {
        cid,
        event: Value::Object(body),
        at: at.clone(),
    });
}
