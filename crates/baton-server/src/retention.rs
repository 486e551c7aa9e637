//! Storage limitation: erase resolved conversations once they have been closed longer
//! than the configured number of days, on a periodic task that follows the app's
//! clock (so a test moves a manual clock instead of waiting).

use std::sync::Arc;
use std::time::Duration;

use baton_core::event::ErasedBy;
use baton_core::state::Owner;
use baton_core::{ConversationId, Text};
use baton_store::ConversationFilter;

use crate::app::AppState;
use crate::error::ApiError;

/// `retention.closed_after_days`, from the policy or `--retention-closed-after-days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Days a resolved conversation is kept after its last event.
    pub closed_after_days: u32,
}

/// How often the task looks (and how soon after a clock move in tests).
const EVERY: Duration = Duration::from_secs(3600);

/// The conversations one run would erase: closed, last changed before the cut-off,
/// and not erased yet.
pub async fn due(app: &AppState, retention: Retention) -> Result<Vec<ConversationId>, ApiError> {
    let Some(vault) = &app.vault else {
        return Ok(Vec::new());
    };
    let cutoff = app
        .clock
        .now()
        .plus_millis(-i64::from(retention.closed_after_days) * 86_400_000);
    let rows = app
        .raw_store
        .conversations(ConversationFilter {
            owners: vec![Owner::Closed],
            agent: None,
            limit: None,
        })
        .await?;
    let mut due = Vec::new();
    for row in rows {
        if row.summary.updated_at < cutoff && !vault.is_erased(&row.id).await? {
            due.push(row.id);
        }
    }
    Ok(due)
}

/// One run: erases what is due; how many.
pub async fn run_once(app: &AppState, retention: Retention) -> Result<u64, ApiError> {
    let reason = Text::parse(format!(
        "retention: closed more than {} days",
        retention.closed_after_days
    ))
    .map_err(ApiError::internal)?;
    let mut erased = 0;
    let mut failed = None;
    for cid in due(app, retention).await? {
        match crate::erasure::erase(app, &cid, reason.clone(), ErasedBy::Retention, None).await {
            Ok(_) => erased += 1,
            // Erased meanwhile (by an admin, or another node): nothing left to do.
            Err(e) if e.code == "already_erased" => {}
            // Erased, its key's old copy not yet scrubbed (the store keeps at it):
            // counted, and the run stops rather than pile more erasures on a busy log.
            Err(e) if e.code == "erasure_incomplete" => {
                erased += 1;
                failed = Some(e);
                break;
            }
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    // The ones erased before a failure count too.
    metrics::counter!("baton_retention_erased_total").increment(erased);
    tracing::info!(
        erased,
        closed_after_days = retention.closed_after_days,
        "retention run"
    );
    failed.map_or(Ok(erased), Err)
}

/// The retention in force: the server's setting, else the policy's (read at each
/// run, so a reloaded policy takes effect at the next one).
pub fn in_force(app: &AppState) -> Option<Retention> {
    app.config.retention.or_else(|| {
        app.policy()
            .retention
            .closed_after_days
            .map(|closed_after_days| Retention { closed_after_days })
    })
}

/// Starts the periodic task; each run erases what the retention in force makes due,
/// and does nothing while none is set.
pub fn spawn(app: &AppState) {
    let weak = Arc::downgrade(&app.0);
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(EVERY);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut moves = weak.upgrade().and_then(|inner| inner.clock.moves());
        loop {
            crate::clock::tick_or_move(&mut interval, &mut moves).await;
            let Some(inner) = weak.upgrade() else { return };
            let app = AppState(inner);
            let Some(retention) = in_force(&app) else {
                continue;
            };
            if let Err(e) = run_once(&app, retention).await {
                tracing::warn!(code = e.code, "retention run failed");
            }
        }
    });
}
