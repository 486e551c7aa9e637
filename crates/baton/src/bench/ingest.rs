//! `baton bench ingest`: durable ingest over HTTP against a fresh embedded store.
//!
//! Two figures: events/s when clients send batches (`ingest_batched`), and requests/s
//! when each request carries one event (`ingest_single_http`). Every append is
//! acknowledged only once durable; concurrency is what lets group commit share fsyncs.
//!
//! The events are the conversation workload's calm turns (customer message, the bot's
//! NLU reading, the bot's reply), so every customer message goes through the decision
//! engine and fact extraction as in production. A batch is one conversation's turns
//! imported at once (a new conversation per request); single-event clients each play
//! conversations of ten turns, one event per request, in order. Request bodies are
//! serialized once up front so that the load generator, which shares the machine,
//! spends its CPU on HTTP rather than on building JSON.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use clap::Args;
use serde_json::json;

use super::emit;
use super::fixture::calm_turn;
use super::harness::{BenchServer, EngineArgs, progress};

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
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// Turns a single-event client plays in one conversation before starting the next.
const TURNS_PER_CONVERSATION: usize = 10;

/// The first `n` events of the calm workload, turn after turn.
fn workload(n: usize) -> Vec<serde_json::Value> {
    (0..).flat_map(calm_turn).take(n).collect()
}

/// Request bodies, each serialized once.
fn bodies(events: Vec<Vec<serde_json::Value>>) -> anyhow::Result<Arc<Vec<bytes::Bytes>>> {
    let bodies = events
        .into_iter()
        .map(|events| serde_json::to_vec(&json!({ "events": events })).map(bytes::Bytes::from))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Arc::new(bodies))
}

/// Sends `total_requests` requests from `clients` concurrent clients. Request `i` of a
/// client goes to the conversation `conversation(worker, i)` with body
/// `bodies[i % bodies.len()]`.
async fn drive(
    server: &BenchServer,
    clients: u64,
    total_requests: u64,
    bodies: Arc<Vec<bytes::Bytes>>,
    conversation: fn(u64, u64) -> String,
    label: &str,
) -> anyhow::Result<f64> {
    anyhow::ensure!(!bodies.is_empty(), "no request bodies");
    let client = server.client(clients as usize)?;
    let next = Arc::new(AtomicU64::new(0));
    let bar = progress(total_requests, label);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..clients {
        let (client, next, bar, bodies) = (
            client.clone(),
            Arc::clone(&next),
            bar.clone(),
            Arc::clone(&bodies),
        );
        let base = server.base.clone();
        let auth = format!("Bearer {}", server.bot_key);
        tasks.push(tokio::spawn(async move {
            let mut sent = 0u64;
            while next.fetch_add(1, Ordering::Relaxed) < total_requests {
                let cid = conversation(worker, sent);
                let body = bodies[(sent % bodies.len() as u64) as usize].clone();
                let response = client
                    .post(format!("{base}/v1/conversations/{cid}/events"))
                    .header("authorization", &auth)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await?;
                anyhow::ensure!(
                    response.status().is_success(),
                    "append to {cid} failed: {}",
                    response.text().await?
                );
                sent += 1;
                bar.inc(1);
            }
            Ok::<(), anyhow::Error>(())
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
    let server = BenchServer::start(&args.engine).await?;
    let measured = measure(&server, &args).await;
    server.store.clean_up().await?;
    measured
}

async fn measure(server: &BenchServer, args: &IngestArgs) -> anyhow::Result<()> {
    let batch = usize::try_from(args.batch.clamp(1, 500))?;
    let batches = args.events.div_ceil(batch as u64);
    let batch_clients = args.concurrency.clamp(1, 16);
    let secs = drive(
        server,
        batch_clients,
        batches,
        bodies(vec![workload(batch)])?,
        |worker, sent| format!("batched-{worker}-{sent}"),
        "batched",
    )
    .await?;
    emit(
        "ingest_batched",
        batches * batch as u64,
        (batches * batch as u64) as f64 / secs,
        "events/s",
    );
    let per_conversation = TURNS_PER_CONVERSATION * 3;
    let singles = workload(per_conversation)
        .into_iter()
        .map(|event| vec![event])
        .collect();
    let before = server.store.stats();
    let secs = drive(
        server,
        args.concurrency.max(1),
        args.requests,
        bodies(singles)?,
        |worker, sent| {
            let per_conversation = (TURNS_PER_CONVERSATION * 3) as u64;
            format!("single-{worker}-{}", sent / per_conversation)
        },
        "single",
    )
    .await?;
    emit(
        "ingest_single_http",
        args.requests,
        args.requests as f64 / secs,
        "requests/s",
    );
    let after = server.store.stats();
    let commits = after.commits - before.commits;
    emit(
        "ingest_single_appends_per_commit",
        commits,
        (after.appends - before.appends) as f64 / commits.max(1) as f64,
        "appends",
    );
    Ok(())
}
