//! `baton bench webhooks`: what webhooks cost and how fast they go, in process against
//! fresh durable stores.
//!
//! The same append workload (C conversations at a time, one customer message per
//! append, each acknowledged once durable) runs three times: without subscriptions;
//! with `--subscriptions` subscriptions to every event type (`["*"]`: each customer
//! message and the decision after it goes to every subscription) and no delivery
//! worker, so only the outbox entries are recorded (one per append: the fan-out into
//! deliveries is the worker's); and with the same subscriptions delivered meanwhile
//! to a receiver on loopback, fan-out included. Figures:
//! `webhooks_appends_per_s_0`, `webhooks_appends_per_s_<S>_recorded` and
//! `webhooks_appends_per_s_<S>` (events/s); `webhooks_outbox_cost_pct` (how much
//! slower appends are when they record the outbox rows: the outbox's own cost) and
//! `webhooks_delivering_cost_pct` (how much slower with the deliveries running on the
//! same cores as well); `webhooks_deliveries_per_s` (deliveries received per second,
//! from the first append to the last delivery) and
//! `webhooks_commit_to_delivery_ms_p50/p99` (from the payload's commit timestamp to
//! its arrival, wall clock, millisecond resolution).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use baton_core::ConversationId;
use baton_core::webhook::EventFilter;
use baton_server::append::AppendRequest;
use baton_server::auth::Principal;
use baton_store::{Role, WebhookId, WebhookRecord};
use clap::Args;
use serde_json::json;

use super::harness::{BenchServer, EngineArgs};
use super::{emit, emit_p50_p99};

/// Options for `baton bench webhooks`.
#[derive(Debug, Args)]
pub struct WebhooksArgs {
    /// Conversations.
    #[arg(long, default_value_t = 200)]
    pub conversations: u64,
    /// Customer messages per conversation (each its own append).
    #[arg(long, default_value_t = 20)]
    pub messages: u64,
    /// Conversations appended to at once.
    #[arg(long, default_value_t = 32)]
    pub concurrency: u64,
    /// Subscriptions in the second run.
    #[arg(long, default_value_t = 10)]
    pub subscriptions: u64,
    /// The engine (embedded SQLite unless `--database-url` names PostgreSQL).
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// Arrivals at the receiver: commit-to-arrival latencies in ms.
type Arrivals = Arc<Mutex<Vec<f64>>>;

async fn receiver() -> anyhow::Result<(String, Arrivals)> {
    let arrivals: Arrivals = Arc::default();
    let seen = Arc::clone(&arrivals);
    let app = axum::Router::new().fallback(move |body: String| {
        let seen = Arc::clone(&seen);
        async move {
            let now = baton_server::clock::Clock::System.now();
            let committed = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|b| b["timestamp"].as_str().map(str::to_owned))
                .and_then(|t| baton_core::Timestamp::parse(&t).ok());
            if let (Some(at), Ok(mut seen)) = (committed, seen.lock()) {
                seen.push(now.millis_since(at) as f64);
            }
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, arrivals))
}

/// Appends the workload; returns events/s (customer messages and baton's decisions).
async fn appends(server: &BenchServer, args: &WebhooksArgs) -> anyhow::Result<(u64, f64)> {
    let principal = Principal::in_process(Role::Bot, None);
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let (state, principal, next) = (server.state.clone(), principal.clone(), Arc::clone(&next));
        let (conversations, messages) = (args.conversations, args.messages);
        workers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= conversations {
                    return anyhow::Ok(());
                }
                let cid = ConversationId::parse(format!("hook-{n}"))?;
                for m in 0..messages {
                    let request: AppendRequest = serde_json::from_value(json!({"events": [
                        {"type": "customer_message", "text": format!("Question {m} about my order, please.")}
                    ]}))?;
                    baton_server::flow::append_events(&state, &principal, &cid, request)
                        .await
                        .map_err(|e| anyhow::anyhow!(e.message))?;
                }
            }
        }));
    }
    for worker in workers {
        worker.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let events = server.store.stats().events;
    Ok((events, events as f64 / elapsed))
}

/// A fresh server with `subscriptions` subscriptions to every event type, each
/// delivering to `url`; `deliver: false` starts it without a delivery worker.
async fn subscribed(args: &WebhooksArgs, url: &str, deliver: bool) -> anyhow::Result<BenchServer> {
    let mut config = baton_server::AppConfig::default();
    if !deliver {
        config.webhooks.concurrency = 0;
    }
    let server = BenchServer::start_with(&args.engine, config).await?;
    for n in 0..args.subscriptions {
        let mut id = [0u8; 8];
        id[..8].copy_from_slice(&n.to_be_bytes());
        server
            .store
            .dyn_store()
            .put_webhook(WebhookRecord {
                id: WebhookId::from_random(id),
                url: url.to_owned(),
                events: EventFilter::All,
                description: None,
                role: Role::Bot,
                secret: baton_server::webhooks::sign::generate_secret(),
                previous: None,
                created_at: baton_server::clock::Clock::System.now(),
            })
            .await?;
    }
    server
        .state
        .webhooks
        .reload(server.store.dyn_store().as_ref())
        .await?;
    Ok(server)
}

/// Runs the benchmark.
pub async fn run(args: WebhooksArgs) -> anyhow::Result<()> {
    let plain = BenchServer::start(&args.engine).await?;
    let (events, without) = appends(&plain, &args).await?;
    plain.store.clean_up().await?;
    drop(plain);
    emit("webhooks_appends_per_s_0", events, without, "events/s");

    let (url, arrivals) = receiver().await?;
    let recorded = subscribed(&args, &url, false).await?;
    let (events, recording) = appends(&recorded, &args).await?;
    let outbox = recorded.store.dyn_store().outbox_stats().await?;
    recorded.store.clean_up().await?;
    drop(recorded);
    let batches = args.conversations * args.messages;
    anyhow::ensure!(
        outbox.unexpanded == batches && outbox.pending == 0,
        "{} outbox entries and {} deliveries recorded for {batches} appends",
        outbox.unexpanded,
        outbox.pending
    );
    emit(
        &format!("webhooks_appends_per_s_{}_recorded", args.subscriptions),
        events,
        recording,
        "events/s",
    );
    emit(
        "webhooks_outbox_cost_pct",
        events,
        (1.0 - recording / without) * 100.0,
        "%",
    );

    let hooked = subscribed(&args, &url, true).await?;
    let started = Instant::now();
    let (events, with) = appends(&hooked, &args).await?;
    emit(
        &format!("webhooks_appends_per_s_{}", args.subscriptions),
        events,
        with,
        "events/s",
    );
    emit(
        "webhooks_delivering_cost_pct",
        events,
        (1.0 - with / without) * 100.0,
        "%",
    );
    let expected = events * args.subscriptions;
    let deadline = Instant::now() + std::time::Duration::from_secs(600);
    loop {
        let received = arrivals.lock().map(|a| a.len() as u64).unwrap_or(0);
        if received >= expected || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies = arrivals.lock().map(|a| a.clone()).unwrap_or_default();
    let received = latencies.len() as u64;
    hooked.store.clean_up().await?;
    anyhow::ensure!(
        received >= expected,
        "only {received} of {expected} deliveries arrived"
    );
    emit(
        "webhooks_deliveries_per_s",
        received,
        received as f64 / elapsed,
        "deliveries/s",
    );
    emit_p50_p99(
        "webhooks_commit_to_delivery_ms",
        received,
        &mut latencies,
        "ms",
    );
    Ok(())
}
