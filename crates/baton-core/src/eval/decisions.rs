//! Replaying labelled conversations and scoring the decisions.
//!
//! The input is JSONL, one conversation per line:
//!
//! ```json
//! {"id": "gaming-1", "description": "keyword on a routine intent, then insists",
//!  "expect": "handoff", "handoff_turn": 2,
//!  "capacity": {"expected_wait_secs": 600, "agents_available": 0},
//!  "batches": [[{"type": "customer_message", "text": "password reset agent"},
//!               {"type": "nlu", "intent": "password_reset", "confidence": 0.95}],
//!              [{"type": "bot_message", "text": "I can reset it now, or connect you."}],
//!              [{"type": "customer_message", "text": "agent"}]]}
//! ```
//!
//! `batches` holds client events exactly as `POST .../events` takes them (`id`, `actor`
//! and `at` optional). `expect` is the strongest outcome over the whole conversation
//! (`handoff` beats `offer` beats `continue`); `handoff_turn` is the customer message
//! (1-based) after which the handoff should happen. `capacity` is optional. Blank lines
//! and lines starting with `//` are skipped.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::replay::{Replay, ReplayError};
use super::split::{BySplit, Split};
use crate::decide::CapacityView;
use crate::event::Outcome;
use crate::policy::Policy;

/// One labelled conversation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Unique name.
    pub id: String,
    /// What it exercises.
    #[serde(default)]
    pub description: String,
    /// The expected strongest outcome.
    pub expect: Outcome,
    /// The customer message after which the handoff should happen.
    #[serde(default)]
    pub handoff_turn: Option<u32>,
    /// Routing's view, if the case is about capacity.
    #[serde(default)]
    pub capacity: Option<CapacityInput>,
    /// Client event batches.
    pub batches: Vec<Vec<Value>>,
}

/// `capacity` in a case.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacityInput {
    /// Expected wait, seconds.
    pub expected_wait_secs: f64,
    /// Agents available.
    pub agents_available: u32,
}

/// A file that cannot be evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// A line is not a valid case.
    #[error("line {line}: {message}")]
    Parse {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A case could not be replayed.
    #[error("line {line} ({id}): {source}")]
    Replay {
        /// 1-based line.
        line: usize,
        /// Case id.
        id: String,
        /// Why.
        source: ReplayError,
    },
}

/// A case whose outcome or handoff turn was not as expected.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Miss {
    /// Case id.
    pub id: String,
    /// What was expected.
    pub expected: Outcome,
    /// What happened.
    pub actual: Outcome,
    /// Expected handoff turn.
    pub expected_turn: Option<u32>,
    /// Actual handoff (or offer) turn.
    pub actual_turn: Option<u32>,
    /// Reason codes of the deciding decision.
    pub reasons: Vec<String>,
}

/// The figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DecisionReport {
    /// Cases replayed.
    pub cases: usize,
    /// Cases whose strongest outcome was as expected.
    pub outcome_correct: usize,
    /// Handoff precision.
    pub precision: f64,
    /// Handoff recall.
    pub recall: f64,
    /// Handoff F1.
    pub f1: f64,
    /// Cases expecting an offer that got one.
    pub offer_correct: usize,
    /// Cases expecting an offer.
    pub offer_expected: usize,
    /// Mean of (actual - expected) handoff turn over correctly predicted handoffs.
    pub mean_turn_offset: f64,
    /// Median of the same.
    pub median_turn_offset: f64,
    /// Cases with an exact handoff turn.
    pub exact_turns: usize,
    /// Cases with a handoff turn to compare.
    pub turn_cases: usize,
    /// Decisions made.
    pub decisions: usize,
    /// Outcome or turn misses.
    pub misses: Vec<Miss>,
}

/// Replays every case of `jsonl` under `policy` and scores the decisions.
pub fn evaluate(jsonl: &str, policy: &Policy) -> Result<DecisionReport, EvalError> {
    score(&cases(jsonl)?, policy)
}

/// [`evaluate`] for each side of the [split](super::split), a case going by its `id`.
pub fn evaluate_split(jsonl: &str, policy: &Policy) -> Result<BySplit<DecisionReport>, EvalError> {
    let mut dev = Vec::new();
    let mut test = Vec::new();
    for (line, case) in cases(jsonl)? {
        match Split::of(&case.id) {
            Split::Dev => dev.push((line, case)),
            Split::Test => test.push((line, case)),
        }
    }
    Ok(BySplit {
        split: "FNV-1a 64 of the case id mod 10: 7-9 test (30 %), 0-6 dev",
        dev: score(&dev, policy)?,
        test: score(&test, policy)?,
    })
}

/// The cases of `jsonl` with their 1-based lines.
fn cases(jsonl: &str) -> Result<Vec<(usize, Case)>, EvalError> {
    let mut out = Vec::new();
    for (n, line) in jsonl.lines().enumerate() {
        let text = line.trim();
        if text.is_empty() || text.starts_with("//") {
            continue;
        }
        let case: Case = serde_json::from_str(text).map_err(|e| EvalError::Parse {
            line: n + 1,
            message: e.to_string(),
        })?;
        out.push((n + 1, case));
    }
    Ok(out)
}

fn score(cases: &[(usize, Case)], policy: &Policy) -> Result<DecisionReport, EvalError> {
    let mut r = DecisionReport::default();
    let (mut tp, mut fp, mut fneg) = (0usize, 0usize, 0usize);
    let mut offsets: Vec<f64> = Vec::new();
    for (line_no, case) in cases {
        let line_no = *line_no;
        let replay = run(case, policy).map_err(|source| EvalError::Replay {
            line: line_no,
            id: case.id.clone(),
            source,
        })?;
        r.cases += 1;
        r.decisions += replay.decisions.len();
        let strongest = replay
            .decisions
            .iter()
            .max_by_key(|d| strength(d.decision.outcome));
        let actual = strongest.map_or(Outcome::Continue, |d| d.decision.outcome);
        let first = replay
            .decisions
            .iter()
            .find(|d| d.decision.outcome == actual && actual != Outcome::Continue);
        let actual_turn = first.map(|d| d.turn);
        match (case.expect == Outcome::Handoff, actual == Outcome::Handoff) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fneg += 1,
            (false, false) => {}
        }
        if case.expect == Outcome::Offer {
            r.offer_expected += 1;
            r.offer_correct += usize::from(actual == Outcome::Offer);
        }
        let mut turn_ok = true;
        if let (Outcome::Handoff, Outcome::Handoff, Some(want), Some(got)) =
            (case.expect, actual, case.handoff_turn, actual_turn)
        {
            r.turn_cases += 1;
            offsets.push(f64::from(got) - f64::from(want));
            turn_ok = got == want;
            r.exact_turns += usize::from(turn_ok);
        }
        if actual == case.expect {
            r.outcome_correct += 1;
        }
        if actual != case.expect || !turn_ok {
            r.misses.push(Miss {
                id: case.id.clone(),
                expected: case.expect,
                actual,
                expected_turn: case.handoff_turn,
                actual_turn,
                reasons: first.map_or_else(Vec::new, |d| {
                    d.decision
                        .reasons
                        .iter()
                        .map(|x| x.code.to_string())
                        .collect()
                }),
            });
        }
    }
    r.precision = ratio(tp, tp + fp);
    r.recall = ratio(tp, tp + fneg);
    r.f1 = if r.precision + r.recall > 0.0 {
        2.0 * r.precision * r.recall / (r.precision + r.recall)
    } else {
        0.0
    };
    if !offsets.is_empty() {
        r.mean_turn_offset = offsets.iter().sum::<f64>() / offsets.len() as f64;
        offsets.sort_by(f64::total_cmp);
        let mid = offsets.len() / 2;
        r.median_turn_offset = if offsets.len().is_multiple_of(2) {
            (offsets[mid - 1] + offsets[mid]) / 2.0
        } else {
            offsets[mid]
        };
    }
    Ok(r)
}

/// Replays one case.
pub fn run(case: &Case, policy: &Policy) -> Result<Replay, ReplayError> {
    let capacity = case.capacity.map(|c| CapacityView {
        expected_wait_secs: c.expected_wait_secs,
        agents_available: c.agents_available,
    });
    let mut replay = Replay::default();
    for (i, batch) in case.batches.iter().enumerate() {
        replay.send(i, batch, policy, capacity.as_ref())?;
    }
    Ok(replay)
}

fn strength(o: Outcome) -> u8 {
    match o {
        Outcome::Continue => 0,
        Outcome::Offer => 1,
        Outcome::Handoff => 2,
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_name_the_line() {
        let e = evaluate("\n{\"id\": 1}\n", &Policy::default()).unwrap_err();
        assert!(matches!(e, EvalError::Parse { line: 2, .. }), "{e}");
    }

    #[test]
    fn scores_a_tiny_set() {
        let jsonl = r#"{"id":"a","expect":"handoff","handoff_turn":1,"batches":[[{"type":"customer_message","text":"I want to talk to a human"}]]}
{"id":"b","expect":"continue","batches":[[{"type":"customer_message","text":"where is my parcel?"},{"type":"nlu","intent":"track_order","confidence":0.9}]]}"#;
        let r = evaluate(jsonl, &Policy::default()).unwrap();
        assert_eq!((r.cases, r.outcome_correct, r.exact_turns), (2, 2, 1));
        assert_eq!((r.precision, r.recall, r.f1), (1.0, 1.0, 1.0));
    }

    /// The shipped development set: at least 60 varied cases, and figures a change to
    /// the engine or the default policy must not quietly degrade.
    #[test]
    fn dev_set_meets_the_bar() {
        let r = evaluate(
            include_str!("../../eval/decisions_dev.jsonl"),
            &Policy::default(),
        )
        .unwrap();
        assert!(r.cases >= 60, "{}", r.cases);
        assert!(
            r.precision >= 0.95 && r.recall >= 0.95,
            "P {} R {} misses {:?}",
            r.precision,
            r.recall,
            r.misses
        );
        assert!(
            r.offer_correct * 3 >= r.offer_expected * 2,
            "offers {}/{}",
            r.offer_correct,
            r.offer_expected
        );
        assert!(
            r.mean_turn_offset.abs() <= 0.5,
            "turn offset {} {:?}",
            r.mean_turn_offset,
            r.misses
        );
        assert!(
            r.outcome_correct * 100 >= r.cases * 95,
            "{}/{} {:?}",
            r.outcome_correct,
            r.cases,
            r.misses
        );
    }
}
