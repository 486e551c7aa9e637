//! The delivery worker: claims due deliveries (as many as it has free slots), sends
//! each on its own task, records the try and what follows (delivered, a retry at a
//! jittered backoff, or a dead letter), and keeps the outbox metrics. It holds the app
//! weakly, so it ends with it, and stops when the store closes.
//!
//! Metrics (closed label sets): `baton_webhook_deliveries_total{outcome}` with
//! outcome `delivered`, `failed` (a retry follows) or `dead`;
//! `baton_webhook_delivery_seconds` (commit to delivery); `baton_webhook_pending`
//! (deliveries not yet made), `baton_webhook_outbox_entries` (appends not yet fanned
//! out into deliveries), `baton_webhook_dead_letters` and `baton_webhook_lag_seconds`
//! (age of the oldest undelivered event).

use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_store::{Delivery, Finish, StoreError};
use rand::Rng;
use tokio::sync::Semaphore;

use crate::app::AppState;

/// How often subscriptions are re-read (another node's changes) and gauges refreshed.
const REFRESH: Duration = Duration::from_secs(5);

/// Starts the worker.
pub fn spawn(app: &AppState) {
    if app.webhooks.config.concurrency == 0 {
        return;
    }
    let weak = Arc::downgrade(&app.0);
    let slots = Arc::new(Semaphore::new(app.webhooks.config.concurrency));
    tokio::spawn(async move {
        let mut refreshed: Option<Instant> = None;
        loop {
            let Some(inner) = weak.upgrade() else { return };
            let app = AppState(inner);
            if refreshed.is_none_or(|at| at.elapsed() >= REFRESH) {
                refreshed = Some(Instant::now());
                refresh(&app).await;
            }
            let free = slots.available_permits();
            let mut claimed = 0;
            // Without subscriptions nothing can be pending (a deleted one's deliveries go
            // with it, and the last one's outbox entries), so an idle server makes no
            // writes for the outbox.
            let subscribed = !app.webhooks.subscriptions().is_empty();
            if free > 0 && subscribed {
                let now = app.clock.now();
                let lease =
                    i64::try_from(app.webhooks.config.lease.as_millis()).unwrap_or(i64::MAX);
                let limit = u32::try_from(free).unwrap_or(u32::MAX);
                match app
                    .store
                    .claim_deliveries(now, now.plus_millis(lease), limit)
                    .await
                {
                    Ok(due) => {
                        claimed = due.len();
                        for delivery in due {
                            let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                                break;
                            };
                            let app = app.clone();
                            tokio::spawn(async move {
                                deliver(&app, delivery).await;
                                drop(slot);
                                app.webhooks.wake();
                            });
                        }
                    }
                    Err(StoreError::Closed) => return,
                    Err(error) => tracing::warn!(%error, "cannot claim webhook deliveries"),
                }
            }
            if claimed == 0 || slots.available_permits() == 0 {
                app.webhooks.woken(app.webhooks.config.poll).await;
            }
        }
    });
}

async fn refresh(app: &AppState) {
    if let Err(error) = app.webhooks.reload(app.store.as_ref()).await {
        tracing::warn!(%error, "cannot re-read webhook subscriptions");
    }
    match app.store.outbox_stats().await {
        Ok(stats) => {
            metrics::gauge!("baton_webhook_pending").set(stats.pending as f64);
            metrics::gauge!("baton_webhook_outbox_entries").set(stats.unexpanded as f64);
            metrics::gauge!("baton_webhook_dead_letters").set(stats.dead as f64);
            let lag = stats
                .oldest_pending
                .map_or(0, |at| app.clock.now().millis_since(at).max(0));
            metrics::gauge!("baton_webhook_lag_seconds").set(lag as f64 / 1000.0);
        }
        Err(error) => tracing::warn!(%error, "cannot read the webhook outbox"),
    }
}

/// One try of `delivery`, recorded.
async fn deliver(app: &AppState, delivery: Delivery) {
    let mut hook = app
        .webhooks
        .subscriptions()
        .iter()
        .find(|h| h.id == delivery.webhook)
        .cloned();
    if hook.is_none() {
        // Made on another node since the last re-read.
        let _ = app.webhooks.reload(app.store.as_ref()).await;
        hook = app
            .webhooks
            .subscriptions()
            .iter()
            .find(|h| h.id == delivery.webhook)
            .cloned();
    }
    // A deleted subscription's deliveries are deleted with it.
    let Some(hook) = hook else { return };
    let attempt = super::deliver::attempt(app, &hook, &delivery, app.clock.now()).await;
    let done = app.clock.now();
    let finish = if super::deliver::delivered(&attempt) {
        metrics::counter!("baton_webhook_deliveries_total", "outcome" => "delivered").increment(1);
        let latency = done.millis_since(delivery.created_at).max(0) as f64 / 1000.0;
        metrics::histogram!("baton_webhook_delivery_seconds").record(latency);
        Finish::Delivered
    } else {
        let unit: f64 = rand::rng().random();
        match app
            .webhooks
            .config
            .retry
            .after_failure(delivery.series_start, done, unit)
        {
            baton_core::webhook::Next::RetryAt(at) => {
                metrics::counter!("baton_webhook_deliveries_total", "outcome" => "failed")
                    .increment(1);
                Finish::RetryAt(at)
            }
            baton_core::webhook::Next::GiveUp => {
                metrics::counter!("baton_webhook_deliveries_total", "outcome" => "dead")
                    .increment(1);
                tracing::warn!(webhook = %hook.id, delivery = delivery.id, "webhook delivery dead-lettered");
                Finish::Dead
            }
        }
    };
    if let Err(error) = app
        .store
        .finish_delivery(delivery.id, attempt, finish)
        .await
    {
        // The lease lapses and the delivery goes out again: at least once.
        tracing::warn!(%error, delivery = delivery.id, "cannot record a webhook try");
    }
}
