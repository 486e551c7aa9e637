//! Matching: which agent gets a conversation, and which conversation a freed agent gets.
//!
//! The router keeps dispatch complete: after every command no free agent could take a
//! waiting conversation (bar cool-downs). So a new or returned conversation only needs
//! its own best agent, and a freed agent only the best head among its groups.

use super::types::RouterEffect;
use super::{AgentIx, Router, StickyKey, WaitSeq};
use crate::timestamp::Timestamp;

/// How far into one group's queue a freed agent looks past conversations it is
/// cooling down for; past this the agent is rescanned on the next tick.
const SCAN_LIMIT: usize = 64;

impl Router {
    /// Offers waiting conversation `w` to its best eligible agent, if any.
    pub(super) fn match_conversation(
        &mut self,
        w: WaitSeq,
        now: Timestamp,
        out: &mut Vec<RouterEffect>,
    ) {
        if !self.active {
            return;
        }
        if let Some(a) = self.pick_agent(w, now) {
            self.make_offer(w, a, now, out);
        }
    }

    /// Offers agent `a` the best waiting conversations it can take, until it is full
    /// or none is left for it.
    pub(super) fn serve_agent(&mut self, a: AgentIx, now: Timestamp, out: &mut Vec<RouterEffect>) {
        if !self.active {
            return;
        }
        while self.agents[a as usize].is_free() {
            let (pick, truncated) = self.pick_conversation(a, now);
            if truncated {
                self.rescan.insert(a);
            }
            match pick {
                Some(w) => self.make_offer(w, a, now, out),
                None => break,
            }
        }
    }

    /// The best eligible agent for `w`: preferred, then sticky, then the best free
    /// member of its own skill group, then of its fallback group.
    fn pick_agent(&self, w: WaitSeq, now: Timestamp) -> Option<AgentIx> {
        let entry = self.waiting.get(&w)?;
        if entry.offer.is_some() {
            return None;
        }
        let preferred = entry
            .preferred
            .as_ref()
            .and_then(|id| self.agent_index.get(id).copied());
        let customer = entry
            .customer
            .clone()
            .and_then(|c| self.sticky_agent(&StickyKey::Customer(c), now));
        let previous = self.sticky_agent(&StickyKey::Conversation(entry.conversation.clone()), now);
        for a in [preferred, customer, previous].into_iter().flatten() {
            let slot = &self.agents[a as usize];
            let skilled = entry.groups().any(|g| slot.groups.contains(&g));
            if skilled && slot.is_free() && !entry.excludes(a, now) {
                return Some(a);
            }
        }
        // Each skipped agent is in `excluded`, so this walks at most that many.
        entry.groups().find_map(|g| {
            let group = self.groups.get(&g)?;
            group
                .free
                .iter()
                .map(|k| k.agent)
                .find(|&a| !entry.excludes(a, now))
        })
    }

    /// The first conversation, by queue key, that agent `a` may take among the heads
    /// of its groups; also whether a scan was cut short by [`SCAN_LIMIT`].
    fn pick_conversation(&self, a: AgentIx, now: Timestamp) -> (Option<WaitSeq>, bool) {
        let mut best = None;
        let mut truncated = false;
        for g in &self.agents[a as usize].groups {
            let Some(group) = self.groups.get(g) else {
                continue;
            };
            for (scanned, key) in group.queue.iter().enumerate() {
                if best.is_some_and(|b| *key >= b) {
                    break;
                }
                if scanned == SCAN_LIMIT {
                    truncated = true;
                    break;
                }
                if self
                    .waiting
                    .get(&key.seq)
                    .is_some_and(|e| !e.excludes(a, now))
                {
                    best = Some(*key);
                    break;
                }
            }
        }
        (best.map(|k| k.seq), truncated)
    }
}
