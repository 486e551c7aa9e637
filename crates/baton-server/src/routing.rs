//! The router in the server: one pure `baton_core::router::Router` behind an async
//! gate, its effects turned into events, a timer for offer expiry, and the forecast.
//! It consumes what the append pipeline leaves to do ([`AfterCommit`]) and writes
//! through it; the pipeline never calls back.
//!
//! The gate is held only while the router computes: its effects are staged, in order,
//! in a per-conversation outbox under the gate ([`Routing::stage`]), and written after
//! it is released ([`Routing::write`]), each conversation under its own writer lock
//! and different conversations at once, so they share group commits. A writer pops
//! effects only while holding the conversation's lock and writes what it popped before
//! releasing it, so each conversation's log has its effects in the order the router
//! decided them: an `assigned` can never precede its `offered`, and whoever flushes
//! after an effect was staged finds it durable.
//!
//! Lock order: a conversation lock, then the routing gate. No holder of the gate
//! waits for a conversation lock (under it, conversations are read from memory only;
//! writes come after it is released), so a writer that takes the gate with its
//! conversation locked ([`write_decided`]: bounce-back, resolve) cannot deadlock.
//!
//! Every change to the router is followed by the events that record it; both run on
//! their own task ([`crate::detach`]), so a client that gives up cannot leave the
//! router ahead of the log.
//!
//! Several nodes on one store: only the leader's router decides ([`crate::leader`]);
//! the others are passive mirrors that serve reads and take accepts and rejects. Each
//! router event is checked against the stored log when written
//! (`baton_core::rules`), so an offer is accepted at most once whichever nodes answer
//! it; a router whose event the log refuses, or that hears another node moved a
//! conversation, takes the log's word for it ([`resync`]).

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use baton_core::event::{Assigned, EventBody, OfferClosed, Offered};
use baton_core::forecast::{ForecastConfig, Forecaster};
use baton_core::id::AgentId;
use baton_core::router::{
    AgentProfile, OfferView, Overflow, Presence, QueuedConversation, Routed, Router, RouterConfig,
    RouterEffect, RouterError,
};
use baton_core::{ConversationId, Label, Owner, Timestamp};
use baton_store::AgentRecord;
use tokio::sync::{Mutex, MutexGuard};

use crate::app::AppState;
use crate::append::AppendResponse;
use crate::derive::AfterCommit;
use crate::error::ApiError;
use crate::live::LiveGuard;

mod mirror;

use mirror::sync_locked;
pub use mirror::{claim, reconcile_agents, restore, resync};

/// The router and forecaster, and a cache of forecasts the decision engine reads
/// without waiting.
pub struct Routing {
    gate: Mutex<Core>,
    gate_waits: GateWaits,
    /// Events the router decided, per conversation in decision order, not yet written.
    outbox: std::sync::Mutex<BTreeMap<ConversationId, VecDeque<EventBody>>>,
    /// Agent records to write, the latest per agent.
    agent_outbox: std::sync::Mutex<BTreeMap<AgentId, AgentWrite>>,
    /// Serializes agent record writes, so the latest staged one is written last.
    agent_writes: Mutex<()>,
    /// The configuration, for a router rebuilt from the store.
    config: RouterConfig,
    /// The agent records this node last read from or wrote to the store: one that
    /// differs is another node's change, for this router to take in.
    agents_seen: std::sync::Mutex<BTreeMap<AgentId, AgentRecord>>,
    /// Set when the router could not take the log's word for a conversation: the
    /// next leadership round rebuilds it from the store.
    rebuild: std::sync::atomic::AtomicBool,
}

/// An agent record change waiting to be written.
#[derive(Debug, Clone)]
enum AgentWrite {
    /// The whole record.
    Record(AgentRecord),
    /// Only the presence (the stored profile kept).
    Presence(Presence),
}

/// What [`Routing::stage`] put in the outboxes: the conversations and whether any
/// agent has something to write.
#[derive(Debug, Default)]
#[must_use = "staged effects are written by Routing::write"]
pub struct Staged {
    conversations: Vec<ConversationId>,
    agents: bool,
}

/// How long takers of the gate waited for it, in total (for benchmarks and metrics).
#[derive(Debug, Default)]
struct GateWaits {
    takes: AtomicU64,
    waited_ns: AtomicU64,
    longest_ns: AtomicU64,
}

/// A snapshot of the gate's waits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GateStats {
    /// Times the gate was taken.
    pub takes: u64,
    /// Nanoseconds spent waiting for it, summed over takers.
    pub waited_ns: u64,
    /// The longest single wait.
    pub longest_ns: u64,
}

/// What the gate guards.
pub struct Core {
    /// The router.
    pub router: Router,
    /// Arrival and handle-time observations.
    pub forecaster: Forecaster,
}

/// A router whose offer ids are unique to the moment it starts deciding: only one node
/// leads at a time, so two routers never mint from one prefix.
fn fresh_router(config: &RouterConfig, start: Timestamp) -> Result<Router, RouterError> {
    Router::with_offer_ids(config.clone(), &format!("of-{}-", start.unix_millis()), 1)
}

/// How often offers are checked for expiry and forecasts refreshed.
pub const TICK: Duration = Duration::from_millis(250);

impl Routing {
    /// A router with `config`, offer ids unique to this boot.
    pub fn new(config: RouterConfig, boot: Timestamp) -> Result<Self, RouterError> {
        let router = fresh_router(&config, boot)?;
        Ok(Self {
            config,
            agents_seen: Default::default(),
            rebuild: Default::default(),
            gate: Mutex::new(Core {
                router,
                forecaster: Forecaster::new(ForecastConfig::default()),
            }),
            gate_waits: GateWaits::default(),
            outbox: Default::default(),
            agent_outbox: Default::default(),
            agent_writes: Mutex::new(()),
        })
    }

    /// Takes the gate.
    pub async fn lock(&self) -> MutexGuard<'_, Core> {
        let started = std::time::Instant::now();
        let guard = self.gate.lock().await;
        let waited = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let waits = &self.gate_waits;
        waits.takes.fetch_add(1, Ordering::Relaxed);
        waits.waited_ns.fetch_add(waited, Ordering::Relaxed);
        waits.longest_ns.fetch_max(waited, Ordering::Relaxed);
        metrics::histogram!("baton_routing_gate_wait_seconds").record(waited as f64 / 1e9);
        guard
    }

    /// How long takers have waited for the gate so far.
    pub fn gate_stats(&self) -> GateStats {
        let waits = &self.gate_waits;
        GateStats {
            takes: waits.takes.load(Ordering::Relaxed),
            waited_ns: waits.waited_ns.load(Ordering::Relaxed),
            longest_ns: waits.longest_ns.load(Ordering::Relaxed),
        }
    }

    /// Turns router effects into writes, in order, without writing: called with the
    /// gate held, so effects staged by successive holders keep the router's order.
    pub fn stage(&self, effects: Vec<RouterEffect>) -> Staged {
        let mut staged = Staged::default();
        let mut outbox = self
            .outbox
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for effect in effects {
            let (conversation, body) = match effect {
                RouterEffect::Offered {
                    offer_id,
                    conversation,
                    agent,
                    expires_at,
                } => {
                    metrics::counter!("baton_offers_total").increment(1);
                    let body = EventBody::Offered(Offered {
                        offer_id,
                        agent_id: agent,
                        expires_at,
                    });
                    (conversation, body)
                }
                RouterEffect::OfferClosed {
                    offer_id,
                    conversation,
                    agent,
                    reason,
                } => {
                    let body = EventBody::OfferClosed(OfferClosed {
                        offer_id,
                        agent_id: agent,
                        reason,
                    });
                    (conversation, body)
                }
                RouterEffect::Assigned {
                    conversation,
                    agent,
                    offer_id,
                } => {
                    metrics::counter!("baton_assignments_total").increment(1);
                    let body = EventBody::Assigned(Assigned {
                        agent_id: agent,
                        offer_id: Some(offer_id),
                    });
                    (conversation, body)
                }
                RouterEffect::AgentAway { agent } => {
                    self.stage_agent(&mut staged, agent, AgentWrite::Presence(Presence::Away));
                    continue;
                }
                RouterEffect::Overflowed { .. } => {
                    metrics::counter!("baton_overflows_total").increment(1);
                    continue;
                }
            };
            if !staged.conversations.contains(&conversation) {
                staged.conversations.push(conversation.clone());
            }
            outbox.entry(conversation).or_default().push_back(body);
        }
        staged
    }

    /// Stages an agent's own record write ahead of the router effects it caused.
    fn stage_with_agent(
        &self,
        agent: AgentId,
        write: AgentWrite,
        effects: Vec<RouterEffect>,
    ) -> Staged {
        let mut staged = Staged::default();
        self.stage_agent(&mut staged, agent, write);
        let more = self.stage(effects);
        staged.conversations = more.conversations;
        staged.agents |= more.agents;
        staged
    }

    fn stage_agent(&self, staged: &mut Staged, agent: AgentId, write: AgentWrite) {
        let mut outbox = self
            .agent_outbox
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let merged = match (outbox.remove(&agent), write) {
            (Some(AgentWrite::Record(mut record)), AgentWrite::Presence(presence)) => {
                record.presence = presence.as_str().to_owned();
                AgentWrite::Record(record)
            }
            (_, write) => write,
        };
        outbox.insert(agent, merged);
        staged.agents = true;
    }

    /// The conversations whose router events are staged but not yet written. Read
    /// with the gate held, it covers every effect of the router state seen under it.
    pub fn pending_conversations(&self) -> Vec<ConversationId> {
        self.outbox
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// Whether router events for `conversation` are staged but not yet written.
    fn has_pending(&self, conversation: &ConversationId) -> bool {
        self.outbox
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains_key(conversation)
    }

    /// Stages `body` for `conversation` ahead of the router effects it caused.
    fn stage_first(
        &self,
        conversation: &ConversationId,
        body: EventBody,
        effects: Vec<RouterEffect>,
    ) -> Staged {
        self.outbox
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(conversation.clone())
            .or_default()
            .push_back(body);
        let mut staged = self.stage(effects);
        if !staged.conversations.contains(conversation) {
            staged.conversations.insert(0, conversation.clone());
        }
        staged
    }

    fn next_event(&self, conversation: &ConversationId) -> Option<EventBody> {
        let mut outbox = self
            .outbox
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let queue = outbox.get_mut(conversation)?;
        let next = queue.pop_front();
        if queue.is_empty() {
            outbox.remove(conversation);
        }
        next
    }

    /// Writes what was staged: each conversation's events in order under its lock,
    /// different conversations concurrently, and agent records. Call it with the gate
    /// released. The first agent record error is returned; event errors are logged.
    pub async fn write(&self, app: &AppState, staged: Staged) -> Result<(), ApiError> {
        let conversations = futures_util::future::join_all(
            staged
                .conversations
                .iter()
                .map(|conversation| flush(app, conversation)),
        );
        if staged.agents {
            let (_, agents) = tokio::join!(conversations, self.write_agents(app));
            agents
        } else {
            conversations.await;
            Ok(())
        }
    }

    async fn write_agents(&self, app: &AppState) -> Result<(), ApiError> {
        let _writing = self.agent_writes.lock().await;
        let pending = std::mem::take(
            &mut *self
                .agent_outbox
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        let mut first_error = None;
        for (agent, write) in pending {
            let result = match write {
                AgentWrite::Record(record) => app
                    .store
                    .put_agent(record.clone())
                    .await
                    .map(|()| record)
                    .map_err(Into::into),
                AgentWrite::Presence(presence) => persist_presence(app, &agent, presence).await,
            };
            // This node's own change: not another node's for the router to take in.
            let result = result.map(|record| {
                self.seen().insert(agent.clone(), record);
            });
            if let Err(error) = result {
                tracing::error!(code = error.code, message = %error.message, %agent, "cannot record an agent's presence");
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, BTreeMap<AgentId, AgentRecord>> {
        self.agents_seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether a router event could not be squared with the log: the router is to be
    /// rebuilt from the store.
    pub fn wants_rebuild(&self) -> bool {
        self.rebuild.load(Ordering::Relaxed)
    }

    fn refresh_forecasts(&self, app: &AppState, core: &Core, now: Timestamp) {
        let all = core
            .forecaster
            .forecast_all(now, |skill| core.router.staffing(skill));
        app.derive.forecasts.set(all);
    }
}

/// Writes the router's pending events for `conversation`, in order.
pub async fn flush(app: &AppState, conversation: &ConversationId) {
    match app
        .conversations
        .lock(app.store.as_ref(), &app.policy(), conversation)
        .await
    {
        Ok(mut live) => flush_locked(app, conversation, &mut live).await,
        Err(error) => {
            tracing::error!(code = error.code, message = %error.message, %conversation, "cannot record routing effects");
        }
    }
}

/// Writes the router's pending events for a conversation already locked: done first
/// by a writer whose own event must follow them in the log.
pub async fn flush_locked(app: &AppState, conversation: &ConversationId, live: &mut LiveGuard) {
    let mut refused = false;
    while let Some(body) = app.routing.next_event(conversation) {
        match crate::append::write_system(app, conversation, live, body).await {
            Ok(_) => {}
            // The log moved past what the router knew (another node answered the offer,
            // or offered it): the event has no place in it.
            Err(error) if matches!(error.code, "offer_not_open" | "not_queued") => {
                tracing::debug!(code = error.code, %conversation, "a routing effect no longer fits the log");
                refused = true;
            }
            Err(error) => {
                tracing::error!(code = error.code, message = %error.message, %conversation, "cannot record a routing effect");
            }
        }
    }
    if !refused {
        return;
    }
    metrics::counter!("baton_routing_effects_refused_total").increment(1);
    // The router was behind the log: it takes the log's word, and what follows from
    // it for this conversation is written now, the rest by the next tick (this lock
    // is held, and other conversations' writers may wait for it).
    if let Err(error) = app
        .conversations
        .reload(live, app.store.as_ref(), &app.policy(), conversation)
        .await
    {
        tracing::warn!(code = error.code, %conversation, "cannot reload after a refused routing effect");
        return;
    }
    if sync_locked(app, conversation, live).await.is_none() {
        return;
    }
    while let Some(body) = app.routing.next_event(conversation) {
        if let Err(error) = crate::append::write_system(app, conversation, live, body).await {
            tracing::warn!(code = error.code, %conversation, "cannot record a routing effect after a resync");
        }
    }
}

/// Writes an event that the router must see in order with its own (a bounce-back, a
/// resolution), without holding the gate across the write. With the conversation
/// locked, once its log holds every router event staged for it, `decide` runs under
/// the gate on the state the router agrees with and returns the event and the router's
/// effects; both are staged (the event first), the gate released, and the
/// conversation's share written under its lock. The caller writes the rest
/// ([`Routing::write`]) once it has released the conversation.
///
/// Should the event's write fail after the router changed, the router is ahead of the
/// log until the caller resyncs it ([`accept_offer`] does) or the next rebuild.
pub async fn write_decided(
    app: &AppState,
    conversation: &ConversationId,
    live: &mut LiveGuard,
    mut decide: impl FnMut(
        &mut Core,
        &baton_core::ConversationState,
        bool,
    ) -> Result<(EventBody, Vec<RouterEffect>), ApiError>,
) -> Result<(AppendResponse, Staged), ApiError> {
    loop {
        flush_locked(app, conversation, live).await;
        let mut core = app.routing.lock().await;
        // Staged since the flush (a tick, an accept): write those first, then decide.
        if app.routing.has_pending(conversation) {
            continue;
        }
        let (body, effects) = decide(&mut core, &live.state, live.exists())?;
        let staged = app.routing.stage_first(conversation, body, effects);
        drop(core);
        // The outbox was empty and only a holder of the lock pops it: ours comes first.
        let body = app.routing.next_event(conversation).ok_or_else(|| {
            ApiError::internal("a staged event left the outbox before it was written")
        })?;
        let answer = crate::append::write_system(app, conversation, live, body).await;
        flush_locked(app, conversation, live).await;
        return answer.map(|answer| (answer, staged));
    }
}

/// An agent's live offers, each once its `offered` event is durable: an agent never
/// sees (and so never accepts) an offer the log does not hold yet.
pub async fn offers_for(app: &AppState, agent: &AgentId) -> Result<Vec<OfferView>, ApiError> {
    let offers = app.routing.lock().await.router.offers_for(agent);
    let mut conversations: Vec<ConversationId> =
        offers.iter().map(|o| o.conversation.clone()).collect();
    conversations.dedup();
    flush_all(app, conversations).await?;
    Ok(offers)
}

/// Reads the router under the gate and returns what `read` saw once every event the
/// router had staged by then is durable: a reader never sees router state (an agent
/// away, an offer gone) ahead of the log that records it.
pub async fn read_durable<T>(app: &AppState, read: impl FnOnce(&Core) -> T) -> Result<T, ApiError> {
    let (seen, pending) = {
        let core = app.routing.lock().await;
        (read(&core), app.routing.pending_conversations())
    };
    flush_all(app, pending).await?;
    Ok(seen)
}

/// Writes the staged router events of `conversations`, on a task of its own as every
/// write is.
async fn flush_all(app: &AppState, conversations: Vec<ConversationId>) -> Result<(), ApiError> {
    if conversations.is_empty() {
        return Ok(());
    }
    let app = app.clone();
    crate::detach::run(async move {
        futures_util::future::join_all(conversations.iter().map(|c| flush(&app, c))).await;
        Ok(())
    })
    .await
}

/// Hands what a committed append left to do to the router, on tasks of their own (the
/// client's answer does not wait for the router).
pub fn follow(app: &AppState, after: Vec<AfterCommit>) {
    for work in after {
        match work {
            AfterCommit::Enqueue(entry) => {
                tokio::spawn(enqueue(app.clone(), entry));
            }
        }
    }
}

/// The router configuration the policy implies: overflow to its fallback skills.
pub fn router_config(
    base: &RouterConfig,
    fallback_skills: &[Label],
    overflow_after_ms: i64,
) -> RouterConfig {
    let mut config = base.clone();
    if config.overflow.is_none() && overflow_after_ms > 0 {
        config.overflow = Some(Overflow {
            after_ms: overflow_after_ms,
            skills: fallback_skills.to_vec(),
        });
    }
    config
}

/// Releases `conversation` from `agent` in the router; if the router had not heard that
/// the agent owns it (another node assigned it, the log says so in `state`), it takes
/// the log's word first.
pub fn release(
    core: &mut Core,
    agent: &AgentId,
    conversation: &ConversationId,
    state: &baton_core::ConversationState,
    now: Timestamp,
) -> Result<Vec<RouterEffect>, ApiError> {
    match core.router.release(agent, conversation, now) {
        Err(RouterError::NotOwner { .. }) => {
            let routed = Routed::from_state(conversation, state);
            let mut effects = core
                .router
                .sync(conversation, routed, now)
                .map_err(refusal)?;
            effects.extend(
                core.router
                    .release(agent, conversation, now)
                    .map_err(refusal)?,
            );
            Ok(effects)
        }
        other => other.map_err(refusal),
    }
}

/// Maps a router refusal to the API.
pub fn refusal(error: RouterError) -> ApiError {
    match &error {
        RouterError::UnknownAgent(_)
        | RouterError::UnknownOffer(_)
        | RouterError::NotYourOffer { .. } => ApiError::not_found(error.to_string()),
        RouterError::OfferExpired(_) => ApiError::conflict("offer_expired", error.to_string()),
        // The code the log's own refusal carries: the same whichever way a race went.
        RouterError::AlreadyAccepted(_) => ApiError::conflict("offer_not_open", error.to_string()),
        RouterError::NotOwner { .. } => ApiError::conflict("not_owner", error.to_string()),
        RouterError::AlreadyRouted(_) => ApiError::conflict("already_routed", error.to_string()),
        _ => ApiError::invalid("invalid_field", error.to_string()),
    }
}

/// Persists an agent's presence (profile unchanged); returns the record written.
pub async fn persist_presence(
    app: &AppState,
    agent: &AgentId,
    presence: Presence,
) -> Result<AgentRecord, ApiError> {
    let Some(mut record) = app.store.agent(agent).await? else {
        return Err(ApiError::not_found(format!("no agent {agent}")));
    };
    record.presence = presence.as_str().to_owned();
    record.updated_at = app.clock.now();
    app.store.put_agent(record.clone()).await?;
    Ok(record)
}

/// Persists and registers an agent profile.
pub async fn put_agent(app: &AppState, profile: AgentProfile) -> Result<(), ApiError> {
    let app = app.clone();
    crate::detach::run(async move { put_agent_now(&app, profile).await }).await
}

async fn put_agent_now(app: &AppState, profile: AgentProfile) -> Result<(), ApiError> {
    let now = app.clock.now();
    let staged = {
        let mut core = app.routing.lock().await;
        let effects = core
            .router
            .upsert_agent(profile.clone(), now)
            .map_err(refusal)?;
        let presence = core
            .router
            .agent(&profile.id)
            .map_or(Presence::Offline, |a| a.presence);
        let record = AgentRecord {
            id: profile.id.clone(),
            profile: serde_json::to_string(&profile).map_err(ApiError::internal)?,
            presence: presence.as_str().to_owned(),
            updated_at: now,
        };
        let staged =
            app.routing
                .stage_with_agent(profile.id.clone(), AgentWrite::Record(record), effects);
        app.routing.refresh_forecasts(app, &core, now);
        staged
    };
    app.routing.write(app, staged).await
}

/// Changes an agent's presence.
pub async fn set_presence(
    app: &AppState,
    agent: &AgentId,
    presence: Presence,
) -> Result<(), ApiError> {
    let (app, agent) = (app.clone(), agent.clone());
    crate::detach::run(async move { set_presence_now(&app, &agent, presence).await }).await
}

async fn set_presence_now(
    app: &AppState,
    agent: &AgentId,
    presence: Presence,
) -> Result<(), ApiError> {
    let now = app.clock.now();
    let staged = {
        let mut core = app.routing.lock().await;
        let effects = core
            .router
            .set_presence(agent, presence, now)
            .map_err(refusal)?;
        let staged =
            app.routing
                .stage_with_agent(agent.clone(), AgentWrite::Presence(presence), effects);
        app.routing.refresh_forecasts(app, &core, now);
        staged
    };
    app.routing.write(app, staged).await
}

/// Puts a newly queued conversation in line (spawned after the handoff commits).
pub async fn enqueue(app: AppState, entry: QueuedConversation) {
    let conversation = entry.conversation.clone();
    let staged = loop {
        // Loaded before the gate: under it, only what is in memory is read, since a
        // writer of this conversation may hold its lock while it waits for the gate.
        match app
            .conversations
            .snapshot(app.store.as_ref(), &app.policy(), &conversation)
            .await
        {
            Ok(Some(_)) => {}
            _ => return,
        }
        let mut core = app.routing.lock().await;
        // Resolved meanwhile? The committed state says, without waiting for a writer.
        match app.conversations.loaded(&conversation) {
            Some(live) if live.state.owner == Owner::Queued => {}
            Some(_) => return,
            // Swept from memory between the load and the gate: load it again.
            None => continue,
        }
        let now = app.clock.now();
        core.forecaster
            .observe_arrival(&entry.skills, entry.enqueued_at);
        let staged = match core.router.enqueue(entry, now) {
            Ok(effects) => app.routing.stage(effects),
            Err(RouterError::AlreadyRouted(_)) => Staged::default(),
            Err(error) => {
                tracing::error!(%error, %conversation, "cannot enqueue");
                Staged::default()
            }
        };
        app.routing.refresh_forecasts(&app, &core, now);
        break staged;
    };
    if let Err(error) = app.routing.write(&app, staged).await {
        tracing::error!(code = error.code, message = %error.message, "cannot record routing effects");
    }
}

/// Runs `tick` on a timer until the app is dropped.
pub fn spawn_ticker(app: &AppState) {
    let weak = std::sync::Arc::downgrade(&app.0);
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut moves = weak.upgrade().and_then(|inner| inner.clock.moves());
        loop {
            crate::clock::tick_or_move(&mut interval, &mut moves).await;
            let Some(inner) = weak.upgrade() else { return };
            tick(&AppState(inner)).await;
        }
    });
}

/// One step of the router's timers at the clock's now (offer expiry, overflow, ageing),
/// its effects durable on return. The ticker runs it; a test holding the clock still
/// runs it after moving the clock, to know the step has happened.
pub async fn tick(app: &AppState) {
    let now = app.clock.now();
    let staged = {
        let mut core = app.routing.lock().await;
        let effects = core.router.tick(now);
        app.routing.refresh_forecasts(app, &core, now);
        let mut staged = app.routing.stage(effects);
        // Effects left staged by a writer that could not write them under its lock
        // (a resync in `flush_locked`) are written here.
        for conversation in app.routing.pending_conversations() {
            if !staged.conversations.contains(&conversation) {
                staged.conversations.push(conversation);
            }
        }
        staged
    };
    if let Err(error) = app.routing.write(app, staged).await {
        tracing::error!(code = error.code, message = %error.message, "cannot record routing effects");
    }
}

/// Rejects an offer for `agent`: the router offers the conversation to the next agent.
pub async fn reject_offer(
    app: &AppState,
    agent: &AgentId,
    offer: &baton_core::OfferId,
) -> Result<(), ApiError> {
    let (app, agent, offer) = (app.clone(), agent.clone(), offer.clone());
    crate::detach::run(async move {
        let staged = {
            let mut core = app.routing.lock().await;
            let effects = core
                .router
                .reject(&offer, &agent, app.clock.now())
                .map_err(refusal)?;
            app.routing.stage(effects)
        };
        app.routing.write(&app, staged).await
    })
    .await
}

/// Accepts an offer for `agent`: the router assigns, the `assigned` event is written.
/// Returns the conversation.
pub async fn accept_offer(
    app: &AppState,
    agent: &AgentId,
    offer: &baton_core::OfferId,
) -> Result<ConversationId, ApiError> {
    let (app, agent, offer) = (app.clone(), agent.clone(), offer.clone());
    crate::detach::run(async move { accept_offer_now(&app, &agent, &offer).await }).await
}

async fn accept_offer_now(
    app: &AppState,
    agent: &AgentId,
    offer: &baton_core::OfferId,
) -> Result<ConversationId, ApiError> {
    let conversation = app
        .routing
        .lock()
        .await
        .router
        .offer(offer)
        .map(|o| o.conversation)
        .ok_or_else(|| ApiError::not_found("no such offer"))?;
    let staged = {
        let mut live = app
            .conversations
            .lock(app.store.as_ref(), &app.policy(), &conversation)
            .await?;
        let now = app.clock.now();
        // Written behind this conversation's earlier effects (its `offered` first), and
        // checked on the stored log: another node may have answered the offer.
        let decided = write_decided(app, &conversation, &mut live, |core, _, _| {
            let effects = core.router.accept(offer, agent, now).map_err(refusal)?;
            let assigned = EventBody::Assigned(Assigned {
                agent_id: agent.clone(),
                offer_id: Some(offer.clone()),
            });
            let rest = effects
                .into_iter()
                .filter(|e| !matches!(e, RouterEffect::Assigned { .. }))
                .collect();
            Ok((assigned, rest))
        })
        .await;
        match decided {
            Ok((_, staged)) => staged,
            Err(error) => {
                // The router may have taken an accept the log refused: the log decides.
                if let Err(reload) = app
                    .conversations
                    .reload(&mut live, app.store.as_ref(), &app.policy(), &conversation)
                    .await
                {
                    tracing::warn!(code = reload.code, %conversation, "cannot reload after a refused accept");
                } else if let Some(staged) = sync_locked(app, &conversation, &live).await {
                    flush_locked(app, &conversation, &mut live).await;
                    drop(live);
                    app.routing.write(app, staged).await?;
                }
                return Err(error);
            }
        }
    };
    app.routing.write(app, staged).await?;
    Ok(conversation)
}
