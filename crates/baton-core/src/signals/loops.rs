//! Loops: the customer rephrasing the same request, the bot repeating the same answer.
//! Each new message is compared (word-set overlap) with the last few of the same
//! speaker; hits add to a score that decays with each customer message.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::words::{Words, content_words, jaccard};
use crate::policy::LoopPolicy;

/// The loop fold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Loops {
    /// Decaying count of rephrasings and repeats.
    pub score: f64,
    /// Customer rephrasings since the last reset.
    pub rephrasings: u32,
    /// Bot repeats since the last reset.
    pub bot_repeats: u32,
    #[serde(skip)]
    customer: VecDeque<Vec<u64>>,
    #[serde(skip)]
    bot: VecDeque<Vec<u64>>,
}

impl Loops {
    /// Adds one customer message; returns how many recent ones it rephrases. Saying the
    /// same thing a third time weighs more than a second time (at most 2 per message).
    pub fn push_customer(&mut self, words: &Words, policy: &LoopPolicy) -> u32 {
        self.score *= policy.decay;
        let hits = remember(
            &mut self.customer,
            words,
            policy,
            policy.rephrase_similarity,
        );
        self.rephrasings += u32::from(hits > 0);
        self.score += f64::from(hits.min(2));
        hits
    }

    /// Adds one bot message; returns how many recent answers it repeats.
    pub fn push_bot(&mut self, words: &Words, policy: &LoopPolicy) -> u32 {
        let hits = remember(&mut self.bot, words, policy, policy.repeat_similarity);
        self.bot_repeats += u32::from(hits > 0);
        self.score += f64::from(hits.min(2));
        hits
    }

    /// Starts a new episode.
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

fn remember(
    recent: &mut VecDeque<Vec<u64>>,
    words: &Words,
    policy: &LoopPolicy,
    similar: f64,
) -> u32 {
    let set = content_words(words);
    if set.len() < policy.min_words {
        return 0;
    }
    let hits = recent
        .iter()
        .filter(|old| jaccard(old, &set) >= similar)
        .count();
    while recent.len() >= policy.window {
        recent.pop_front();
    }
    recent.push_back(set);
    u32::try_from(hits).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    #[test]
    fn rephrasing_and_repeats_score() {
        let p = Policy::default().loops;
        let mut l = Loops::default();
        l.push_customer(&Words::new("I want to cancel my gym membership"), &p);
        l.push_bot(
            &Words::new("You can manage your plan in the app under Settings."),
            &p,
        );
        l.push_customer(&Words::new("no, cancel the gym membership please"), &p);
        l.push_bot(
            &Words::new("You can manage your plan in the app under Settings!"),
            &p,
        );
        assert_eq!((l.rephrasings, l.bot_repeats), (1, 1));
        assert!(l.score > 1.8);
    }

    #[test]
    fn short_replies_never_loop() {
        let p = Policy::default().loops;
        let mut l = Loops::default();
        for _ in 0..5 {
            l.push_customer(&Words::new("ok thanks"), &p);
        }
        assert_eq!(l.score, 0.0);
    }
}
