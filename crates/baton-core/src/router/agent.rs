//! Agents inside the router and their entries in the groups' free-agent indexes.
//!
//! Every change to something an index key reads (skills, capacity, presence, load,
//! idle time) goes through [`Router::with_agent`], which takes the agent out of its
//! indexes, applies the change and puts it back: the indexes cannot drift.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use super::types::{AgentProfile, MAX_PROFICIENCY, Presence, RouterEffect, RouterError};
use super::{AgentIx, GroupIx, Router};
use crate::event::OfferEnd;
use crate::id::{AgentId, ConversationId, OfferId};
use crate::label::Label;
use crate::timestamp::Timestamp;

#[derive(Debug, Clone)]
pub(super) struct AgentSlot {
    pub(super) id: AgentId,
    pub(super) skills: BTreeMap<Label, u8>,
    pub(super) capacity: u32,
    pub(super) presence: Presence,
    pub(super) owned: BTreeSet<ConversationId>,
    pub(super) offers: BTreeSet<OfferId>,
    /// Last accept, release or return to `available`: earlier means idle longer.
    pub(super) idle_since: Timestamp,
    pub(super) expiries_in_row: u32,
    /// Groups whose every skill this agent holds.
    pub(super) groups: Vec<GroupIx>,
}

/// Position in a group's free-agent index: best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct AgentKey {
    proficiency: Reverse<u32>,
    occupancy_ppm: u64,
    idle_since: Timestamp,
    pub(super) agent: AgentIx,
}

impl AgentSlot {
    /// Owned conversations plus live offers: what counts against capacity.
    pub(super) fn load(&self) -> u32 {
        u32::try_from(self.owned.len() + self.offers.len()).unwrap_or(u32::MAX)
    }

    /// Available with a slot left.
    pub(super) fn is_free(&self) -> bool {
        self.presence == Presence::Available && self.load() < self.capacity
    }

    pub(super) fn has_all(&self, skills: &[Label]) -> bool {
        skills.iter().all(|s| self.skills.contains_key(s))
    }

    pub(super) fn key(&self, agent: AgentIx, skills: &[Label]) -> AgentKey {
        let proficiency = skills
            .iter()
            .map(|s| u32::from(self.skills.get(s).copied().unwrap_or(0)))
            .sum();
        let occupancy_ppm = u64::from(self.load()) * 1_000_000 / u64::from(self.capacity.max(1));
        AgentKey {
            proficiency: Reverse(proficiency),
            occupancy_ppm,
            idle_since: self.idle_since,
            agent,
        }
    }
}

impl Router {
    /// Adds an agent or updates their skills and capacity. New agents start `offline`;
    /// presence is kept on update. Live offers and owned conversations are kept even if
    /// the new skills or capacity would not allow them; no new offer exceeds capacity.
    pub fn upsert_agent(
        &mut self,
        profile: AgentProfile,
        now: Timestamp,
    ) -> Result<Vec<RouterEffect>, RouterError> {
        if let Some((skill, &value)) = profile
            .skills
            .iter()
            .find(|(_, v)| !(1..=MAX_PROFICIENCY).contains(*v))
        {
            return Err(RouterError::BadProficiency {
                skill: skill.clone(),
                value,
            });
        }
        let (a, new) = match self.agent_index.get(&profile.id) {
            Some(&a) => (a, false),
            None => {
                let a = AgentIx::try_from(self.agents.len()).unwrap_or(AgentIx::MAX);
                self.agents.push(AgentSlot {
                    id: profile.id.clone(),
                    skills: BTreeMap::new(),
                    capacity: 0,
                    presence: Presence::Offline,
                    owned: BTreeSet::new(),
                    offers: BTreeSet::new(),
                    idle_since: now,
                    expiries_in_row: 0,
                    groups: Vec::new(),
                });
                self.agent_index.insert(profile.id.clone(), a);
                (a, true)
            }
        };
        self.with_agent(a, |slot| slot.capacity = profile.capacity);
        // A new agent joins its groups (even with no skills: the any-skill group).
        if new || self.agents[a as usize].skills != profile.skills {
            self.replace_skills(a, profile.skills);
        }
        let mut out = Vec::new();
        self.serve_agent(a, now, &mut out);
        Ok(out)
    }

    /// Sets presence. Leaving `available` withdraws the agent's live offers (their
    /// conversations move on); becoming `available` resets the expiry streak and
    /// starts offering. Owned conversations stay with the agent either way.
    pub fn set_presence(
        &mut self,
        agent: &AgentId,
        presence: Presence,
        now: Timestamp,
    ) -> Result<Vec<RouterEffect>, RouterError> {
        let a = self.agent_ix(agent)?;
        let mut out = Vec::new();
        self.apply_presence(a, presence, now, &mut out);
        Ok(out)
    }

    pub(super) fn apply_presence(
        &mut self,
        a: AgentIx,
        presence: Presence,
        now: Timestamp,
        out: &mut Vec<RouterEffect>,
    ) {
        let was = self.agents[a as usize].presence;
        self.with_agent(a, |slot| {
            slot.presence = presence;
            if presence == Presence::Available && was != Presence::Available {
                slot.idle_since = now;
                slot.expiries_in_row = 0;
            }
        });
        if presence == Presence::Available {
            self.serve_agent(a, now, out);
            return;
        }
        let offers: Vec<OfferId> = self.agents[a as usize].offers.iter().cloned().collect();
        for offer in offers {
            if let Some(w) = self.close_offer(&offer, OfferEnd::Withdrawn, now, out) {
                self.match_conversation(w, now, out);
            }
        }
    }

    pub(super) fn agent_ix(&self, agent: &AgentId) -> Result<AgentIx, RouterError> {
        self.agent_index
            .get(agent)
            .copied()
            .ok_or_else(|| RouterError::UnknownAgent(agent.clone()))
    }

    /// Applies `change` to agent `a` with its index entries and staffing counts
    /// taken out before and put back after.
    pub(super) fn with_agent<R>(
        &mut self,
        a: AgentIx,
        change: impl FnOnce(&mut AgentSlot) -> R,
    ) -> R {
        self.detach(a);
        let result = change(&mut self.agents[a as usize]);
        self.attach(a);
        result
    }

    fn detach(&mut self, a: AgentIx) {
        let slot = &self.agents[a as usize];
        if slot.is_free() {
            for g in &slot.groups {
                if let Some(group) = self.groups.get_mut(g) {
                    group.free.remove(&slot.key(a, &group.skills));
                }
            }
        }
        if slot.presence == Presence::Available {
            for skill in slot.skills.keys() {
                if let Some(s) = self.staffing.get_mut(skill) {
                    s.agents = s.agents.saturating_sub(1);
                    s.slots = s.slots.saturating_sub(u64::from(slot.capacity));
                }
            }
            let all = &mut self.staffing_all;
            all.agents = all.agents.saturating_sub(1);
            all.slots = all.slots.saturating_sub(u64::from(slot.capacity));
        }
    }

    fn attach(&mut self, a: AgentIx) {
        let slot = &self.agents[a as usize];
        if slot.is_free() {
            for g in &slot.groups {
                if let Some(group) = self.groups.get_mut(g) {
                    group.free.insert(slot.key(a, &group.skills));
                }
            }
        }
        if slot.presence == Presence::Available {
            for skill in slot.skills.keys() {
                let s = self.staffing.entry(skill.clone()).or_default();
                s.agents += 1;
                s.slots += u64::from(slot.capacity);
            }
            self.staffing_all.agents += 1;
            self.staffing_all.slots += u64::from(slot.capacity);
        }
    }

    fn replace_skills(&mut self, a: AgentIx, skills: BTreeMap<Label, u8>) {
        self.detach(a);
        let old = std::mem::replace(&mut self.agents[a as usize].skills, skills);
        for skill in old.keys() {
            if let Some(set) = self.by_skill.get_mut(skill) {
                set.remove(&a);
            }
        }
        for skill in self.agents[a as usize].skills.keys() {
            self.by_skill.entry(skill.clone()).or_default().insert(a);
        }
        for g in std::mem::take(&mut self.agents[a as usize].groups) {
            if let Some(group) = self.groups.get_mut(&g) {
                group.members.remove(&a);
            }
        }
        let mut groups = Vec::new();
        for (&g, group) in &mut self.groups {
            if self.agents[a as usize].has_all(&group.skills) {
                group.members.insert(a);
                groups.push(g);
            }
        }
        self.agents[a as usize].groups = groups;
        self.attach(a);
    }
}
