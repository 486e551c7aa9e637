//! The one redaction policy every read path applies: an event, or a conversation's
//! state, as a role may see it. Events (`GET .../events`, streams), the context package,
//! the console and anything added later (webhooks, the global feed, export) call
//! [`Redactor`], so what is masked for a role is the same everywhere: the table in
//! [`super::redact`], the same masks as [`super::redact::redact_text`].
//!
//! Every field that can carry customer data is read: message and note texts, NLU entity
//! values, document titles, links and snippets, action details, commitments, handoff
//! reasons, decision reason messages (which quote the customer), bounce-back
//! instructions, resolutions, and every string in the free-form `meta`. Names (labels:
//! intents, skills, action names) and ids are not customer text and are left as sent.
//!
//! Redaction never changes what is hashed: a masked event keeps its stored `seq` and
//! `hash` and is marked `"redacted": true`, so a client knows it cannot recompute the
//! chain from it. An event with nothing to mask, and every event read by a role that
//! sees everything (the auditor), is served exactly as stored.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::canonical::{CanonicalError, to_canonical_string};
use crate::event::{Entity, Event, EventBody, ReadBack};
use crate::ledger::Digest;
use crate::state::ConversationState;
use crate::text::Text;

use super::extract::FactExtractor;
use super::pii::{PiiKind, mask};
use super::redact::{ViewerRole, mask_text};
use super::{Fact, FactKind};

/// Masks what one reader may not see. Cheap to make: it borrows the conversation's
/// known facts (what the package shows, [`super::KnownFacts::package_facts`]) and the
/// policy's extractor.
#[derive(Debug, Clone, Copy)]
pub struct Redactor<'a> {
    role: ViewerRole,
    extractor: &'a FactExtractor,
    known: &'a [Fact],
}

/// An event as served, marked: the stored event with masked fields and `redacted`.
#[derive(Serialize)]
struct Marked<'a> {
    #[serde(flatten)]
    event: &'a Event,
    redacted: bool,
}

/// An event as the API serves it: the stored object plus its `hash`.
#[derive(Deserialize)]
struct Served {
    hash: Digest,
    #[serde(flatten)]
    event: Event,
}

/// Parses an event as the API serves it (what the live fan-out carries) back into the
/// stored event and its hash.
pub fn parse_served(json: &str) -> Result<(Event, Digest), serde_json::Error> {
    let served: Served = serde_json::from_str(json)?;
    Ok((served.event, served.hash))
}

impl<'a> Redactor<'a> {
    /// A redactor for `role`, masking what `extractor` recognises and any PII value of
    /// `known` that occurs verbatim.
    pub fn new(role: ViewerRole, extractor: &'a FactExtractor, known: &'a [Fact]) -> Self {
        Self {
            role,
            extractor,
            known,
        }
    }

    /// The reader's role.
    pub fn role(&self) -> ViewerRole {
        self.role
    }

    /// Whether this reader sees everything in clear, so nothing need be read at all.
    pub fn sees_all(&self) -> bool {
        self.role.sees_all()
    }

    /// `text` masked for this reader, or `None` when it shows as it is.
    pub fn text(&self, text: &str) -> Option<String> {
        mask_text(text, self.role, self.extractor, self.known)
    }

    /// Masks `text` in place; whether anything changed.
    fn mask(&self, text: &mut Text) -> bool {
        match self.text(text.as_str()) {
            Some(masked) => {
                *text = Text::masked(masked);
                true
            }
            None => false,
        }
    }

    fn mask_opt(&self, text: &mut Option<Text>) -> bool {
        text.as_mut().is_some_and(|t| self.mask(t))
    }

    /// An entity's value is masked whole when its kind is hidden, since the NLU said
    /// what it is; otherwise it is read like any text.
    fn mask_entity(&self, entity: &mut Entity) -> bool {
        let kind = FactKind::from_name(entity.kind.as_str());
        match PiiKind::of_entity(&kind, entity.value.as_str()) {
            Some(pii) if !self.role.may_see(pii) => {
                entity.value = Text::masked(mask(pii, entity.value.as_str()));
                true
            }
            _ => self.mask(&mut entity.value),
        }
    }

    /// A corrected fact is masked whole when its kind is hidden, as an entity is.
    fn mask_read_back(&self, read_back: &mut ReadBack) -> bool {
        let note = self.mask_opt(&mut read_back.note);
        read_back
            .facts
            .corrected
            .iter_mut()
            .fold(note, |changed, fact| {
                let kind = FactKind::from_name(fact.kind.as_str());
                let masked = match PiiKind::of_entity(&kind, fact.value.as_str()) {
                    Some(pii) if !self.role.may_see(pii) => {
                        fact.value = Text::masked(mask(pii, fact.value.as_str()));
                        true
                    }
                    _ => self.mask(&mut fact.value),
                };
                masked | changed
            })
    }

    fn mask_json(&self, value: &mut Value) -> bool {
        match value {
            Value::String(s) => match self.text(s) {
                Some(masked) => {
                    *s = masked;
                    true
                }
                None => false,
            },
            Value::Array(items) => items
                .iter_mut()
                .fold(false, |changed, v| self.mask_json(v) | changed),
            Value::Object(map) => map
                .values_mut()
                .fold(false, |changed, v| self.mask_json(v) | changed),
            Value::Null | Value::Bool(_) | Value::Number(_) => false,
        }
    }

    /// The event as this reader may see it, or `None` when it shows as stored.
    pub fn event(&self, event: &Event) -> Option<Event> {
        if self.sees_all() || !carries_text(event) {
            return None;
        }
        let mut out = event.clone();
        let mut changed = match &mut out.meta {
            Some(meta) => meta
                .values_mut()
                .fold(false, |changed, v| self.mask_json(v) | changed),
            None => false,
        };
        changed |= match &mut out.body {
            EventBody::CustomerMessage(m)
            | EventBody::BotMessage(m)
            | EventBody::AgentMessage(m)
            | EventBody::Note(m) => self.mask(&mut m.text),
            EventBody::Nlu(n) => n
                .entities
                .iter_mut()
                .fold(false, |changed, e| self.mask_entity(e) | changed),
            EventBody::DocumentRetrieved(d) => {
                self.mask(&mut d.title) | self.mask_opt(&mut d.uri) | self.mask_opt(&mut d.snippet)
            }
            EventBody::Action(a) => self.mask_opt(&mut a.detail),
            EventBody::Commitment(c) => self.mask(&mut c.text),
            EventBody::HandoffRequested(h) => self.mask_opt(&mut h.reason),
            EventBody::Decision(d) => d
                .reasons
                .iter_mut()
                .fold(false, |changed, r| self.mask(&mut r.message) | changed),
            EventBody::BouncedBack(b) => self.mask(&mut b.instructions),
            EventBody::Resolved(r) => self.mask(&mut r.resolution),
            EventBody::ReadBack(r) => self.mask_read_back(r),
            EventBody::Survey(s) => self.mask_opt(&mut s.comment),
            EventBody::Erased(_) => false,
            EventBody::IdentityVerified(_)
            | EventBody::Offered(_)
            | EventBody::OfferClosed(_)
            | EventBody::Assigned(_)
            | EventBody::RepeatAsk(_)
            | EventBody::CustomerRepeated(_) => false,
        };
        changed.then_some(out)
    }

    /// The event's JSON as this reader may see it when anything is masked: canonical,
    /// with `"redacted": true` and the stored `hash`. `None`: serve the stored JSON
    /// (canonical plus hash) as it is, byte for byte.
    pub fn serve(&self, event: &Event, hash: &Digest) -> Result<Option<String>, CanonicalError> {
        let Some(masked) = self.event(event) else {
            return Ok(None);
        };
        let canonical = to_canonical_string(&Marked {
            event: &masked,
            redacted: true,
        })?;
        Ok(Some(crate::ledger::with_hash(&canonical, hash)))
    }

    /// The folded state as this reader may see it, or `None` when it shows as it is:
    /// the texts it holds came from events and are masked as those are.
    pub fn state(&self, state: &ConversationState) -> Option<ConversationState> {
        if self.sees_all() {
            return None;
        }
        let mut out = state.clone();
        let mut changed = false;
        for action in out.actions.values_mut() {
            changed |= self.mask_opt(&mut action.detail);
        }
        for commitment in &mut out.commitments {
            changed |= self.mask(&mut commitment.text);
        }
        if let Some(decision) = &mut out.last_decision {
            for reason in &mut decision.decision.reasons {
                changed |= self.mask(&mut reason.message);
            }
        }
        changed |= self.mask_opt(&mut out.bot_instructions);
        changed |= self.mask_opt(&mut out.resolution);
        if let Some(read_back) = &mut out.read_back {
            changed |= self.mask_read_back(&mut read_back.read_back);
        }
        changed.then_some(out)
    }
}

/// Whether an event holds any field that can carry customer text.
fn carries_text(event: &Event) -> bool {
    event.meta.is_some()
        || match &event.body {
            EventBody::Nlu(n) => !n.entities.is_empty(),
            EventBody::Decision(d) => !d.reasons.is_empty(),
            EventBody::IdentityVerified(_)
            | EventBody::Offered(_)
            | EventBody::OfferClosed(_)
            | EventBody::Assigned(_)
            | EventBody::RepeatAsk(_)
            | EventBody::CustomerRepeated(_) => false,
            _ => true,
        }
}

#[cfg(test)]
mod tests;
