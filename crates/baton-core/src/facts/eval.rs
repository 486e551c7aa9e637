//! Scoring extracted facts against labelled spans, per entity type: the pure half of
//! `baton eval facts` (the binary reads the Bitext CSV and posts through the API; this
//! counts). A labelled span is matched by a fact of the mapped kind whose value is the
//! same once reduced to letters and digits (`#00108` = `00108`; amounts by digits, so
//! `$160` = `160`). A fact of a scored kind that matches no span is a false positive,
//! including a true entity the data set did not label.

use std::collections::BTreeMap;

use serde::Serialize;

use super::kind::FactKind;
use super::{Fact, normalize};

/// One labelled entity in an utterance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledSpan {
    /// The data set's entity type, e.g. `order_id`.
    pub entity_type: String,
    /// The labelled text (`text[start..end]`, which is more faithful than Bitext's
    /// `entity_value` column: that one drops leading zeros and digits now and then).
    pub value: String,
}

/// The fact kind a Bitext entity type is scored against (`None`: not extracted by
/// baton's patterns, e.g. cities, which only an NLU would know).
pub fn bitext_kind(entity_type: &str) -> Option<FactKind> {
    match entity_type {
        "order_id" => Some(FactKind::OrderId),
        "invoice_id" => Some(FactKind::InvoiceId),
        "person_name" => Some(FactKind::PersonName),
        "refund_amount" => Some(FactKind::Amount),
        "account_type" => Some(FactKind::AccountTier),
        _ => None,
    }
}

/// Counts for one entity type.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Score {
    /// Labelled spans.
    pub expected: u32,
    /// Labelled spans a fact matched.
    pub matched: u32,
    /// Facts of the mapped kind.
    pub found: u32,
    /// Facts of the mapped kind that matched a span.
    pub correct: u32,
}

impl Score {
    /// matched / expected (1 when nothing was expected).
    pub fn recall(&self) -> f64 {
        ratio(self.matched, self.expected)
    }

    /// correct / found (1 when nothing was found).
    pub fn precision(&self) -> f64 {
        ratio(self.correct, self.found)
    }
}

fn ratio(a: u32, b: u32) -> f64 {
    if b == 0 {
        1.0
    } else {
        f64::from(a) / f64::from(b)
    }
}

fn same(kind: &FactKind, gold: &str, found: &str) -> bool {
    if *kind == FactKind::Amount {
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        return digits(gold) == digits(found);
    }
    let (g, f) = (normalize(gold), normalize(found));
    !g.is_empty() && g == f
}

/// Tallies utterances one at a time.
#[derive(Debug, Clone, Default)]
pub struct Scorer {
    by_type: BTreeMap<String, Score>,
}

impl Scorer {
    /// An empty tally.
    pub fn new() -> Self {
        Self::default()
    }

    /// Scores one utterance: its labelled spans and the facts extracted from it.
    pub fn add(&mut self, gold: &[LabelledSpan], facts: &[Fact]) {
        const TYPES: &[&str] = &[
            "order_id",
            "invoice_id",
            "person_name",
            "refund_amount",
            "account_type",
        ];
        for entity_type in TYPES {
            let Some(kind) = bitext_kind(entity_type) else {
                continue;
            };
            let spans: Vec<&LabelledSpan> = gold
                .iter()
                .filter(|s| s.entity_type == *entity_type)
                .collect();
            let mine: Vec<&Fact> = facts.iter().filter(|f| f.kind == kind).collect();
            let score = self.by_type.entry((*entity_type).to_owned()).or_default();
            score.expected += spans.len() as u32;
            score.matched += spans
                .iter()
                .filter(|s| mine.iter().any(|f| same(&kind, &s.value, &f.value)))
                .count() as u32;
            score.found += mine.len() as u32;
            score.correct += mine
                .iter()
                .filter(|f| spans.iter().any(|s| same(&kind, &s.value, &f.value)))
                .count() as u32;
        }
    }

    /// Scores per Bitext entity type, plus `ids` (order and invoice ids together).
    pub fn scores(&self) -> BTreeMap<String, Score> {
        let mut out = self.by_type.clone();
        let mut ids = Score::default();
        for name in ["order_id", "invoice_id"] {
            if let Some(s) = self.by_type.get(name) {
                ids.expected += s.expected;
                ids.matched += s.matched;
                ids.found += s.found;
                ids.correct += s.correct;
            }
        }
        out.insert("ids".to_owned(), ids);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{FactConfig, FactExtractor};

    #[test]
    fn counts_hits_misses_and_false_positives() {
        let ex = FactExtractor::new(&FactConfig::default()).unwrap();
        let mut scorer = Scorer::new();
        let rows = [
            (
                "cancel order 00123842 please",
                Some(("order_id", "00123842")),
            ),
            ("get bill #00108", Some(("invoice_id", "#00108"))),
            ("my stuff never arrived", Some(("order_id", "999"))),
            ("order 123456 is late", None),
        ];
        for (text, label) in rows {
            let gold: Vec<LabelledSpan> = label
                .map(|(t, v)| LabelledSpan {
                    entity_type: t.into(),
                    value: v.into(),
                })
                .into_iter()
                .collect();
            scorer.add(&gold, &ex.extract(text, 1));
        }
        let scores = scorer.scores();
        let order = &scores["order_id"];
        assert_eq!(
            (order.expected, order.matched, order.found, order.correct),
            (2, 1, 2, 1)
        );
        assert_eq!(scores["invoice_id"].recall(), 1.0);
        assert_eq!(scores["ids"].expected, 3);
    }
}
