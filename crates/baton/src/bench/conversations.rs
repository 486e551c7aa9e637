//! `baton bench conversations`: the conversation workload comparisons use. In process,
//! against a fresh durable embedded store, C conversations at a time, each strictly in
//! order and each append its own acknowledged call: T turns of a customer message then
//! a bot reply with its `nlu`; a `handoff_requested` and the agent's read of the
//! package; then, once the agent has accepted the offer, one agent message.
//!
//! The first C conversations start together and run in lockstep, so their C handoffs
//! land in the same few milliseconds: a synchronized burst no live traffic makes,
//! and with 1000 conversations and C=64 it is most of the slowest 1 %. Besides the
//! handoff percentiles over all conversations, `handoff_ms_p99_steady` leaves that
//! first wave out, and `turn_ms_p99_steady` does the same for turns.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use baton_core::router::{AgentProfile, ConversationRouting, Presence};
use baton_core::{AgentId, ConversationId, Label};
use baton_server::AppState;
use baton_server::append::AppendRequest;
use baton_server::auth::Principal;
use baton_server::flow::append_events;
use baton_server::routing::GateStats;
use baton_store::Role;
use clap::Args;
use serde_json::json;

use super::fixture::{REPLIES, TURNS};
use super::harness::{
    BenchServer, BenchStore, Commits, EngineArgs, peak_rss_mb, percentile, progress,
};
use super::{emit, emit_p50_p99};

/// Options for `baton bench conversations`.
#[derive(Debug, Args)]
pub struct ConversationsArgs {
    /// Conversations.
    #[arg(long, default_value_t = 1000)]
    pub conversations: u64,
    /// Turns per conversation before the handoff.
    #[arg(long, default_value_t = 10)]
    pub turns: u64,
    /// Conversations in flight at once (1: round-robin, one call at a time).
    #[arg(long, default_value_t = 64)]
    pub concurrency: u64,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Default)]
struct Timings {
    /// (conversation number, turn time)
    turns_ms: Vec<(u64, f64)>,
    /// (conversation number, handoff time)
    handoffs_ms: Vec<(u64, f64)>,
    messages: u64,
    /// Group commits the store made while each turn was in flight: how many commits
    /// one turn waited through (it needs two of its own).
    turn_commits: Vec<f64>,
    /// The same for each handoff (append to package).
    handoff_commits: Vec<f64>,
}

impl Timings {
    fn extend(&mut self, other: Timings) {
        self.turns_ms.extend(other.turns_ms);
        self.handoffs_ms.extend(other.handoffs_ms);
        self.messages += other.messages;
        self.turn_commits.extend(other.turn_commits);
        self.handoff_commits.extend(other.handoff_commits);
    }
}

async fn append(
    app: &AppState,
    who: &Principal,
    cid: &ConversationId,
    events: serde_json::Value,
) -> anyhow::Result<()> {
    let request = AppendRequest {
        events: serde_json::from_value(events)?,
        expected_seq: None,
    };
    append_events(app, who, cid, request)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {}", e.code, e.message))?;
    Ok(())
}

async fn offer_for(app: &AppState, cid: &ConversationId) -> anyhow::Result<baton_core::OfferId> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(ConversationRouting::Offered(offer)) =
            app.routing.lock().await.router.conversation(cid)
        {
            return Ok(offer.offer_id);
        }
        anyhow::ensure!(Instant::now() < deadline, "no offer for {cid} within 30 s");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// One conversation of the workload, start to finish.
async fn one(
    app: &AppState,
    store: &BenchStore,
    bot: &Principal,
    agent: &Principal,
    n: u64,
    turns: u64,
    t: &mut Timings,
) -> anyhow::Result<()> {
    let cid = ConversationId::parse(format!("bench-{n}"))?;
    let commits = || store.stats().commits as f64;
    for turn in 0..turns {
        let started = Instant::now();
        let commits_before = commits();
        let text = TURNS[turn as usize % TURNS.len()];
        append(
            app,
            bot,
            &cid,
            json!([{"type": "customer_message", "text": text}]),
        )
        .await?;
        append(
            app,
            bot,
            &cid,
            json!([
                {"type": "nlu", "intent": "billing.refund_status", "confidence": 0.91},
                {"type": "bot_message", "text": REPLIES[turn as usize % REPLIES.len()]}
            ]),
        )
        .await?;
        t.turns_ms.push((n, started.elapsed().as_secs_f64() * 1e3));
        t.turn_commits.push(commits() - commits_before);
        t.messages += 3;
    }
    let started = Instant::now();
    let commits_before = commits();
    append(app, bot, &cid, json!([{"type": "handoff_requested", "reason": "customer wants a human to confirm", "skills": ["billing"]}])).await?;
    let package = baton_server::package::build(app, Role::Agent, &cid)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    std::hint::black_box(&package);
    t.handoffs_ms
        .push((n, started.elapsed().as_secs_f64() * 1e3));
    t.handoff_commits.push(commits() - commits_before);
    t.messages += 1;
    let offer = offer_for(app, &cid).await?;
    let agent_id = agent
        .agent
        .clone()
        .ok_or_else(|| anyhow::anyhow!("agent principal without id"))?;
    baton_server::routing::accept_offer(app, &agent_id, &offer)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    append(app, agent, &cid, json!([{"type": "agent_message", "text": "Hi, I'm confirming the refund for order 88231 now."}])).await?;
    t.messages += 1;
    Ok(())
}

/// Runs the benchmark.
pub async fn run(args: ConversationsArgs) -> anyhow::Result<()> {
    let server = BenchServer::start(&args.engine).await?;
    let measured = measure(&server, &args).await;
    server.store.clean_up().await?;
    measured
}

async fn measure(server: &BenchServer, args: &ConversationsArgs) -> anyhow::Result<()> {
    let app = server.state.clone();
    let agent_id = AgentId::parse("bench-agent")?;
    let skills = [(Label::parse("billing")?, 5)].into_iter().collect();
    let capacity = u32::try_from(args.conversations.max(1))
        .unwrap_or(u32::MAX)
        .min(100_000);
    baton_server::routing::put_agent(
        &app,
        AgentProfile {
            id: agent_id.clone(),
            skills,
            capacity,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!(e.message))?;
    baton_server::routing::set_presence(&app, &agent_id, Presence::Available)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let bot = Principal::in_process(Role::Bot, None);
    let agent = Principal::in_process(Role::Agent, Some(agent_id));
    let next = Arc::new(AtomicU64::new(0));
    let bar = progress(args.conversations, "conversations");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let (app, store, bot, agent, next, bar) = (
            app.clone(),
            Arc::clone(&server.store),
            bot.clone(),
            agent.clone(),
            Arc::clone(&next),
            bar.clone(),
        );
        let (total, turns) = (args.conversations, args.turns);
        tasks.push(tokio::spawn(async move {
            let mut timings = Timings::default();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return Ok::<Timings, anyhow::Error>(timings);
                }
                one(&app, &store, &bot, &agent, n, turns, &mut timings).await?;
                bar.inc(1);
            }
        }));
    }
    let stats_before = server.store.stats();
    let gate_before = app.routing.gate_stats();
    let mut all = Timings::default();
    for task in tasks {
        all.extend(task.await??);
    }
    let secs = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let n = args.conversations;
    emit(
        "events_per_s",
        all.messages,
        all.messages as f64 / secs,
        "events/s",
    );
    let turns = all.turns_ms.len() as u64;
    let mut turns_ms: Vec<f64> = all.turns_ms.iter().map(|&(_, ms)| ms).collect();
    emit_p50_p99("turn_ms", turns, &mut turns_ms, "ms");
    let mut handoffs: Vec<f64> = all.handoffs_ms.iter().map(|&(_, ms)| ms).collect();
    emit_p50_p99("handoff_ms", n, &mut handoffs, "ms");
    let first_wave = args.concurrency.max(1);
    emit_steady_p99("handoff_ms_p99_steady", &all.handoffs_ms, first_wave);
    emit_steady_p99("turn_ms_p99_steady", &all.turns_ms, first_wave);
    emit_waits(
        &mut all,
        server.store.stats(),
        stats_before,
        &app,
        gate_before,
        n,
        secs,
    );
    let bytes = server.store.disk_bytes().await?;
    emit(
        "bytes_per_conversation",
        n,
        bytes as f64 / n.max(1) as f64,
        "bytes",
    );
    emit("peak_rss_mb", n, peak_rss_mb(), "MiB");
    Ok(())
}

/// The p99 of the samples of conversations after the first wave.
fn emit_steady_p99(name: &str, samples: &[(u64, f64)], first_wave: u64) {
    let mut steady: Vec<f64> = samples
        .iter()
        .filter(|&&(number, _)| number >= first_wave)
        .map(|&(_, ms)| ms)
        .collect();
    if !steady.is_empty() {
        emit(
            name,
            steady.len() as u64,
            percentile(&mut steady, 99.0),
            "ms",
        );
    }
}

/// What the workload waited on: how busy the one writer was, how many appends shared
/// each group commit, how many commits a turn and a handoff were in flight for, and
/// the routing gate.
fn emit_waits(
    all: &mut Timings,
    after: Commits,
    before: Commits,
    app: &AppState,
    gate_before: GateStats,
    n: u64,
    secs: f64,
) {
    let commits = after.commits - before.commits;
    if let (Some(busy_after), Some(busy_before)) = (after.writer_busy_ns, before.writer_busy_ns) {
        // Near 100 %: appends queue behind the one writer, whatever the fsync costs.
        emit(
            "writer_busy_pct",
            commits,
            (busy_after - busy_before) as f64 / 1e9 / secs.max(f64::EPSILON) * 100.0,
            "%",
        );
    }
    let appends = after.appends - before.appends;
    emit(
        "appends_per_commit",
        commits,
        appends as f64 / commits.max(1) as f64,
        "appends",
    );
    // 2T turn appends, the handoff, the agent's reply, and the router's `offered` and
    // `assigned`: with the first offer in the handoff's own batch, one append fewer.
    emit(
        "appends_per_conversation",
        n,
        appends as f64 / n.max(1) as f64,
        "appends",
    );
    emit(
        "events_per_commit",
        commits,
        (after.events - before.events) as f64 / commits.max(1) as f64,
        "events",
    );
    let turns = all.turn_commits.len() as u64;
    emit_p50_p99("commits_per_turn", turns, &mut all.turn_commits, "commits");
    emit_p50_p99(
        "commits_per_handoff",
        n,
        &mut all.handoff_commits,
        "commits",
    );
    let gate = app.routing.gate_stats();
    let takes = gate.takes - gate_before.takes;
    emit(
        "routing_gate_wait_ms_mean",
        takes,
        (gate.waited_ns - gate_before.waited_ns) as f64 / takes.max(1) as f64 / 1e6,
        "ms",
    );
    emit(
        "routing_gate_wait_ms_max",
        takes,
        gate.longest_ns as f64 / 1e6,
        "ms",
    );
}
