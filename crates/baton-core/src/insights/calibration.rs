//! Calibrated confidence: what the bot's confidence in an intent has meant, learnt
//! from confirmed outcomes.
//!
//! Each intent with enough labelled cases gets its own isotonic map (pool adjacent
//! violators: the monotone step function closest, in squared error, to the observed
//! right/wrong outcomes); the others use one map fitted on every case. Isotonic rather
//! than Platt because a bot's confidence is often right in the middle and overconfident
//! at the top, which one sigmoid cannot follow, and because it needs no optimiser.
//!
//! A fitted [`Calibration`] is plain data (serialised into the policy file by
//! `baton train`), applied by linear interpolation between the fitted steps, so it is
//! continuous and monotone in the raw confidence.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A monotone map from raw confidence to the probability of being right: knots
/// `(raw, calibrated)`, raw increasing, calibrated non-decreasing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IsotonicMap {
    /// Raw confidences, increasing.
    pub raw: Vec<f64>,
    /// Calibrated values, non-decreasing, one per raw.
    pub calibrated: Vec<f64>,
    /// Cases it was fitted on.
    pub samples: u64,
}

impl IsotonicMap {
    /// Fits the map to `(confidence, correct)` pairs; `None` without pairs.
    pub fn fit(pairs: &[(f64, bool)]) -> Option<Self> {
        if pairs.is_empty() {
            return None;
        }
        let mut sorted: Vec<(f64, f64)> = pairs
            .iter()
            .map(|&(c, ok)| (c.clamp(0.0, 1.0), if ok { 1.0 } else { 0.0 }))
            .collect();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        // Equal confidences are one observation of their mean outcome, so the knots'
        // raw values stay strictly increasing.
        let mut groups: Vec<(f64, f64, f64)> = Vec::new();
        for (x, y) in sorted {
            match groups.last_mut() {
                Some((gx, gy, w)) if *gx == x => {
                    *gy += y;
                    *w += 1.0;
                }
                _ => groups.push((x, y, 1.0)),
            }
        }
        // Blocks of (sum of x, sum of y, weight), merged while they violate monotonicity.
        let mut blocks: Vec<(f64, f64, f64)> = Vec::new();
        for (x, y, w) in groups {
            blocks.push((x * w, y, w));
            while blocks.len() >= 2 {
                let (x2, y2, w2) = blocks[blocks.len() - 1];
                let (x1, y1, w1) = blocks[blocks.len() - 2];
                if y1 / w1 <= y2 / w2 {
                    break;
                }
                blocks.pop();
                let last = blocks.len() - 1;
                blocks[last] = (x1 + x2, y1 + y2, w1 + w2);
            }
        }
        let raw = blocks.iter().map(|(x, _, w)| x / w).collect();
        let calibrated = blocks.iter().map(|(_, y, w)| y / w).collect();
        Some(Self {
            raw,
            calibrated,
            samples: pairs.len() as u64,
        })
    }

    /// The calibrated value of `confidence`: interpolated between knots, flat outside.
    pub fn apply(&self, confidence: f64) -> f64 {
        let (Some(&first), Some(&last)) = (self.raw.first(), self.raw.last()) else {
            return confidence;
        };
        if confidence <= first {
            return self.calibrated[0];
        }
        if confidence >= last {
            return self.calibrated[self.calibrated.len() - 1];
        }
        let upper = self.raw.partition_point(|&x| x <= confidence);
        let (x0, x1) = (self.raw[upper - 1], self.raw[upper]);
        let (y0, y1) = (self.calibrated[upper - 1], self.calibrated[upper]);
        if x1 <= x0 {
            y0
        } else {
            y0 + (y1 - y0) * (confidence - x0) / (x1 - x0)
        }
    }

    /// Whether the knots are well formed (as a policy file must hold them).
    pub fn is_valid(&self) -> bool {
        !self.raw.is_empty()
            && self.raw.len() == self.calibrated.len()
            && self.raw.windows(2).all(|w| w[0] < w[1])
            && self.calibrated.windows(2).all(|w| w[0] <= w[1])
            && self
                .raw
                .iter()
                .chain(&self.calibrated)
                .all(|v| (0.0..=1.0).contains(v))
    }
}

/// Per-intent maps with a pooled fallback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// Fitted on every case: used for intents without a map of their own.
    pub pooled: IsotonicMap,
    /// Intents with enough cases of their own.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub intents: BTreeMap<String, IsotonicMap>,
}

/// The fewest labelled cases an intent needs for a map of its own.
pub const DEFAULT_MIN_SAMPLES: usize = 30;

impl Calibration {
    /// Fits from `(intent, confidence, correct)` cases; intents with at least
    /// `min_samples` cases get their own map. `None` without cases.
    pub fn fit<'a>(
        cases: impl IntoIterator<Item = (&'a str, f64, bool)>,
        min_samples: usize,
    ) -> Option<Self> {
        let mut all = Vec::new();
        let mut by_intent: BTreeMap<&str, Vec<(f64, bool)>> = BTreeMap::new();
        for (intent, confidence, correct) in cases {
            all.push((confidence, correct));
            by_intent
                .entry(intent)
                .or_default()
                .push((confidence, correct));
        }
        let pooled = IsotonicMap::fit(&all)?;
        let intents = by_intent
            .into_iter()
            .filter(|(_, pairs)| pairs.len() >= min_samples.max(1))
            .filter_map(|(intent, pairs)| Some((intent.to_owned(), IsotonicMap::fit(&pairs)?)))
            .collect();
        Some(Self { pooled, intents })
    }

    /// The calibrated confidence of the bot's `confidence` in `intent`.
    pub fn apply(&self, intent: &str, confidence: f64) -> f64 {
        self.intents
            .get(intent)
            .unwrap_or(&self.pooled)
            .apply(confidence)
    }

    /// Whether every map is well formed.
    pub fn is_valid(&self) -> bool {
        self.pooled.is_valid() && self.intents.values().all(IsotonicMap::is_valid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pav_pools_violators_into_a_monotone_step() {
        // 0.2 right, 0.4 wrong, 0.6 wrong, 0.8 right: the middle pair and the first pool.
        let map =
            IsotonicMap::fit(&[(0.2, true), (0.4, false), (0.6, false), (0.8, true)]).unwrap();
        assert!(map.is_valid(), "{map:?}");
        // Blocks: {0.2, 0.4, 0.6} mean y = 1/3 at mean x 0.4; {0.8} y = 1.
        assert_eq!(map.raw.len(), 2);
        assert!((map.raw[0] - 0.4).abs() < 1e-12);
        assert!((map.calibrated[0] - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(map.calibrated[1], 1.0);
        assert!((map.apply(0.1) - 1.0 / 3.0).abs() < 1e-12);
        assert!((map.apply(0.6) - (1.0 / 3.0 + (2.0 / 3.0) * 0.5)).abs() < 1e-12);
        assert_eq!(map.apply(0.95), 1.0);
    }

    #[test]
    fn an_overconfident_bot_is_pulled_down() {
        // Says 0.9, is right 60 % of the time.
        let pairs: Vec<(f64, bool)> = (0..100).map(|i| (0.9, i % 5 < 3)).collect();
        let map = IsotonicMap::fit(&pairs).unwrap();
        assert!((map.apply(0.9) - 0.6).abs() < 1e-12);
    }

    #[test]
    fn intents_with_few_cases_use_the_pooled_map() {
        let mut cases: Vec<(&str, f64, bool)> =
            (0..40).map(|i| ("billing", 0.8, i % 2 == 0)).collect();
        cases.extend((0..5).map(|_| ("rare", 0.8, true)));
        let calibration = Calibration::fit(cases, 30).unwrap();
        assert!(calibration.intents.contains_key("billing"));
        assert!(!calibration.intents.contains_key("rare"));
        assert!((calibration.apply("billing", 0.8) - 0.5).abs() < 1e-12);
        // Pooled: 25 right of 45.
        assert!((calibration.apply("rare", 0.8) - 25.0 / 45.0).abs() < 1e-12);
        assert!(calibration.is_valid());
    }
}
