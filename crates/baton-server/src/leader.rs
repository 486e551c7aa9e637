//! Which node's router decides. Nodes sharing a store compete for one claim
//! ([`baton_store::Leadership`]: a PostgreSQL advisory lock held by a session; the
//! embedded store's only node always leads). The leader's router offers and expires;
//! the others mirror the log and take accepts and rejects (see [`crate::routing`]).
//!
//! Every [`CLAIM_EVERY`] a follower tries to lead and the leader checks it still does.
//! Gaining the lead rebuilds the router from the store, deciding; losing it (its
//! lock's connection gone) makes the router passive at once, before anything else
//! runs under the gate. So a dead leader is replaced within about one interval plus
//! the time PostgreSQL takes to notice its session ended.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use baton_store::Leadership;

use crate::app::AppState;
use crate::error::ApiError;

/// How often the claim is tried (or checked, by the leader).
pub const CLAIM_EVERY: Duration = Duration::from_secs(1);

/// This node's claim to lead, and whether it does.
pub struct Leader {
    claim: Box<dyn Leadership>,
    leading: AtomicBool,
}

impl Leader {
    /// A node that does not lead yet.
    pub fn new(claim: Box<dyn Leadership>) -> Self {
        Self {
            claim,
            leading: AtomicBool::new(false),
        }
    }

    /// Whether this node's router decides.
    pub fn is_leading(&self) -> bool {
        self.leading.load(Ordering::Acquire)
    }

    fn set(&self, leading: bool) {
        self.leading.store(leading, Ordering::Release);
        metrics::gauge!("baton_router_leader").set(if leading { 1.0 } else { 0.0 });
    }

    /// Whether the claim leads now: tried by a follower, checked by the leader. A
    /// store that does not answer means not leading.
    async fn leads_now(&self) -> bool {
        let asked = if self.is_leading() {
            self.claim.still_leads().await
        } else {
            self.claim.try_lead().await
        };
        asked.unwrap_or_else(|error| {
            tracing::warn!(%error, "cannot ask the store who leads");
            false
        })
    }
}

/// At start: one try to lead, then the router restored from the store (deciding if
/// this node leads).
pub async fn start(app: &AppState) -> Result<(), ApiError> {
    let leads = app.leader.leads_now().await;
    app.leader.set(leads);
    if leads {
        tracing::info!(node = %app.cluster.node_id, "this node's router leads");
    }
    crate::routing::restore(app).await
}

/// One round: claim or check the lead and act on a change; on a shared store, take
/// in other nodes' agent changes; rebuild the router if it asked to be.
pub async fn round(app: &AppState) {
    let was = app.leader.is_leading();
    let leads = app.leader.leads_now().await;
    if was && !leads {
        // Before anything else decides: a router that no longer leads offers nothing.
        app.routing.lock().await.router.set_active(false);
        app.leader.set(false);
        tracing::warn!(node = %app.cluster.node_id, "this node's router lost the lead; it only mirrors now");
    }
    let rebuild = (!was && leads) || app.routing.wants_rebuild();
    if !was && leads {
        app.leader.set(true);
        metrics::counter!("baton_router_leader_changes_total").increment(1);
        tracing::info!(node = %app.cluster.node_id, "this node's router leads; rebuilding it from the store");
    }
    if rebuild && let Err(error) = crate::routing::restore(app).await {
        tracing::error!(code = error.code, message = %error.message, "cannot rebuild the router");
    }
    if app.config.cluster.poll.is_some()
        && let Err(error) = crate::routing::reconcile_agents(app).await
    {
        tracing::warn!(code = error.code, message = %error.message, "cannot read other nodes' agent changes");
    }
}

/// Runs [`round`] every [`CLAIM_EVERY`] until the app is dropped.
pub fn spawn(app: &AppState) {
    let weak = std::sync::Arc::downgrade(&app.0);
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(CLAIM_EVERY);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval.tick().await;
        loop {
            interval.tick().await;
            let Some(inner) = weak.upgrade() else { return };
            round(&AppState(inner)).await;
        }
    });
}
