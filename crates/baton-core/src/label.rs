//! Short names that arrive in events: intents, skills, methods, action names, fact kinds.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest label baton accepts.
pub const MAX_LABEL_LEN: usize = 128;

/// [`Label`]'s rule as a regular expression, for schemas: no control character, and
/// at least one that is not white space (spelled out: engines disagree on `\s`). The
/// byte bound, [`MAX_LABEL_LEN`], is the schema's `maxLength`.
pub const LABEL_PATTERN: &str = concat!(
    "^[^\\u0000-\\u001f\\u007f-\\u009f]*",
    "[^\\u0000-\\u001f\\u007f-\\u009f \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]",
    "[^\\u0000-\\u001f\\u007f-\\u009f]*$"
);

/// Why a string is not a label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    /// Empty or whitespace only.
    #[error("must not be empty")]
    Empty,
    /// Longer than [`MAX_LABEL_LEN`] bytes.
    #[error("must be at most {MAX_LABEL_LEN} bytes, got {0}")]
    TooLong(usize),
    /// Holds a control character (newline, tab, NUL...).
    #[error("must not contain control characters")]
    Control,
}

/// A short single-line name such as `billing.refund` or `password_reset`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Label(String);

impl Label {
    /// Validates a label.
    pub fn parse(raw: impl Into<String>) -> Result<Self, LabelError> {
        let raw = raw.into();
        if raw.trim().is_empty() {
            return Err(LabelError::Empty);
        }
        if raw.len() > MAX_LABEL_LEN {
            return Err(LabelError::TooLong(raw.len()));
        }
        if raw.chars().any(char::is_control) {
            return Err(LabelError::Control);
        }
        Ok(Self(raw))
    }

    /// The label.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Label {
    type Error = LabelError;
    fn try_from(raw: String) -> Result<Self, LabelError> {
        Self::parse(raw)
    }
}

impl From<Label> for String {
    fn from(label: Label) -> String {
        label.0
    }
}

impl AsRef<str> for Label {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The schema's pattern accepts exactly the labels that parse (within the byte
        /// bound), over white space, control characters and letters.
        #[test]
        fn the_schema_pattern_accepts_exactly_what_parses(
            raw in "[a\\u{0}\\t\\n\\u{1f} \\u{7f}\\u{85}\\u{9f}\\u{a0}\\u{1680}\\u{200a}\\u{200b}\\u{2029}\\u{3000}é.]{0,6}"
        ) {
            let pattern = regex::Regex::new(LABEL_PATTERN).unwrap();
            prop_assert_eq!(pattern.is_match(&raw), Label::parse(raw.clone()).is_ok(), "{:?}", raw);
        }
    }

    #[test]
    fn bounds() {
        assert!(Label::parse("billing.refund").is_ok());
        assert_eq!(Label::parse(""), Err(LabelError::Empty));
        assert_eq!(Label::parse("a\nb"), Err(LabelError::Control));
        assert_eq!(Label::parse("x".repeat(129)), Err(LabelError::TooLong(129)));
    }
}
