//! Validated identifiers: a conversation, an event's idempotency key, an agent, an API key's public id.
//!
//! Every id a client chooses obeys the same grammar, `[A-Za-z0-9._:-]{1,128}`, so it is
//! safe in URLs, SQL text, log lines and the `agent:<id>` actor form. An invalid id can
//! never become a value: parsing is the only constructor and serde goes through it.
//!
//! One more rule: an id made only of dots (`.`, `..`, `...`) is refused. `.` and `..`
//! are dot-segments that URL resolution removes (RFC 3986 §5.2.4), so
//! `/console/conversations/..` would lead somewhere else; `...` is not a dot-segment,
//! but it is a path trick on some file systems and no real id is only dots, so one rule
//! ("not only dots") is simpler to state and to trust than a list of exceptions.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The longest id baton accepts.
pub const MAX_ID_LEN: usize = 128;

/// The id grammar as a regular expression, for schemas (`/openapi.json`): the
/// characters, at least one of them not a dot; the length bound is [`MAX_ID_LEN`].
/// Written without look-around so that every JSON Schema engine (and fuzzers that
/// generate from it) reads it the same way. A property test pits it against
/// [`ConversationId::parse`], so the two cannot drift.
pub const ID_PATTERN: &str = "^[A-Za-z0-9._:-]*[A-Za-z0-9_:-][A-Za-z0-9._:-]*$";

/// Why a string is not a valid id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The string is empty.
    #[error("must not be empty")]
    Empty,
    /// The string is longer than [`MAX_ID_LEN`].
    #[error("must be at most {MAX_ID_LEN} characters, got {0}")]
    TooLong(usize),
    /// The string holds a character outside `[A-Za-z0-9._:-]`.
    #[error("may only contain A-Z, a-z, 0-9, '.', '_', ':' and '-'; found {0:?}")]
    BadCharacter(char),
    /// The string is only dots (`.`, `..`, ...), which URL resolution rewrites.
    #[error("must not be only dots ('.', '..'): they are path segments in a URL")]
    OnlyDots,
}

fn validate(raw: &str) -> Result<(), IdError> {
    if raw.is_empty() {
        return Err(IdError::Empty);
    }
    if raw.len() > MAX_ID_LEN {
        return Err(IdError::TooLong(raw.len()));
    }
    match raw
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')))
    {
        Some(bad) => Err(IdError::BadCharacter(bad)),
        None if raw.bytes().all(|b| b == b'.') => Err(IdError::OnlyDots),
        None => Ok(()),
    }
}

macro_rules! validated_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses and validates an id.
            pub fn parse(raw: impl Into<String>) -> Result<Self, IdError> {
                let raw = raw.into();
                validate(&raw)?;
                Ok(Self(raw))
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(raw: String) -> Result<Self, IdError> {
                Self::parse(raw)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(raw: &str) -> Result<Self, IdError> {
                Self::parse(raw)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

validated_id!(
    /// A conversation, identified by the client (`[A-Za-z0-9._:-]{1,128}`).
    ConversationId
);
validated_id!(
    /// An event's idempotency key: the same id sent twice is stored once.
    EventId
);
impl EventId {
    /// The id baton gives an event its client sent without one: `ev_` and 32 hex
    /// digits of the caller's random bytes (core draws no randomness itself). Always
    /// valid, so it skips the parse; this runs for nearly every appended event.
    pub fn from_random(bytes: [u8; 16]) -> Self {
        let mut text = [0u8; 35];
        text[..3].copy_from_slice(b"ev_");
        // 32 output bytes for 16 input bytes: the slice lengths always agree.
        let _ = hex::encode_to_slice(bytes, &mut text[3..]);
        Self(text.iter().map(|&b| char::from(b)).collect())
    }
}

validated_id!(
    /// A human agent.
    AgentId
);
validated_id!(
    /// A customer across conversations (for the journey and sticky routing).
    CustomerId
);
validated_id!(
    /// An offer of a queued conversation to one agent.
    OfferId
);

/// `prefix` and 16 lowercase hex digits of `bytes`: the shape of baton's random public
/// ids (keys, webhooks).
pub fn random_hex_id(prefix: &str, bytes: [u8; 8]) -> String {
    format!("{prefix}{}", hex::encode(bytes))
}

/// The regular expression [`is_random_hex_id`] accepts for `prefix`, for schemas.
pub fn random_hex_pattern(prefix: &str) -> String {
    format!("^{prefix}[0-9a-f]{{16}}$")
}

/// Whether `raw` is `prefix` followed by exactly 16 lowercase hex digits.
pub fn is_random_hex_id(raw: &str, prefix: &str) -> bool {
    raw.strip_prefix(prefix).is_some_and(|digits| {
        digits.len() == 16
            && digits
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// Why a string is not a key id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a key id is `key_` followed by 16 lowercase hex digits")]
pub struct KeyIdError;

/// A key's public id: `key_` and 16 hex digits drawn at random when the key is made
/// (never derived from the secret).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(String);

impl KeyId {
    /// What every key id starts with.
    pub const PREFIX: &str = "key_";

    /// The id made of these random bytes.
    pub fn from_random(bytes: [u8; 8]) -> Self {
        Self(random_hex_id(Self::PREFIX, bytes))
    }

    /// Validates an id.
    pub fn parse(raw: &str) -> Result<Self, KeyIdError> {
        if is_random_hex_id(raw, Self::PREFIX) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(KeyIdError)
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for KeyId {
    type Error = KeyIdError;
    fn try_from(raw: String) -> Result<Self, KeyIdError> {
        Self::parse(&raw)
    }
}

impl From<KeyId> for String {
    fn from(id: KeyId) -> String {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn generated_event_ids_obey_the_grammar(bytes in any::<[u8; 16]>()) {
            let id = EventId::from_random(bytes);
            prop_assert_eq!(EventId::parse(id.as_str()), Ok(id.clone()));
            prop_assert_eq!(id.as_str(), format!("ev_{}", hex::encode(bytes)));
        }
    }

    #[test]
    fn accepts_the_documented_grammar() {
        for ok in ["a", "conv-1", "A.b_c:d-e", &"x".repeat(MAX_ID_LEN)] {
            assert!(ConversationId::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_empty_long_and_bad_characters() {
        assert_eq!(ConversationId::parse(""), Err(IdError::Empty));
        assert_eq!(
            ConversationId::parse("x".repeat(MAX_ID_LEN + 1)),
            Err(IdError::TooLong(MAX_ID_LEN + 1))
        );
        assert_eq!(AgentId::parse("a b"), Err(IdError::BadCharacter(' ')));
        assert_eq!(EventId::parse("a/b"), Err(IdError::BadCharacter('/')));
        assert_eq!(EventId::parse("é"), Err(IdError::BadCharacter('é')));
    }

    #[test]
    fn rejects_ids_made_only_of_dots_for_every_kind() {
        for dots in [".", "..", "...", &".".repeat(MAX_ID_LEN)] {
            assert_eq!(
                ConversationId::parse(dots),
                Err(IdError::OnlyDots),
                "{dots}"
            );
            assert_eq!(EventId::parse(dots), Err(IdError::OnlyDots));
            assert_eq!(AgentId::parse(dots), Err(IdError::OnlyDots));
            assert_eq!(CustomerId::parse(dots), Err(IdError::OnlyDots));
            assert_eq!(OfferId::parse(dots), Err(IdError::OnlyDots));
        }
        assert!(serde_json::from_str::<AgentId>("\"..\"").is_err());
        // Dots among other characters stay valid, as the grammar says.
        for ok in ["a.", ".a", "..a", "v1.2.3", "a..b"] {
            assert!(ConversationId::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn serde_goes_through_validation() {
        assert!(serde_json::from_str::<ConversationId>("\"ok-1\"").is_ok());
        assert!(serde_json::from_str::<ConversationId>("\"not ok\"").is_err());
    }

    proptest! {
        #[test]
        fn every_grammatical_string_parses_and_round_trips(raw in "[A-Za-z0-9._:-]{1,128}") {
            // The one exception to the grammar, tested above.
            prop_assume!(!raw.bytes().all(|b| b == b'.'));
            let id = ConversationId::parse(raw.clone()).unwrap();
            prop_assert_eq!(id.as_str(), raw.as_str());
        }

        /// The schema's pattern and the parser agree on every string over the id
        /// alphabet and its near misses (a space, a slash, a non-ASCII letter).
        #[test]
        fn the_schema_pattern_accepts_exactly_what_parses(raw in "[A-Za-z0-9._:/ é-]{0,130}") {
            let pattern = regex::Regex::new(ID_PATTERN).unwrap();
            let by_schema = pattern.is_match(&raw) && raw.chars().count() <= MAX_ID_LEN;
            prop_assert_eq!(by_schema, ConversationId::parse(raw.clone()).is_ok(), "{:?}", raw);
        }

        #[test]
        fn the_random_hex_pattern_accepts_exactly_what_is_random_hex(raw in "(key_|wh_|k)?[0-9a-fA-F]{14,18}") {
            for prefix in [KeyId::PREFIX, "wh_"] {
                let pattern = regex::Regex::new(&random_hex_pattern(prefix)).unwrap();
                prop_assert_eq!(pattern.is_match(&raw), is_random_hex_id(&raw, prefix), "{:?}", raw);
            }
        }

        #[test]
        fn any_string_with_a_space_is_refused(a in "[a-z]{0,10}", b in "[a-z]{0,10}") {
            let raw = format!("{a} {b}");
            prop_assert!(ConversationId::parse(raw).is_err());
        }
    }
}
