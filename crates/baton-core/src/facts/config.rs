//! How the extractor is configured: the policy TOML's `[facts]` table.
//!
//! ```toml
//! [facts]
//! account_tiers = ["bronze", "silver", "gold"]   # replaces the default vocabulary
//!
//! [[facts.ids]]
//! kind = "order_id"
//! pattern = '\bORD-\d{6}\b'                       # group 1 if present, else the match
//!
//! [[facts.ids]]
//! kind = "policy_number"
//! pattern = '(?i)policy\s*(?:no\.?|number)?\s*:?\s*([A-Z]{2}\d{8})'
//! ```
//! Configured patterns run before the built-in ones and win where they overlap, so a
//! deployment can claim its own id formats without turning the defaults off.

use serde::Deserialize;

/// The `[facts]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FactConfig {
    /// Extra id patterns, tried first.
    pub ids: Vec<IdPattern>,
    /// Whether the built-in id patterns (order, account, case, invoice) also run.
    pub builtin_ids: bool,
    /// Words that name an account tier when next to "account", "plan", "member"...
    pub account_tiers: Vec<String>,
    /// Words that may never start a name found by context ("from New York").
    pub not_names: Vec<String>,
}

/// One configured id pattern.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdPattern {
    /// The fact kind it yields, e.g. `order_id` or a new kind such as `policy_number`.
    pub kind: String,
    /// A Rust `regex` pattern; capture group 1 is the value when present.
    pub pattern: String,
}

impl Default for FactConfig {
    fn default() -> Self {
        let words = |list: &[&str]| list.iter().map(|w| (*w).to_owned()).collect();
        Self {
            ids: Vec::new(),
            builtin_ids: true,
            account_tiers: words(&[
                "free",
                "freemium",
                "basic",
                "standard",
                "plus",
                "pro",
                "premium",
                "business",
                "enterprise",
                "bronze",
                "silver",
                "gold",
                "platinum",
                "diamond",
                "vip",
            ]),
            not_names: words(&[
                "new",
                "san",
                "los",
                "las",
                "saint",
                "st",
                "santa",
                "north",
                "south",
                "east",
                "west",
                "united",
                "great",
                "customer",
                "support",
                "service",
                "the",
                "my",
                "your",
                "our",
                "this",
                "that",
                "monday",
                "tuesday",
                "wednesday",
                "thursday",
                "friday",
                "saturday",
                "sunday",
                "january",
                "february",
                "march",
                "april",
                "june",
                "july",
                "august",
                "september",
                "october",
                "november",
                "december",
                "premium",
                "gold",
                "platinum",
                "pro",
                "standard",
                "freemium",
                "dear",
                "hello",
                "hi",
                "thanks",
            ]),
        }
    }
}

/// Why a `[facts]` table cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FactConfigError {
    /// A configured pattern is not a valid regex.
    #[error("facts.ids[{index}] ({kind}): invalid pattern: {message}")]
    BadPattern {
        /// Position in `ids`.
        index: usize,
        /// The kind it was for.
        kind: String,
        /// The regex compiler's message.
        message: String,
    },
    /// A configured kind is empty.
    #[error("facts.ids[{0}]: kind must not be empty")]
    EmptyKind(usize),
    /// A built-in pattern failed to compile (a bug in baton, reported rather than panicking).
    #[error("built-in pattern {name} failed to compile: {message}")]
    Builtin {
        /// Which pattern.
        name: &'static str,
        /// The regex compiler's message.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_toml() {
        let raw = r#"
            account_tiers = ["gold"]
            [[ids]]
            kind = "policy_number"
            pattern = 'POL-\d+'
        "#;
        let config: FactConfig = toml::from_str(raw).unwrap();
        assert_eq!(config.ids.len(), 1);
        assert_eq!(config.account_tiers, vec!["gold".to_owned()]);
        assert!(config.builtin_ids, "defaults fill what is not given");
        assert!(toml::from_str::<FactConfig>("unknown = 1").is_err());
    }
}
