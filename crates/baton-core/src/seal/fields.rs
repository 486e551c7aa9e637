//! The rule: which members of each event type are customer data (sealed, and gone
//! after an erasure) and which are structure (kept clear: state, routing, statistics
//! and the ledger's own checks read them).
//!
//! Customer data: message and note texts, NLU entities (their values), document
//! snippets, action details, commitments, the reason a bot gives for a handoff, a
//! bounce-back's instructions, a resolution's words, read-back corrections and notes,
//! survey comments, decision reasons' words, and every event's free-form `meta`. Structure: everything else
//! (type, id, seq, actor, at, intents, confidences, action names and statuses,
//! identity method and customer id, decisions, offers, assignments, scores).

use crate::event::EventKind;

/// The top-level members of `kind` that carry customer data (`meta` for every type).
pub fn customer_fields(kind: EventKind) -> &'static [&'static str] {
    match kind {
        EventKind::CustomerMessage
        | EventKind::BotMessage
        | EventKind::AgentMessage
        | EventKind::Note
        | EventKind::Commitment => &["meta", "text"],
        EventKind::Nlu => &["meta", "entities"],
        EventKind::DocumentRetrieved => &["meta", "snippet"],
        EventKind::Action => &["meta", "detail"],
        EventKind::HandoffRequested => &["meta", "reason"],
        EventKind::BouncedBack => &["meta", "instructions"],
        EventKind::Resolved => &["meta", "resolution"],
        EventKind::ReadBack => &["meta", "facts", "note"],
        EventKind::Survey => &["meta", "comment"],
        // A reason's words may quote the customer (redaction masks them too).
        EventKind::Decision => &["meta", "reasons"],
        EventKind::IdentityVerified
        | EventKind::Offered
        | EventKind::OfferClosed
        | EventKind::Assigned
        | EventKind::RepeatAsk
        | EventKind::CustomerRepeated
        | EventKind::Erased => &["meta"],
    }
}

/// The customer-data members `kind` requires: an erased event shows
/// [`super::ERASED_TEXT`] in them, so it still reads as an event of its type.
pub fn required_text_fields(kind: EventKind) -> &'static [&'static str] {
    match kind {
        EventKind::CustomerMessage
        | EventKind::BotMessage
        | EventKind::AgentMessage
        | EventKind::Note
        | EventKind::Commitment => &["text"],
        EventKind::BouncedBack => &["instructions"],
        EventKind::Resolved => &["resolution"],
        _ => &[],
    }
}
