//! `baton bench idle`: memory held for conversations that are open but quiet.
//!
//! Each conversation gets one turn (customer message, the bot's NLU reading, its reply)
//! through the in-process append path, so the server holds what it holds for any live
//! conversation: folded state, signals, known facts and the chain head. The figure is
//! the process's resident memory once all of them are open.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use baton_core::ConversationId;
use baton_server::append::AppendRequest;
use baton_server::auth::Principal;
use baton_server::flow::append_events;
use baton_store::Role;
use clap::Args;

use super::harness::{BenchServer, progress, rss_mb};
use super::{emit, fixture};

/// Options for `baton bench idle`.
#[derive(Debug, Args)]
pub struct IdleArgs {
    /// Conversations to open.
    #[arg(long, default_value_t = 100_000)]
    pub conversations: u64,
    /// Appends in flight at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: u64,
}

/// Runs the benchmark.
pub async fn run(args: IdleArgs) -> anyhow::Result<()> {
    let server = BenchServer::start(&super::harness::EngineArgs::embedded()).await?;
    let before = rss_mb();
    let turn: Vec<serde_json::Value> = fixture::calm_turn(0).into();
    let bot = Principal::in_process(Role::Bot, None);
    let next = Arc::new(AtomicU64::new(0));
    let bar = progress(args.conversations, "opening conversations");
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let (app, bot, next, bar, turn) = (
            server.state.clone(),
            bot.clone(),
            Arc::clone(&next),
            bar.clone(),
            turn.clone(),
        );
        let total = args.conversations;
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return Ok::<(), anyhow::Error>(());
                }
                let cid = ConversationId::parse(format!("idle-{n}"))?;
                let request = AppendRequest {
                    events: turn.clone(),
                    expected_seq: None,
                };
                append_events(&app, &bot, &cid, request)
                    .await
                    .map_err(|e| anyhow::anyhow!("{}: {}", e.code, e.message))?;
                bar.inc(1);
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    bar.finish_and_clear();
    let held = server.state.conversations.len() as u64;
    anyhow::ensure!(
        held >= args.conversations,
        "only {held} conversations are held in memory"
    );
    let after = rss_mb();
    emit("idle_rss_mb", held, after, "MiB");
    emit(
        "idle_kib_per_conversation",
        held,
        (after - before).max(0.0) * 1024.0 / held.max(1) as f64,
        "KiB",
    );
    Ok(())
}
