//! The router in the server: one pure `baton_core::router::Router` behind an async
//! gate, its effects turned into events, a timer for offer expiry, and the forecast.
//!
//! Lock order: the routing gate first, then conversation locks, one at a time. The
//! append path never takes the gate while holding a conversation (it spawns instead),
//! so the two can never wait on each other.
//!
//! Every change to the router is followed by the events that record it; both run on
//! their own task ([`crate::detach`]), so a client that gives up cannot leave the
//! router ahead of the log.

use std::collections::BTreeMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use baton_core::event::{Assigned, EventBody, OfferClosed, Offered};
use baton_core::forecast::{ForecastConfig, Forecaster, SkillForecast};
use baton_core::id::AgentId;
use baton_core::router::{
    AgentProfile, Overflow, Presence, QueuedConversation, Router, RouterConfig, RouterEffect,
    RouterError,
};
use baton_core::{ConversationId, Label, Owner, Timestamp};
use baton_store::{AgentRecord, ConversationFilter};
use tokio::sync::{Mutex, MutexGuard};

use crate::app::AppState;
use crate::clock;
use crate::error::ApiError;

/// The router and forecaster, and a cache of forecasts the decision engine reads
/// without waiting.
pub struct Routing {
    gate: Mutex<Core>,
    forecasts: RwLock<BTreeMap<Label, SkillForecast>>,
    gate_waits: GateWaits,
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

/// How often offers are checked for expiry and forecasts refreshed.
pub const TICK: Duration = Duration::from_millis(250);

impl Routing {
    /// A router with `config`, offer ids unique to this boot.
    pub fn new(config: RouterConfig, boot: Timestamp) -> Result<Self, RouterError> {
        let router = Router::with_offer_ids(config, &format!("of-{}-", boot.unix_millis()), 1)?;
        Ok(Self {
            gate: Mutex::new(Core {
                router,
                forecaster: Forecaster::new(ForecastConfig::default()),
            }),
            forecasts: RwLock::new(BTreeMap::new()),
            gate_waits: GateWaits::default(),
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

    /// Cached forecasts, refreshed every tick.
    pub fn forecasts(&self) -> BTreeMap<Label, SkillForecast> {
        self.forecasts.read().map(|f| f.clone()).unwrap_or_default()
    }

    /// Expected wait and available agents for `skills`, for the capacity signal; None
    /// before any agent is registered (a bot-only deployment still hands off).
    pub fn capacity_for(&self, skills: &[Label]) -> Option<baton_core::decide::CapacityView> {
        let forecasts = self.forecasts.read().ok()?;
        if forecasts.is_empty() {
            return None;
        }
        let relevant: Vec<&SkillForecast> = if skills.is_empty() {
            forecasts
                .get(&baton_core::forecast::any_skill())
                .into_iter()
                .collect()
        } else {
            skills.iter().filter_map(|s| forecasts.get(s)).collect()
        };
        if relevant.is_empty() {
            // No arrivals for these skills yet: nothing to forecast from.
            return None;
        }
        Some(baton_core::decide::CapacityView {
            expected_wait_secs: relevant
                .iter()
                .map(|f| f.expected_wait_secs.unwrap_or(f64::INFINITY))
                .fold(0.0, f64::max),
            agents_available: relevant
                .iter()
                .map(|f| f.agents_available)
                .min()
                .unwrap_or(0),
        })
    }

    fn refresh_forecasts(&self, core: &Core, now: Timestamp) {
        let all = core
            .forecaster
            .forecast_all(now, |skill| core.router.staffing(skill));
        if let Ok(mut cache) = self.forecasts.write() {
            *cache = all.into_iter().map(|f| (f.skill.clone(), f)).collect();
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

/// Maps a router refusal to the API.
pub fn refusal(error: RouterError) -> ApiError {
    match &error {
        RouterError::UnknownAgent(_)
        | RouterError::UnknownOffer(_)
        | RouterError::NotYourOffer { .. } => ApiError::not_found(error.to_string()),
        RouterError::OfferExpired(_) => ApiError::conflict("offer_expired", error.to_string()),
        RouterError::NotOwner { .. } => ApiError::conflict("not_owner", error.to_string()),
        RouterError::AlreadyRouted(_) => ApiError::conflict("already_routed", error.to_string()),
        _ => ApiError::invalid("invalid_field", error.to_string()),
    }
}

/// Writes one of baton's own events to a conversation.
pub async fn write_system(
    app: &AppState,
    conversation: &ConversationId,
    body: EventBody,
) -> Result<(), ApiError> {
    let mut live = app
        .conversations
        .lock(app.store.as_ref(), &app.policy(), conversation)
        .await?;
    crate::append::write_system(app, conversation, &mut live, body)
        .await
        .map(|_| ())
}

/// Records the router's effects, in order. Called with the gate held.
pub async fn apply(app: &AppState, effects: Vec<RouterEffect>) {
    for effect in effects {
        let result = match effect {
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
                write_system(app, &conversation, body).await
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
                write_system(app, &conversation, body).await
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
                write_system(app, &conversation, body).await
            }
            RouterEffect::AgentAway { agent } => {
                persist_presence(app, &agent, Presence::Away).await
            }
            RouterEffect::Overflowed { .. } => {
                metrics::counter!("baton_overflows_total").increment(1);
                Ok(())
            }
        };
        if let Err(error) = result {
            tracing::error!(code = error.code, message = %error.message, "cannot record a routing effect");
        }
    }
}

/// Persists an agent's presence (profile unchanged).
pub async fn persist_presence(
    app: &AppState,
    agent: &AgentId,
    presence: Presence,
) -> Result<(), ApiError> {
    let Some(mut record) = app.store.agent(agent).await? else {
        return Err(ApiError::not_found(format!("no agent {agent}")));
    };
    record.presence = presence.as_str().to_owned();
    record.updated_at = clock::now();
    app.store.put_agent(record).await?;
    Ok(())
}

/// Persists and registers an agent profile.
pub async fn put_agent(app: &AppState, profile: AgentProfile) -> Result<(), ApiError> {
    let app = app.clone();
    crate::detach::run(async move { put_agent_now(&app, profile).await }).await
}

async fn put_agent_now(app: &AppState, profile: AgentProfile) -> Result<(), ApiError> {
    let now = clock::now();
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
    app.store.put_agent(record).await?;
    apply(app, effects).await;
    app.routing.refresh_forecasts(&core, now);
    Ok(())
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
    let now = clock::now();
    let mut core = app.routing.lock().await;
    let effects = core
        .router
        .set_presence(agent, presence, now)
        .map_err(refusal)?;
    persist_presence(app, agent, presence).await?;
    apply(app, effects).await;
    app.routing.refresh_forecasts(&core, now);
    Ok(())
}

/// Puts a newly queued conversation in line (spawned after the handoff commits).
pub async fn enqueue(app: AppState, conversation: ConversationId) {
    let mut core = app.routing.lock().await;
    let entry = {
        let Ok(Some(live)) = app
            .conversations
            .snapshot(app.store.as_ref(), &app.policy(), &conversation)
            .await
        else {
            return;
        };
        match (&live.state.owner, &live.state.handoff) {
            (Owner::Queued, Some(handoff)) => QueuedConversation {
                conversation: conversation.clone(),
                customer: live.state.customer_id.clone(),
                priority: handoff.priority,
                skills: handoff.skills.clone(),
                enqueued_at: handoff.queued_at,
                preferred_agent: live.state.last_agent.clone(),
            },
            _ => return,
        }
    };
    let now = clock::now();
    core.forecaster
        .observe_arrival(&entry.skills, entry.enqueued_at);
    match core.router.enqueue(entry, now) {
        Ok(effects) => apply(&app, effects).await,
        Err(RouterError::AlreadyRouted(_)) => {}
        Err(error) => tracing::error!(%error, %conversation, "cannot enqueue"),
    }
    app.routing.refresh_forecasts(&core, now);
}

/// Runs `tick` on a timer until the app is dropped.
pub fn spawn_ticker(app: &AppState) {
    let weak = std::sync::Arc::downgrade(&app.0);
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            let Some(inner) = weak.upgrade() else { return };
            let app = AppState(inner);
            let now = clock::now();
            let mut core = app.routing.lock().await;
            let effects = core.router.tick(now);
            apply(&app, effects).await;
            app.routing.refresh_forecasts(&core, now);
        }
    });
}

/// Rebuilds the router from the store after a restart.
pub async fn restore(app: &AppState) -> Result<(), ApiError> {
    let now = clock::now();
    let mut core = app.routing.lock().await;
    for record in app.store.agents().await? {
        let profile: AgentProfile = serde_json::from_str(&record.profile)
            .map_err(|e| ApiError::internal(format!("agent {} profile: {e}", record.id)))?;
        core.router.upsert_agent(profile, now).map_err(refusal)?;
        let presence = match record.presence.as_str() {
            "available" => Presence::Available,
            "away" => Presence::Away,
            _ => Presence::Offline,
        };
        // Offers made while restoring agents would race the restored queue; rebalance below.
        let _ = core
            .router
            .set_presence(&record.id, presence, now)
            .map_err(refusal)?;
    }
    let filter = ConversationFilter {
        owners: vec![Owner::Queued, Owner::Offered, Owner::Agent],
        ..Default::default()
    };
    for row in app.store.conversations(filter).await? {
        let Some(live) = app
            .conversations
            .snapshot(app.store.as_ref(), &app.policy(), &row.id)
            .await?
        else {
            continue;
        };
        let state = &live.state;
        let queued = state.handoff.as_ref().map(|handoff| QueuedConversation {
            conversation: row.id.clone(),
            customer: state.customer_id.clone(),
            priority: handoff.priority,
            skills: handoff.skills.clone(),
            enqueued_at: handoff.queued_at,
            preferred_agent: state.last_agent.clone(),
        });
        let restored = match (state.owner, queued, &state.offer, &state.assigned_agent) {
            (Owner::Agent, _, _, Some(agent)) => {
                core.router
                    .restore_assignment(agent, &row.id, state.customer_id.as_ref(), now)
            }
            (Owner::Offered, Some(entry), Some(offer), _) => core.router.restore_offer(
                entry,
                offer.offer_id.clone(),
                &offer.agent_id,
                offer.expires_at,
                now,
            ),
            (Owner::Queued, Some(entry), _, _) => core.router.restore_queued(entry, now),
            _ => Ok(()),
        };
        if let Err(error) = restored {
            tracing::warn!(%error, conversation = %row.id, "cannot restore routing state");
        }
    }
    let effects = core.router.rebalance(now);
    apply(app, effects).await;
    app.routing.refresh_forecasts(&core, now);
    Ok(())
}

/// Rejects an offer for `agent`: the router offers the conversation to the next agent.
pub async fn reject_offer(
    app: &AppState,
    agent: &AgentId,
    offer: &baton_core::OfferId,
) -> Result<(), ApiError> {
    let (app, agent, offer) = (app.clone(), agent.clone(), offer.clone());
    crate::detach::run(async move {
        let mut core = app.routing.lock().await;
        let effects = core
            .router
            .reject(&offer, &agent, clock::now())
            .map_err(refusal)?;
        apply(&app, effects).await;
        Ok(())
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
    let mut core = app.routing.lock().await;
    let conversation = core
        .router
        .offer(offer)
        .map(|o| o.conversation)
        .ok_or_else(|| ApiError::not_found("no such offer"))?;
    let effects = core
        .router
        .accept(offer, agent, clock::now())
        .map_err(refusal)?;
    apply(app, effects).await;
    Ok(conversation)
}
