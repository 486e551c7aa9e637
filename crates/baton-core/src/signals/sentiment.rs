//! Customer sentiment per message (VADER compound, -1..1) and its trajectory: an
//! exponentially smoothed level and a least-squares slope over the last few messages.
//! Folded per message from a small ring, so cost does not grow with the conversation.

use serde::{Deserialize, Serialize};

use crate::policy::SentimentPolicy;

/// Most recent per-message scores kept for sparklines.
pub const HISTORY_CAP: usize = 256;
const RING: usize = 32;

/// VADER's compound score of `text`, in [-1, 1]; 0 for text it cannot read.
pub fn score(text: &str) -> f64 {
    let compound = super::vader::compound(text);
    if compound.is_finite() {
        compound.clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

/// The sentiment fold.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sentiment {
    /// Smoothed level.
    pub level: f64,
    /// Slope over the recent window, compound units per message.
    pub slope: f64,
    /// The newest message's score.
    pub last: f64,
    /// Messages scored since the last reset.
    pub messages: u32,
    /// (seq, score) of each customer message, oldest first, at most [`HISTORY_CAP`].
    pub history: Vec<(u64, f64)>,
    #[serde(skip)]
    ring: Vec<f64>,
}

/// The append path clones the signals to fold the next message into: the copy's
/// history has room for that message's score, so `push` does not reallocate.
impl Clone for Sentiment {
    fn clone(&self) -> Self {
        Self {
            level: self.level,
            slope: self.slope,
            last: self.last,
            messages: self.messages,
            history: with_room(&self.history, HISTORY_CAP),
            ring: with_room(&self.ring, RING),
        }
    }
}

/// A copy of `items` with room for one more, up to `cap` in all.
pub(crate) fn with_room<T: Clone>(items: &[T], cap: usize) -> Vec<T> {
    let mut copy = Vec::with_capacity((items.len() + 1).min(cap).max(items.len()));
    copy.extend_from_slice(items);
    copy
}

impl Sentiment {
    /// Adds one customer message's score.
    pub fn push(&mut self, seq: u64, score: f64, policy: &SentimentPolicy) {
        self.level = if self.messages == 0 {
            score
        } else {
            policy.smoothing * score + (1.0 - policy.smoothing) * self.level
        };
        self.last = score;
        self.messages += 1;
        if self.ring.len() == RING {
            self.ring.remove(0);
        }
        self.ring.push(score);
        self.slope = slope(&self.ring[self.ring.len().saturating_sub(policy.slope_window)..]);
        if self.history.len() == HISTORY_CAP {
            self.history.remove(0);
        }
        self.history.push((seq, score));
    }

    /// Starts a new episode (after a bounce-back); the history stays for display.
    pub fn reset(&mut self) {
        self.level = 0.0;
        self.slope = 0.0;
        self.messages = 0;
        self.ring.clear();
    }
}

/// Least-squares slope of `ys` against 0, 1, 2...; 0 for fewer than two points.
pub(crate) fn slope(ys: &[f64]) -> f64 {
    let n = ys.len() as f64;
    if ys.len() < 2 {
        return 0.0;
    }
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = ys.iter().sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (i, y) in ys.iter().enumerate() {
        let dx = i as f64 - mean_x;
        num += dx * (y - mean_y);
        den += dx * dx;
    }
    num / den
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    #[test]
    fn vader_reads_tone() {
        assert!(score("This is great, thank you so much!") > 0.5);
        assert!(score("This is terrible and useless, I hate it") < -0.5);
        assert!(score("my order number is 12345").abs() < 0.2);
    }

    #[test]
    fn level_and_slope_follow_the_trend() {
        let p = Policy::default().sentiment;
        let mut s = Sentiment::default();
        for (i, v) in [0.5, 0.2, -0.2, -0.6].into_iter().enumerate() {
            s.push(i as u64 + 1, v, &p);
        }
        assert!(s.slope < -0.3, "{}", s.slope);
        assert!(s.level < 0.0 && s.level > -0.6, "{}", s.level);
        assert_eq!(s.history.len(), 4);
        s.reset();
        assert_eq!((s.messages, s.slope), (0, 0.0));
        assert_eq!(s.history.len(), 4);
    }

    #[test]
    fn slope_of_a_line() {
        assert!((slope(&[1.0, 2.0, 3.0]) - 1.0).abs() < 1e-12);
        assert_eq!(slope(&[1.0]), 0.0);
    }
}
