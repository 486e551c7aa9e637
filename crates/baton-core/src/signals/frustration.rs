//! Frustration markers in customer text: shouting, repeated punctuation, insults and
//! "third time I'm writing". Each message scores 0..1; the level decays per message and
//! accumulates, so two sour messages in a row weigh more than one.

use serde::{Deserialize, Serialize};

use super::words::Words;
use crate::policy::FrustrationPolicy;

/// What one message showed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Markers {
    /// Mostly capitals.
    pub shouting: bool,
    /// `!!`, `??`, `?!`.
    pub punctuation: bool,
    /// The first insult found.
    pub insult: Option<String>,
    /// The first repeat claim found.
    pub repeat_claim: Option<String>,
}

impl Markers {
    /// Scans one message.
    pub fn scan(text: &str, words: &Words, policy: &FrustrationPolicy) -> Self {
        let (mut letters, mut upper) = (0usize, 0usize);
        for c in text.chars().filter(|c| c.is_alphabetic()) {
            letters += 1;
            upper += usize::from(c.is_uppercase());
        }
        let shouting = letters >= policy.shouting_min_letters
            && upper as f64 >= policy.shouting_ratio * letters as f64;
        let punctuation = ["!!", "??", "?!", "!?"].iter().any(|p| text.contains(p));
        Self {
            shouting,
            punctuation,
            insult: words.first_phrase(&policy.insults).map(str::to_owned),
            repeat_claim: words.first_phrase(&policy.repeat_claims).map(str::to_owned),
        }
    }

    /// The message's score, 0..1.
    pub fn score(&self, policy: &FrustrationPolicy) -> f64 {
        let mut s = 0.0;
        if self.shouting {
            s += policy.weight_shouting;
        }
        if self.punctuation {
            s += policy.weight_punctuation;
        }
        if self.insult.is_some() {
            s += policy.weight_insult;
        }
        if self.repeat_claim.is_some() {
            s += policy.weight_repeat_claim;
        }
        f64::min(s, 1.0)
    }
}

/// The frustration fold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Frustration {
    /// Accumulated level, 0..1.
    pub level: f64,
    /// The newest message's score.
    pub last: f64,
    /// The newest message's markers.
    pub markers: Markers,
}

impl Frustration {
    /// Adds one customer message.
    pub fn push(&mut self, text: &str, words: &Words, policy: &FrustrationPolicy) {
        self.markers = Markers::scan(text, words, policy);
        self.last = self.markers.score(policy);
        self.level = f64::min(self.level * policy.decay + self.last, 1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    fn push(f: &mut Frustration, t: &str) {
        f.push(t, &Words::new(t), &Policy::default().frustration);
    }

    #[test]
    fn markers_add_up_and_decay() {
        let mut f = Frustration::default();
        push(&mut f, "Hello, where is my parcel?");
        assert_eq!(f.level, 0.0);
        push(&mut f, "THIS IS THE THIRD TIME I'M WRITING!!");
        assert!(f.markers.shouting && f.markers.punctuation);
        assert_eq!(f.markers.repeat_claim.as_deref(), Some("third time"));
        assert!(f.level >= 0.7, "{}", f.level);
        let before = f.level;
        push(&mut f, "ok thanks");
        assert!(f.level < before);
    }

    #[test]
    fn short_capitals_are_not_shouting() {
        let mut f = Frustration::default();
        push(&mut f, "OK FINE");
        assert!(!f.markers.shouting);
    }
}
