//! The body of a webhook delivery and its message id.
//!
//! `{"type", "timestamp", "data": {"conversation", "seq", "event", "state",
//! "package_url"}}`: `event` is the event exactly as `GET .../events` serves it to the
//! subscription's role; `state` is the conversation's routing state as of the commit
//! that recorded the event, so a desk can open a ticket without calling back.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::event::Priority;
use crate::id::{AgentId, ConversationId};
use crate::label::Label;
use crate::state::{ConversationState, Owner};
use crate::timestamp::Timestamp;

/// What a delivery says of the conversation's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookState {
    /// Who holds it.
    pub owner: Owner,
    /// The owning agent, if an agent owns it.
    pub assigned_agent: Option<AgentId>,
    /// The handoff's urgency, while handed off.
    pub priority: Option<Priority>,
    /// The skills the handoff needs, while handed off.
    pub skills: Vec<Label>,
}

impl WebhookState {
    /// The summary of `state`.
    pub fn of(state: &ConversationState) -> Self {
        Self {
            owner: state.owner,
            assigned_agent: state.assigned_agent.clone(),
            priority: state.handoff.as_ref().map(|h| h.priority),
            skills: state
                .handoff
                .as_ref()
                .map(|h| h.skills.clone())
                .unwrap_or_default(),
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    timestamp: Timestamp,
    data: Data<'a>,
}

#[derive(Serialize)]
struct Data<'a> {
    conversation: &'a ConversationId,
    seq: u64,
    event: &'a serde_json::Value,
    state: &'a WebhookState,
    package_url: &'a str,
}

/// The delivery body. `event` is the served event; `at` is when it was recorded.
pub fn payload(
    kind: &str,
    at: Timestamp,
    conversation: &ConversationId,
    seq: u64,
    event: &serde_json::Value,
    state: &WebhookState,
    package_url: &str,
) -> Result<String, serde_json::Error> {
    serde_json::to_string(&Body {
        kind,
        timestamp: at,
        data: Data {
            conversation,
            seq,
            event,
            state,
            package_url,
        },
    })
}

/// The `webhook-id` of the delivery of event `seq` of `conversation` to `webhook`:
/// the same on every retry and replay, and after a restart, so a receiver can drop
/// duplicates by it.
pub fn message_id(webhook: &str, conversation: &ConversationId, seq: u64) -> String {
    let mut hasher = Sha256::new();
    for part in [webhook.as_bytes(), conversation.as_str().as_bytes()] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hasher.update(seq.to_be_bytes());
    let digest = hasher.finalize();
    format!("msg_{}", hex::encode(&digest[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_stable_and_distinct() {
        let c = ConversationId::parse("c-1").unwrap();
        let id = message_id("wh_1", &c, 3);
        assert_eq!(id, message_id("wh_1", &c, 3));
        assert!(id.starts_with("msg_") && id.len() == 36, "{id}");
        assert_ne!(id, message_id("wh_1", &c, 4));
        assert_ne!(id, message_id("wh_2", &c, 3));
        // Lengths are hashed with the parts, so no two splits of one string collide.
        let a = ConversationId::parse("1c").unwrap();
        assert_ne!(message_id("wh_", &a, 3), message_id("wh_1", &c, 3));
    }

    #[test]
    fn the_state_summary_follows_the_handoff() {
        let state = ConversationState::default();
        let summary = WebhookState::of(&state);
        assert_eq!(summary.owner, Owner::Bot);
        assert_eq!((summary.priority, summary.skills.len()), (None, 0));
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"owner": "bot", "assigned_agent": null, "priority": null, "skills": []})
        );
    }
}
