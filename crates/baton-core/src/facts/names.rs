//! Person names, the hardest facts to read without a model. Three cues are trusted:
//! an introduction ("my name is Ana Ruiz", "I'm Ana"), an honorific ("Ms. Hawkings"),
//! and two capitalised words after a word that points at a person ("invoices from
//! David Miller", "a refund for Jane Doe"), unless the first word is on the
//! `not_names` list (places, weekdays, tiers: "from New York").

use std::collections::BTreeSet;

use regex::Regex;

use super::config::{FactConfig, FactConfigError};
use super::extract::{Found, STOPWORDS};
use super::kind::FactKind;

const RANK: u8 = 9;

/// The compiled name rules.
#[derive(Debug)]
pub struct NameRules {
    intro: Regex,
    intro_lower: Regex,
    honorific: Regex,
    context: Regex,
    not_names: BTreeSet<String>,
}

fn compile(name: &'static str, pattern: &str) -> Result<Regex, FactConfigError> {
    Regex::new(pattern).map_err(|e| FactConfigError::Builtin {
        name,
        message: e.to_string(),
    })
}

impl NameRules {
    /// Compiles the rules with the configured `not_names`.
    pub fn new(config: &FactConfig) -> Result<Self, FactConfigError> {
        const WORD: &str = r"[A-Z][a-zA-Z'’-]+";
        Ok(Self {
            intro: compile(
                "name_intro",
                &format!(
                    r"(?i:\b(?:my\s+name\s+is|my\s+name's|name\s+is|i\s+am\s+called|call\s+me|this\s+is|i'm|i\s+am))\s+((?:(?:Mr|Mrs|Ms|Miss|Dr)\.?\s+)?{WORD}(?:\s+{WORD}){{0,2}})"
                ),
            )?,
            intro_lower: compile(
                "name_intro_lower",
                r"(?i)\bmy\s+name\s+is\s+([a-z][a-z'’-]+(?:\s+[a-z][a-z'’-]+)?)",
            )?,
            honorific: compile(
                "name_honorific",
                &format!(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?\s+{WORD}(?:\s+{WORD})?"),
            )?,
            context: compile(
                "name_context",
                &format!(
                    r"(?i:\b(?:from|for|by|to|named|called|with|contact|of|dear|signed|behalf of)\s+)({WORD}\s+{WORD})\b"
                ),
            )?,
            not_names: config.not_names.iter().map(|w| w.to_lowercase()).collect(),
        })
    }

    /// Adds name candidates in `text` to `out`.
    pub(crate) fn scan(&self, text: &str, out: &mut Vec<Found>) {
        // A name found by these rules has at least one capital after the first letter.
        let has_upper = text.bytes().skip(1).any(|b| b.is_ascii_uppercase());
        if has_upper {
            for re in [&self.intro, &self.honorific, &self.context] {
                for caps in re.captures_iter(text) {
                    if let Some(m) = caps.get(1).or_else(|| caps.get(0)) {
                        self.push(m.as_str(), m.start(), out);
                    }
                }
            }
        }
        if text.len() >= 12 && text.to_ascii_lowercase().contains("name") {
            for caps in self.intro_lower.captures_iter(text) {
                if let Some(m) = caps.get(1) {
                    self.push(m.as_str(), m.start(), out);
                }
            }
        }
    }

    fn push(&self, raw: &str, start: usize, out: &mut Vec<Found>) {
        // Trailing filler ("john and") is cut; a first word on either list rejects it.
        let mut words: Vec<&str> = raw.split_whitespace().collect();
        while let Some(last) = words.last() {
            if STOPWORDS.contains(&last.to_ascii_lowercase().as_str()) {
                words.pop();
            } else {
                break;
            }
        }
        let Some(first) = words.first() else { return };
        let first = first.trim_end_matches('.').to_lowercase();
        if STOPWORDS.contains(&first.as_str()) || self.not_names.contains(&first) {
            return;
        }
        if words
            .iter()
            .skip(1)
            .any(|w| self.not_names.contains(&w.to_lowercase()))
        {
            return;
        }
        let value = words.join(" ");
        // Words are sub-slices of `raw`, so their offsets come from the pointers.
        let end = words.last().map_or(raw.len(), |w| {
            w.as_ptr() as usize - raw.as_ptr() as usize + w.len()
        });
        let end = start + end;
        out.push(Found {
            kind: FactKind::PersonName,
            value,
            start,
            end,
            rank: RANK,
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::facts::{FactConfig, FactExtractor, FactKind};

    fn names(text: &str) -> Vec<String> {
        let ex = FactExtractor::new(&FactConfig::default()).unwrap();
        ex.extract(text, 1)
            .into_iter()
            .filter(|f| f.kind == FactKind::PersonName)
            .map(|f| f.value)
            .collect()
    }

    #[test]
    fn introductions_honorifics_and_context() {
        assert_eq!(
            names("Hi, my name is Ana Ruiz and I need help"),
            ["Ana Ruiz"]
        );
        assert_eq!(names("my name is crystal minh"), ["crystal minh"]);
        assert_eq!(
            names("get invoice from Ms. Hawkings please"),
            ["Ms. Hawkings"]
        );
        assert_eq!(names("find my bill from David Miller"), ["David Miller"]);
    }

    #[test]
    fn places_and_filler_are_not_names() {
        assert!(names("do you ship to New York?").is_empty());
        assert!(names("I'm Not happy").is_empty());
        assert!(names("I am sorry").is_empty());
        assert!(names("checking for Premium Account").is_empty());
    }
}
