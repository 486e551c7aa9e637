//! The humans' feedback on a conversation: the agent's read-back of the package (was
//! the bot's intent right, were the facts right) and the survey answers (the
//! customer's CSAT and CES through the bot, the agent's LSAT about the package).
//!
//! Both are written by baton from their endpoints, never through the events call, so
//! the reading they confirm (`bot_intent`, `bot_confidence`) is the one the server held
//! when the agent answered, not one a client claims.

use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::label::Label;
use crate::state::ConversationState;
use crate::text::{Confidence, Text};

/// The agent's verdict on the bot's intent: `"confirmed"` or `{"corrected": "x"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentCheck {
    /// The bot read it right.
    Confirmed,
    /// It was this intent instead.
    Corrected(Label),
}

/// One fact the agent corrected: its kind and the right value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactCorrection {
    /// Fact kind, e.g. `order_id`.
    pub kind: Label,
    /// The right value (customer data: redacted like a message).
    pub value: Text,
}

/// The agent's verdict on the package's key facts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactsCheck {
    /// Fact kinds the agent confirmed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub confirmed: Vec<Label>,
    /// Facts the agent corrected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub corrected: Vec<FactCorrection>,
}

impl FactsCheck {
    /// Whether it says nothing.
    pub fn is_empty(&self) -> bool {
        self.confirmed.is_empty() && self.corrected.is_empty()
    }
}

/// `read_back`: the agent confirmed or corrected the package's reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadBack {
    /// The verdict on the intent.
    pub intent: IntentCheck,
    /// The bot's intent when the agent answered (none if the bot never had one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_intent: Option<Label>,
    /// The bot's confidence in it then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_confidence: Option<Confidence>,
    /// The verdict on the facts.
    #[serde(default, skip_serializing_if = "FactsCheck::is_empty")]
    pub facts: FactsCheck,
    /// A word from the agent (customer data: redacted like a note).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

/// What the agent sends for a read-back; baton adds the reading it confirms.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadBackAnswer {
    /// The verdict on the intent.
    pub intent: IntentCheck,
    /// The verdict on the facts.
    #[serde(default)]
    pub facts: FactsCheck,
    /// A word from the agent.
    #[serde(default)]
    pub note: Option<Text>,
}

impl ReadBack {
    /// The read-back of `answer` against the bot's reading in `state`.
    pub fn of(answer: ReadBackAnswer, state: &ConversationState) -> Self {
        Self {
            intent: answer.intent,
            bot_intent: state.intent.as_ref().map(|i| i.intent.clone()),
            bot_confidence: state.intent.as_ref().map(|i| i.confidence),
            facts: answer.facts,
            note: answer.note,
        }
    }

    /// The intent the human holds true: the bot's when confirmed, the correction else.
    pub fn true_intent(&self) -> Option<&Label> {
        match &self.intent {
            IntentCheck::Confirmed => self.bot_intent.as_ref(),
            IntentCheck::Corrected(label) => Some(label),
        }
    }
}

/// A score on a 1..=`MAX` scale (CSAT and LSAT 1-5, CES 1-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Score<const MAX: u8>(u8);

/// A score outside its scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to {max}, got {got}")]
pub struct ScoreError {
    /// The scale's top.
    pub max: u8,
    /// The value given.
    pub got: u8,
}

impl<const MAX: u8> Score<MAX> {
    /// A score, if `value` is on the scale.
    pub fn new(value: u8) -> Result<Self, ScoreError> {
        if (1..=MAX).contains(&value) {
            Ok(Self(value))
        } else {
            Err(ScoreError {
                max: MAX,
                got: value,
            })
        }
    }

    /// The value.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl<const MAX: u8> TryFrom<u8> for Score<MAX> {
    type Error = ScoreError;
    fn try_from(value: u8) -> Result<Self, ScoreError> {
        Self::new(value)
    }
}

impl<const MAX: u8> From<Score<MAX>> for u8 {
    fn from(score: Score<MAX>) -> u8 {
        score.0
    }
}

/// `survey`: answers about the contact. The bot relays the customer's (`csat`, `ces`);
/// the agent gives their own about the package (`lsat`, `comment`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Survey {
    /// Customer satisfaction, 1 to 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat: Option<Score<5>>,
    /// Customer effort, 1 (very easy) to 7 (very hard).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ces: Option<Score<7>>,
    /// The agent's satisfaction with the package, 1 to 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lsat: Option<Score<5>>,
    /// The agent's comment on the package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<Text>,
}

/// Why a survey cannot be taken as sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SurveyError {
    /// No answer at all.
    #[error("send at least one of csat, ces (the customer's) or lsat, comment (the agent's)")]
    Empty,
    /// A field that is not this actor's to answer.
    #[error("{field} is the {owner}'s answer; {actor} cannot give it")]
    NotTheirs {
        /// The field.
        field: &'static str,
        /// Whose answer it is.
        owner: &'static str,
        /// Who sent it.
        actor: String,
    },
}

impl SurveyError {
    /// The field at fault, if one is.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            SurveyError::Empty => None,
            SurveyError::NotTheirs { field, .. } => Some(field),
        }
    }
}

impl Survey {
    /// Checks that `actor` may give these answers: the customer's through the bot, the
    /// agent's own through an agent, and at least one.
    pub fn check(&self, actor: &Actor) -> Result<(), SurveyError> {
        let customer = [("csat", self.csat.is_some()), ("ces", self.ces.is_some())];
        let agent = [
            ("lsat", self.lsat.is_some()),
            ("comment", self.comment.is_some()),
        ];
        if customer.iter().chain(&agent).all(|(_, given)| !given) {
            return Err(SurveyError::Empty);
        }
        let (foreign, owner) = match actor {
            Actor::Agent(_) => (&customer, "customer"),
            _ => (&agent, "agent"),
        };
        match foreign.iter().find(|(_, given)| *given) {
            Some((field, _)) => Err(SurveyError::NotTheirs {
                field,
                owner,
                actor: actor.to_string(),
            }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AgentId;
    use serde_json::json;

    #[test]
    fn intent_check_has_the_documented_wire_shape() {
        let confirmed: IntentCheck = serde_json::from_value(json!("confirmed")).unwrap();
        assert_eq!(confirmed, IntentCheck::Confirmed);
        let corrected: IntentCheck =
            serde_json::from_value(json!({"corrected": "billing.refund"})).unwrap();
        assert_eq!(
            corrected,
            IntentCheck::Corrected(Label::parse("billing.refund").unwrap())
        );
        assert_eq!(
            serde_json::to_value(&corrected).unwrap(),
            json!({"corrected": "billing.refund"})
        );
        assert!(serde_json::from_value::<IntentCheck>(json!("maybe")).is_err());
        assert!(serde_json::from_value::<IntentCheck>(json!({"corrected": ""})).is_err());
    }

    #[test]
    fn scores_stay_on_their_scale() {
        assert!(Score::<5>::new(0).is_err());
        assert_eq!(Score::<5>::new(5).unwrap().get(), 5);
        assert!(Score::<5>::new(6).is_err());
        assert_eq!(Score::<7>::new(7).unwrap().get(), 7);
        assert!(serde_json::from_value::<Survey>(json!({"ces": 8})).is_err());
        assert!(serde_json::from_value::<Survey>(json!({"csat": 0})).is_err());
        assert!(serde_json::from_value::<Survey>(json!({"csat": 3, "nps": 9})).is_err());
    }

    #[test]
    fn each_side_answers_only_its_own_questions() {
        let agent = Actor::Agent(AgentId::parse("ana").unwrap());
        let customer: Survey = serde_json::from_value(json!({"csat": 4, "ces": 2})).unwrap();
        let own: Survey = serde_json::from_value(json!({"lsat": 5, "comment": "clear"})).unwrap();
        assert_eq!(customer.check(&Actor::Bot), Ok(()));
        assert_eq!(own.check(&agent), Ok(()));
        assert_eq!(customer.check(&agent).unwrap_err().field(), Some("csat"));
        assert_eq!(own.check(&Actor::Bot).unwrap_err().field(), Some("lsat"));
        assert_eq!(
            Survey::default().check(&Actor::Bot),
            Err(SurveyError::Empty)
        );
    }

    #[test]
    fn the_true_intent_is_the_bots_when_confirmed() {
        let mut read_back = ReadBack {
            intent: IntentCheck::Confirmed,
            bot_intent: Some(Label::parse("reset_password").unwrap()),
            bot_confidence: None,
            facts: FactsCheck::default(),
            note: None,
        };
        assert_eq!(
            read_back.true_intent().map(Label::as_str),
            Some("reset_password")
        );
        read_back.intent = IntentCheck::Corrected(Label::parse("billing_dispute").unwrap());
        assert_eq!(
            read_back.true_intent().map(Label::as_str),
            Some("billing_dispute")
        );
    }
}
