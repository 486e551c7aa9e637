//! The router as a mirror of the stored log: rebuilt from the store (at start, on
//! gaining the lead), told what another node's commits say about a conversation
//! ([`resync`]), and reading back agent records other nodes changed
//! ([`reconcile_agents`]). See [`crate::leader`] for who decides.

use baton_core::router::{AgentProfile, Presence, Routed};
use baton_core::{ConversationId, Owner};
use baton_store::{AgentClaim, AgentRecord, ConversationFilter};

use super::{Staged, flush_locked, fresh_router, refusal};
use crate::app::AppState;
use crate::error::ApiError;
use crate::live::Live;
use baton_core::id::AgentId;

/// Rebuilds the router from the store: at start, on gaining the lead, and when a
/// router could not take the log's word. The new router decides if this node leads
/// (and then offers what waits), else it mirrors.
///
/// Conversations are folded from the store, not taken from memory: the gate is held
/// throughout (nothing routes half-built), and its holder never waits for a
/// conversation's writer.
pub async fn restore(app: &AppState) -> Result<(), ApiError> {
    app.routing
        .rebuild
        .store(false, std::sync::atomic::Ordering::Relaxed);
    let now = app.clock.now();
    let mut core = app.routing.lock().await;
    let mut router = fresh_router(&app.routing.config, now)
        .map_err(|e| ApiError::internal(format!("router: {e}")))?;
    // Restored passive: nothing is offered until every conversation is in place.
    router.set_active(false);
    let records = app.store.agents().await?;
    for record in &records {
        let profile = profile_of(record)?;
        router.upsert_agent(profile, now).map_err(refusal)?;
        router
            .set_presence(&record.id, presence_of(record), now)
            .map_err(refusal)?;
    }
    *app.routing.seen() = records.into_iter().map(|r| (r.id.clone(), r)).collect();
    let filter = ConversationFilter {
        owners: vec![Owner::Queued, Owner::Offered, Owner::Agent],
        ..Default::default()
    };
    for row in app.store.conversations(filter).await? {
        let state = stored_state(app, &row.id).await?;
        if let Err(error) = router.sync(&row.id, Routed::from_state(&row.id, &state), now) {
            tracing::warn!(%error, conversation = %row.id, "cannot restore routing state");
        }
    }
    let leads = app.leader.is_leading();
    router.set_active(leads);
    let effects = if leads {
        router.rebalance(now)
    } else {
        Vec::new()
    };
    core.router = router;
    app.routing.refresh_forecasts(app, &core, now);
    let staged = app.routing.stage(effects);
    drop(core);
    app.routing.write(app, staged).await
}

/// A conversation's state folded from its stored log (memory not consulted).
async fn stored_state(
    app: &AppState,
    conversation: &ConversationId,
) -> Result<baton_core::ConversationState, ApiError> {
    const PAGE: u32 = 5_000;
    const BYTES: usize = 4 * 1024 * 1024;
    let mut state = baton_core::ConversationState::default();
    let mut after = 0;
    loop {
        let page = app
            .store
            .events_page(conversation, after, PAGE, BYTES)
            .await?;
        for stored in &page.events {
            state.apply(&crate::live::parse_stored(conversation, stored)?);
            after = stored.seq;
        }
        if !page.more {
            return Ok(state);
        }
    }
}

fn profile_of(record: &AgentRecord) -> Result<AgentProfile, ApiError> {
    serde_json::from_str(&record.profile)
        .map_err(|e| ApiError::internal(format!("agent {} profile: {e}", record.id)))
}

fn presence_of(record: &AgentRecord) -> Presence {
    match record.presence.as_str() {
        "available" => Presence::Available,
        "away" => Presence::Away,
        _ => Presence::Offline,
    }
}

/// The capacity claim of an assignment to `agent`, from their stored profile.
pub async fn claim(app: &AppState, agent: &AgentId) -> Result<AgentClaim, ApiError> {
    let record = app
        .store
        .agent(agent)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no agent {agent}")))?;
    Ok(AgentClaim {
        agent: agent.clone(),
        capacity: profile_of(&record)?.capacity,
    })
}

/// Takes in agent records another node changed (profile or presence), as the store
/// holds them now: run on a timer by every node of a shared store.
pub async fn reconcile_agents(app: &AppState) -> Result<(), ApiError> {
    let records = app.store.agents().await?;
    let now = app.clock.now();
    let staged = {
        let mut core = app.routing.lock().await;
        let mut effects = Vec::new();
        for record in records {
            let changed = {
                let seen = app.routing.seen();
                match seen.get(&record.id) {
                    Some(known) if *known == record => false,
                    // This node wrote a newer one since the read.
                    Some(known) => known.updated_at <= record.updated_at,
                    None => true,
                }
            };
            // A write of this node's is staged: the store is about to change.
            let staged = app
                .routing
                .agent_outbox
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .contains_key(&record.id);
            if !changed || staged {
                continue;
            }
            let profile = profile_of(&record)?;
            effects.extend(core.router.upsert_agent(profile, now).map_err(refusal)?);
            effects.extend(
                core.router
                    .set_presence(&record.id, presence_of(&record), now)
                    .map_err(refusal)?,
            );
            app.routing.seen().insert(record.id.clone(), record);
        }
        // A mirror takes the change in and leaves its consequences (offers withdrawn
        // from an agent gone away) to the node that made it and to the leader.
        if !core.router.is_active() {
            effects.clear();
        }
        if effects.is_empty() {
            return Ok(());
        }
        app.routing.refresh_forecasts(app, &core, now);
        app.routing.stage(effects)
    };
    app.routing.write(app, staged).await
}

/// Another node moved `conversation` in or out of the router's hands: this node's
/// router takes the stored log's word for it, and (leading) does what follows from
/// it, such as offering a conversation queued there.
pub async fn resync(app: AppState, conversation: ConversationId) {
    let app = &app;
    let result = async {
        let staged = {
            let mut live = app
                .conversations
                .lock(app.store.as_ref(), &app.policy(), &conversation)
                .await?;
            if crate::append::is_stale(app, &conversation, &live).await? {
                app.conversations
                    .reload(&mut live, app.store.as_ref(), &app.policy(), &conversation)
                    .await?;
            }
            let mut staged = None;
            // Router events staged meanwhile go first: the router's view follows them.
            for _ in 0..3 {
                flush_locked(app, &conversation, &mut live).await;
                staged = sync_locked(app, &conversation, &live).await;
                if staged.is_some() {
                    break;
                }
            }
            let Some(staged) = staged else {
                return Ok(());
            };
            flush_locked(app, &conversation, &mut live).await;
            staged
        };
        app.routing.write(app, staged).await
    }
    .await;
    if let Err(error) = result {
        tracing::warn!(code = error.code, message = %error.message, %conversation, "cannot resync routing");
    }
}

/// Under the gate, tells the router what `live` (the stored log) says of
/// `conversation` and stages what follows. `None` when router events for it were
/// staged meanwhile (they are written first), or the router refused (it is rebuilt).
pub(super) async fn sync_locked(
    app: &AppState,
    conversation: &ConversationId,
    live: &Live,
) -> Option<Staged> {
    let mut core = app.routing.lock().await;
    if app.routing.has_pending(conversation) {
        return None;
    }
    let now = app.clock.now();
    match core.router.sync(
        conversation,
        Routed::from_state(conversation, &live.state),
        now,
    ) {
        Ok(effects) => {
            app.routing.refresh_forecasts(app, &core, now);
            Some(app.routing.stage(effects))
        }
        Err(error) => {
            tracing::warn!(%error, %conversation, "cannot sync routing; rebuilding the router");
            app.routing
                .rebuild
                .store(true, std::sync::atomic::Ordering::Relaxed);
            None
        }
    }
}
