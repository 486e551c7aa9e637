//! Signals: numbers derived from a conversation's events, folded one event at a time so
//! a decision never rescans the history. [`SignalState::apply`] runs beside
//! `ConversationState::apply` on every event (decisions included: they open offers and
//! close episodes); [`SignalState::snapshot`] is what the API, console and package show.

pub mod confidence;
pub mod explicit;
pub mod failure;
pub mod frustration;
pub mod loops;
pub mod mood;
pub mod risk;
pub mod sentiment;
pub mod vader;
pub mod words;

use serde::{Deserialize, Serialize};

use crate::event::{Event, EventBody, HandoffRequested, Outcome};
use crate::policy::Policy;

use self::confidence::IntentConfidence;
use self::failure::Features;
use self::frustration::Frustration;
use self::loops::Loops;
use self::mood::Mood;
use self::risk::RiskHit;
use self::sentiment::Sentiment;
use self::words::Words;

/// The customer's latest explicit request for a human.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplicitRequest {
    /// Seq of the message.
    pub seq: u64,
    /// The words that made it a request.
    pub phrase: String,
    /// Whether the request is one bare keyword tacked onto a longer message ("where is
    /// my order 123, manager"): the case the bot's reading of the message decides.
    #[serde(default)]
    pub keyword: bool,
}

/// A pending `handoff_requested` from the bot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BotRequest {
    /// Seq of the request.
    pub seq: u64,
    /// What the bot asked for.
    pub request: HandoffRequested,
}

/// The last offer made to the customer and how they answered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OfferTrack {
    /// Seq of the offer decision.
    pub seq: Option<u64>,
    /// Customer messages since the offer.
    pub messages_since: u32,
    /// Seq of the customer's "yes", if their first answer accepted.
    pub accepted_seq: Option<u64>,
}

/// Every signal of one conversation, updated per event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SignalState {
    /// Customer sentiment.
    pub sentiment: Sentiment,
    /// Frustration markers.
    pub frustration: Frustration,
    /// Tone and frustration together, per message, and their trend.
    #[serde(default)]
    pub mood: Mood,
    /// NLU confidence.
    pub confidence: IntentConfidence,
    /// Loops.
    pub loops: Loops,
    /// The explicit request in the latest customer message, if it held one.
    pub explicit: Option<ExplicitRequest>,
    /// Explicit requests since the last reset.
    pub explicit_count: u32,
    /// Risk seen since the last reset (the first hit).
    pub risk: Option<RiskHit>,
    /// A bot request not yet acted on.
    pub bot_request: Option<BotRequest>,
    /// The offer in play.
    pub offer: OfferTrack,
    /// Customer messages since the last reset.
    pub customer_messages: u32,
    /// Seq of the latest customer message.
    pub last_customer_seq: u64,
    /// Inputs of the failure model, as of the latest event.
    pub features: Features,
    /// The failure model's probability, as of the latest event.
    pub failure: f64,
}

/// What the API and the agent console show of the signals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalSnapshot {
    /// Smoothed sentiment level.
    pub sentiment_level: f64,
    /// Sentiment slope per message.
    pub sentiment_slope: f64,
    /// Slope per message of the mood (sentiment and frustration markers together, see `mood`): the trend
    /// a person reads, which the package's trajectory shows.
    #[serde(default)]
    pub mood_slope: f64,
    /// The latest message's sentiment.
    pub sentiment_last: f64,
    /// (seq, score) per customer message.
    pub sentiment_history: Vec<(u64, f64)>,
    /// The latest NLU confidence, as the signal reads it (calibrated when the policy's
    /// `confidence.calibration` is `learned`).
    pub confidence: Option<f64>,
    /// The bot's own latest confidence, when `confidence` is calibrated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_confidence: Option<f64>,
    /// (seq, confidence) per `nlu` event.
    pub confidence_history: Vec<(u64, f64)>,
    /// Low or fallback NLU results in a row.
    pub low_confidence_streak: u32,
    /// Loop score.
    pub loop_score: f64,
    /// Whether the latest customer message asked for a human.
    pub explicit_request: bool,
    /// Whether a risk topic came up.
    pub risk: bool,
    /// What the risk was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_hit: Option<RiskHit>,
    /// Frustration level.
    pub frustration: f64,
    /// Predicted probability that the bot fails this customer.
    pub predicted_failure: f64,
}

impl SignalState {
    /// Folds a whole log.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>, policy: &Policy) -> Self {
        let mut state = Self::default();
        for event in events {
            state.apply(event, policy);
        }
        state
    }

    /// Applies one event.
    pub fn apply(&mut self, event: &Event, policy: &Policy) {
        match &event.body {
            EventBody::CustomerMessage(m) => {
                self.customer_message(event.seq, m.text.as_str(), policy)
            }
            EventBody::BotMessage(m) => {
                let words = Words::new(m.text.as_str());
                self.loops.push_bot(&words, &policy.loops);
                if words
                    .first_phrase(&policy.confidence.rephrase_prompts)
                    .is_some()
                {
                    self.confidence.bot_asked_to_rephrase();
                }
            }
            EventBody::Nlu(nlu) => {
                self.confidence.push(event.seq, nlu, &policy.confidence);
                if self.risk.is_none() {
                    self.risk = risk::from_nlu(event.seq, nlu, &policy.risk);
                }
            }
            EventBody::HandoffRequested(request) => {
                self.bot_request = Some(BotRequest {
                    seq: event.seq,
                    request: request.clone(),
                });
            }
            EventBody::Decision(d) => match d.outcome {
                Outcome::Continue => {}
                Outcome::Offer => {
                    if self.offer.seq.is_none() || self.offer.messages_since > 0 {
                        self.offer = OfferTrack {
                            seq: Some(event.seq),
                            messages_since: 0,
                            accepted_seq: None,
                        };
                    }
                }
                Outcome::Handoff => {
                    self.bot_request = None;
                    self.offer = OfferTrack::default();
                }
            },
            EventBody::BouncedBack(_) | EventBody::Resolved(_) => self.reset(),
            _ => {}
        }
        self.refresh(policy);
    }

    fn customer_message(&mut self, seq: u64, text: &str, policy: &Policy) {
        let words = Words::new(text);
        self.customer_messages += 1;
        self.confidence.new_turn();
        self.last_customer_seq = seq;
        let tone = sentiment::score(text);
        self.sentiment.push(seq, tone, &policy.sentiment);
        self.frustration.push(text, &words, &policy.frustration);
        self.mood.push(
            mood::of_message(tone, self.frustration.last),
            policy.sentiment.slope_window,
            &policy.frustration,
        );
        self.loops.push_customer(&words, &policy.loops);
        self.explicit = if policy.explicit.enabled {
            explicit::detect_in(text, &words, &policy.explicit.extra_phrases).map(|m| {
                ExplicitRequest {
                    seq,
                    keyword: !m.phrase.contains(' ') && words.word_count() > 2,
                    phrase: m.phrase,
                }
            })
        } else {
            None
        };
        self.explicit_count += u32::from(self.explicit.is_some());
        if self.risk.is_none() {
            self.risk = risk::from_text(seq, &words, &policy.risk);
        }
        if self.offer.seq.is_some() {
            self.offer.messages_since += 1;
            if self.offer.messages_since == 1
                && explicit::is_affirmative_in(&words, &policy.offer.accept_phrases)
            {
                self.offer.accepted_seq = Some(seq);
            }
        }
    }

    fn refresh(&mut self, policy: &Policy) {
        self.features = Features {
            negativity: f64::max(0.0, -self.sentiment.level),
            decline: f64::max(0.0, -self.sentiment.slope),
            frustration: self.frustration.level,
            low_confidence: f64::from(self.confidence.low_streak.min(5)),
            loop_score: self.loops.score.min(5.0),
            length: (f64::from(self.customer_messages) / 10.0).min(3.0),
        };
        self.failure = self.features.probability(&policy.failure);
    }

    /// Starts a new episode after the conversation comes back to the bot or closes:
    /// what made the last handoff must not immediately make another.
    fn reset(&mut self) {
        self.sentiment.reset();
        self.frustration = Frustration::default();
        self.mood.reset();
        self.confidence.reset();
        self.loops.reset();
        self.explicit = None;
        self.explicit_count = 0;
        self.risk = None;
        self.bot_request = None;
        self.offer = OfferTrack::default();
        self.customer_messages = 0;
    }

    /// The serializable view.
    pub fn snapshot(&self) -> SignalSnapshot {
        SignalSnapshot {
            sentiment_level: self.sentiment.level,
            sentiment_slope: self.sentiment.slope,
            mood_slope: self.mood.slope,
            sentiment_last: self.sentiment.last,
            sentiment_history: self.sentiment.history.clone(),
            confidence: self.confidence.current,
            raw_confidence: self.confidence.raw,
            confidence_history: self.confidence.history.clone(),
            low_confidence_streak: self.confidence.low_streak,
            loop_score: self.loops.score,
            explicit_request: self.explicit.is_some(),
            risk: self.risk.is_some(),
            risk_hit: self.risk.clone(),
            frustration: self.frustration.level,
            predicted_failure: self.failure,
        }
    }
}
