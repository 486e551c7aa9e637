//! False handoffs on real text that asks for no human (banking77; CLINC150, its
//! out-of-scope queries included). Each row is a conversation of one customer message,
//! replayed through the path the server runs (decode, ownership check, fold, decide),
//! and what the decision does with it is counted by its leading reason.
//!
//! Risk reasons are counted apart: a message that says "I did not make this purchase"
//! goes to a human by policy, whatever its intent label, and whether that is right is
//! a question for the policy's `[risk]` lists, not a detector's mistake. The headline
//! `false_handoff_rate` counts every other handoff; `handoff_rate` counts them all.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use super::replay::Replay;
use crate::event::{Outcome, ReasonCode};
use crate::policy::Policy;

/// Examples kept per report.
const EXAMPLES: usize = 20;

/// What the engine did with rows that ask for no human.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HandoffReport {
    /// Rows replayed.
    pub rows: usize,
    /// Rows the server would refuse (oversize, empty): not counted anywhere else.
    pub skipped: usize,
    /// Rows handed off, for any reason.
    pub handoffs: usize,
    /// Rows that got an offer.
    pub offers: usize,
    /// Handoffs for a risk reason (`risk_phrase`, `risk_intent`).
    pub risk_handoffs: usize,
    /// Handoffs for any other reason: a human was not asked for and no rule demands one.
    pub false_handoffs: usize,
    /// handoffs / rows.
    pub handoff_rate: f64,
    /// false_handoffs / rows.
    pub false_handoff_rate: f64,
    /// (offers + false handoffs) / rows: every row where the customer is asked or
    /// sent to a human without a risk reason.
    pub false_escalation_rate: f64,
    /// Leading reason code of each handoff or offer -> rows.
    pub by_reason: BTreeMap<String, usize>,
    /// Rows handed off or offered without a risk reason (up to 20): text, intent,
    /// outcome, leading reason.
    pub examples: Vec<(String, String, Outcome, String)>,
}

/// Replays each `(text, intent)` row as a one-message conversation under `policy`.
pub fn evaluate_handoffs(rows: &[(String, String)], policy: &Policy) -> HandoffReport {
    let mut r = HandoffReport::default();
    for (text, intent) in rows {
        let mut replay = Replay::default();
        let sent = replay.send(
            0,
            &[json!({"type": "customer_message", "text": text})],
            policy,
            None,
        );
        let Ok(Some(decided)) = sent else {
            r.skipped += 1;
            continue;
        };
        let d = &decided.decision;
        r.rows += 1;
        if d.outcome == Outcome::Continue {
            continue;
        }
        let lead = d.reasons.first().map(|x| x.code);
        let risk = d
            .reasons
            .iter()
            .any(|x| matches!(x.code, ReasonCode::RiskPhrase | ReasonCode::RiskIntent));
        let code = lead.map_or("none", ReasonCode::as_str);
        *r.by_reason.entry(code.to_owned()).or_default() += 1;
        match d.outcome {
            Outcome::Handoff if risk => r.risk_handoffs += 1,
            Outcome::Handoff => r.false_handoffs += 1,
            _ => r.offers += 1,
        }
        r.handoffs += usize::from(d.outcome == Outcome::Handoff);
        if !risk && r.examples.len() < EXAMPLES {
            r.examples
                .push((text.clone(), intent.clone(), d.outcome, code.to_owned()));
        }
    }
    let rate = |n: usize| {
        if r.rows == 0 {
            0.0
        } else {
            n as f64 / r.rows as f64
        }
    };
    r.handoff_rate = rate(r.handoffs);
    r.false_handoff_rate = rate(r.false_handoffs);
    r.false_escalation_rate = rate(r.false_handoffs + r.offers);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(texts: &[(&str, &str)]) -> Vec<(String, String)> {
        texts
            .iter()
            .map(|(t, i)| ((*t).to_owned(), (*i).to_owned()))
            .collect()
    }

    #[test]
    fn counts_each_kind_of_escalation_apart() {
        let r = evaluate_handoffs(
            &rows(&[
                ("How do I locate my card?", "card_arrival"),
                (
                    "I did not make this purchase, what is going on",
                    "card_payment_not_recognised",
                ),
                ("I want to talk to a human about my card", "card_arrival"),
                ("", "empty"),
            ]),
            &Policy::default(),
        );
        assert_eq!((r.rows, r.skipped), (3, 1));
        assert_eq!((r.handoffs, r.risk_handoffs, r.false_handoffs), (2, 1, 1));
        assert_eq!(r.by_reason.get("risk_phrase"), Some(&1));
        assert_eq!(r.by_reason.get("explicit_request"), Some(&1));
        assert!((r.false_handoff_rate - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(r.examples.len(), 1);
        assert_eq!(r.examples[0].1, "card_arrival");
    }
}
