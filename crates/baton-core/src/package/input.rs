//! What the server hands [`super::build_package`]: the log, its fold, the clock reading,
//! the reader's role, and what other parts computed (signals, journey, playbooks),
//! in plain types so this module does not depend on the decision engine.

use serde::{Deserialize, Serialize};

use crate::event::Event;
use crate::facts::{Fact, ViewerRole};
use crate::signals::SignalSnapshot;
use crate::state::ConversationState;
use crate::timestamp::Timestamp;

/// Everything a package is built from.
#[derive(Debug, Clone, Copy)]
pub struct PackageInput<'a> {
    /// The conversation's id.
    pub conversation_id: &'a str,
    /// Its whole log, in seq order.
    pub events: &'a [Event],
    /// The fold of `events`.
    pub state: &'a ConversationState,
    /// The time the package is read (waiting time, overdue commitments).
    pub now: Timestamp,
    /// Who reads it: decides which personal data show in clear.
    pub viewer: ViewerRole,
    /// Sentiment and confidence as the signal engine sees them.
    pub signals: &'a PackageSignals,
    /// Earlier conversations with the same customer id, oldest first.
    pub journey: &'a [PriorContact],
    /// Per-intent next steps from the policy.
    pub playbooks: &'a Playbooks,
    /// The policy version in force, if any.
    pub policy_version: Option<&'a str>,
    /// The facts of `events` when already collected (the server keeps them per
    /// conversation, [`crate::facts::KnownFacts::package_facts`]); `None`: read from
    /// `events` with [`crate::facts::collect_facts`]. Either way the same facts.
    pub facts: Option<&'a [Fact]>,
}

/// Signals the package shows, mapped by the server from the signal engine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PackageSignals {
    /// Sentiment, if measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<SentimentSignal>,
    /// Intent confidence over time; when empty, the package reads it from `nlu` events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub confidence_history: Vec<ConfidencePoint>,
    /// The calibrated confidence in the current intent, when the policy learns it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibrated_confidence: Option<f64>,
}

/// Sentiment on a -1 (angry) to +1 (delighted) scale.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SentimentSignal {
    /// Score of the latest customer message.
    pub now: f64,
    /// Smoothed level over recent messages.
    pub level: f64,
    /// Trend per customer message (negative: getting worse).
    pub slope: f64,
    /// Trend of the mood (sentiment and frustration markers together, see `mood`) per customer message:
    /// what the trajectory reads when present, so rising frustration is not read as
    /// improving because the words got warmer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mood_slope: Option<f64>,
    /// Score per customer message, oldest first.
    #[serde(default)]
    pub history: Vec<SentimentPoint>,
}

impl SentimentSignal {
    /// Sentiment as the decision engine's signals hold it, or nothing before the first
    /// customer message.
    pub fn from_snapshot(snapshot: &SignalSnapshot) -> Option<Self> {
        (!snapshot.sentiment_history.is_empty()).then(|| Self {
            now: snapshot.sentiment_last,
            level: snapshot.sentiment_level,
            slope: snapshot.sentiment_slope,
            mood_slope: Some(snapshot.mood_slope),
            history: snapshot
                .sentiment_history
                .iter()
                .map(|&(seq, value)| SentimentPoint { seq, value })
                .collect(),
        })
    }
}

/// One customer message's sentiment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SentimentPoint {
    /// The message's seq.
    pub seq: u64,
    /// Its score.
    pub value: f64,
}

/// The NLU's confidence at one point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfidencePoint {
    /// Seq of the `nlu` event.
    pub seq: u64,
    /// The top intent then.
    pub intent: String,
    /// Its confidence.
    pub confidence: f64,
}

/// An earlier conversation with the same customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriorContact {
    /// Its id.
    pub conversation_id: String,
    /// When it started.
    pub started_at: Timestamp,
    /// How many times it was handed to a human.
    pub handoffs: u32,
    /// How it was resolved, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    /// The intent as the resolving human judged it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub true_intent: Option<String>,
    /// Satisfaction given, 1 to 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat: Option<u8>,
}

/// Next steps per intent, as the policy lists them (`[[playbooks]]` in its TOML).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Playbooks(pub Vec<Playbook>);

/// The steps for intents matching `intent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    /// An intent name, a prefix ending in `*` (`billing.*`), or `*` for any intent.
    pub intent: String,
    /// What the agent should do, in order.
    pub steps: Vec<String>,
}

impl Playbooks {
    /// The steps of the most specific playbook matching `intent` (exact beats the
    /// longest prefix, which beats `*`).
    pub fn steps_for(&self, intent: &str) -> &[String] {
        let specificity = |pattern: &str| -> Option<usize> {
            if pattern == intent {
                Some(usize::MAX)
            } else {
                let prefix = pattern.strip_suffix('*')?;
                intent.starts_with(prefix).then_some(prefix.len())
            }
        };
        self.0
            .iter()
            .filter_map(|p| specificity(&p.intent).map(|s| (s, p)))
            .max_by_key(|(s, _)| *s)
            .map_or(&[], |(_, p)| p.steps.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_specific_playbook_wins() {
        let books: Playbooks = serde_json::from_value(serde_json::json!([
            {"intent": "*", "steps": ["any"]},
            {"intent": "billing.*", "steps": ["billing"]},
            {"intent": "billing.refund", "steps": ["refund"]},
        ]))
        .unwrap();
        assert_eq!(books.steps_for("billing.refund"), ["refund"]);
        assert_eq!(books.steps_for("billing.dispute"), ["billing"]);
        assert_eq!(books.steps_for("shipping"), ["any"]);
        assert!(Playbooks::default().steps_for("x").is_empty());
    }
}
