//! The bot's NLU confidence: the current value, the streak of low (or fallback) results,
//! and the history for display.

use serde::{Deserialize, Serialize};

use crate::event::Nlu;
use crate::label::Label;
use crate::policy::{ConfidencePolicy, any_matches};

/// Most recent confidences kept for sparklines.
pub const HISTORY_CAP: usize = 256;

/// The confidence fold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IntentConfidence {
    /// The latest top intent.
    pub intent: Option<Label>,
    /// Its confidence.
    pub current: Option<f64>,
    /// Seq of the latest `nlu` event.
    pub seq: u64,
    /// Low or fallback results in a row.
    pub low_streak: u32,
    /// Fallback intents seen since the last reset.
    pub fallbacks: u32,
    /// Whether the latest intent is a fallback intent.
    pub fallback: bool,
    /// (seq, confidence) of each `nlu` event, oldest first.
    pub history: Vec<(u64, f64)>,
}

impl IntentConfidence {
    /// Adds one NLU result.
    pub fn push(&mut self, seq: u64, nlu: &Nlu, policy: &ConfidencePolicy) {
        let value = nlu.confidence.get();
        self.fallback = any_matches(&policy.fallback_intents, nlu.intent.as_str());
        self.fallbacks += u32::from(self.fallback);
        if self.fallback || value < policy.low {
            self.low_streak += 1;
        } else {
            self.low_streak = 0;
        }
        self.intent = Some(nlu.intent.clone());
        self.current = Some(value);
        self.seq = seq;
        if self.history.len() == HISTORY_CAP {
            self.history.remove(0);
        }
        self.history.push((seq, value));
    }

    /// Starts a new episode; history stays.
    pub fn reset(&mut self) {
        self.low_streak = 0;
        self.fallbacks = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use crate::text::Confidence;

    fn nlu(intent: &str, c: f64) -> Nlu {
        Nlu {
            intent: Label::parse(intent).unwrap(),
            confidence: Confidence::new(c).unwrap(),
            alternatives: vec![],
            entities: vec![],
        }
    }

    #[test]
    fn streak_counts_low_and_fallback() {
        let p = Policy::default().confidence;
        let mut c = IntentConfidence::default();
        c.push(1, &nlu("refund", 0.3), &p);
        c.push(2, &nlu("nlu_fallback", 0.9), &p);
        assert_eq!(c.low_streak, 2);
        assert!(c.fallback);
        c.push(3, &nlu("refund", 0.9), &p);
        assert_eq!((c.low_streak, c.fallbacks), (0, 1));
        assert_eq!(c.history, vec![(1, 0.3), (2, 0.9), (3, 0.9)]);
    }
}
