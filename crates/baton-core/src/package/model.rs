//! The context package as the agent receives it: SBAR (Situation, Background,
//! Assessment, Recommendation) plus the role-redacted transcript. This is the JSON
//! contract (`docs/package.schema.json`): fields are added, never renamed.

use serde::Serialize;

use crate::event::{ActionStatus, EventKind, Priority};
use crate::facts::{Fact, FactKind};
use crate::state::{Counts, Owner};
use crate::timestamp::Timestamp;

use super::input::{ConfidencePoint, PriorContact, SentimentPoint};

/// The package's format version.
pub const PACKAGE_VERSION: &str = "1";

/// What the agent receives at handoff.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContextPackage {
    /// Who, what, how they feel, why now.
    pub situation: Situation,
    /// Identity, journey, what happened.
    pub background: Background,
    /// Intent, sentiment, facts, actions, promises, documents.
    pub assessment: Assessment,
    /// What to do and say next, and what not to ask.
    pub recommendation: Recommendation,
    /// Every message, redacted for the viewer.
    pub transcript: Vec<TranscriptLine>,
    /// [`PACKAGE_VERSION`].
    pub version: &'static str,
}

/// The situation in a sentence or two, and its parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Situation {
    /// One or two plain sentences.
    pub summary: String,
    /// The customer's name as the viewer may see it, if given.
    pub customer: Option<String>,
    /// Current intent.
    pub intent: Option<String>,
    /// Sentiment in words ("negative, getting worse").
    pub sentiment: Option<String>,
    /// Why the bot handed off, strongest first.
    pub reasons: Vec<ReasonView>,
    /// How urgent.
    pub priority: Priority,
    /// Who holds the conversation now.
    pub owner: Owner,
    /// Seconds since it was queued for a human, while it waits or is held.
    pub waiting_seconds: Option<i64>,
}

/// One reason behind the handoff.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReasonView {
    /// Stable code, e.g. `negative_sentiment`, or `bot_request`.
    pub code: String,
    /// In words.
    pub message: String,
}

/// Who the customer is and what happened so far.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Background {
    /// The conversation.
    pub conversation_id: String,
    /// When it started.
    pub started_at: Option<Timestamp>,
    /// Identity and how it was verified.
    pub identity: Identity,
    /// Earlier contacts with this customer.
    pub journey: Journey,
    /// The conversation, condensed.
    pub timeline: Vec<TimelineEntry>,
    /// Event counts.
    pub counts: Counts,
    /// What an agent asked the bot to do at the last bounce-back.
    pub bot_instructions: Option<String>,
    /// The policy version in force.
    pub policy_version: Option<String>,
}

/// The customer's verified identity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Identity {
    /// Whether an `identity_verified` event was seen.
    pub verified: bool,
    /// The customer id in the client's systems.
    pub customer_id: Option<String>,
    /// How: `otp`, `password`, `kba`...
    pub method: Option<String>,
    /// Seq of the verification.
    pub seq: Option<u64>,
}

/// Earlier contacts with the same customer id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Journey {
    /// How many.
    pub prior_contacts: u32,
    /// How many of them reached a human.
    pub prior_handoffs: u32,
    /// The contacts, oldest first.
    pub contacts: Vec<PriorContact>,
}

/// One line of the condensed conversation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEntry {
    /// Seq of the (first) event it stands for.
    pub seq: u64,
    /// When.
    pub at: Timestamp,
    /// What happened, in words.
    pub what: String,
}

/// What baton and the bot know.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    /// Current intent with confidence and alternatives.
    pub intent: Option<IntentView>,
    /// Confidence over time.
    pub confidence_history: Vec<ConfidencePoint>,
    /// Sentiment now and its trajectory.
    pub sentiment: Option<SentimentView>,
    /// Facts the customer already gave.
    pub facts: Vec<Fact>,
    /// Steps already done.
    pub resolved: Vec<ActionView>,
    /// Actions pending or failed, oldest first.
    pub open_actions: Vec<ActionView>,
    /// Promises the bot made.
    pub commitments: Vec<CommitmentView>,
    /// Documents the bot answered from.
    pub documents: Vec<DocumentView>,
}

/// The current intent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentView {
    /// Name.
    pub name: String,
    /// The bot's confidence, in `[0, 1]`.
    pub confidence: f64,
    /// What that confidence has meant, learnt from confirmed outcomes (when the policy's
    /// `confidence.calibration` is `learned`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calibrated_confidence: Option<f64>,
    /// Other hypotheses, best first.
    pub alternatives: Vec<AlternativeView>,
}

/// Another intent hypothesis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlternativeView {
    /// Name.
    pub name: String,
    /// Confidence.
    pub confidence: f64,
}

/// Sentiment now and its trajectory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentimentView {
    /// Latest message's score, -1 to 1.
    pub now: f64,
    /// Smoothed level.
    pub level: f64,
    /// Trend per message.
    pub slope: f64,
    /// `very_negative`, `negative`, `neutral`, `positive`, `very_positive`.
    pub label: &'static str,
    /// `worsening`, `steady`, `improving`.
    pub trajectory: &'static str,
    /// Per message, oldest first.
    pub history: Vec<SentimentPoint>,
}

/// An action and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionView {
    /// Name, e.g. `refund.issue`.
    pub name: String,
    /// done, pending or failed.
    pub status: ActionStatus,
    /// Detail.
    pub detail: Option<String>,
    /// Seq of the latest update.
    pub seq: u64,
}

/// A promise made to the customer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommitmentView {
    /// What.
    pub text: String,
    /// By when.
    pub due: Option<Timestamp>,
    /// Whether `due` has passed.
    pub overdue: bool,
    /// Seq of the commitment.
    pub seq: u64,
}

/// A document the bot retrieved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentView {
    /// Knowledge-base id.
    pub doc_id: String,
    /// Title.
    pub title: String,
    /// Where to open it.
    pub uri: Option<String>,
    /// Retrieval score.
    pub score: Option<f64>,
    /// The passage used.
    pub snippet: Option<String>,
    /// Seq of the retrieval.
    pub seq: u64,
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// Pending actions first, then commitments due, then the intent's playbook.
    pub next_actions: Vec<String>,
    /// Skills the human needs.
    pub skills: Vec<String>,
    /// A first message that continues the bot's tone and names what is known.
    pub opening_line: String,
    /// What the customer already gave: do not ask again.
    pub do_not_ask: Vec<DoNotAsk>,
}

/// Something not to ask for again.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DoNotAsk {
    /// Fact kind, or `identity`.
    pub kind: FactKind,
    /// In words.
    pub label: String,
    /// Seq of the message that gave it.
    pub seq: u64,
}

/// One message of the transcript.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranscriptLine {
    /// Seq.
    pub seq: u64,
    /// When.
    pub at: Timestamp,
    /// `customer`, `bot`, `agent:<id>`, `system`.
    pub actor: String,
    /// The event type: `customer_message`, `bot_message`, `agent_message`, `note`.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// The text, redacted for the viewer.
    pub text: String,
}
