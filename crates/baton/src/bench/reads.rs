//! `baton bench reads`: what the access log costs reads. The same read workload (a
//! conversation's events page and its JSON package, over HTTP, `--concurrency` at a
//! time) runs against a fresh server with the access log off, then on. Figures:
//! `reads_events_per_s_{off,on}`, `reads_package_per_s_{off,on}` and
//! `reads_access_log_cost_pct_{events,package}` (how much lower the rate is with the
//! log on; negative when it measured faster, i.e. within noise).

use std::time::Instant;

use baton_store::Role;
use clap::Args;
use serde_json::json;

use super::emit;
use super::harness::{BenchServer, EngineArgs};

/// Options for `baton bench reads`.
#[derive(Debug, Args)]
pub struct ReadsArgs {
    /// Reads of each kind per run.
    #[arg(long, default_value_t = 20_000)]
    pub n: u64,
    /// Reads in flight at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: u64,
    /// Events in the conversation read.
    #[arg(long, default_value_t = 40)]
    pub events: u64,
    /// The engine (embedded SQLite unless `--database-url` names PostgreSQL).
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// Reads per second of `path` with `key`, `n` in all, `concurrency` at a time.
async fn rate(
    server: &BenchServer,
    key: &str,
    path: &str,
    n: u64,
    concurrency: u64,
) -> anyhow::Result<f64> {
    let client = server.client(concurrency as usize)?;
    let url = format!("{}{path}", server.base);
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..concurrency {
        let (client, url, key) = (client.clone(), url.clone(), key.to_owned());
        let share = n / concurrency + u64::from(worker < n % concurrency);
        workers.push(tokio::spawn(async move {
            for _ in 0..share {
                let response = client.get(&url).bearer_auth(&key).send().await?;
                anyhow::ensure!(response.status().is_success(), "{}", response.status());
                response.bytes().await?;
            }
            anyhow::Ok(())
        }));
    }
    for worker in workers {
        worker.await??;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// One run: events/s and packages/s.
async fn run_once(args: &ReadsArgs, access_log: bool) -> anyhow::Result<(f64, f64)> {
    let config = baton_server::AppConfig {
        access_log,
        ..baton_server::AppConfig::default()
    };
    let server = BenchServer::start_with(&args.engine, config).await?;
    let client = server.client(1)?;
    let events: Vec<_> = (0..args.events)
        .map(|n| {
            let kind = if n % 2 == 0 { "customer_message" } else { "bot_message" };
            json!({"id": format!("e{n}"), "type": kind, "text": format!("line {n} about order 8823{n}")})
        })
        .collect();
    let response = client
        .post(format!(
            "{}/v1/conversations/bench-reads/events",
            server.base
        ))
        .bearer_auth(&server.bot_key)
        .json(&json!({ "events": events }))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "seed: {}",
        response.status()
    );
    let reader = baton_server::auth::issue_key(
        server.state.store.as_ref(),
        Role::Supervisor,
        None,
        baton_server::clock::Clock::System.now(),
    )
    .await
    .map_err(|e| anyhow::anyhow!(e.message))?;
    let base = "/v1/conversations/bench-reads";
    let events = rate(
        &server,
        &reader,
        &format!("{base}/events"),
        args.n,
        args.concurrency,
    )
    .await?;
    let package = rate(
        &server,
        &reader,
        &format!("{base}/package"),
        args.n,
        args.concurrency,
    )
    .await?;
    server.state.access.flush().await;
    server.store.clean_up().await?;
    Ok((events, package))
}

/// Runs the benchmark.
pub async fn run(args: ReadsArgs) -> anyhow::Result<()> {
    let (events_off, package_off) = run_once(&args, false).await?;
    let (events_on, package_on) = run_once(&args, true).await?;
    emit("reads_events_per_s_off", args.n, events_off, "reads/s");
    emit("reads_events_per_s_on", args.n, events_on, "reads/s");
    emit("reads_package_per_s_off", args.n, package_off, "reads/s");
    emit("reads_package_per_s_on", args.n, package_on, "reads/s");
    let cost = |off: f64, on: f64| (off - on) / off * 100.0;
    emit(
        "reads_access_log_cost_pct_events",
        args.n,
        cost(events_off, events_on),
        "%",
    );
    emit(
        "reads_access_log_cost_pct_package",
        args.n,
        cost(package_off, package_on),
        "%",
    );
    Ok(())
}
