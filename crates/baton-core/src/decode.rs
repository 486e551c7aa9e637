//! Decoding events sent by clients, with errors that name the offending field.
//!
//! Stored events deserialize with plain serde; client input goes through here instead so
//! that a bad value is reported as `events[2].confidence` rather than "invalid type",
//! and so that server-only types and unknown types get their own clear codes.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::actor::Actor;
use crate::event::{EventBody, EventKind};
use crate::id::EventId;
use crate::timestamp::Timestamp;

/// An event as a client submits it: seq is assigned by baton, the rest is optional.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Idempotency key; generated when absent.
    pub id: Option<EventId>,
    /// Author; defaults from the caller's role.
    pub actor: Option<Actor>,
    /// When it happened; defaults to the time baton received it.
    pub at: Option<Timestamp>,
    /// Free-form metadata.
    pub meta: Option<Map<String, Value>>,
    /// The fact.
    pub body: EventBody,
}

/// What kind of mistake a client made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// A required field is absent.
    MissingField,
    /// A field baton does not know.
    UnknownField,
    /// A field is present but its value is invalid.
    InvalidField,
    /// `type` names no event type.
    UnknownType,
    /// `type` names an event only baton writes.
    ReservedType,
}

impl DecodeErrorKind {
    /// The stable error code for the API.
    pub fn code(self) -> &'static str {
        match self {
            DecodeErrorKind::MissingField => "missing_field",
            DecodeErrorKind::UnknownField => "unknown_field",
            DecodeErrorKind::InvalidField => "invalid_field",
            DecodeErrorKind::UnknownType => "unknown_type",
            DecodeErrorKind::ReservedType => "reserved_type",
        }
    }
}

/// A client event that cannot be accepted, with the path of the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct DecodeError {
    /// What kind of mistake.
    pub kind: DecodeErrorKind,
    /// Path of the field, e.g. `events[2].confidence`.
    pub field: String,
    /// Plain-words explanation.
    pub message: String,
}

impl DecodeError {
    fn new(kind: DecodeErrorKind, field: String, message: impl Into<String>) -> Self {
        Self {
            kind,
            field,
            message: message.into(),
        }
    }
}

/// Decodes one client event found at `path` (e.g. `events[0]`).
pub fn decode_new_event(value: Value, path: &str) -> Result<NewEvent, DecodeError> {
    let Value::Object(mut fields) = value else {
        return Err(DecodeError::new(
            DecodeErrorKind::InvalidField,
            path.to_owned(),
            "each event must be a JSON object",
        ));
    };
    let field = |name: &str| format!("{path}.{name}");
    let kind = match fields.remove("type") {
        Some(Value::String(kind)) => kind,
        Some(_) => {
            return Err(DecodeError::new(
                DecodeErrorKind::InvalidField,
                field("type"),
                "must be a string",
            ));
        }
        None => {
            return Err(DecodeError::new(
                DecodeErrorKind::MissingField,
                field("type"),
                "every event needs a type",
            ));
        }
    };
    let id = take_optional::<EventId>(&mut fields, "id", path)?;
    let actor = take_optional::<Actor>(&mut fields, "actor", path)?;
    let at = take_optional::<Timestamp>(&mut fields, "at", path)?;
    let meta = take_optional::<Map<String, Value>>(&mut fields, "meta", path)?;
    if fields.contains_key("seq") || fields.contains_key("hash") {
        let name = if fields.contains_key("seq") {
            "seq"
        } else {
            "hash"
        };
        return Err(DecodeError::new(
            DecodeErrorKind::UnknownField,
            field(name),
            format!("{name} is assigned by baton; use expected_seq for concurrency control"),
        ));
    }
    let body = decode_body(&kind, Value::Object(fields), path)?;
    Ok(NewEvent {
        id,
        actor,
        at,
        meta,
        body,
    })
}

fn take_optional<T: DeserializeOwned>(
    fields: &mut Map<String, Value>,
    name: &str,
    path: &str,
) -> Result<Option<T>, DecodeError> {
    match fields.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => serde_json::from_value(value).map(Some).map_err(|e| {
            DecodeError::new(
                DecodeErrorKind::InvalidField,
                format!("{path}.{name}"),
                e.to_string(),
            )
        }),
    }
}

fn decode_body(kind: &str, rest: Value, path: &str) -> Result<EventBody, DecodeError> {
    use EventKind as K;
    let Some(kind) = EventKind::from_wire(kind) else {
        let expected: Vec<&str> = EventKind::client().map(EventKind::as_str).collect();
        return Err(DecodeError::new(
            DecodeErrorKind::UnknownType,
            format!("{path}.type"),
            format!(
                "unknown event type {kind:?}; expected one of {}",
                expected.join(", ")
            ),
        ));
    };
    let body = match kind {
        K::CustomerMessage => EventBody::CustomerMessage(content(rest, path)?),
        K::BotMessage => EventBody::BotMessage(content(rest, path)?),
        K::AgentMessage => EventBody::AgentMessage(content(rest, path)?),
        K::Note => EventBody::Note(content(rest, path)?),
        K::Nlu => EventBody::Nlu(content(rest, path)?),
        K::IdentityVerified => EventBody::IdentityVerified(content(rest, path)?),
        K::DocumentRetrieved => EventBody::DocumentRetrieved(content(rest, path)?),
        K::Action => EventBody::Action(content(rest, path)?),
        K::Commitment => EventBody::Commitment(content(rest, path)?),
        K::HandoffRequested => EventBody::HandoffRequested(content(rest, path)?),
        K::Decision
        | K::Offered
        | K::OfferClosed
        | K::Assigned
        | K::BouncedBack
        | K::Resolved
        | K::RepeatAsk
        | K::CustomerRepeated
        | K::ReadBack
        | K::Survey
        | K::Erased => {
            return Err(DecodeError::new(
                DecodeErrorKind::ReservedType,
                format!("{path}.type"),
                format!("{kind} events are written by baton itself; use the matching endpoint"),
            ));
        }
    };
    Ok(body)
}

/// Decodes a request body that is not an event batch (a read-back, a survey): the same
/// errors as an event's, the field named from the body's top (`facts.corrected[0].kind`).
pub fn decode_request<T: DeserializeOwned>(value: Value) -> Result<T, DecodeError> {
    content(value, "").map_err(|mut error| {
        error.field = error.field.trim_start_matches('.').to_owned();
        error
    })
}

fn content<T: DeserializeOwned>(rest: Value, path: &str) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize(rest).map_err(|error| {
        let inner = error.path().to_string();
        let message = error.inner().to_string();
        let (kind, name) = classify(&message);
        // serde_path_to_error's path stops at the struct for a missing field but
        // already names an unknown one.
        let field = match (kind, inner.as_str(), name) {
            (DecodeErrorKind::MissingField, ".", Some(name)) => format!("{path}.{name}"),
            (DecodeErrorKind::MissingField, _, Some(name)) => format!("{path}.{inner}.{name}"),
            (_, ".", _) => path.to_owned(),
            _ => format!("{path}.{inner}"),
        };
        DecodeError::new(kind, field, message)
    })
}

/// serde reports missing and unknown fields only in its message, with the name quoted
/// in backticks; lift the name out so the error can point at it.
fn classify(message: &str) -> (DecodeErrorKind, Option<&str>) {
    let quoted = message.split('`').nth(1);
    if message.starts_with("missing field") {
        (DecodeErrorKind::MissingField, quoted)
    } else if message.starts_with("unknown field") {
        (DecodeErrorKind::UnknownField, quoted)
    } else {
        (DecodeErrorKind::InvalidField, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(value: Value) -> DecodeError {
        decode_new_event(value, "events[0]").unwrap_err()
    }

    #[test]
    fn decodes_a_full_event() {
        let ev = decode_new_event(
            json!({"id": "m1", "type": "nlu", "actor": "bot", "at": "2026-01-01T00:00:00Z",
                   "intent": "refund", "confidence": 0.4,
                   "alternatives": [{"intent": "billing", "confidence": 0.3}]}),
            "events[0]",
        )
        .unwrap();
        assert_eq!(ev.id.unwrap().as_str(), "m1");
        assert_eq!(ev.body.kind(), "nlu");
    }

    #[test]
    fn names_the_missing_field() {
        let e = err(json!({"type": "customer_message"}));
        assert_eq!(e.kind, DecodeErrorKind::MissingField);
        assert_eq!(e.field, "events[0].text");
    }

    #[test]
    fn names_the_unknown_field() {
        let e = err(json!({"type": "customer_message", "text": "hi", "colour": "red"}));
        assert_eq!(e.kind, DecodeErrorKind::UnknownField);
        assert_eq!(e.field, "events[0].colour");
    }

    #[test]
    fn names_a_nested_invalid_value() {
        let e = err(json!({"type": "nlu", "intent": "x", "confidence": 0.5,
                           "alternatives": [{"intent": "y", "confidence": 7}]}));
        assert_eq!(e.kind, DecodeErrorKind::InvalidField);
        assert_eq!(e.field, "events[0].alternatives[0].confidence");
    }

    #[test]
    fn envelope_fields_are_validated() {
        assert_eq!(
            err(json!({"type": "note", "text": "x", "id": "a b"})).field,
            "events[0].id"
        );
        assert_eq!(
            err(json!({"type": "note", "text": "x", "actor": "boss"})).field,
            "events[0].actor"
        );
        assert_eq!(
            err(json!({"type": "note", "text": "x", "at": "soon"})).field,
            "events[0].at"
        );
        assert_eq!(
            err(json!({"type": "note", "text": "x", "seq": 4})).kind,
            DecodeErrorKind::UnknownField
        );
    }

    #[test]
    fn types_are_checked() {
        assert_eq!(
            err(json!({"type": "telepathy"})).kind,
            DecodeErrorKind::UnknownType
        );
        assert_eq!(
            err(json!({"type": "assigned", "agent_id": "a"})).kind,
            DecodeErrorKind::ReservedType
        );
        assert_eq!(
            err(json!({"text": "x"})).kind,
            DecodeErrorKind::MissingField
        );
        assert_eq!(err(json!("x")).kind, DecodeErrorKind::InvalidField);
    }

    #[test]
    fn empty_text_is_invalid() {
        let e = err(json!({"type": "customer_message", "text": "   "}));
        assert_eq!(e.kind, DecodeErrorKind::InvalidField);
        assert_eq!(e.field, "events[0].text");
    }
}
