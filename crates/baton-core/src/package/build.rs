//! Building the package from the log: facts collected and redacted for the viewer,
//! state views, sentences, and next actions in the order an agent should take them.
//!
//! The log and the state are first redacted for the viewer by the same [`Redactor`]
//! every other read path uses, so the package never shows what `GET .../events` masks
//! for that role, and every part of it (timeline, documents, reasons) is built from
//! what the viewer may see.

use crate::event::{
    ActionStatus, Event, EventBody, HandoffRequested, Outcome, Priority, ReasonCode,
};
use crate::facts::Redactor;
use crate::facts::redact::redact_fact;
use crate::facts::{Fact, FactExtractor, FactKind, collect_facts};

use super::input::{ConfidencePoint, PackageInput, PriorContact};
use super::model::*;
use super::timeline::condense;
use super::words::{self, SituationParts};

fn last_handoff_request(events: &[Event]) -> Option<&HandoffRequested> {
    events.iter().rev().find_map(|e| match &e.body {
        EventBody::HandoffRequested(h) => Some(h),
        _ => None,
    })
}

/// Builds the package `input.viewer` may read.
pub fn build_package(input: &PackageInput<'_>, extractor: &FactExtractor) -> ContextPackage {
    let raw_facts = match input.facts {
        Some(facts) => facts.to_vec(),
        None => collect_facts(input.events, extractor),
    };
    let facts: Vec<Fact> = raw_facts
        .iter()
        .map(|f| redact_fact(f, input.viewer))
        .collect();
    let personal: Vec<Fact> = raw_facts.into_iter().filter(|f| f.pii.is_some()).collect();
    let redactor = Redactor::new(input.viewer, extractor, &personal);
    let (shown_events, shown_state, shown_journey);
    let mut shown = *input;
    if !redactor.sees_all() {
        // Most logs hold nothing this reader may not see: copy the log only when an
        // event is masked (copying every event cost ~40 µs of a 50-turn package).
        let masked: Vec<Option<Event>> = input.events.iter().map(|e| redactor.event(e)).collect();
        if masked.iter().any(Option::is_some) {
            shown_events = input
                .events
                .iter()
                .zip(masked)
                .map(|(e, m)| m.unwrap_or_else(|| e.clone()))
                .collect::<Vec<Event>>();
            shown.events = &shown_events;
        }
        if let Some(state) = redactor.state(input.state) {
            shown_state = state;
            shown.state = &shown_state;
        }
        shown_journey = input
            .journey
            .iter()
            .map(|c| PriorContact {
                resolution: c
                    .resolution
                    .as_ref()
                    .map(|r| redactor.text(r).unwrap_or_else(|| r.clone())),
                ..c.clone()
            })
            .collect::<Vec<PriorContact>>();
        shown.journey = &shown_journey;
    }
    let input = &shown;
    let state = input.state;
    let request = last_handoff_request(input.events);

    let decision = state.last_decision.as_ref().map(|d| &d.decision);
    let priority = state
        .handoff
        .as_ref()
        .map(|h| h.priority)
        .or_else(|| decision.and_then(|d| d.priority))
        .or_else(|| request.and_then(|r| r.priority))
        .unwrap_or(Priority::Normal);
    let mut skills: Vec<String> = Vec::new();
    let skill_sources = state
        .handoff
        .iter()
        .flat_map(|h| &h.skills)
        .chain(decision.into_iter().flat_map(|d| &d.skills))
        .chain(request.into_iter().flat_map(|r| &r.skills));
    for skill in skill_sources {
        if !skills.iter().any(|s| s == skill.as_str()) {
            skills.push(skill.as_str().to_owned());
        }
    }
    let mut reasons: Vec<ReasonView> = decision
        .filter(|d| d.outcome != Outcome::Continue)
        .map(|d| {
            d.reasons
                .iter()
                .map(|r| ReasonView {
                    code: r.code.to_string(),
                    message: r.message.to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    // The decision already names a bot's request when it decided on it; say it once.
    let named = reasons
        .iter()
        .any(|r| r.code == ReasonCode::BotRequest.to_string());
    if let Some(r) = request.filter(|_| !named) {
        let message = match &r.reason {
            Some(reason) => format!("the bot asked for a human: {reason}"),
            None => "the bot asked for a human".to_owned(),
        };
        reasons.push(ReasonView {
            code: ReasonCode::BotRequest.to_string(),
            message,
        });
    }
    let waiting_seconds = state
        .handoff
        .as_ref()
        .map(|h| input.now.millis_since(h.queued_at) / 1000);

    let sentiment = input.signals.sentiment.as_ref().map(|s| SentimentView {
        now: s.now,
        level: s.level,
        slope: s.slope,
        label: words::sentiment_label(s.level),
        trajectory: words::trajectory(s.mood_slope.unwrap_or(s.slope)),
        history: s.history.clone(),
    });
    let intent = state.intent.as_ref().map(|i| IntentView {
        name: i.intent.to_string(),
        confidence: i.confidence.get(),
        calibrated_confidence: input.signals.calibrated_confidence,
        alternatives: state
            .alternatives
            .iter()
            .map(|a| AlternativeView {
                name: a.intent.to_string(),
                confidence: a.confidence.get(),
            })
            .collect(),
    });
    let name = facts
        .iter()
        .rev()
        .find(|f| f.kind == FactKind::PersonName && !f.redacted)
        .map(|f| f.value.clone());

    let situation = Situation {
        summary: words::situation(&SituationParts {
            name: name.as_deref(),
            customer_id: state.customer_id.as_ref().map(|c| c.as_str()),
            intent: intent.as_ref().map(|i| (i.name.as_str(), i.confidence)),
            sentiment: sentiment.as_ref(),
            reasons: reasons.iter().map(|r| r.message.clone()).collect(),
            priority,
            waiting: waiting_seconds,
        }),
        customer: name.clone(),
        intent: intent.as_ref().map(|i| i.name.clone()),
        sentiment: sentiment.as_ref().map(words::sentiment_words),
        reasons,
        priority,
        owner: state.owner,
        waiting_seconds,
    };

    let background = Background {
        conversation_id: input.conversation_id.to_owned(),
        started_at: state.started_at,
        identity: Identity {
            verified: state.customer_id.is_some(),
            customer_id: state.customer_id.as_ref().map(ToString::to_string),
            method: state.verified_by.as_ref().map(ToString::to_string),
            seq: input
                .events
                .iter()
                .rev()
                .find(|e| matches!(e.body, EventBody::IdentityVerified(_)))
                .map(|e| e.seq),
        },
        journey: Journey {
            prior_contacts: input.journey.len() as u32,
            prior_handoffs: input.journey.iter().map(|c| c.handoffs).sum(),
            contacts: input.journey.to_vec(),
        },
        timeline: condense(input.events),
        counts: state.counts.clone(),
        bot_instructions: state.bot_instructions.as_ref().map(ToString::to_string),
        policy_version: input.policy_version.map(str::to_owned),
    };

    let action_view = |a: &crate::state::ActionState| ActionView {
        name: a.name.to_string(),
        status: a.status,
        detail: a.detail.as_ref().map(ToString::to_string),
        seq: a.seq,
    };
    let mut resolved: Vec<ActionView> = state
        .actions
        .values()
        .filter(|a| a.status == ActionStatus::Done)
        .map(action_view)
        .collect();
    resolved.sort_by_key(|a| a.seq);
    let assessment = Assessment {
        confidence_history: if input.signals.confidence_history.is_empty() {
            confidence_from(input.events)
        } else {
            input.signals.confidence_history.clone()
        },
        intent,
        sentiment,
        resolved,
        open_actions: state.open_actions().map(action_view).collect(),
        commitments: state
            .commitments
            .iter()
            .map(|c| CommitmentView {
                text: c.text.to_string(),
                due: c.due,
                overdue: c.due.is_some_and(|d| d < input.now),
                seq: c.seq,
            })
            .collect(),
        documents: documents(input.events),
        facts,
    };

    let recommendation = recommend(input, &assessment, skills, name.as_deref());
    let transcript = input
        .events
        .iter()
        .filter_map(|e| {
            let text = e.body.message_text()?;
            Some(TranscriptLine {
                seq: e.seq,
                at: e.at,
                actor: e.actor.to_string(),
                kind: e.body.event_kind(),
                text: text.to_owned(),
            })
        })
        .collect();
    ContextPackage {
        situation,
        background,
        assessment,
        recommendation,
        transcript,
        version: PACKAGE_VERSION,
    }
}

fn confidence_from(events: &[Event]) -> Vec<ConfidencePoint> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Nlu(n) => Some(ConfidencePoint {
                seq: e.seq,
                intent: n.intent.to_string(),
                confidence: n.confidence.get(),
            }),
            _ => None,
        })
        .collect()
}

fn documents(events: &[Event]) -> Vec<DocumentView> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::DocumentRetrieved(d) => Some(DocumentView {
                doc_id: d.doc_id.to_string(),
                title: d.title.to_string(),
                uri: d.uri.as_ref().map(ToString::to_string),
                score: d.score,
                snippet: d.snippet.as_ref().map(ToString::to_string),
                seq: e.seq,
            }),
            _ => None,
        })
        .collect()
}

/// How to address the customer: "Crystal" for "crystal minh", but "Ms. Hawkings" whole.
fn first_name(name: &str) -> Option<String> {
    const TITLES: &[&str] = &["mr", "mrs", "ms", "miss", "mx", "dr", "prof"];
    let first = name.split_whitespace().next()?;
    if TITLES.contains(&first.trim_end_matches('.').to_lowercase().as_str()) {
        return Some(name.to_owned());
    }
    let mut chars = first.chars();
    let initial = chars.next()?;
    Some(initial.to_uppercase().chain(chars).collect())
}

fn recommend(
    input: &PackageInput<'_>,
    a: &Assessment,
    skills: Vec<String>,
    name: Option<&str>,
) -> Recommendation {
    let mut next = Vec::new();
    for action in &a.open_actions {
        let detail = action
            .detail
            .as_ref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        next.push(match action.status {
            ActionStatus::Failed => format!("Resolve {}, which failed{detail}", action.name),
            _ => format!("Check on {}, still pending{detail}", action.name),
        });
    }
    for c in &a.commitments {
        let due = c.due.map(|d| format!(" (due {d})")).unwrap_or_default();
        next.push(if c.overdue {
            format!("Overdue promise: {}{due}", c.text)
        } else {
            format!("Keep the bot's promise: {}{due}", c.text)
        });
    }
    if let Some(intent) = &a.intent {
        if intent.confidence < 0.5 && !intent.alternatives.is_empty() {
            let alts: Vec<String> = intent
                .alternatives
                .iter()
                .take(2)
                .map(|x| words::humanize(&x.name))
                .collect();
            next.push(format!(
                "Confirm the request: the bot read {} but was unsure (also {})",
                words::humanize(&intent.name),
                alts.join(", ")
            ));
        }
        next.extend(input.playbooks.steps_for(&intent.name).iter().cloned());
    }
    let prior = input.journey.iter().filter(|c| c.handoffs > 0).count();
    if prior > 0 {
        next.push(format!(
            "This customer reached a human in {prior} earlier conversation(s): check how they ended"
        ));
    }

    let mut do_not_ask: Vec<DoNotAsk> = Vec::new();
    let state = input.state;
    if let (Some(_), Some(method)) = (&state.customer_id, &state.verified_by) {
        let seq = input
            .events
            .iter()
            .find(|e| matches!(e.body, EventBody::IdentityVerified(_)))
            .map_or(0, |e| e.seq);
        do_not_ask.push(DoNotAsk {
            kind: FactKind::Other("identity".into()),
            label: format!("identity (verified by {method})"),
            seq,
        });
    }
    for f in &a.facts {
        if !do_not_ask.iter().any(|d| d.kind == f.kind) {
            do_not_ask.push(DoNotAsk {
                kind: f.kind.clone(),
                label: f.kind.words(),
                seq: f.seq,
            });
        }
    }
    let bot_lines: Vec<&str> = input
        .events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::BotMessage(m) => Some(m.text.as_str()),
            _ => None,
        })
        .collect();
    let upset = a
        .sentiment
        .as_ref()
        .is_some_and(|s| s.level <= -0.05 || (s.trajectory == "worsening" && s.level < 0.05));
    let opening_line = words::opening_line(
        name.and_then(first_name).as_deref(),
        words::casual_tone(&bot_lines),
        &a.facts,
        a.intent.as_ref().map(|i| i.name.as_str()),
        upset,
    );
    Recommendation {
        next_actions: next,
        skills,
        opening_line,
        do_not_ask,
    }
}
