//! `baton bench ingest`: durable ingest over HTTP against a fresh embedded store.
//!
//! Two figures: events/s when clients send batches (`ingest_batched`), and requests/s
//! when each request carries one event (`ingest_single_http`). Every append is
//! acknowledged only once durable; concurrency is what lets group commit share fsyncs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use clap::Args;
use serde_json::json;

use super::emit;
use super::harness::{BenchServer, progress};

/// Options for `baton bench ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Events to ingest in batches.
    #[arg(long, default_value_t = 200_000)]
    pub events: u64,
    /// Events per batch.
    #[arg(long, default_value_t = 100)]
    pub batch: u64,
    /// Single-event requests to send.
    #[arg(long, default_value_t = 20_000)]
    pub requests: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 64)]
    pub concurrency: u64,
}

const TEXT: &str = "Hello, I ordered a blue jacket last week (order 88231) and I was charged twice on my card; can you refund one of the charges please?";

async fn drive(
    server: &BenchServer,
    clients: u64,
    total_requests: u64,
    events_per_request: u64,
    label: &str,
) -> anyhow::Result<f64> {
    let client = server.client(clients as usize)?;
    let next = Arc::new(AtomicU64::new(0));
    let bar = progress(total_requests, label);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..clients {
        let (client, next, bar) = (client.clone(), Arc::clone(&next), bar.clone());
        let url = format!("{}/v1/conversations/{label}-{worker}/events", server.base);
        let auth = format!("Bearer {}", server.bot_key);
        tasks.push(tokio::spawn(async move {
            loop {
                if next.fetch_add(1, Ordering::Relaxed) >= total_requests {
                    return Ok::<(), anyhow::Error>(());
                }
                let events: Vec<_> = (0..events_per_request)
                    .map(|_| json!({"type": "customer_message", "text": TEXT}))
                    .collect();
                let response = client
                    .post(&url)
                    .header("authorization", &auth)
                    .json(&json!({"events": events}))
                    .send()
                    .await?;
                anyhow::ensure!(
                    response.status().is_success(),
                    "append failed: {}",
                    response.text().await?
                );
                bar.inc(1);
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    bar.finish_and_clear();
    Ok(started.elapsed().as_secs_f64())
}

/// Runs the benchmark.
pub async fn run(args: IngestArgs) -> anyhow::Result<()> {
    let server = BenchServer::start().await?;
    let batches = args.events.div_ceil(args.batch);
    let batch_clients = args.concurrency.clamp(1, 16);
    let secs = drive(&server, batch_clients, batches, args.batch, "batched").await?;
    emit(
        "ingest_batched",
        batches * args.batch,
        (batches * args.batch) as f64 / secs,
        "events/s",
    );
    let secs = drive(&server, args.concurrency, args.requests, 1, "single").await?;
    emit(
        "ingest_single_http",
        args.requests,
        args.requests as f64 / secs,
        "requests/s",
    );
    Ok(())
}
