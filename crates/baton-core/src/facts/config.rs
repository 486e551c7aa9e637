//! How the extractor is configured: the policy's `[facts]` table.
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
//! The default id patterns (order, invoice, case and account numbers after their cue
//! word) are written out in `policy/default.toml`; like every list in a policy, a
//! file's `[[facts.ids]]` replace them wholesale, so copy the ones to keep. Ids rank
//! below emails and above every other kind where candidates overlap; among ids, the
//! earlier start wins, then the earlier pattern.

use serde::{Deserialize, Serialize};

/// The default id patterns' tail: an optional "number"/"no."/"#", an optional "is"
/// or ":", then the id itself as group 1.
const ID_TAIL: &str =
    r"(?:\s*(?:number|num|no\.?|id|#))?(?:\s*(?:is|was|:|=))?\s*#?\s*([a-z0-9][a-z0-9-]{2,31})\b";

/// The `[facts]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FactConfig {
    /// Id patterns, in order (the defaults: order, invoice, case, account numbers).
    pub ids: Vec<IdPattern>,
    /// Words that name an account tier when next to "account", "plan", "member"...
    pub account_tiers: Vec<String>,
    /// Words that may never start a name found by context ("from New York").
    pub not_names: Vec<String>,
}

/// One configured id pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdPattern {
    /// The fact kind it yields, e.g. `order_id` or a new kind such as `policy_number`.
    pub kind: String,
    /// A Rust `regex` pattern; capture group 1 is the value when present.
    pub pattern: String,
    /// Whether a value must hold a digit to count ("order status" names no order).
    #[serde(default = "yes")]
    pub needs_digit: bool,
}

fn yes() -> bool {
    true
}

impl IdPattern {
    fn builtin(kind: &str, cue: &str) -> Self {
        Self {
            kind: kind.to_owned(),
            pattern: format!("{cue}{ID_TAIL}"),
            needs_digit: true,
        }
    }
}

impl Default for FactConfig {
    fn default() -> Self {
        let words = |list: &[&str]| list.iter().map(|w| (*w).to_owned()).collect();
        Self {
            ids: vec![
                IdPattern::builtin("order_id", "(?i)(?:order|purchase)s?"),
                IdPattern::builtin("invoice_id", "(?i)(?:invoice|bill|receipt)s?"),
                IdPattern::builtin("case_id", r"(?i)\b(?:case|ticket|reference|ref|claim)"),
                IdPattern::builtin(
                    "account_id",
                    r"(?i)\b(?:account|acct|customer|member(?:ship)?)",
                ),
            ],
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
        assert!(config.ids[0].needs_digit, "ids need a digit unless told");
        assert_eq!(config.account_tiers, vec!["gold".to_owned()]);
        assert_eq!(
            config.not_names,
            FactConfig::default().not_names,
            "defaults fill what is not given"
        );
        assert!(toml::from_str::<FactConfig>("unknown = 1").is_err());
    }
}
