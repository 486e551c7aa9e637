//! Intent-name patterns: `*` matches any run of characters, matching ignores case.
//!
//! Operators write these in the policy (`"*refund*"`, `"track_*"`), so they are plain
//! globs rather than regular expressions: nothing to escape, nothing to get slow.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A glob over intent names, stored lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IntentPattern(String);

/// Why a string is not an intent pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an intent pattern: patterns are non-empty and contain no whitespace")]
pub struct PatternError(pub String);

impl IntentPattern {
    /// Validates a pattern.
    pub fn parse(raw: &str) -> Result<Self, PatternError> {
        if raw.is_empty() || raw.chars().any(char::is_whitespace) {
            return Err(PatternError(raw.to_owned()));
        }
        Ok(Self(raw.to_lowercase()))
    }

    /// Whether `intent` matches, ignoring case.
    pub fn matches(&self, intent: &str) -> bool {
        if intent.is_ascii() {
            // ASCII lower-cases byte by byte: no copy needed.
            glob(self.0.as_bytes(), intent.as_bytes(), u8::to_ascii_lowercase)
        } else {
            glob(self.0.as_bytes(), intent.to_lowercase().as_bytes(), |b| *b)
        }
    }

    /// Whether the pattern starts and ends with `*`: then it matches any text that holds
    /// a part it matches.
    pub fn is_unanchored(&self) -> bool {
        self.0.len() >= 2 && self.0.starts_with('*') && self.0.ends_with('*')
    }

    /// The pattern as written (lower case).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether any of `patterns` matches `intent`.
pub fn any_matches(patterns: &[IntentPattern], intent: &str) -> bool {
    patterns.iter().any(|p| p.matches(intent))
}

/// Iterative glob with backtracking to the last `*`: linear in practice, no recursion.
/// `text` is read through `lower`.
fn glob(pattern: &[u8], text: &[u8], lower: impl Fn(&u8) -> u8) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == lower(&text[t]) {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

impl TryFrom<String> for IntentPattern {
    type Error = PatternError;
    fn try_from(raw: String) -> Result<Self, PatternError> {
        Self::parse(&raw)
    }
}

impl From<IntentPattern> for String {
    fn from(p: IntentPattern) -> String {
        p.0
    }
}

impl fmt::Display for IntentPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        IntentPattern::parse(p).unwrap().matches(s)
    }

    #[test]
    fn globs() {
        assert!(m("*refund*", "billing.Refund_status"));
        assert!(m("track_*", "track_order"));
        assert!(!m("track_*", "order_track"));
        assert!(m("none", "NONE"));
        assert!(!m("none", "nonexistent"));
        assert!(m("*", ""));
        assert!(m("a*b*c", "axxbyyc"));
        assert!(!m("a*b*c", "axxbyy"));
        assert!(IntentPattern::parse("a b").is_err());
        assert!(IntentPattern::parse("").is_err());
        assert!(
            m("*Ä*", "xäx") && !m("*ä*", "xax"),
            "non-ASCII lower-cases too"
        );
        assert!(m("**", "") && m("*ab*", "xAB") && !m("*ab*", "a") && !m("ab", "abc"));
        assert!(m("*é*", "xÉx") && !m("*é*", "xex") && !m("é", "e"));
    }

    proptest::proptest! {
        /// Reading ASCII through `to_ascii_lowercase` agrees with lower-casing first.
        #[test]
        fn ascii_agrees_with_lower_casing_first(p in "[ab*_]{1,6}", t in "[abAB_]{0,8}") {
            let pattern = IntentPattern::parse(&p).unwrap();
            let general = glob(pattern.as_str().as_bytes(), t.to_lowercase().as_bytes(), |b| *b);
            proptest::prop_assert_eq!(pattern.matches(&t), general);
        }
    }

    #[test]
    fn unanchored() {
        let p = |s: &str| IntentPattern::parse(s).unwrap().is_unanchored();
        assert!(p("*agent*") && p("**") && p("*a*b*"));
        assert!(!p("agent") && !p("*agent") && !p("agent*") && !p("*"));
    }
}
