//! `baton bench ledger`: `baton ledger verify`'s speed over a large durable store.
//!
//! The store is filled through the engine's own append path (sealed, chained,
//! group-committed, with checkpoints) but without HTTP or the decision engine, so the
//! fill is quick; what is timed is only the verification: every event re-hashed and
//! chained, every conversation's tail and the checkpoint chain checked.

use std::sync::Arc;
use std::time::Instant;

use baton_core::ledger::GENESIS;
use baton_core::{ConversationId, Owner, Timestamp};
use baton_store::sqlite::SqliteStore;
use baton_store::{AppendBatch, ConversationSummary, SealedEvent, Store};
use clap::Args;
use futures_util::future::try_join_all;

use super::harness::progress;
use super::{emit, fixture};

/// Options for `baton bench ledger`.
#[derive(Debug, Args)]
pub struct LedgerArgs {
    /// Events in the store.
    #[arg(long, default_value_t = 1_000_000)]
    pub events: u64,
    /// Events per conversation.
    #[arg(long, default_value_t = 100)]
    pub per_conversation: u64,
}

/// Appends one conversation of `len` events, sealed and chained.
fn conversation(n: u64, len: usize) -> anyhow::Result<AppendBatch> {
    let events = fixture::history(len.div_ceil(3));
    let mut prev = GENESIS;
    let mut sealed = Vec::with_capacity(len);
    for event in events.iter().take(len) {
        let s = SealedEvent::seal(&prev, event)?;
        prev = s.hash;
        sealed.push(s);
    }
    let at = Timestamp::from_unix_millis(1_764_000_000_000);
    Ok(AppendBatch {
        conversation: ConversationId::parse(format!("ledger-{n}"))?,
        expected_last_seq: 0,
        events: sealed,
        summary: ConversationSummary {
            owner: Owner::Bot,
            customer: None,
            agent: None,
            started_at: at,
            updated_at: at,
            intent: None,
        },
        outbox: None,
        claim: None,
        data_key: None,
    })
}

/// Runs the benchmark.
pub async fn run(args: LedgerArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(SqliteStore::open(dir.path())?);
    let per = usize::try_from(args.per_conversation.clamp(1, 10_000))?;
    let conversations = args.events.div_ceil(per as u64);
    let bar = progress(conversations, "filling the store");
    // Batches are built once per shape: only the conversation id differs.
    let template = conversation(0, per)?;
    let mut next = 0;
    while next < conversations {
        let chunk: Vec<AppendBatch> = (next..(next + 256).min(conversations))
            .map(|n| {
                Ok(AppendBatch {
                    conversation: ConversationId::parse(format!("ledger-{n}"))?,
                    ..template.clone()
                })
            })
            .collect::<anyhow::Result<_>>()?;
        let count = chunk.len() as u64;
        try_join_all(chunk.into_iter().map(|batch| store.append(batch))).await?;
        next += count;
        bar.inc(count);
    }
    bar.finish_and_clear();
    let started = Instant::now();
    let verified = store
        .verify(None)
        .await?
        .map_err(|broken| anyhow::anyhow!("the fresh ledger does not verify: {broken:?}"))?;
    let secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        verified.events == conversations * per as u64,
        "verified {} events, wrote {}",
        verified.events,
        conversations * per as u64
    );
    emit(
        "ledger_verify",
        verified.events,
        verified.events as f64 / secs,
        "events/s",
    );
    Ok(())
}
