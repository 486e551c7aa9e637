//! The "never repeat yourself" checks. An agent message that asks for a kind of fact
//! the package already holds is a repeat ask (the server writes `repeat_ask`); a
//! customer message that restates a fact already given is a customer repeat (the
//! server writes `customer_repeated`).
//!
//! Asking is read from words, not a model: a sentence asks for a kind when it names it
//! ("order number", "email") and has a request cue ("may I have", "could you", "?").
//! Naming the value itself ("is 88231 the right order number?") is confirming, not
//! asking, and is not counted.

use serde::Serialize;

use super::extract::FactExtractor;
use super::kind::FactKind;
use super::{Fact, normalize};

const CUES: &[&[&str]] = &[
    &["may", "i"],
    &["can", "i"],
    &["could", "i"],
    &["can", "you"],
    &["could", "you"],
    &["would", "you"],
    &["please"],
    &["provide"],
    &["confirm"],
    &["need"],
    &["give", "me"],
    &["tell", "me"],
    &["share"],
    &["send"],
    &["what", "is"],
    &["what", "s"],
    &["enter"],
    &["type"],
    &["verify"],
    &["let", "me", "know"],
    &["and", "your"],
];

fn phrases(kind: &FactKind) -> &'static [&'static [&'static str]] {
    match kind {
        FactKind::OrderId => &[
            &["order", "number"],
            &["order", "id"],
            &["order", "no"],
            &["order", "#"],
            &["purchase", "number"],
            &["purchase", "id"],
            &["order", "reference"],
        ],
        FactKind::Email => &[&["email"], &["e", "mail"], &["mail", "address"]],
        FactKind::Phone => &[
            &["phone"],
            &["mobile", "number"],
            &["telephone"],
            &["cell", "number"],
            &["contact", "number"],
        ],
        FactKind::PersonName => &[
            &["your", "name"],
            &["full", "name"],
            &["first", "name"],
            &["last", "name"],
            &["surname"],
            &["name", "please"],
        ],
        FactKind::AccountId => &[
            &["account", "number"],
            &["account", "id"],
            &["customer", "number"],
            &["customer", "id"],
            &["member", "id"],
            &["membership", "number"],
        ],
        FactKind::CaseId => &[
            &["case", "number"],
            &["ticket", "number"],
            &["reference", "number"],
            &["case", "id"],
            &["ticket", "id"],
        ],
        FactKind::InvoiceId => &[
            &["invoice", "number"],
            &["bill", "number"],
            &["invoice", "id"],
            &["receipt", "number"],
        ],
        FactKind::Username => &[
            &["username"],
            &["user", "name"],
            &["user", "id"],
            &["login"],
        ],
        FactKind::Address => &[
            &["shipping", "address"],
            &["home", "address"],
            &["street", "address"],
            &["your", "address"],
            &["mailing", "address"],
            &["billing", "address"],
            &["delivery", "address"],
        ],
        FactKind::Postcode => &[
            &["zip"],
            &["zip", "code"],
            &["postcode"],
            &["postal", "code"],
            &["post", "code"],
        ],
        FactKind::CardNumber => &[
            &["card", "number"],
            &["credit", "card"],
            &["card", "details"],
        ],
        FactKind::Date => &[
            &["purchase", "date"],
            &["date", "of", "purchase"],
            &["order", "date"],
        ],
        FactKind::AccountTier => &[
            &["membership", "level"],
            &["member", "level"],
            &["account", "type"],
            &["membership", "tier"],
        ],
        _ => &[],
    }
}

const ASKABLE: &[FactKind] = &[
    FactKind::OrderId,
    FactKind::Email,
    FactKind::Phone,
    FactKind::PersonName,
    FactKind::AccountId,
    FactKind::CaseId,
    FactKind::InvoiceId,
    FactKind::Username,
    FactKind::Address,
    FactKind::Postcode,
    FactKind::CardNumber,
    FactKind::Date,
    FactKind::AccountTier,
];

/// A word of every phrase above: a sentence without one asks for nothing, and most
/// bot sentences have none, so this check spares the phrase search.
const TRIGGERS: &[&str] = &[
    "account",
    "address",
    "bill",
    "card",
    "case",
    "cell",
    "contact",
    "credit",
    "customer",
    "date",
    "email",
    "invoice",
    "login",
    "mail",
    "member",
    "membership",
    "mobile",
    "name",
    "order",
    "phone",
    "post",
    "postal",
    "postcode",
    "purchase",
    "receipt",
    "reference",
    "surname",
    "telephone",
    "ticket",
    "user",
    "username",
    "zip",
];

/// Whether ASCII `text` holds a trigger anywhere, in any case: when it does not, no
/// word of it is one. (Only ASCII text: lower-casing can turn other letters into
/// ASCII ones, the Kelvin sign into `k`.) Most bot lines end here, in one pass.
fn has_trigger(text: &str) -> bool {
    static SET: std::sync::LazyLock<Option<aho_corasick::AhoCorasick>> =
        std::sync::LazyLock::new(|| {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                .build(TRIGGERS)
                .ok()
        });
    SET.as_ref().is_none_or(|set| set.is_match(text))
}

fn contains(words: &[&str], phrase: &[&str]) -> bool {
    words
        .windows(phrase.len())
        .any(|w| w.iter().zip(phrase).all(|(a, b)| a == b))
}

/// The kinds of fact a bot or agent message asks for, in the order listed above.
pub fn asked_kinds(text: &str) -> Vec<FactKind> {
    let mut kinds = Vec::new();
    if text.is_ascii() && !has_trigger(text) {
        return kinds;
    }
    let lower = text.to_lowercase();
    for sentence in lower.split_inclusive(['.', '!', '?', '\n']) {
        let words: Vec<&str> = sentence
            .split(|c: char| !(c.is_alphanumeric() || c == '#'))
            .filter(|w| !w.is_empty())
            .collect();
        if !words.iter().any(|w| TRIGGERS.binary_search(w).is_ok()) {
            continue;
        }
        let cued = sentence.contains('?') || CUES.iter().any(|c| contains(&words, c));
        if !cued {
            continue;
        }
        for kind in ASKABLE {
            if !kinds.contains(kind) && phrases(kind).iter().any(|p| contains(&words, p)) {
                kinds.push(kind.clone());
            }
        }
    }
    kinds
}

/// One kind asked for again: the kind and the seq of the message that first gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Repeat {
    /// Kind of fact.
    pub kind: FactKind,
    /// Seq of the customer message that first gave it.
    pub fact_seq: u64,
}

/// What an agent message asks for that `known` facts already hold (one per kind).
pub fn detect_repeat_ask(agent_text: &str, known: &[Fact]) -> Vec<Repeat> {
    let text_norm = normalize(agent_text);
    asked_kinds(agent_text)
        .into_iter()
        .filter_map(|kind| {
            let mut same = known.iter().filter(|f| f.kind == kind);
            let first = same.clone().min_by_key(|f| f.seq)?;
            let confirming = same.any(|f| {
                let n = f.normalized();
                n.len() >= 3 && text_norm.contains(&n)
            });
            (!confirming).then_some(Repeat {
                kind,
                fact_seq: first.seq,
            })
        })
        .collect()
}

/// What a customer message at `seq` restates of the `known` facts given before it: any
/// fact the extractor finds again with the same value, and any known value that occurs
/// in the message verbatim (a bare "3348917502" restated).
pub fn detect_customer_repeat(
    customer_text: &str,
    seq: u64,
    known: &[Fact],
    extractor: &FactExtractor,
) -> Vec<Repeat> {
    let earlier: Vec<&Fact> = known
        .iter()
        .filter(|f| f.seq < seq && !f.redacted)
        .collect();
    if earlier.is_empty() {
        return Vec::new();
    }
    let text_norm = normalize(customer_text);
    let found = extractor.extract(customer_text, seq);
    let mut out: Vec<Repeat> = Vec::new();
    for fact in &earlier {
        let norm = fact.normalized();
        let again = found
            .iter()
            .any(|f| f.kind == fact.kind && f.normalized() == norm)
            || (norm.len() >= 5 && text_norm.contains(&norm));
        if again && !out.iter().any(|r| r.kind == fact.kind) {
            out.push(Repeat {
                kind: fact.kind.clone(),
                fact_seq: fact.seq,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{FactConfig, FactSource};

    fn fact(kind: FactKind, value: &str, seq: u64) -> Fact {
        Fact {
            pii: None,
            kind,
            value: value.into(),
            seq,
            source: FactSource::Customer,
            redacted: false,
            span: None,
        }
    }

    #[test]
    fn triggers_are_sorted_and_cover_every_phrase() {
        assert!(TRIGGERS.windows(2).all(|w| w[0] < w[1]));
        for kind in ASKABLE {
            for phrase in phrases(kind) {
                assert!(phrase.iter().any(|w| TRIGGERS.contains(w)), "{phrase:?}");
            }
        }
    }

    #[test]
    fn reads_what_a_message_asks_for() {
        assert_eq!(
            asked_kinds("ok, may I have your username, email address and order ID please?"),
            [FactKind::OrderId, FactKind::Email, FactKind::Username]
        );
        assert_eq!(
            asked_kinds("sure, may I have your name please?"),
            [FactKind::PersonName]
        );
        assert!(asked_kinds("I can see order 88231 was charged twice.").is_empty());
        assert!(asked_kinds("Thanks for the order number.").is_empty());
    }

    #[test]
    fn repeat_ask_only_when_the_fact_is_known_and_not_being_confirmed() {
        let known = [
            fact(FactKind::OrderId, "88231", 3),
            fact(FactKind::Email, "a@b.co", 5),
        ];
        let asks = detect_repeat_ask("Could you give me your order number?", &known);
        assert_eq!(
            asks,
            [Repeat {
                kind: FactKind::OrderId,
                fact_seq: 3
            }]
        );
        assert!(detect_repeat_ask("Is 88231 the right order number?", &known).is_empty());
        assert!(detect_repeat_ask("What is your phone number?", &known).is_empty());
    }

    #[test]
    fn customer_restatements_are_caught() {
        let ex = FactExtractor::new(&FactConfig::default()).unwrap();
        let known = [
            fact(FactKind::OrderId, "3348917502", 4),
            fact(FactKind::Phone, "(977) 625-2661", 6),
        ];
        let again = detect_customer_repeat("like I said, it's 3348917502!", 9, &known, &ex);
        assert_eq!(
            again,
            [Repeat {
                kind: FactKind::OrderId,
                fact_seq: 4
            }]
        );
        let phone = detect_customer_repeat("call me on 977 625 2661", 9, &known, &ex);
        assert_eq!(
            phone,
            [Repeat {
                kind: FactKind::Phone,
                fact_seq: 6
            }]
        );
        assert!(
            detect_customer_repeat("it's 3348917502", 4, &known, &ex).is_empty(),
            "not before itself"
        );
        assert!(detect_customer_repeat("thanks!", 9, &known, &ex).is_empty());
    }
}
