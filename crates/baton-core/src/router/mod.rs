//! The router: matches queued conversations to agents, one offer at a time.
//!
//! A pure state machine: every command takes `now` and returns the [`RouterEffect`]s
//! the server must turn into events, in order. The rules (see `docs/routing.md`):
//!
//! - **Eligible** agent: available, holds every required skill (or, after overflow,
//!   every fallback skill), owned conversations plus live offers below capacity, and
//!   not cooling down after declining this conversation.
//! - **Which agent**: the preferred agent (bounce-back), then the customer's or the
//!   conversation's last agent within the sticky window, then the highest summed
//!   proficiency on the required skills, then the lowest occupancy, then the longest
//!   idle, then the agent id.
//! - **Which conversation**: highest `rank * W + waited` (ageing), then oldest.
//!
//! # How it stays fast
//! Conversations are grouped by their exact required skill set. Each group keeps its
//! queue ordered by the time-invariant key `enqueued - rank * W`, and the set of free
//! eligible agents ordered by the tie-break key. The router keeps dispatch complete
//! after every command (no free agent could take a waiting conversation), so each
//! event only needs a targeted match: a new or returned conversation looks at its
//! group's best free agent; a freed agent looks at the heads of its groups. Both are
//! `O(groups * log n)`, independent of how many agents or conversations exist.
//!
//! # Layout
//! - [`config`]: knobs; [`types`]: inputs, effects, errors.
//! - `agent`: agents and their index entries; `queue`: skill groups and waiting
//!   conversations; `offer`: offers and answers; `dispatch`: matching; `tick`:
//!   time-driven work; `restore`: rebuilding after a restart; `sync`: mirroring what
//!   another node's router decided, and the passive mode of a router that does not
//!   lead; [`view`]: read models.

pub mod config;
pub mod types;
pub mod view;

mod agent;
mod dispatch;
mod offer;
mod queue;
mod restore;
mod sync;
mod tick;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod sync_tests;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

pub use config::{Overflow, RouterConfig};
pub use sync::Routed;
pub use types::{AgentProfile, Presence, QueuedConversation, RouterEffect, RouterError};
pub use view::{AgentView, ConversationRouting, OfferView, QueueView};

use crate::forecast::Staffing;
use crate::id::{AgentId, ConversationId, CustomerId, OfferId};
use crate::label::Label;
use crate::timestamp::Timestamp;

use agent::AgentSlot;
use offer::LiveOffer;
use queue::{Group, Waiting};

/// Dense index of an agent inside the router.
type AgentIx = u32;
/// Dense index of a skill group.
type GroupIx = u32;
/// Arrival number of a waiting conversation (unique, never reused).
type WaitSeq = u64;

/// Whose last agent the router remembers for sticky routing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum StickyKey {
    Customer(CustomerId),
    Conversation(ConversationId),
}

/// The router. See the module docs for the rules.
#[derive(Debug, Clone)]
pub struct Router {
    config: RouterConfig,
    offer_prefix: String,
    next_offer: u64,
    next_wait: WaitSeq,
    next_group: GroupIx,
    agents: Vec<AgentSlot>,
    agent_index: BTreeMap<AgentId, AgentIx>,
    by_skill: BTreeMap<Label, BTreeSet<AgentIx>>,
    staffing: BTreeMap<Label, Staffing>,
    staffing_all: Staffing,
    groups: BTreeMap<GroupIx, Group>,
    group_index: BTreeMap<Vec<Label>, GroupIx>,
    waiting: BTreeMap<WaitSeq, Waiting>,
    waiting_index: BTreeMap<ConversationId, WaitSeq>,
    overflow_due: BTreeSet<(Timestamp, WaitSeq)>,
    retry_due: BTreeSet<(Timestamp, WaitSeq)>,
    offers: BTreeMap<OfferId, LiveOffer>,
    expiries: BTreeSet<(Timestamp, OfferId)>,
    owners: BTreeMap<ConversationId, AgentIx>,
    sticky: BTreeMap<StickyKey, (AgentIx, Timestamp)>,
    sticky_due: BTreeSet<(Timestamp, StickyKey)>,
    rescan: BTreeSet<AgentIx>,
    /// Offers accepted lately, with their agent and when: a second answer from that
    /// agent (another node's race lost) is told so, not that the offer never was.
    accepted: BTreeMap<OfferId, (AgentIx, Timestamp)>,
    /// Whether this router decides (offers, expires): only the one that leads the
    /// nodes does; the others mirror the log ([`Router::sync`]).
    active: bool,
}

/// The longest offer-id prefix: leaves room for any `u64` counter in an id.
const MAX_PREFIX_LEN: usize = crate::id::MAX_ID_LEN - 20;

impl Router {
    /// An empty router whose offers are `of-1`, `of-2`, ...
    pub fn new(config: RouterConfig) -> Self {
        Self {
            config,
            offer_prefix: "of-".to_owned(),
            next_offer: 1,
            next_wait: 0,
            next_group: 0,
            agents: Vec::new(),
            agent_index: BTreeMap::new(),
            by_skill: BTreeMap::new(),
            staffing: BTreeMap::new(),
            staffing_all: Staffing::default(),
            groups: BTreeMap::new(),
            group_index: BTreeMap::new(),
            waiting: BTreeMap::new(),
            waiting_index: BTreeMap::new(),
            overflow_due: BTreeSet::new(),
            retry_due: BTreeSet::new(),
            offers: BTreeMap::new(),
            expiries: BTreeSet::new(),
            owners: BTreeMap::new(),
            sticky: BTreeMap::new(),
            sticky_due: BTreeSet::new(),
            rescan: BTreeSet::new(),
            active: true,
            accepted: BTreeMap::new(),
        }
    }

    /// An empty router whose offers are `<prefix><next>`, `<prefix><next+1>`, ...
    ///
    /// Offer ids are deterministic; to keep them unique across restarts the server
    /// seeds either a per-boot prefix (e.g. `of-<boot>-`) or the next counter value.
    pub fn with_offer_ids(
        config: RouterConfig,
        prefix: &str,
        next: u64,
    ) -> Result<Self, RouterError> {
        let usable = prefix.len() <= MAX_PREFIX_LEN && OfferId::parse(format!("{prefix}0")).is_ok();
        if !usable {
            return Err(RouterError::BadOfferPrefix(prefix.to_owned()));
        }
        let mut router = Self::new(config);
        router.offer_prefix = prefix.to_owned();
        router.next_offer = next;
        Ok(router)
    }

    /// The counter the next offer id will carry (persist it to resume after a restart).
    pub fn next_offer_number(&self) -> u64 {
        self.next_offer
    }

    /// The configuration in force.
    pub fn config(&self) -> &RouterConfig {
        &self.config
    }

    /// Records that `agent` served `customer` at `at`, for sticky routing. Accepting
    /// and releasing do this themselves; the server calls it when restoring.
    pub fn remember_customer_agent(
        &mut self,
        customer: &CustomerId,
        agent: &AgentId,
        at: Timestamp,
    ) {
        if let Some(&a) = self.agent_index.get(agent) {
            self.remember(StickyKey::Customer(customer.clone()), a, at);
        }
    }

    fn remember(&mut self, key: StickyKey, agent: AgentIx, at: Timestamp) {
        if let Some((_, old_at)) = self.sticky.insert(key.clone(), (agent, at)) {
            self.sticky_due.remove(&(old_at, key.clone()));
        }
        self.sticky_due.insert((at, key));
    }

    /// The remembered agent for `key`, if still inside the sticky window.
    fn sticky_agent(&self, key: &StickyKey, now: Timestamp) -> Option<AgentIx> {
        let &(agent, at) = self.sticky.get(key)?;
        (now.millis_since(at) <= self.config.sticky_window_ms).then_some(agent)
    }

    fn mint_offer_id(&mut self) -> OfferId {
        let raw = format!("{}{}", self.offer_prefix, self.next_offer);
        self.next_offer = self.next_offer.wrapping_add(1);
        // The prefix was checked in the constructor, so the id is always valid.
        OfferId::parse(raw).expect("offer prefix validated at construction")
    }
}
