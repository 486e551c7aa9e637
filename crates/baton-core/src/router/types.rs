//! What goes into the router (agents, queued conversations), what comes out (effects
//! the server turns into events) and how it refuses (errors).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::{OfferEnd, Priority};
use crate::id::{AgentId, ConversationId, CustomerId, OfferId};
use crate::label::Label;
use crate::state::ConversationState;
use crate::timestamp::Timestamp;

/// Highest skill proficiency.
pub const MAX_PROFICIENCY: u8 = 5;

/// Whether an agent takes new offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// Takes offers.
    Available,
    /// Logged in, takes no new offers (set by hand or after repeated expiries).
    Away,
    /// Logged out.
    Offline,
}

impl Presence {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Presence::Available => "available",
            Presence::Away => "away",
            Presence::Offline => "offline",
        }
    }
}

/// An agent's skills and capacity, as `PUT /v1/agents/{aid}` sets them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentProfile {
    /// The agent.
    pub id: AgentId,
    /// Skill -> proficiency, 1 (novice) to 5 (expert).
    pub skills: BTreeMap<Label, u8>,
    /// How many conversations (owned plus live offers) the agent holds at once.
    pub capacity: u32,
}

/// A conversation waiting for an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedConversation {
    /// The conversation.
    pub conversation: ConversationId,
    /// The verified customer, for sticky routing.
    pub customer: Option<CustomerId>,
    /// Urgency.
    pub priority: Priority,
    /// Skills the agent must hold, every one.
    pub skills: Vec<Label>,
    /// When it entered the queue (keep the original on restore: ageing counts from it).
    pub enqueued_at: Timestamp,
    /// An agent to prefer when eligible, e.g. the one who bounced it back.
    pub preferred_agent: Option<AgentId>,
}

impl QueuedConversation {
    /// The queue entry a conversation's state implies: its handoff's priority, skills
    /// and queue time, its customer, and its last agent preferred (a bounce-back
    /// returns to the same agent). `None` when it was never handed off. Used for a new
    /// handoff and for restoring the queue after a restart alike.
    pub fn from_state(conversation: &ConversationId, state: &ConversationState) -> Option<Self> {
        let handoff = state.handoff.as_ref()?;
        Some(Self {
            conversation: conversation.clone(),
            customer: state.customer_id.clone(),
            priority: handoff.priority,
            skills: handoff.skills.clone(),
            enqueued_at: handoff.queued_at,
            preferred_agent: state.last_agent.clone(),
        })
    }
}

/// Something the server must record or announce, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum RouterEffect {
    /// Write `offered` on the conversation.
    Offered {
        /// The new offer.
        offer_id: OfferId,
        /// The conversation offered.
        conversation: ConversationId,
        /// To whom.
        agent: AgentId,
        /// When it lapses.
        expires_at: Timestamp,
    },
    /// Write `offer_closed` on the conversation.
    OfferClosed {
        /// The offer.
        offer_id: OfferId,
        /// The conversation, back in the queue unless `withdrawn` by its removal.
        conversation: ConversationId,
        /// Whose offer it was.
        agent: AgentId,
        /// Why.
        reason: OfferEnd,
    },
    /// Write `assigned` on the conversation.
    Assigned {
        /// The conversation.
        conversation: ConversationId,
        /// Its owner now.
        agent: AgentId,
        /// The offer accepted.
        offer_id: OfferId,
    },
    /// Persist the agent's presence as `away` (repeated expiries).
    AgentAway {
        /// The agent.
        agent: AgentId,
    },
    /// The conversation waited past the overflow wait and may now go to agents with
    /// the fallback skills (informational; a note or a metric).
    Overflowed {
        /// The conversation.
        conversation: ConversationId,
        /// The fallback skills it now also accepts.
        skills: Vec<Label>,
    },
}

/// Why the router refused a command. A refused command changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouterError {
    /// No such agent.
    #[error("unknown agent {0}")]
    UnknownAgent(AgentId),
    /// No such live offer (never made, answered, expired or withdrawn).
    #[error("unknown or closed offer {0}")]
    UnknownOffer(OfferId),
    /// The offer belongs to another agent.
    #[error("offer {offer} is not for agent {agent}")]
    NotYourOffer {
        /// The offer.
        offer: OfferId,
        /// Who answered.
        agent: AgentId,
    },
    /// The agent already accepted this offer (here or, as the log says, on another
    /// node): answering it again changes nothing.
    #[error("offer {0} is already accepted")]
    AlreadyAccepted(OfferId),
    /// The offer's time is up; it closes as expired on the next tick.
    #[error("offer {0} has expired")]
    OfferExpired(OfferId),
    /// The agent does not own the conversation.
    #[error("agent {agent} does not own conversation {conversation}")]
    NotOwner {
        /// Who asked.
        agent: AgentId,
        /// The conversation.
        conversation: ConversationId,
    },
    /// The conversation is already queued, offered or owned.
    #[error("conversation {0} is already routed")]
    AlreadyRouted(ConversationId),
    /// A proficiency outside 1..=5.
    #[error("proficiency for skill {skill} must be 1 to 5, got {value}")]
    BadProficiency {
        /// The skill.
        skill: Label,
        /// The value given.
        value: u8,
    },
    /// An offer id prefix that cannot form valid ids.
    #[error("offer id prefix {0:?} is not usable in ids")]
    BadOfferPrefix(String),
}
