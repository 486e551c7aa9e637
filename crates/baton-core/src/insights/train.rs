//! `baton train`'s arithmetic: fit calibration on the older labelled conversations,
//! measure it on the newer ones, and say what changes in the policy.
//!
//! The split is by time (the order cases were labelled in), made before anything is
//! fitted: the oldest `1 - test_share` fit, the newest `test_share` are held out. That
//! is how the map will be used: fitted on the past, read on what comes next.

use serde::Serialize;

use super::calibration::Calibration;
use super::intents::{LabelledCase, RELIABILITY_BINS, Reliability, reliability};
use crate::id::ConversationId;
use crate::policy::{CalibrationMode, Policy};
use crate::timestamp::Timestamp;

/// Held-out figures before and after.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldOut {
    /// Cases the map was fitted on (the older).
    pub fit_cases: u64,
    /// Cases held out (the newer).
    pub test_cases: u64,
    /// When the first held-out case was labelled.
    pub test_from: Option<String>,
    /// The raw confidence on the held-out cases.
    pub before: Reliability,
    /// The calibrated confidence on the held-out cases.
    pub after: Reliability,
}

/// What `baton train` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainReport {
    /// Labelled cases read.
    pub cases: u64,
    /// The time-ordered held-out figures.
    pub held_out: HeldOut,
    /// Intents with a map of their own; the rest read the pooled map.
    pub intents_with_own_map: Vec<String>,
    /// What changes in the policy, in words.
    pub changes: Vec<String>,
}

/// A case that a time-ordered split can place: when it was labelled or resolved, and
/// its conversation (the tie-break, so the split is the same on every run).
pub trait Dated {
    /// Its time and conversation.
    fn dated(&self) -> (Timestamp, &ConversationId);
}

impl Dated for LabelledCase {
    fn dated(&self) -> (Timestamp, &ConversationId) {
        (self.at, &self.conversation)
    }
}

/// The older cases to fit on and the newest `test_share` to hold out, by
/// [`Dated::dated`]. `None` when either side would have fewer than two cases.
pub fn time_ordered_split<T: Dated>(cases: &[T], test_share: f64) -> Option<(Vec<&T>, Vec<&T>)> {
    let mut sorted: Vec<&T> = cases.iter().collect();
    sorted.sort_by(|a, b| a.dated().cmp(&b.dated()));
    let test_len = ((sorted.len() as f64) * test_share.clamp(0.0, 1.0)).round() as usize;
    let fit_len = sorted.len().saturating_sub(test_len);
    if fit_len < 2 || test_len < 2 {
        return None;
    }
    let test = sorted.split_off(fit_len);
    Some((sorted, test))
}

/// Fits on the older cases (sorted by label time), measures on the newer `test_share`,
/// and returns the policy with the fitted map in force. `None` when there are too few
/// cases to split (fewer than two on either side).
pub fn train(
    cases: &[LabelledCase],
    test_share: f64,
    min_samples: usize,
    base: &Policy,
) -> Option<(Policy, TrainReport)> {
    let (fit, test) = time_ordered_split(cases, test_share)?;
    let calibration = Calibration::fit(
        fit.iter()
            .map(|c| (c.bot_intent.as_str(), c.confidence, c.correct())),
        min_samples,
    )?;
    let before = reliability(
        test.iter().map(|c| (c.confidence, c.correct())),
        RELIABILITY_BINS,
    );
    let after = reliability(
        test.iter().map(|c| {
            (
                calibration.apply(c.bot_intent.as_str(), c.confidence),
                c.correct(),
            )
        }),
        RELIABILITY_BINS,
    );
    let mut policy = base.clone();
    let mut changes = Vec::new();
    if policy.confidence.calibration != CalibrationMode::Learned {
        changes.push("confidence.calibration: raw -> learned".to_owned());
    }
    changes.push(format!(
        "confidence.learned: pooled map of {} knots from {} cases; {} intents with their own",
        calibration.pooled.raw.len(),
        calibration.pooled.samples,
        calibration.intents.len()
    ));
    let intents_with_own_map = calibration.intents.keys().cloned().collect();
    policy.confidence.calibration = CalibrationMode::Learned;
    policy.confidence.learned = Some(calibration);
    let report = TrainReport {
        cases: cases.len() as u64,
        held_out: HeldOut {
            fit_cases: fit.len() as u64,
            test_cases: test.len() as u64,
            test_from: test.first().map(|c| c.at.to_string()),
            before,
            after,
        },
        intents_with_own_map,
        changes,
    };
    Some((policy, report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConversationId, Label, Timestamp};

    #[test]
    fn fits_on_the_older_and_measures_on_the_newer() {
        // An overconfident bot: says 0.9, right 3 times in 5.
        let cases: Vec<LabelledCase> = (0..50)
            .map(|i| LabelledCase {
                conversation: ConversationId::parse(format!("c{i}")).unwrap(),
                at: Timestamp::from_unix_millis(i * 1000),
                bot_intent: Label::parse("billing").unwrap(),
                confidence: 0.9,
                true_intent: Label::parse(if i % 5 < 3 { "billing" } else { "fraud" }).unwrap(),
            })
            .collect();
        let (policy, report) = train(&cases, 0.2, 30, &Policy::default()).unwrap();
        assert_eq!(report.held_out.fit_cases, 40);
        assert_eq!(report.held_out.test_cases, 10);
        assert_eq!(
            report.held_out.test_from.as_deref(),
            Some("1970-01-01T00:00:40.000Z")
        );
        assert!((report.held_out.before.ece - 0.3).abs() < 1e-9);
        assert!(
            report.held_out.after.ece < 1e-9,
            "{:?}",
            report.held_out.after
        );
        assert!(policy.confidence.is_learned());
        assert!((policy.confidence.calibrated("billing", 0.9) - 0.6).abs() < 1e-9);
        assert_eq!(policy.problems(), Vec::<(String, String)>::new());
        // And the file round-trips through the loader `baton policy check` uses.
        let toml = policy.to_toml_string().unwrap();
        let back = Policy::from_toml_str(&toml).unwrap();
        assert_eq!(back.confidence, policy.confidence);
    }
}
