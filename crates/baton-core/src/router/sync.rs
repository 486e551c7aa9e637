//! Mirroring the log: when several nodes share one store, one router decides (the
//! leader's) and the others are passive copies ([`Router::set_active`]) that never
//! offer or expire anything. Any router is told, conversation by conversation, what
//! the log says ([`Router::sync`]) when another node wrote it (an accept on another
//! node, a handoff queued there, the leader's offers): it takes that as fact, with no
//! effect for the change itself, and an active router then does what follows from it
//! (offers a newly queued conversation, serves a freed agent).

use super::types::{QueuedConversation, RouterEffect, RouterError};
use super::{AgentIx, Router};
use crate::event::OfferEnd;
use crate::id::{AgentId, ConversationId, CustomerId, OfferId};
use crate::state::{ConversationState, Owner};
use crate::timestamp::Timestamp;

/// Where the log says a conversation stands, as far as routing goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routed {
    /// Not the router's: with the bot, closed, or never handed off.
    Unrouted,
    /// Waiting for an offer.
    Queued(QueuedConversation),
    /// Reserved for one agent until the offer is answered or lapses.
    Offered {
        /// Its place in the queue.
        entry: QueuedConversation,
        /// The open offer.
        offer_id: OfferId,
        /// To whom.
        agent: AgentId,
        /// When it lapses.
        expires_at: Timestamp,
    },
    /// Owned by an agent.
    Owned {
        /// The owner.
        agent: AgentId,
        /// The customer, for sticky routing.
        customer: Option<CustomerId>,
    },
}

impl Routed {
    /// What a conversation's folded state says.
    pub fn from_state(conversation: &ConversationId, state: &ConversationState) -> Self {
        let entry = QueuedConversation::from_state(conversation, state);
        match (state.owner, entry, &state.offer, &state.assigned_agent) {
            (Owner::Agent, _, _, Some(agent)) => Routed::Owned {
                agent: agent.clone(),
                customer: state.customer_id.clone(),
            },
            (Owner::Offered, Some(entry), Some(offer), _) => Routed::Offered {
                entry,
                offer_id: offer.offer_id.clone(),
                agent: offer.agent_id.clone(),
                expires_at: offer.expires_at,
            },
            (Owner::Queued, Some(entry), _, _) => Routed::Queued(entry),
            _ => Routed::Unrouted,
        }
    }
}

impl Router {
    /// Makes this router decide (`true`) or only mirror (`false`). A passive router
    /// takes commands and syncs as usual but makes no offer, and its tick does nothing;
    /// made active, it offers what it can at the next command (or [`Router::rebalance`]).
    pub fn set_active(&mut self, active: bool) {
        self.active = active;
    }

    /// Whether this router decides.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Takes the log's word for where `conversation` stands. Nothing changes when the
    /// router already agrees; otherwise its old place (an offer, an owner) is dropped
    /// without an effect, the new one taken, and, when active, the router offers what
    /// follows: the conversation if it waits, and any agent it freed.
    ///
    /// An offer the log closed behind this router's back counts as declined by its
    /// agent (the re-offer cool-down applies), as the node that closed it decided.
    pub fn sync(
        &mut self,
        conversation: &ConversationId,
        routed: Routed,
        now: Timestamp,
    ) -> Result<Vec<RouterEffect>, RouterError> {
        if self.agrees(conversation, &routed) {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        if let (Routed::Queued(_), Some(&w)) = (&routed, self.waiting_index.get(conversation))
            && let Some(offer) = self.waiting.get(&w).and_then(|e| e.offer.clone())
        {
            let agent = self.offers.get(&offer).map(|o| o.agent);
            // The effect was the other node's to write: it is in the log already.
            let mut written = Vec::new();
            self.close_offer(&offer, OfferEnd::Rejected, now, &mut written);
            self.match_conversation(w, now, &mut out);
            if let Some(a) = agent {
                self.serve_agent(a, now, &mut out);
            }
            return Ok(out);
        }
        // The log says the agent holding the offer owns it now: they accepted it.
        if let Routed::Owned { agent, .. } = &routed
            && let Some(a) = self.agent_index.get(agent).copied()
            && let Some(offer) = self
                .waiting_index
                .get(conversation)
                .and_then(|w| self.waiting.get(w))
                .and_then(|e| e.offer.clone())
            && self.offers.get(&offer).is_some_and(|o| o.agent == a)
        {
            self.accepted.insert(offer, (a, now));
        }
        let freed = self.forget(conversation, now);
        match routed {
            Routed::Unrouted => {}
            Routed::Queued(entry) => {
                let w = self.insert_waiting(entry, now)?;
                self.match_conversation(w, now, &mut out);
            }
            Routed::Offered {
                entry,
                offer_id,
                agent,
                expires_at,
            } => self.restore_offer(entry, offer_id, &agent, expires_at, now)?,
            Routed::Owned { agent, customer } => {
                self.restore_assignment(&agent, conversation, customer.as_ref(), now)?
            }
        }
        for a in freed {
            self.serve_agent(a, now, &mut out);
        }
        Ok(out)
    }

    fn agrees(&self, conversation: &ConversationId, routed: &Routed) -> bool {
        let waiting = self
            .waiting_index
            .get(conversation)
            .and_then(|w| self.waiting.get(w));
        let owner = self.owners.get(conversation).copied();
        let ix = |agent: &AgentId| self.agent_index.get(agent).copied();
        match routed {
            Routed::Unrouted => waiting.is_none() && owner.is_none(),
            Routed::Queued(_) => waiting.is_some_and(|w| w.offer.is_none()),
            Routed::Offered {
                offer_id, agent, ..
            } => {
                waiting.is_some_and(|w| w.offer.as_ref() == Some(offer_id))
                    && self.offers.get(offer_id).map(|o| o.agent) == ix(agent)
            }
            Routed::Owned { agent, .. } => owner.is_some() && owner == ix(agent),
        }
    }

    /// Drops whatever the router holds for `conversation`, without effects; returns
    /// the agents whose slot it freed.
    fn forget(&mut self, conversation: &ConversationId, now: Timestamp) -> Vec<AgentIx> {
        let mut freed = Vec::new();
        if let Some(a) = self.owners.remove(conversation) {
            self.with_agent(a, |slot| slot.owned.remove(conversation));
            freed.push(a);
        }
        if let Some(&w) = self.waiting_index.get(conversation) {
            if let Some(offer) = self.waiting.get(&w).and_then(|e| e.offer.clone())
                && let Some(live) = self.offers.remove(&offer)
            {
                self.expiries.remove(&(live.expires_at, offer.clone()));
                self.with_agent(live.agent, |slot| slot.offers.remove(&offer));
                freed.push(live.agent);
            }
            self.remove_waiting(w, now);
        }
        freed
    }
}
