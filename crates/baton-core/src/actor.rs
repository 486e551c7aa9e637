//! Who wrote an event: `customer`, `bot`, `agent:<id>` or `system`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::id::{AgentId, IdError};

/// The author of an event.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Actor {
    /// The customer (relayed by the bot's channel).
    Customer,
    /// The automated assistant.
    Bot,
    /// A human agent.
    Agent(AgentId),
    /// baton itself: decisions, offers, assignments.
    System,
}

/// Why a string is not an actor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActorError {
    /// Not one of the four forms.
    #[error("must be customer, bot, system or agent:<id>")]
    Unknown,
    /// `agent:` followed by an invalid id.
    #[error("agent id {0}")]
    BadAgent(IdError),
}

impl Actor {
    /// The agent id when the actor is an agent.
    pub fn agent(&self) -> Option<&AgentId> {
        match self {
            Actor::Agent(id) => Some(id),
            _ => None,
        }
    }
}

impl FromStr for Actor {
    type Err = ActorError;
    fn from_str(raw: &str) -> Result<Self, ActorError> {
        match raw {
            "customer" => Ok(Actor::Customer),
            "bot" => Ok(Actor::Bot),
            "system" => Ok(Actor::System),
            _ => match raw.strip_prefix("agent:") {
                Some(id) => AgentId::parse(id)
                    .map(Actor::Agent)
                    .map_err(ActorError::BadAgent),
                None => Err(ActorError::Unknown),
            },
        }
    }
}

impl TryFrom<String> for Actor {
    type Error = ActorError;
    fn try_from(raw: String) -> Result<Self, ActorError> {
        raw.parse()
    }
}

impl From<Actor> for String {
    fn from(actor: Actor) -> String {
        actor.to_string()
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Customer => f.write_str("customer"),
            Actor::Bot => f.write_str("bot"),
            Actor::System => f.write_str("system"),
            Actor::Agent(id) => write!(f, "agent:{id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_form() {
        for raw in ["customer", "bot", "system", "agent:ana-1"] {
            assert_eq!(raw.parse::<Actor>().unwrap().to_string(), raw);
        }
    }

    #[test]
    fn rejects_unknown_and_bad_agents() {
        assert_eq!("human".parse::<Actor>(), Err(ActorError::Unknown));
        assert!(matches!(
            "agent:".parse::<Actor>(),
            Err(ActorError::BadAgent(_))
        ));
        assert!(matches!(
            "agent:a b".parse::<Actor>(),
            Err(ActorError::BadAgent(_))
        ));
    }
}
