//! Waiting conversations and the skill groups that hold them.
//!
//! A group is one exact set of required skills. It keeps its queue ordered by the
//! time-invariant key `enqueued - rank * W` (with linear ageing the effective priority
//! `rank * W + (now - enqueued)` orders the same way at every instant), its members
//! (agents holding every skill) and the free ones among them, best first.

use std::collections::{BTreeMap, BTreeSet};

use super::agent::AgentKey;
use super::types::{QueuedConversation, RouterEffect, RouterError};
use super::{AgentIx, GroupIx, Router, WaitSeq};
use crate::event::{OfferEnd, Priority};
use crate::id::{AgentId, ConversationId, CustomerId, OfferId};
use crate::label::Label;
use crate::timestamp::Timestamp;

/// Position in a group's queue: smallest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct QueueKey {
    pub(super) virtual_ms: i64,
    pub(super) seq: WaitSeq,
}

#[derive(Debug, Clone)]
pub(super) struct Group {
    pub(super) skills: Vec<Label>,
    pub(super) queue: BTreeSet<QueueKey>,
    /// Conversations whose own skills these are, queued or offered, oldest first.
    pub(super) by_age: BTreeSet<(Timestamp, WaitSeq)>,
    pub(super) members: BTreeSet<AgentIx>,
    pub(super) free: BTreeSet<AgentKey>,
    /// Waiting conversations that name this group (own or fallback).
    pub(super) refs: u32,
    pub(super) unused_since: Timestamp,
}

#[derive(Debug, Clone)]
pub(super) struct Waiting {
    pub(super) conversation: ConversationId,
    pub(super) customer: Option<CustomerId>,
    pub(super) priority: Priority,
    pub(super) enqueued_at: Timestamp,
    pub(super) preferred: Option<AgentId>,
    pub(super) key: QueueKey,
    pub(super) primary: GroupIx,
    pub(super) fallback: Option<GroupIx>,
    pub(super) offer: Option<OfferId>,
    /// Agents who declined or let it expire, skipped until the instant given.
    pub(super) excluded: BTreeMap<AgentIx, Timestamp>,
}

impl Waiting {
    pub(super) fn groups(&self) -> impl Iterator<Item = GroupIx> + use<> {
        std::iter::once(self.primary).chain(self.fallback)
    }

    pub(super) fn excludes(&self, agent: AgentIx, now: Timestamp) -> bool {
        self.excluded.get(&agent).is_some_and(|&until| until > now)
    }
}

/// Sorted and deduplicated, so the same set always names the same group.
pub(super) fn normalize(skills: &[Label]) -> Vec<Label> {
    let mut skills = skills.to_vec();
    skills.sort();
    skills.dedup();
    skills
}

impl Router {
    /// Queues a conversation and offers it at once if an agent is free.
    ///
    /// Nothing waits on `enqueue` when no agent is free: it is `O(log n)`, so a large
    /// queue builds quickly (e.g. register agents `offline`, enqueue, then set them
    /// `available`).
    pub fn enqueue(
        &mut self,
        conversation: QueuedConversation,
        now: Timestamp,
    ) -> Result<Vec<RouterEffect>, RouterError> {
        let w = self.insert_waiting(conversation, now)?;
        let mut out = Vec::new();
        if self
            .overflow_due
            .first()
            .is_some_and(|&(due, _)| due <= now)
        {
            self.run_overflow(now, &mut out);
        }
        self.match_conversation(w, now, &mut out);
        Ok(out)
    }

    /// Takes a conversation out of the router, whatever its state: a queued one leaves
    /// the queue, an offered one has its offer `withdrawn`, an owned one frees its
    /// agent's slot (as [`Router::release`] does). Unknown conversations are ignored.
    pub fn withdraw(&mut self, conversation: &ConversationId, now: Timestamp) -> Vec<RouterEffect> {
        let mut out = Vec::new();
        if let Some(&a) = self.owners.get(conversation) {
            self.release_owned(a, conversation, now, &mut out);
            return out;
        }
        let Some(&w) = self.waiting_index.get(conversation) else {
            return out;
        };
        let offer = self.waiting.get(&w).and_then(|entry| entry.offer.clone());
        let freed = offer.and_then(|offer| {
            let agent = self.offers.get(&offer).map(|o| o.agent);
            self.close_offer(&offer, OfferEnd::Withdrawn, now, &mut out);
            agent
        });
        self.remove_waiting(w, now);
        if let Some(a) = freed {
            self.serve_agent(a, now, &mut out);
        }
        out
    }

    pub(super) fn insert_waiting(
        &mut self,
        c: QueuedConversation,
        now: Timestamp,
    ) -> Result<WaitSeq, RouterError> {
        if self.waiting_index.contains_key(&c.conversation)
            || self.owners.contains_key(&c.conversation)
        {
            return Err(RouterError::AlreadyRouted(c.conversation));
        }
        let skills = normalize(&c.skills);
        let primary = self.ensure_group(&skills, now);
        let seq = self.next_wait;
        self.next_wait += 1;
        let lift = i64::from(c.priority.rank()).saturating_mul(self.config.ageing_ms_per_rank);
        let key = QueueKey {
            virtual_ms: c.enqueued_at.unix_millis().saturating_sub(lift),
            seq,
        };
        if let Some(group) = self.groups.get_mut(&primary) {
            group.queue.insert(key);
            group.by_age.insert((c.enqueued_at, seq));
            group.refs += 1;
        }
        if let Some(overflow) = &self.config.overflow
            && normalize(&overflow.skills) != skills
        {
            self.overflow_due
                .insert((c.enqueued_at.plus_millis(overflow.after_ms), seq));
        }
        self.waiting_index.insert(c.conversation.clone(), seq);
        self.waiting.insert(
            seq,
            Waiting {
                conversation: c.conversation,
                customer: c.customer,
                priority: c.priority,
                enqueued_at: c.enqueued_at,
                preferred: c.preferred_agent,
                key,
                primary,
                fallback: None,
                offer: None,
                excluded: BTreeMap::new(),
            },
        );
        Ok(seq)
    }

    /// Forgets a waiting conversation (its offer, if any, must be closed already or
    /// be turning into an assignment).
    pub(super) fn remove_waiting(&mut self, w: WaitSeq, now: Timestamp) {
        let Some(entry) = self.waiting.remove(&w) else {
            return;
        };
        self.waiting_index.remove(&entry.conversation);
        for g in entry.groups() {
            if let Some(group) = self.groups.get_mut(&g) {
                group.queue.remove(&entry.key);
                group.by_age.remove(&(entry.enqueued_at, w));
                group.refs = group.refs.saturating_sub(1);
                if group.refs == 0 {
                    group.unused_since = now;
                }
            }
        }
        if let Some(overflow) = &self.config.overflow {
            self.overflow_due
                .remove(&(entry.enqueued_at.plus_millis(overflow.after_ms), w));
        }
    }

    /// Puts a waiting conversation back in the queues of its groups (after an offer).
    pub(super) fn requeue(&mut self, w: WaitSeq) {
        let Some(entry) = self.waiting.get(&w) else {
            return;
        };
        for g in entry.groups() {
            if let Some(group) = self.groups.get_mut(&g) {
                group.queue.insert(entry.key);
            }
        }
    }

    /// The group for exactly `skills` (normalized), created with its members if new.
    pub(super) fn ensure_group(&mut self, skills: &[Label], now: Timestamp) -> GroupIx {
        if let Some(&g) = self.group_index.get(skills) {
            return g;
        }
        let g = self.next_group;
        self.next_group += 1;
        // Candidates come from the rarest skill's agents, not from every agent.
        let rarest = skills
            .iter()
            .filter_map(|s| self.by_skill.get(s).map(BTreeSet::len).map(|n| (n, s)))
            .min();
        let members: BTreeSet<AgentIx> = match (skills.is_empty(), rarest) {
            (true, _) => (0..self.agents.len())
                .filter_map(|a| AgentIx::try_from(a).ok())
                .collect(),
            (false, Some((_, skill))) => self
                .by_skill
                .get(skill)
                .into_iter()
                .flatten()
                .copied()
                .collect(),
            (false, None) => BTreeSet::new(),
        };
        let members: BTreeSet<AgentIx> = members
            .into_iter()
            .filter(|&a| self.agents[a as usize].has_all(skills))
            .collect();
        let mut free = BTreeSet::new();
        for &a in &members {
            let slot = &mut self.agents[a as usize];
            slot.groups.push(g);
            if slot.is_free() {
                free.insert(slot.key(a, skills));
            }
        }
        self.group_index.insert(skills.to_vec(), g);
        let group = Group {
            skills: skills.to_vec(),
            queue: BTreeSet::new(),
            by_age: BTreeSet::new(),
            members,
            free,
            refs: 0,
            unused_since: now,
        };
        self.groups.insert(g, group);
        g
    }

    /// Drops groups nobody has needed for `idle_ms`, so odd skill sets do not cost
    /// every later agent update forever.
    pub(super) fn collect_groups(&mut self, now: Timestamp, idle_ms: i64) {
        let stale: Vec<GroupIx> = self
            .groups
            .iter()
            .filter(|(_, g)| g.refs == 0 && now.millis_since(g.unused_since) >= idle_ms)
            .map(|(&g, _)| g)
            .collect();
        for g in stale {
            let Some(group) = self.groups.remove(&g) else {
                continue;
            };
            self.group_index.remove(&group.skills);
            for a in group.members {
                self.agents[a as usize].groups.retain(|&x| x != g);
            }
        }
    }
}
