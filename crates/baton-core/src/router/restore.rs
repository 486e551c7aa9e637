//! Rebuilding the router after a restart from what the server persisted: agents (with
//! presence), owned conversations, live offers and queued conversations.
//!
//! The order is: [`Router::upsert_agent`] and [`Router::set_presence`] for every agent
//! (no conversation exists yet, so nothing is offered), then the `restore_*` calls,
//! which never offer anything, then one [`Router::rebalance`], which offers in global
//! priority order, then [`Router::tick`] as usual (it expires restored offers whose
//! time passed while the server was down).

use super::queue::QueueKey;
use super::types::{QueuedConversation, RouterEffect, RouterError};
use super::{Router, StickyKey};
use crate::id::{AgentId, ConversationId, CustomerId, OfferId};
use crate::timestamp::Timestamp;

impl Router {
    /// Restores a conversation an agent owns (state `agent`). It counts against the
    /// agent's capacity even if that is now exceeded.
    pub fn restore_assignment(
        &mut self,
        agent: &AgentId,
        conversation: &ConversationId,
        customer: Option<&CustomerId>,
        now: Timestamp,
    ) -> Result<(), RouterError> {
        let a = self.agent_ix(agent)?;
        if self.waiting_index.contains_key(conversation) || self.owners.contains_key(conversation) {
            return Err(RouterError::AlreadyRouted(conversation.clone()));
        }
        self.owners.insert(conversation.clone(), a);
        self.with_agent(a, |slot| slot.owned.insert(conversation.clone()));
        if let Some(customer) = customer {
            self.remember(StickyKey::Customer(customer.clone()), a, now);
        }
        self.remember(StickyKey::Conversation(conversation.clone()), a, now);
        Ok(())
    }

    /// Restores a queued conversation (state `queued`) without offering it; keep its
    /// original `enqueued_at` so it keeps its place.
    pub fn restore_queued(
        &mut self,
        conversation: QueuedConversation,
        now: Timestamp,
    ) -> Result<(), RouterError> {
        self.insert_waiting(conversation, now).map(|_| ())
    }

    /// Restores a conversation with a live offer (state `offered`). Offer ids minted
    /// later skip past a restored id that carries this router's prefix.
    pub fn restore_offer(
        &mut self,
        conversation: QueuedConversation,
        offer_id: OfferId,
        agent: &AgentId,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), RouterError> {
        let a = self.agent_ix(agent)?;
        if self.offers.contains_key(&offer_id) {
            return Err(RouterError::AlreadyRouted(conversation.conversation));
        }
        let w = self.insert_waiting(conversation, now)?;
        if self.reserve(w, a, offer_id.clone(), expires_at).is_none() {
            return Ok(());
        }
        if let Some(n) = offer_id
            .as_str()
            .strip_prefix(&self.offer_prefix)
            .and_then(|n| n.parse::<u64>().ok())
        {
            self.next_offer = self.next_offer.max(n.saturating_add(1));
        }
        Ok(())
    }

    /// Offers every queued conversation that some free agent can take, in global
    /// priority order. `O(queued * log n)`: for after a restore, not per request.
    pub fn rebalance(&mut self, now: Timestamp) -> Vec<RouterEffect> {
        let mut order: Vec<QueueKey> = self
            .waiting
            .values()
            .filter(|w| w.offer.is_none())
            .map(|w| w.key)
            .collect();
        order.sort();
        let mut out = Vec::new();
        for key in order {
            if self.staffing_all.agents == 0 {
                break;
            }
            self.match_conversation(key.seq, now, &mut out);
        }
        out
    }
}
