//! Read models for the API and the console: agents, offers, queues, one conversation.

use std::collections::BTreeMap;

use serde::Serialize;

use super::types::Presence;
use super::{AgentIx, Router};
use crate::event::Priority;
use crate::forecast::{Staffing, any_skill};
use crate::id::{AgentId, ConversationId, OfferId};
use crate::label::Label;
use crate::timestamp::Timestamp;

/// An agent as the router sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentView {
    /// The agent.
    pub id: AgentId,
    /// Presence.
    pub presence: Presence,
    /// Skill -> proficiency.
    pub skills: BTreeMap<Label, u8>,
    /// Concurrent capacity.
    pub capacity: u32,
    /// Owned conversations plus live offers.
    pub load: u32,
    /// Owned conversations.
    pub conversations: Vec<ConversationId>,
    /// Live offers.
    pub offers: Vec<OfferView>,
    /// Offers left to expire in a row.
    pub expiries_in_row: u32,
    /// Last accept, release or return to available.
    pub idle_since: Timestamp,
}

/// A live offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfferView {
    /// The offer.
    pub offer_id: OfferId,
    /// The conversation.
    pub conversation: ConversationId,
    /// To whom.
    pub agent: AgentId,
    /// When it lapses.
    pub expires_at: Timestamp,
}

/// One skill's queue. A conversation needing several skills counts under each;
/// one needing none counts under `*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueView {
    /// The skill.
    pub skill: Label,
    /// Conversations waiting (queued or offered, not yet accepted).
    pub waiting: u32,
    /// How long the longest-waiting one has waited.
    pub longest_wait_ms: i64,
}

/// Where a conversation stands in the router.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConversationRouting {
    /// Waiting for an offer.
    Queued {
        /// Since when.
        enqueued_at: Timestamp,
        /// Urgency.
        priority: Priority,
    },
    /// Offered.
    Offered(OfferView),
    /// Owned by an agent.
    Assigned {
        /// The owner.
        agent: AgentId,
    },
}

impl Router {
    /// One agent.
    pub fn agent(&self, agent: &AgentId) -> Option<AgentView> {
        self.agent_index.get(agent).map(|&a| self.agent_view(a))
    }

    /// Every agent, by id.
    pub fn agents(&self) -> Vec<AgentView> {
        self.agent_index
            .values()
            .map(|&a| self.agent_view(a))
            .collect()
    }

    /// The live offers for an agent (empty for an unknown agent).
    pub fn offers_for(&self, agent: &AgentId) -> Vec<OfferView> {
        let Some(&a) = self.agent_index.get(agent) else {
            return Vec::new();
        };
        self.agents[a as usize]
            .offers
            .iter()
            .filter_map(|o| self.offer(o))
            .collect()
    }

    /// One live offer.
    pub fn offer(&self, offer: &OfferId) -> Option<OfferView> {
        let live = self.offers.get(offer)?;
        Some(OfferView {
            offer_id: offer.clone(),
            conversation: self.waiting.get(&live.wait)?.conversation.clone(),
            agent: self.agents[live.agent as usize].id.clone(),
            expires_at: live.expires_at,
        })
    }

    /// Where a conversation stands, if the router holds it.
    pub fn conversation(&self, conversation: &ConversationId) -> Option<ConversationRouting> {
        if let Some(&a) = self.owners.get(conversation) {
            return Some(ConversationRouting::Assigned {
                agent: self.agents[a as usize].id.clone(),
            });
        }
        let entry = self.waiting.get(self.waiting_index.get(conversation)?)?;
        Some(match &entry.offer {
            Some(offer) => ConversationRouting::Offered(self.offer(offer)?),
            None => ConversationRouting::Queued {
                enqueued_at: entry.enqueued_at,
                priority: entry.priority,
            },
        })
    }

    /// Queues per skill, by skill. `O(skill groups)`, not `O(conversations)`.
    pub fn queues(&self, now: Timestamp) -> Vec<QueueView> {
        let mut by_skill: BTreeMap<Label, QueueView> = BTreeMap::new();
        for group in self.groups.values() {
            let Some(&(oldest, _)) = group.by_age.first() else {
                continue;
            };
            let waiting = u32::try_from(group.by_age.len()).unwrap_or(u32::MAX);
            let wait = now.millis_since(oldest).max(0);
            let any = [any_skill()];
            let skills = if group.skills.is_empty() {
                &any[..]
            } else {
                &group.skills[..]
            };
            for skill in skills {
                let view = by_skill.entry(skill.clone()).or_insert_with(|| QueueView {
                    skill: skill.clone(),
                    waiting: 0,
                    longest_wait_ms: 0,
                });
                view.waiting += waiting;
                view.longest_wait_ms = view.longest_wait_ms.max(wait);
            }
        }
        by_skill.into_values().collect()
    }

    /// Conversations waiting (queued or offered).
    pub fn waiting_len(&self) -> usize {
        self.waiting.len()
    }

    /// Available agents holding `skill` (`*`: every available agent) and their summed
    /// capacity, kept up to date incrementally for the forecast.
    pub fn staffing(&self, skill: &Label) -> Staffing {
        if skill.as_str() == crate::forecast::ANY_SKILL {
            return self.staffing_all;
        }
        self.staffing.get(skill).copied().unwrap_or_default()
    }

    fn agent_view(&self, a: AgentIx) -> AgentView {
        let slot = &self.agents[a as usize];
        AgentView {
            id: slot.id.clone(),
            presence: slot.presence,
            skills: slot.skills.clone(),
            capacity: slot.capacity,
            load: slot.load(),
            conversations: slot.owned.iter().cloned().collect(),
            offers: slot.offers.iter().filter_map(|o| self.offer(o)).collect(),
            expiries_in_row: slot.expiries_in_row,
            idle_since: slot.idle_since,
        }
    }
}
