//! [`ReasonCode`]: the closed set of codes a decision's reasons carry, as a fieldless
//! enum, so the decision engine cannot misspell one and readers can match on them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why baton decided what it did. The wire names are frozen: they are in every stored
/// `decision` event and so in the ledger hash; a test checks serde and
/// [`ReasonCode::as_str`] agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// The bot asked for a human (`handoff_requested`).
    BotRequest,
    /// The intent is one the policy always hands off.
    RiskIntent,
    /// The customer used a phrase the policy always hands off.
    RiskPhrase,
    /// The customer insisted after a human was offered.
    OfferInsisted,
    /// The customer asked for a human.
    ExplicitRequest,
    /// The customer accepted the offer of a human.
    OfferAccepted,
    /// A routine intent the bot keeps.
    RoutineIntent,
    /// Sentiment is below the policy's threshold.
    NegativeSentiment,
    /// Sentiment is falling.
    SentimentDecline,
    /// Frustration markers.
    Frustration,
    /// Each of the last few messages angrier than the one before.
    AngerRising,
    /// NLU confidence stayed low.
    LowConfidence,
    /// The conversation is going in circles.
    LoopDetected,
    /// The failure model predicts the bot will not resolve it.
    PredictedFailure,
    /// No agent capacity: the handoff waits or is offered instead.
    CapacitySaturated,
}

impl ReasonCode {
    /// Every code.
    pub const ALL: [ReasonCode; 15] = [
        ReasonCode::BotRequest,
        ReasonCode::RiskIntent,
        ReasonCode::RiskPhrase,
        ReasonCode::OfferInsisted,
        ReasonCode::ExplicitRequest,
        ReasonCode::OfferAccepted,
        ReasonCode::RoutineIntent,
        ReasonCode::NegativeSentiment,
        ReasonCode::SentimentDecline,
        ReasonCode::Frustration,
        ReasonCode::AngerRising,
        ReasonCode::LowConfidence,
        ReasonCode::LoopDetected,
        ReasonCode::PredictedFailure,
        ReasonCode::CapacitySaturated,
    ];

    /// The frozen wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::BotRequest => "bot_request",
            ReasonCode::RiskIntent => "risk_intent",
            ReasonCode::RiskPhrase => "risk_phrase",
            ReasonCode::OfferInsisted => "offer_insisted",
            ReasonCode::ExplicitRequest => "explicit_request",
            ReasonCode::OfferAccepted => "offer_accepted",
            ReasonCode::RoutineIntent => "routine_intent",
            ReasonCode::NegativeSentiment => "negative_sentiment",
            ReasonCode::SentimentDecline => "sentiment_decline",
            ReasonCode::Frustration => "frustration",
            ReasonCode::AngerRising => "anger_rising",
            ReasonCode::LowConfidence => "low_confidence",
            ReasonCode::LoopDetected => "loop_detected",
            ReasonCode::PredictedFailure => "predicted_failure",
            ReasonCode::CapacitySaturated => "capacity_saturated",
        }
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_are_serdes_and_distinct() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ReasonCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
            let back: ReasonCode = serde_json::from_value(code.as_str().into()).unwrap();
            assert_eq!(back, code);
            assert!(seen.insert(code.as_str()), "{code} twice");
        }
        assert!(serde_json::from_value::<ReasonCode>("made_up".into()).is_err());
    }
}
