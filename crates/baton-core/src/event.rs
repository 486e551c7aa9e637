//! The event model: one immutable fact appended to a conversation.
//!
//! The wire names (`type` values and field names) feed the ledger hash, so they are
//! frozen: add variants and optional fields, never rename. Every content struct refuses
//! unknown fields, so nothing a client sends is silently dropped from the record.

mod feedback;
mod kind;
mod reason_code;

use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::id::{AgentId, CustomerId, EventId, OfferId};
use crate::label::Label;
use crate::text::{Confidence, Text};
use crate::timestamp::Timestamp;

pub use feedback::{
    FactCorrection, FactsCheck, IntentCheck, ReadBack, ReadBackAnswer, Score, ScoreError, Survey,
    SurveyError,
};
pub use kind::EventKind;
pub use reason_code::ReasonCode;

/// A stored event: its place in the log, who wrote it, when, and what it says.
///
/// Serialized, this is exactly the object `GET .../events` returns minus `hash`, and so
/// exactly what the ledger hashes (after RFC 8785 canonicalization).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the conversation, from 1.
    pub seq: u64,
    /// Idempotency key (client-chosen or generated).
    pub id: EventId,
    /// Author.
    pub actor: Actor,
    /// When it happened.
    pub at: Timestamp,
    /// Free-form client metadata, stored and hashed as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<serde_json::Map<String, serde_json::Value>>,
    /// Set only on a read view: the conversation was erased, so this event's customer
    /// data is gone (see [`crate::seal`] for the shape). Never stored nor hashed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub erased: bool,
    /// The fact itself, tagged by `type`.
    #[serde(flatten)]
    pub body: EventBody,
}

/// What an event says, tagged by its `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventBody {
    /// The customer wrote.
    CustomerMessage(Message),
    /// The bot wrote.
    BotMessage(Message),
    /// An agent wrote.
    AgentMessage(Message),
    /// The bot's NLU read of the latest customer message.
    Nlu(Nlu),
    /// The customer's identity was checked.
    IdentityVerified(IdentityVerified),
    /// The bot retrieved a document to answer from.
    DocumentRetrieved(DocumentRetrieved),
    /// Something was done, is pending, or failed.
    Action(Action),
    /// A promise made to the customer.
    Commitment(Commitment),
    /// The bot (or its operator) asks for a human.
    HandoffRequested(HandoffRequested),
    /// An internal note, never shown to the customer.
    Note(Message),
    /// baton's decision after a signal-bearing event (written by the server).
    Decision(Decision),
    /// A queued conversation was offered to one agent (written by the server).
    Offered(Offered),
    /// An offer ended without acceptance (written by the server).
    OfferClosed(OfferClosed),
    /// An agent owns the conversation now (written by the server).
    Assigned(Assigned),
    /// The owning agent handed the conversation back to the bot (written by the server).
    BouncedBack(BouncedBack),
    /// The conversation was resolved and closed (written by the server).
    Resolved(Resolved),
    /// An agent asked for a fact the package already held (written by the server).
    RepeatAsk(RepeatAsk),
    /// The customer restated a fact they had already given (written by the server).
    CustomerRepeated(CustomerRepeated),
    /// The agent confirmed or corrected the package's reading (written by the server,
    /// as the agent).
    ReadBack(ReadBack),
    /// Survey answers from the customer (through the bot) or the agent (written by the
    /// server, as the one who answered).
    Survey(Survey),
    /// The conversation's customer data was destroyed (written by the server).
    Erased(Erased),
}

impl EventBody {
    /// The frozen wire name of this event's `type`.
    pub fn kind(&self) -> &'static str {
        self.event_kind().as_str()
    }

    /// This event's `type`. Both enums derive their wire names from the same variant
    /// names (`rename_all = "snake_case"`), so the two always agree.
    pub fn event_kind(&self) -> EventKind {
        match self {
            EventBody::CustomerMessage(_) => EventKind::CustomerMessage,
            EventBody::BotMessage(_) => EventKind::BotMessage,
            EventBody::AgentMessage(_) => EventKind::AgentMessage,
            EventBody::Nlu(_) => EventKind::Nlu,
            EventBody::IdentityVerified(_) => EventKind::IdentityVerified,
            EventBody::DocumentRetrieved(_) => EventKind::DocumentRetrieved,
            EventBody::Action(_) => EventKind::Action,
            EventBody::Commitment(_) => EventKind::Commitment,
            EventBody::HandoffRequested(_) => EventKind::HandoffRequested,
            EventBody::Note(_) => EventKind::Note,
            EventBody::Decision(_) => EventKind::Decision,
            EventBody::Offered(_) => EventKind::Offered,
            EventBody::OfferClosed(_) => EventKind::OfferClosed,
            EventBody::Assigned(_) => EventKind::Assigned,
            EventBody::BouncedBack(_) => EventKind::BouncedBack,
            EventBody::Resolved(_) => EventKind::Resolved,
            EventBody::RepeatAsk(_) => EventKind::RepeatAsk,
            EventBody::CustomerRepeated(_) => EventKind::CustomerRepeated,
            EventBody::ReadBack(_) => EventKind::ReadBack,
            EventBody::Survey(_) => EventKind::Survey,
            EventBody::Erased(_) => EventKind::Erased,
        }
    }

    /// Whether this event moves the conversation into, within or out of the router's
    /// hands: [`EventKind::moves_routing`], narrowed to the decisions that hand off
    /// (most decisions let the bot carry on).
    pub fn moves_routing(&self) -> bool {
        match self {
            EventBody::Decision(decision) => decision.outcome == Outcome::Handoff,
            other => other.event_kind().moves_routing(),
        }
    }

    /// Whether only baton itself may write this type.
    pub fn is_server_only(&self) -> bool {
        self.event_kind().is_server_only()
    }

    /// The text of a message-like event (customer, bot, agent message or note).
    pub fn message_text(&self) -> Option<&str> {
        match self {
            EventBody::CustomerMessage(m)
            | EventBody::BotMessage(m)
            | EventBody::AgentMessage(m)
            | EventBody::Note(m) => Some(m.text.as_str()),
            _ => None,
        }
    }
}

/// `customer_message`, `bot_message`, `agent_message`, `note`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// What was written.
    pub text: Text,
}

/// One intent hypothesis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentScore {
    /// Intent name.
    pub intent: Label,
    /// The NLU's confidence in it.
    pub confidence: Confidence,
}

/// An entity the bot's NLU found in the latest customer message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entity {
    /// Kind, e.g. `order_id`, `email`, `person_name`.
    pub kind: Label,
    /// The value as found.
    pub value: Text,
    /// Byte offset where it starts in the message, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<u32>,
    /// Byte offset where it ends in the message, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<u32>,
}

/// `nlu`: the bot's understanding of the latest customer message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nlu {
    /// Top intent.
    pub intent: Label,
    /// Confidence in the top intent.
    pub confidence: Confidence,
    /// Other hypotheses, best first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<IntentScore>,
    /// Entities found.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<Entity>,
}

/// `identity_verified`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityVerified {
    /// The customer's id in the client's systems.
    pub customer_id: CustomerId,
    /// How: `otp`, `password`, `kba`...
    pub method: Label,
}

/// `document_retrieved`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentRetrieved {
    /// The document's id in the knowledge base.
    pub doc_id: Label,
    /// Its title.
    pub title: Text,
    /// Where an agent can open it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<Text>,
    /// Retrieval score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The passage the bot used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snippet: Option<Text>,
}

/// Where an action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Completed.
    Done,
    /// Started, not completed.
    Pending,
    /// Tried and failed.
    Failed,
}

/// `action`: something done on the customer's behalf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// What, e.g. `refund.issue`. Later events with the same name update its status.
    pub name: Label,
    /// Where it stands.
    pub status: ActionStatus,
    /// Details for the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Text>,
}

/// `commitment`: a promise made to the customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commitment {
    /// What was promised.
    pub text: Text,
    /// By when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<Timestamp>,
}

/// How urgent a handoff is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Can wait.
    Low,
    /// The default.
    Normal,
    /// Serve before normal.
    High,
    /// Serve first.
    Urgent,
}

impl Priority {
    /// 0 (low) to 3 (urgent), for arithmetic in routing.
    pub fn rank(self) -> u8 {
        self as u8
    }
}

/// `handoff_requested`: the bot asks for a human.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoffRequested {
    /// Why, in the bot's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text>,
    /// Skills the human needs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skills: Vec<Label>,
    /// How urgent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
}

/// What baton decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The bot carries on.
    Continue,
    /// Ask the customer whether they want a human.
    Offer,
    /// Hand off now.
    Handoff,
}

/// One reason behind a decision: which signal, its value, the threshold it was held
/// against, and how much it contributed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Stable reason code, e.g. `explicit_request`, `negative_sentiment`.
    pub code: ReasonCode,
    /// The signal it reads, e.g. `sentiment.level`.
    pub signal: Label,
    /// The signal's value.
    pub value: f64,
    /// The threshold the value was compared with.
    pub threshold: f64,
    /// Contribution to the decision (score units; 1.0 for a rule that forces it).
    pub contribution: f64,
    /// The reason in plain words.
    pub message: Text,
}

/// `decision`: written by baton after each signal-bearing event that changes the picture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// continue, offer or handoff.
    pub outcome: Outcome,
    /// How urgent (handoff and offer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// Skills the human needs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skills: Vec<Label>,
    /// Why, strongest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Reason>,
    /// The seq of the event that triggered the decision.
    pub trigger_seq: u64,
    /// The policy version that decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Label>,
}

/// `offered`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offered {
    /// The offer.
    pub offer_id: OfferId,
    /// To whom.
    pub agent_id: AgentId,
    /// When it lapses.
    pub expires_at: Timestamp,
}

/// Why an offer ended without acceptance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferEnd {
    /// The agent declined.
    Rejected,
    /// Nobody answered in time.
    Expired,
    /// baton took it back (agent went away, conversation resolved...).
    Withdrawn,
}

/// `offer_closed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferClosed {
    /// The offer.
    pub offer_id: OfferId,
    /// Whose it was.
    pub agent_id: AgentId,
    /// Why it ended.
    pub reason: OfferEnd,
}

/// `assigned`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assigned {
    /// The new owner.
    pub agent_id: AgentId,
    /// The offer accepted, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<OfferId>,
}

/// `bounced_back`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BouncedBack {
    /// The agent who handed back.
    pub agent_id: AgentId,
    /// What the bot should do next.
    pub instructions: Text,
}

/// `resolved`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resolved {
    /// What resolved it.
    pub resolution: Text,
    /// The intent as the human judged it (feedback for the bot's NLU).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub true_intent: Option<Label>,
    /// Customer satisfaction, 1 to 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat: Option<u8>,
}

/// `repeat_ask`: an agent asked for something the package already held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepeatAsk {
    /// Kind of fact asked for, e.g. `order_id`.
    pub fact_kind: Label,
    /// Seq of the agent message that asked.
    pub asked_seq: u64,
    /// Seq of the message the fact came from.
    pub fact_seq: u64,
}

/// `customer_repeated`: the customer restated a fact already given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerRepeated {
    /// Kind of fact, e.g. `email`.
    pub fact_kind: Label,
    /// Seq of the message that restated it.
    pub repeated_seq: u64,
    /// Seq of the message that first gave it.
    pub fact_seq: u64,
}

/// Who asked for an erasure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasedBy {
    /// An admin, through `DELETE /v1/conversations/{cid}` or `/v1/customers/{id}`.
    Admin,
    /// The retention policy (`retention.closed_after_days`).
    Retention,
}

/// `erased`: the conversation's data key was destroyed, so its customer data is gone
/// for good; the structure and the chain stay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Erased {
    /// Why (the admin's words, or the retention rule). Stored in clear: it must not
    /// quote customer data.
    pub reason: Text,
    /// Who asked.
    pub by: ErasedBy,
    /// The API key that asked (absent for the retention rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<crate::id::KeyId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_handing_off_decision_moves_routing() {
        let decision = |outcome: &str| -> EventBody {
            serde_json::from_value(serde_json::json!({
                "type": "decision", "outcome": outcome, "trigger_seq": 1
            }))
            .unwrap()
        };
        assert!(decision("handoff").moves_routing());
        assert!(!decision("continue").moves_routing());
        assert!(!decision("offer").moves_routing());
        let message = EventBody::CustomerMessage(Message {
            text: Text::parse("hi").unwrap(),
        });
        assert!(!message.moves_routing());
        assert!(EventKind::Assigned.moves_routing());
        assert!(!EventKind::Survey.moves_routing());
    }

    #[test]
    fn wire_shape_is_flat_and_tagged() {
        let event = Event {
            seq: 1,
            id: EventId::parse("e1").unwrap(),
            actor: Actor::Customer,
            at: Timestamp::from_unix_millis(0),
            meta: None,
            erased: false,
            body: EventBody::CustomerMessage(Message {
                text: Text::parse("hi").unwrap(),
            }),
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"seq": 1, "id": "e1", "actor": "customer",
                "at": "1970-01-01T00:00:00.000Z", "type": "customer_message", "text": "hi"})
        );
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn every_kind_has_its_own_wire_name() {
        let names: std::collections::BTreeSet<&str> =
            EventKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), 21);
    }
}
