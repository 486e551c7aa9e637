//! Predicted failure: a logistic score over the other signals, with weights from the
//! policy. It catches conversations where no single signal crosses its threshold but
//! several lean the same way.

use serde::{Deserialize, Serialize};

use crate::policy::FailurePolicy;

/// The model's inputs, each already scaled as documented in the policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Features {
    /// max(0, -smoothed sentiment).
    pub negativity: f64,
    /// max(0, -slope).
    pub decline: f64,
    /// Frustration level.
    pub frustration: f64,
    /// Low-confidence streak, capped at 5.
    pub low_confidence: f64,
    /// Loop score, capped at 5.
    pub loop_score: f64,
    /// Customer messages / 10, capped at 3.
    pub length: f64,
}

impl Features {
    /// Each feature's weighted term, named, in a fixed order.
    pub fn terms(&self, w: &FailurePolicy) -> [(&'static str, f64); 6] {
        [
            ("negativity", w.weight_negativity * self.negativity),
            ("decline", w.weight_decline * self.decline),
            ("frustration", w.weight_frustration * self.frustration),
            (
                "low_confidence",
                w.weight_low_confidence * self.low_confidence,
            ),
            ("loop", w.weight_loop * self.loop_score),
            ("length", w.weight_length * self.length),
        ]
    }

    /// The probability of failure.
    pub fn probability(&self, w: &FailurePolicy) -> f64 {
        let z = w.bias + self.terms(w).iter().map(|(_, t)| t).sum::<f64>();
        1.0 / (1.0 + (-z).exp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    #[test]
    fn calm_is_low_and_everything_bad_is_high() {
        let w = Policy::default().failure;
        let calm = Features {
            length: 0.5,
            ..Features::default()
        };
        assert!(calm.probability(&w) < 0.05);
        let bad = Features {
            negativity: 0.6,
            decline: 0.3,
            frustration: 0.6,
            low_confidence: 2.0,
            loop_score: 1.0,
            length: 0.5,
        };
        assert!(bad.probability(&w) > 0.8, "{}", bad.probability(&w));
    }
}
