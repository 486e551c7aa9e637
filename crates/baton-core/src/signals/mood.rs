//! Mood: how the customer feels per message as a person would read it, VADER's tone
//! and the message's frustration markers together, and its trend. "Great, thanks...
//! still waiting!!" scores positive words but reads impatient; sentiment alone calls a
//! rising temper "improving" as soon as one message's words are a little warmer.
//!
//! Two readings come from it: the trajectory the package shows (a least-squares slope
//! over the last `sentiment.slope_window` messages, so one warmer line does not turn
//! the trend), and the run of messages each angrier than the one before, which hands
//! off a temper that grows while every message alone stays under its own threshold.

use serde::{Deserialize, Serialize};

use crate::policy::FrustrationPolicy;

/// Recent moods kept for the slope (the largest `slope_window` allowed).
const RING: usize = 32;

/// One message's mood from its sentiment and frustration scores, in [-1, 1]. Warm
/// words beside frustration markers ("great, thanks... still waiting!!") are
/// politeness or sarcasm, which VADER cannot tell apart from a good mood: with a
/// marker present only the words' negative tone counts, and the markers add to it.
pub fn of_message(sentiment: f64, frustration: f64) -> f64 {
    let m = if frustration > 0.0 {
        f64::min(sentiment, 0.0) - frustration
    } else {
        sentiment
    };
    if m.is_finite() {
        m.clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

/// The mood fold.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Mood {
    /// The newest message's mood, -1..1.
    pub last: f64,
    /// Least-squares slope of mood over the recent window, per message.
    pub slope: f64,
    /// Messages in the current run, each at least `frustration.rising_step` angrier
    /// than the one before (the first angry message of a run counts 1).
    pub rising: u32,
    /// Mood per message since the last reset, newest last, at most 32.
    #[serde(skip)]
    ring: Vec<f64>,
}

/// Room for one more mood in the copy, as for [`Sentiment`](super::sentiment::Sentiment).
impl Clone for Mood {
    fn clone(&self) -> Self {
        Self {
            last: self.last,
            slope: self.slope,
            rising: self.rising,
            ring: super::sentiment::with_room(&self.ring, RING),
        }
    }
}

impl Mood {
    /// Adds one customer message.
    pub fn push(&mut self, mood: f64, window: usize, policy: &FrustrationPolicy) {
        let anger = anger_in(mood);
        let before = self.ring.last().map(|m| anger_in(*m));
        self.rising = match before {
            Some(prev) if anger > 0.0 && anger >= prev + policy.rising_step => self.rising + 1,
            _ if anger > 0.0 => 1,
            _ => 0,
        };
        if self.ring.len() == RING {
            self.ring.remove(0);
        }
        self.ring.push(mood);
        self.last = mood;
        self.slope = super::sentiment::slope(&self.ring[self.ring.len().saturating_sub(window)..]);
    }

    /// The newest message's anger, 0..1.
    pub fn anger(&self) -> f64 {
        anger_in(self.last)
    }

    /// Starts a new episode.
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

/// A mood's anger: how far below neutral it is.
fn anger_in(mood: f64) -> f64 {
    f64::max(0.0, -mood)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::policy::Policy;

    fn fold(moods: &[f64]) -> Mood {
        let p = Policy::default();
        let mut m = Mood::default();
        for v in moods {
            m.push(*v, p.sentiment.slope_window, &p.frustration);
        }
        m
    }

    #[test]
    fn markers_pull_a_polite_message_down() {
        assert_eq!(of_message(0.8, 0.65), -0.65, "sarcasm is not a good mood");
        assert_eq!(of_message(0.4, 0.0), 0.4);
        assert_eq!(of_message(-0.3, 0.2), -0.5);
        assert_eq!(of_message(-0.9, 1.0), -1.0);
        assert_eq!(of_message(f64::NAN, 0.0), 0.0);
    }

    #[test]
    fn a_growing_temper_is_a_run_and_a_pause_ends_it() {
        let m = fold(&[-0.1, -0.25, -0.4]);
        assert_eq!(m.rising, 3);
        assert!(m.slope < -0.1, "{}", m.slope);
        let m = fold(&[-0.1, -0.25, -0.4, -0.38]);
        assert_eq!(m.rising, 1, "no longer rising");
        let m = fold(&[-0.1, 0.2, -0.4]);
        assert_eq!(m.rising, 1, "a calm message breaks the run");
    }

    #[test]
    fn one_warmer_line_does_not_turn_a_falling_trend() {
        // Moods of a customer getting angrier, with one message a little less so.
        let m = fold(&[-0.1, -0.5, -0.7, -0.6]);
        assert!(m.slope < -0.05, "{}", m.slope);
    }

    proptest! {
        /// The slope never leaves the range moods can span, and a run never exceeds
        /// the messages seen.
        #[test]
        fn bounded(moods in proptest::collection::vec(-1.0f64..=1.0, 1..40)) {
            let m = fold(&moods);
            prop_assert!(m.slope.abs() <= 2.0 + 1e-9);
            prop_assert!(m.rising as usize <= moods.len());
            prop_assert!(m.anger() >= 0.0 && m.anger() <= 1.0);
        }

        /// Strictly angrier messages (by more than the step) make a run as long as
        /// the sequence.
        #[test]
        fn strictly_rising_anger_is_one_run(start in 0.01f64..0.2, steps in proptest::collection::vec(0.06f64..0.2, 1..5)) {
            let mut angers = vec![start];
            for s in &steps {
                let next = (angers[angers.len() - 1] + s).min(1.0);
                prop_assume!(next < 1.0);
                angers.push(next);
            }
            let moods: Vec<f64> = angers.iter().map(|a| -a).collect();
            let m = fold(&moods);
            prop_assert_eq!(m.rising as usize, moods.len());
            prop_assert!(m.slope < 0.0);
        }
    }
}
