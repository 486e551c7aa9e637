//! Fitting the failure model's weights (`[failure]`, a logistic regression over the
//! signal features) from resolved conversations, as `baton train` does.
//!
//! A case is one resolved conversation's first bot episode. Its samples are the
//! features the decision engine saw at each of its decisions before the first
//! handoff; its label is whether the bot failed the customer: a handoff decision came,
//! or the customer's CSAT (survey, else resolution) was 2 or less. The decision that
//! handed off is left out: its features are what the current rules reacted to, so
//! keeping them would teach the model the current policy instead of the outcome.
//! Each sample weighs 1 / (samples of its conversation): a long conversation counts
//! as much as a short one.
//!
//! The fit is L2-regularised maximum likelihood by Newton's method: seven unknowns,
//! deterministic, converged in a few steps. Thresholds (`failure.handoff`,
//! `failure.offer`) are the operator's and are not changed.

use serde::Serialize;

use crate::Event;
use crate::event::{EventBody, Outcome};
use crate::id::ConversationId;
use crate::policy::{FailurePolicy, Policy};
use crate::signals::SignalState;
use crate::signals::failure::Features;
use crate::timestamp::Timestamp;

use super::train::{Dated, time_ordered_split};

/// CSAT at or below this is a failure even without a handoff.
pub const FAILED_CSAT: u8 = 2;

/// Ridge penalty on the weights (not the bias), per unit of total sample weight.
const L2: f64 = 0.01;

/// One resolved conversation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailureCase {
    /// The conversation.
    pub conversation: ConversationId,
    /// When it was resolved: the split orders by this.
    pub at: Timestamp,
    /// Features at each decision of the first bot episode, before any handoff.
    pub samples: Vec<Features>,
    /// Whether the bot failed the customer.
    pub failed: bool,
}

/// The cases in `conversations` (each one's events in seq order, the types the
/// signals read plus `decision`, `survey` and `resolved`), folded under `policy`.
pub fn failure_cases<'a>(
    conversations: impl IntoIterator<Item = (&'a ConversationId, &'a [Event])>,
    policy: &Policy,
) -> Vec<FailureCase> {
    let mut out = Vec::new();
    for (conversation, events) in conversations {
        let mut signals = SignalState::default();
        let (mut samples, mut handed_off, mut resolved, mut csat) = (Vec::new(), false, None, None);
        for event in events {
            match &event.body {
                EventBody::Decision(d) if !handed_off && resolved.is_none() => {
                    if d.outcome == Outcome::Handoff {
                        handed_off = true;
                    } else {
                        samples.push(signals.features);
                    }
                }
                EventBody::Survey(s) => csat = s.csat.map(|c| c.get()).or(csat),
                EventBody::Resolved(r) if resolved.is_none() => {
                    resolved = Some(event.at);
                    csat = csat.or(r.csat);
                }
                _ => {}
            }
            signals.apply(event, policy);
        }
        if let Some(at) = resolved.filter(|_| !samples.is_empty()) {
            out.push(FailureCase {
                conversation: conversation.clone(),
                at,
                samples,
                failed: handed_off || csat.is_some_and(|c| c <= FAILED_CSAT),
            });
        }
    }
    out
}

/// How well a set of weights predicts the held-out cases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailureFigures {
    /// Mean log loss per conversation (each sample weighed as in the fit); lower is better.
    pub log_loss: f64,
    /// Mean squared error of the probability, per conversation; lower is better.
    pub brier: f64,
    /// Area under the ROC curve of each conversation's highest probability against its
    /// label; 0.5 is chance.
    pub auc: f64,
    /// Of conversations whose probability reached `failure.handoff`, the share that failed.
    pub handoff_precision: f64,
    /// Of conversations that failed, the share whose probability reached `failure.handoff`.
    pub handoff_recall: f64,
}

/// What `baton train` reports about the failure model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailureReport {
    /// Resolved conversations with at least one decision before a handoff.
    pub cases: u64,
    /// Cases fitted on (the older).
    pub fit_cases: u64,
    /// Cases held out (the newer).
    pub test_cases: u64,
    /// When the first held-out case was resolved.
    pub test_from: Option<String>,
    /// Share of fitted cases that failed.
    pub fit_failed_share: f64,
    /// The base policy's weights on the held-out cases.
    pub before: FailureFigures,
    /// The fitted weights on the held-out cases.
    pub after: FailureFigures,
    /// The fitted `[failure]` table.
    pub weights: FailurePolicy,
}

impl Dated for FailureCase {
    fn dated(&self) -> (Timestamp, &ConversationId) {
        (self.at, &self.conversation)
    }
}

/// Fits on the older cases (by resolution time), measures both weight sets on the
/// newer `test_share`, and returns the base policy with the fitted weights. `None`
/// when either side has fewer than two cases or the older side has one label only.
pub fn train_failure(
    cases: &[FailureCase],
    test_share: f64,
    base: &Policy,
) -> Option<(Policy, FailureReport)> {
    let (fit, test) = time_ordered_split(cases, test_share)?;
    let failed = fit.iter().filter(|c| c.failed).count();
    if failed == 0 || failed == fit.len() {
        return None;
    }
    let weights = fit_weights(&fit, &base.failure);
    let report = FailureReport {
        cases: cases.len() as u64,
        fit_cases: fit.len() as u64,
        test_cases: test.len() as u64,
        test_from: test.first().map(|c| c.at.to_string()),
        fit_failed_share: failed as f64 / fit.len() as f64,
        before: figures(&test, &base.failure),
        after: figures(&test, &weights),
        weights: weights.clone(),
    };
    let mut policy = base.clone();
    policy.failure = weights;
    Some((policy, report))
}

/// `[1, features...]`.
fn row(f: &Features) -> [f64; 7] {
    [
        1.0,
        f.negativity,
        f.decline,
        f.frustration,
        f.low_confidence,
        f.loop_score,
        f.length,
    ]
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Newton's method on the ridge-penalised log likelihood, from zero weights.
fn fit_weights(cases: &[&FailureCase], base: &FailurePolicy) -> FailurePolicy {
    let samples: Vec<([f64; 7], f64, f64)> = cases
        .iter()
        .flat_map(|c| {
            let weight = 1.0 / c.samples.len() as f64;
            let y = if c.failed { 1.0 } else { 0.0 };
            c.samples.iter().map(move |f| (row(f), y, weight))
        })
        .collect();
    let lambda = L2 * cases.len() as f64;
    let mut w = [0.0f64; 7];
    for _ in 0..100 {
        let mut grad = [0.0f64; 7];
        let mut hess = [[0.0f64; 7]; 7];
        for (x, y, s) in &samples {
            let p = sigmoid(x.iter().zip(&w).map(|(a, b)| a * b).sum());
            for i in 0..7 {
                grad[i] += s * (p - y) * x[i];
                for j in 0..7 {
                    hess[i][j] += s * p * (1.0 - p) * x[i] * x[j];
                }
            }
        }
        for i in 1..7 {
            grad[i] += lambda * w[i];
            hess[i][i] += lambda;
        }
        // A tiny ridge on the bias too, so a feature that never varies cannot make
        // the system singular.
        hess[0][0] += 1e-9;
        let Some(step) = solve(hess, grad) else { break };
        let mut largest = 0.0f64;
        for i in 0..7 {
            w[i] -= step[i];
            largest = largest.max(step[i].abs());
        }
        if largest < 1e-10 {
            break;
        }
    }
    FailurePolicy {
        bias: w[0],
        weight_negativity: w[1],
        weight_decline: w[2],
        weight_frustration: w[3],
        weight_low_confidence: w[4],
        weight_loop: w[5],
        weight_length: w[6],
        ..base.clone()
    }
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting; None if singular.
fn solve(mut a: [[f64; 7]; 7], mut b: [f64; 7]) -> Option<[f64; 7]> {
    for col in 0..7 {
        let pivot = (col..7).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-300 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for r in col + 1..7 {
            let f = a[r][col] / a[col][col];
            let top = a[col];
            for (v, t) in a[r].iter_mut().zip(top).skip(col) {
                *v -= f * t;
            }
            b[r] -= f * b[col];
        }
    }
    let mut x = [0.0f64; 7];
    for r in (0..7).rev() {
        let tail: f64 = (r + 1..7).map(|c| a[r][c] * x[c]).sum();
        x[r] = (b[r] - tail) / a[r][r];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// The held-out figures of `weights` on `cases`.
fn figures(cases: &[&FailureCase], weights: &FailurePolicy) -> FailureFigures {
    let n = cases.len() as f64;
    let (mut log_loss, mut brier) = (0.0, 0.0);
    let mut peaks: Vec<(f64, bool)> = Vec::with_capacity(cases.len());
    for c in cases {
        let y = if c.failed { 1.0 } else { 0.0 };
        let share = 1.0 / c.samples.len() as f64;
        let mut peak = 0.0f64;
        for f in &c.samples {
            let p = f.probability(weights).clamp(1e-12, 1.0 - 1e-12);
            log_loss -= share * (y * p.ln() + (1.0 - y) * (1.0 - p).ln());
            brier += share * (p - y) * (p - y);
            peak = peak.max(p);
        }
        peaks.push((peak, c.failed));
    }
    let flagged = peaks.iter().filter(|(p, _)| *p >= weights.handoff).count();
    let hits = peaks
        .iter()
        .filter(|(p, failed)| *failed && *p >= weights.handoff)
        .count();
    let failed = peaks.iter().filter(|(_, f)| *f).count();
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    FailureFigures {
        log_loss: log_loss / n,
        brier: brier / n,
        auc: auc(&peaks),
        handoff_precision: ratio(hits, flagged),
        handoff_recall: ratio(hits, failed),
    }
}

/// The probability that a random failed case scores above a random good one (ties
/// count half); 0.5 when either kind is missing.
fn auc(scored: &[(f64, bool)]) -> f64 {
    let pos: Vec<f64> = scored.iter().filter(|s| s.1).map(|s| s.0).collect();
    let neg: Vec<f64> = scored.iter().filter(|s| !s.1).map(|s| s.0).collect();
    if pos.is_empty() || neg.is_empty() {
        return 0.5;
    }
    let mut wins = 0.0;
    for p in &pos {
        for q in &neg {
            wins += if p > q {
                1.0
            } else if p == q {
                0.5
            } else {
                0.0
            };
        }
    }
    wins / (pos.len() * neg.len()) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(i: i64, samples: Vec<Features>, failed: bool) -> FailureCase {
        FailureCase {
            conversation: ConversationId::parse(format!("c{i:04}")).unwrap(),
            at: Timestamp::from_unix_millis(i * 1000),
            samples,
            failed,
        }
    }

    /// Outcomes drawn from a known logistic model: the bot fails when it does not
    /// understand (low_confidence) and not otherwise; the fit must find that, and
    /// predict the newer cases better than weights that say the opposite.
    #[test]
    fn recovers_a_known_model_and_beats_wrong_weights_on_newer_cases() {
        let truth = |f: &Features| sigmoid(-3.0 + 2.0 * f.low_confidence);
        // A fixed low-discrepancy sequence instead of a random generator.
        let cases: Vec<FailureCase> = (0..400)
            .map(|i| {
                let low = f64::from((i * 7 % 11) as u8) / 2.0;
                let loops = f64::from((i * 3 % 5) as u8);
                let f = Features {
                    low_confidence: low.min(5.0),
                    loop_score: loops,
                    length: 0.1,
                    ..Features::default()
                };
                let u = ((i as f64) * 0.618_033_988_7).fract();
                case(i, vec![f], u < truth(&f))
            })
            .collect();
        let mut base = Policy::default();
        base.failure.weight_low_confidence = -1.0;
        base.failure.weight_loop = 2.0;
        let (policy, report) = train_failure(&cases, 0.25, &base).unwrap();
        assert_eq!((report.fit_cases, report.test_cases), (300, 100));
        let w = &policy.failure;
        assert!(
            (w.weight_low_confidence - 2.0).abs() < 0.6,
            "low_confidence {w:?}"
        );
        assert!(w.weight_loop.abs() < 0.5, "loops do not matter: {w:?}");
        assert!(report.after.log_loss < report.before.log_loss, "{report:?}");
        assert!(
            report.after.auc > 0.8 && report.before.auc < 0.5,
            "{report:?}"
        );
        assert_eq!(
            (w.handoff, w.offer),
            (base.failure.handoff, base.failure.offer)
        );
        assert_eq!(policy.problems(), Vec::<(String, String)>::new());
    }

    #[test]
    fn too_little_or_one_sided_data_fits_nothing() {
        let f = Features::default();
        let few: Vec<FailureCase> = (0..3).map(|i| case(i, vec![f], i == 0)).collect();
        assert!(train_failure(&few, 0.5, &Policy::default()).is_none());
        let all_good: Vec<FailureCase> = (0..20).map(|i| case(i, vec![f], false)).collect();
        assert!(train_failure(&all_good, 0.2, &Policy::default()).is_none());
    }

    #[test]
    fn solves_a_small_system() {
        let mut a = [[0.0; 7]; 7];
        let mut b = [0.0; 7];
        for i in 0..7 {
            a[i][i] = 2.0;
            b[i] = i as f64;
        }
        a[0][1] = 1.0;
        let x = solve(a, b).unwrap();
        assert!((x[1] - 0.5).abs() < 1e-12 && (x[0] - (0.0 - 0.5) / 2.0).abs() < 1e-12);
    }
}
