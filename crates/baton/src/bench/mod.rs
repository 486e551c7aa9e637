//! `baton bench ...`: measured figures, one JSON object per line:
//! `{"bench", "n", "value", "unit"}`. Progress goes to stderr.

mod conversations;
mod decide;
mod fixture;
pub mod harness;
mod idle;
mod ingest;
mod ledger;
mod package;
mod reads;
mod route;
mod webhooks;

use std::process::ExitCode;

use clap::Subcommand;
use serde::Serialize;

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Durable ingest over HTTP: batched events/s and single-event requests/s.
    Ingest(ingest::IngestArgs),
    /// The conversation workload: turns, handoff with package read, agent reply.
    Conversations(conversations::ConversationsArgs),
    /// The decision engine's time per customer message with a long history.
    Decide(decide::DecideArgs),
    /// Building the context package of a long conversation.
    Package(package::PackageArgs),
    /// Resident memory with many open, quiet conversations.
    Idle(idle::IdleArgs),
    /// `baton ledger verify` over a large store: events verified per second.
    Ledger(ledger::LedgerArgs),
    /// Router assignment with many agents and a long queue.
    Route(route::RouteArgs),
    /// Webhook deliveries to a loopback receiver, and what the outbox costs appends.
    Webhooks(webhooks::WebhooksArgs),
    /// Event and package reads per second with the access log on and off.
    Reads(reads::ReadsArgs),
}

/// One figure.
#[derive(Debug, Serialize)]
pub struct Figure {
    /// Which figure.
    pub bench: String,
    /// Sample size it was measured over.
    pub n: u64,
    /// The value.
    pub value: f64,
    /// Its unit.
    pub unit: &'static str,
}

/// Prints a figure as one JSON line on stdout.
pub fn emit(bench: &str, n: u64, value: f64, unit: &'static str) {
    let figure = Figure {
        bench: bench.to_owned(),
        n,
        value: (value * 100.0).round() / 100.0,
        unit,
    };
    if let Ok(line) = serde_json::to_string(&figure) {
        println!("{line}");
    }
}

/// Prints `<name>_p50` and `<name>_p99` of `samples`, each over `n`.
pub fn emit_p50_p99(name: &str, n: u64, samples: &mut [f64], unit: &'static str) {
    for p in [50, 99] {
        let value = harness::percentile(samples, f64::from(p));
        emit(&format!("{name}_p{p}"), n, value, unit);
    }
}

/// Runs a benchmark.
pub async fn run(command: BenchCommand) -> anyhow::Result<ExitCode> {
    match command {
        BenchCommand::Ingest(args) => ingest::run(args).await?,
        BenchCommand::Conversations(args) => conversations::run(args).await?,
        BenchCommand::Decide(args) => decide::run(args)?,
        BenchCommand::Package(args) => package::run(args)?,
        BenchCommand::Route(args) => route::run(args)?,
        BenchCommand::Ledger(args) => ledger::run(args).await?,
        BenchCommand::Idle(args) => idle::run(args).await?,
        BenchCommand::Reads(args) => reads::run(args).await?,
        BenchCommand::Webhooks(args) => webhooks::run(args).await?,
    }
    Ok(ExitCode::SUCCESS)
}
