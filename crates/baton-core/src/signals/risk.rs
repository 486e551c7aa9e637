//! Risk: topics that must always reach a human (fraud, security compromise, legal
//! threats, regulators, medical and self-harm), from the NLU intent or customer text.
//! Sticky until the conversation is handed back to the bot.

use serde::{Deserialize, Serialize};

use super::words::Words;
use crate::event::Nlu;
use crate::policy::{RiskPolicy, any_matches};

/// Where the risk was seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum RiskHit {
    /// An NLU intent matched `risk.intents`.
    Intent {
        /// The intent.
        intent: String,
        /// Its confidence.
        confidence: f64,
        /// The `nlu` event.
        seq: u64,
    },
    /// Customer text contained one of `risk.phrases`.
    Phrase {
        /// The phrase.
        phrase: String,
        /// The message.
        seq: u64,
    },
}

/// Checks an NLU result.
pub fn from_nlu(seq: u64, nlu: &Nlu, policy: &RiskPolicy) -> Option<RiskHit> {
    let confidence = nlu.confidence.get();
    (confidence >= policy.min_confidence && any_matches(&policy.intents, nlu.intent.as_str())).then(
        || RiskHit::Intent {
            intent: nlu.intent.as_str().to_owned(),
            confidence,
            seq,
        },
    )
}

/// Checks customer text.
pub fn from_text(seq: u64, words: &Words, policy: &RiskPolicy) -> Option<RiskHit> {
    words
        .first_phrase(&policy.phrases)
        .map(|p| RiskHit::Phrase {
            phrase: p.to_owned(),
            seq,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::label::Label;
    use crate::policy::Policy;
    use crate::text::Confidence;

    #[test]
    fn intents_and_phrases() {
        let p = Policy::default().risk;
        let nlu = |i: &str, c: f64| Nlu {
            intent: Label::parse(i).unwrap(),
            confidence: Confidence::new(c).unwrap(),
            alternatives: vec![],
            entities: vec![],
        };
        assert!(from_nlu(1, &nlu("card_fraud_report", 0.6), &p).is_some());
        assert!(from_nlu(1, &nlu("card_fraud_report", 0.1), &p).is_none());
        assert!(from_nlu(1, &nlu("track_order", 0.9), &p).is_none());
        assert!(from_text(2, &Words::new("I will take legal action"), &p).is_some());
        assert!(from_text(2, &Words::new("is this legal?"), &p).is_none());
    }
}
