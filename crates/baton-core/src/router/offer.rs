//! Offers and the agent's answers: accept makes the owner, reject and expiry move the
//! conversation on, release frees the slot.

use super::types::{RouterEffect, RouterError};
use super::{AgentIx, Router, StickyKey, WaitSeq};
use crate::event::OfferEnd;
use crate::id::{AgentId, ConversationId, OfferId};
use crate::timestamp::Timestamp;

#[derive(Debug, Clone)]
pub(super) struct LiveOffer {
    pub(super) wait: WaitSeq,
    pub(super) agent: AgentIx,
    pub(super) expires_at: Timestamp,
}

impl Router {
    /// Agent `agent` accepts `offer`: they own the conversation now.
    ///
    /// Refused (nothing changes) if the offer is unknown or closed, someone else's, or
    /// past `expires_at` (the next [`Router::tick`] closes it as expired).
    pub fn accept(
        &mut self,
        offer: &OfferId,
        agent: &AgentId,
        now: Timestamp,
    ) -> Result<Vec<RouterEffect>, RouterError> {
        let (w, a) = self.answerable(offer, agent)?;
        if self.offers.get(offer).is_some_and(|o| now >= o.expires_at) {
            return Err(RouterError::OfferExpired(offer.clone()));
        }
        if let Some(live) = self.offers.remove(offer) {
            self.expiries.remove(&(live.expires_at, offer.clone()));
        }
        let Some(entry) = self.waiting.get(&w).cloned() else {
            return Err(RouterError::UnknownOffer(offer.clone()));
        };
        self.remove_waiting(w, now);
        let conversation = entry.conversation.clone();
        self.with_agent(a, |slot| {
            slot.offers.remove(offer);
            slot.owned.insert(conversation.clone());
            slot.expiries_in_row = 0;
            slot.idle_since = now;
        });
        self.owners.insert(conversation.clone(), a);
        self.accepted.insert(offer.clone(), (a, now));
        if let Some(customer) = entry.customer {
            self.remember(StickyKey::Customer(customer), a, now);
        }
        self.remember(StickyKey::Conversation(conversation.clone()), a, now);
        Ok(vec![RouterEffect::Assigned {
            conversation,
            agent: agent.clone(),
            offer_id: offer.clone(),
        }])
    }

    /// Agent `agent` declines `offer`: the conversation goes to the next eligible agent
    /// (this one is skipped for it during the re-offer cool-down) and the slot frees.
    pub fn reject(
        &mut self,
        offer: &OfferId,
        agent: &AgentId,
        now: Timestamp,
    ) -> Result<Vec<RouterEffect>, RouterError> {
        let (w, a) = self.answerable(offer, agent)?;
        let mut out = Vec::new();
        self.with_agent(a, |slot| slot.expiries_in_row = 0);
        self.close_offer(offer, OfferEnd::Rejected, now, &mut out);
        self.match_conversation(w, now, &mut out);
        self.serve_agent(a, now, &mut out);
        Ok(out)
    }

    /// The owning agent lets go of a conversation (bounce-back, resolve, transfer):
    /// the slot frees and the agent is remembered for the customer (sticky routing).
    pub fn release(
        &mut self,
        agent: &AgentId,
        conversation: &ConversationId,
        now: Timestamp,
    ) -> Result<Vec<RouterEffect>, RouterError> {
        let a = self.agent_ix(agent)?;
        if self.owners.get(conversation) != Some(&a) {
            return Err(RouterError::NotOwner {
                agent: agent.clone(),
                conversation: conversation.clone(),
            });
        }
        let mut out = Vec::new();
        self.release_owned(a, conversation, now, &mut out);
        Ok(out)
    }

    pub(super) fn release_owned(
        &mut self,
        a: AgentIx,
        conversation: &ConversationId,
        now: Timestamp,
        out: &mut Vec<RouterEffect>,
    ) {
        self.owners.remove(conversation);
        self.with_agent(a, |slot| {
            slot.owned.remove(conversation);
            slot.idle_since = now;
        });
        self.remember(StickyKey::Conversation(conversation.clone()), a, now);
        self.serve_agent(a, now, out);
    }

    fn answerable(
        &self,
        offer: &OfferId,
        agent: &AgentId,
    ) -> Result<(WaitSeq, AgentIx), RouterError> {
        let live = self.offers.get(offer).ok_or_else(|| {
            // Only to its own agent: to anyone else an offer not theirs does not exist.
            let asker = self.agent_index.get(agent);
            match self.accepted.get(offer) {
                Some((by, _)) if Some(by) == asker => RouterError::AlreadyAccepted(offer.clone()),
                _ => RouterError::UnknownOffer(offer.clone()),
            }
        })?;
        let a = self.agent_ix(agent)?;
        if live.agent != a {
            return Err(RouterError::NotYourOffer {
                offer: offer.clone(),
                agent: agent.clone(),
            });
        }
        Ok((live.wait, a))
    }

    /// Reserves waiting conversation `w` for agent `a`.
    pub(super) fn make_offer(
        &mut self,
        w: WaitSeq,
        a: AgentIx,
        now: Timestamp,
        out: &mut Vec<RouterEffect>,
    ) {
        let offer_id = self.mint_offer_id();
        let expires_at = now.plus_millis(self.config.offer_timeout_ms);
        let Some(conversation) = self.reserve(w, a, offer_id.clone(), expires_at) else {
            return;
        };
        let agent = self.agents[a as usize].id.clone();
        out.push(RouterEffect::Offered {
            offer_id,
            conversation,
            agent,
            expires_at,
        });
    }

    /// Takes waiting conversation `w` out of its queues and records `offer_id` to agent
    /// `a` until `expires_at`: a new offer, or one restored from the log. Returns the
    /// conversation, or nothing if `w` is not waiting.
    pub(super) fn reserve(
        &mut self,
        w: WaitSeq,
        a: AgentIx,
        offer_id: OfferId,
        expires_at: Timestamp,
    ) -> Option<ConversationId> {
        let entry = self.waiting.get_mut(&w)?;
        entry.offer = Some(offer_id.clone());
        let key = entry.key;
        let conversation = entry.conversation.clone();
        for g in entry.groups() {
            if let Some(group) = self.groups.get_mut(&g) {
                group.queue.remove(&key);
            }
        }
        self.with_agent(a, |slot| slot.offers.insert(offer_id.clone()));
        self.expiries.insert((expires_at, offer_id.clone()));
        self.offers.insert(
            offer_id,
            LiveOffer {
                wait: w,
                agent: a,
                expires_at,
            },
        );
        Some(conversation)
    }

    /// Closes a live offer and puts its conversation back in the queue (a `rejected`
    /// or `expired` agent is skipped for it until the cool-down ends). Returns the
    /// conversation so the caller can match it again.
    pub(super) fn close_offer(
        &mut self,
        offer: &OfferId,
        reason: OfferEnd,
        now: Timestamp,
        out: &mut Vec<RouterEffect>,
    ) -> Option<WaitSeq> {
        let live = self.offers.remove(offer)?;
        self.expiries.remove(&(live.expires_at, offer.clone()));
        self.with_agent(live.agent, |slot| slot.offers.remove(offer));
        let agent = self.agents[live.agent as usize].id.clone();
        let entry = self.waiting.get_mut(&live.wait)?;
        entry.offer = None;
        if reason != OfferEnd::Withdrawn {
            let until = now.plus_millis(self.config.reoffer_cooldown_ms);
            entry.excluded.insert(live.agent, until);
            self.retry_due.insert((until, live.wait));
        }
        let conversation = entry.conversation.clone();
        self.requeue(live.wait);
        out.push(RouterEffect::OfferClosed {
            offer_id: offer.clone(),
            conversation,
            agent,
            reason,
        });
        Some(live.wait)
    }
}
