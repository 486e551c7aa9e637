//! Bounded values that arrive in events: message text and confidence.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest message text baton stores, in bytes of UTF-8.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;

/// [`Text`]'s rule as a regular expression, for schemas: no NUL, and at least one
/// character that is not white space (Unicode `White_Space`, what `str::trim` strips,
/// spelled out because engines disagree on `\s`). The byte bound, [`MAX_TEXT_BYTES`],
/// is the schema's `maxLength` (which counts characters, so it is exact for ASCII).
pub const TEXT_PATTERN: &str = concat!(
    "^[^\\u0000]*",
    "[^\\u0000\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]",
    "[^\\u0000]*$"
);

/// Why a string is not acceptable text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Empty or whitespace only.
    #[error("must not be empty")]
    Empty,
    /// Over [`MAX_TEXT_BYTES`].
    #[error("must be at most {MAX_TEXT_BYTES} bytes, got {0}")]
    TooLong(usize),
    /// Contains a NUL character, which no downstream system handles the same way.
    #[error("must not contain NUL characters")]
    Nul,
}

/// Non-empty text of at most [`MAX_TEXT_BYTES`] bytes, without NUL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text(String);

impl Text {
    /// Validates text.
    pub fn parse(raw: impl Into<String>) -> Result<Self, TextError> {
        let raw = raw.into();
        if raw.trim().is_empty() {
            return Err(TextError::Empty);
        }
        if raw.len() > MAX_TEXT_BYTES {
            return Err(TextError::TooLong(raw.len()));
        }
        if raw.contains('\0') {
            return Err(TextError::Nul);
        }
        Ok(Self(raw))
    }

    /// Valid text with personal data replaced by masks, for a read view only
    /// ([`crate::facts::redact_event`]): masks can make it longer than
    /// [`MAX_TEXT_BYTES`], and it is never stored.
    pub(crate) fn masked(raw: String) -> Self {
        Self(raw)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Text {
    type Error = TextError;
    fn try_from(raw: String) -> Result<Self, TextError> {
        Self::parse(raw)
    }
}

impl From<Text> for String {
    fn from(text: Text) -> String {
        text.0
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a number is not a confidence.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("must be a number between 0 and 1, got {0}")]
pub struct ConfidenceError(pub f64);

/// A probability-like score in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Confidence(f64);

impl Confidence {
    /// Validates a confidence.
    pub fn new(value: f64) -> Result<Self, ConfidenceError> {
        if (0.0..=1.0).contains(&value) {
            Ok(Self(value))
        } else {
            Err(ConfidenceError(value))
        }
    }

    /// The value in `[0, 1]`.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Confidence {
    type Error = ConfidenceError;
    fn try_from(value: f64) -> Result<Self, ConfidenceError> {
        Self::new(value)
    }
}

impl From<Confidence> for f64 {
    fn from(c: Confidence) -> f64 {
        c.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The schema's pattern accepts exactly the texts that parse (within the byte
        /// bound), over white space, NUL, control characters and letters.
        #[test]
        fn the_schema_pattern_accepts_exactly_what_parses(
            raw in "[a\\u{0}\\t\\n\\u{b}\\u{c}\\r \\u{1c}\\u{85}\\u{a0}\\u{1680}\\u{2000}\\u{200b}\\u{2028}\\u{3000}\\u{feff}é]{0,6}"
        ) {
            let pattern = regex::Regex::new(TEXT_PATTERN).unwrap();
            prop_assert_eq!(pattern.is_match(&raw), Text::parse(raw.clone()).is_ok(), "{:?}", raw);
        }
    }

    #[test]
    fn text_bounds() {
        assert_eq!(Text::parse("  "), Err(TextError::Empty));
        assert_eq!(Text::parse("a\0b"), Err(TextError::Nul));
        let long = "x".repeat(MAX_TEXT_BYTES + 1);
        assert_eq!(
            Text::parse(long),
            Err(TextError::TooLong(MAX_TEXT_BYTES + 1))
        );
        assert_eq!(Text::parse("hi").unwrap().as_str(), "hi");
    }

    #[test]
    fn confidence_bounds() {
        assert!(Confidence::new(0.0).is_ok());
        assert!(Confidence::new(1.0).is_ok());
        assert!(Confidence::new(1.01).is_err());
        assert!(Confidence::new(-0.1).is_err());
        assert!(Confidence::new(f64::NAN).is_err());
        assert!(serde_json::from_str::<Confidence>("1.5").is_err());
    }
}
