//! Appends: the group-commit writers, and the one transaction shape both commit modes
//! share.
//!
//! A group's batches are written in conversation order, whatever order they came in:
//! every node locks conversation rows in the same order and the checkpoint head last,
//! so two nodes' groups can wait for each other but never deadlock. Each batch is
//! checked under its conversation row's lock (`expected_last_seq`, then duplicate ids
//! in a statement whose snapshot follows the lock), so a refused batch writes nothing
//! and needs no savepoint: its neighbours commit.
//!
//! A batch that assigns its conversation ([`AppendBatch::claim`]) also takes its
//! agent's lock (a transaction-scoped advisory lock), before any conversation row:
//! agents in id order, then conversations, then the checkpoint head, the one order
//! every transaction on every node follows. Under it the agent's owned conversations
//! are counted by a statement that sees every claim committed before.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use baton_core::id::ConversationId;
use baton_core::ledger::Digest;
use baton_core::state::Owner;
use sqlx::postgres::{PgConnection, PgPool};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::{to_i64, to_u64};
use crate::StoreError;
use crate::model::{AppendBatch, AppendReceipt};

/// The most appends one transaction takes.
const MAX_GROUP: usize = 512;

/// An append waiting for a writer.
pub struct Job {
    /// The batch.
    pub batch: AppendBatch,
    /// Where its receipt goes once committed.
    pub reply: oneshot::Sender<Result<AppendReceipt, StoreError>>,
}

/// What the writers have committed since the store opened.
#[derive(Debug, Default)]
pub struct Counters {
    commits: AtomicU64,
    appends: AtomicU64,
    events: AtomicU64,
}

/// A snapshot of the counters: how many appends (and events) shared each commit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Transactions that appended.
    pub commits: u64,
    /// Appends committed in them.
    pub appends: u64,
    /// Events those appends carried.
    pub events: u64,
}

impl Counters {
    /// The counts so far.
    pub fn snapshot(&self) -> CommitStats {
        CommitStats {
            commits: self.commits.load(Ordering::Acquire),
            appends: self.appends.load(Ordering::Relaxed),
            events: self.events.load(Ordering::Relaxed),
        }
    }

    fn record(&self, appends: u64, events: u64) {
        self.appends.fetch_add(appends, Ordering::Relaxed);
        self.events.fetch_add(events, Ordering::Relaxed);
        self.commits.fetch_add(1, Ordering::Release);
    }
}

/// One writer: takes every append waiting, commits them together, answers them all;
/// until the store drops the queue.
pub async fn run(
    pool: PgPool,
    jobs: Arc<Mutex<mpsc::UnboundedReceiver<Job>>>,
    counters: Arc<Counters>,
) {
    loop {
        let group = {
            let mut queue = jobs.lock().await;
            let Some(first) = queue.recv().await else {
                return;
            };
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match queue.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
            group
        };
        let batches: Vec<&AppendBatch> = group.iter().map(|job| &job.batch).collect();
        match commit_group(&pool, &batches, &counters).await {
            Ok(results) => {
                for (job, result) in group.into_iter().zip(results) {
                    let _ = job.reply.send(result);
                }
            }
            Err(error) => {
                // Rolled back: nobody is acknowledged, everybody is told.
                tracing::error!(%error, "group commit failed; every append in it was rolled back");
                let message = error.to_string();
                for job in group {
                    let _ = job.reply.send(Err(StoreError::Engine(message.clone())));
                }
            }
        }
    }
}

/// One append in its own transaction ([`super::CommitMode::PerAppend`]).
pub async fn append_alone(
    pool: &PgPool,
    batch: AppendBatch,
    counters: &Counters,
) -> Result<AppendReceipt, StoreError> {
    let mut results = commit_group(pool, &[&batch], counters).await?;
    results
        .pop()
        .unwrap_or_else(|| Err(StoreError::Engine("no result for the append".into())))
}

/// Writes `batches` in one transaction and chains one checkpoint over the heads they
/// moved. The outer error rolled everything back; an inner one refused that batch
/// alone.
async fn commit_group(
    pool: &PgPool,
    batches: &[&AppendBatch],
    counters: &Counters,
) -> Result<Vec<Result<AppendReceipt, StoreError>>, StoreError> {
    let mut order: Vec<usize> = (0..batches.len()).collect();
    // Stable: one conversation's batches keep the order they came in.
    order.sort_by(|a, b| batches[*a].conversation.cmp(&batches[*b].conversation));
    let mut tx = pool.begin().await?;
    let mut claimed: Vec<&str> = batches
        .iter()
        .filter_map(|batch| batch.claim.as_ref().map(|c| c.agent.as_str()))
        .collect();
    claimed.sort_unstable();
    claimed.dedup();
    for agent in claimed {
        sqlx::query(
            "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '.baton.agent.' || $1, 0))",
        )
        .bind(agent)
        .execute(&mut *tx)
        .await?;
    }
    let mut outcomes: Vec<Option<Result<(u64, Digest), StoreError>>> =
        (0..batches.len()).map(|_| None).collect();
    let mut heads: BTreeMap<ConversationId, (u64, Digest)> = BTreeMap::new();
    let mut written = super::checkpoint::Written::default();
    for index in order {
        let batch = batches[index];
        let outcome = match batch.data_key {
            None => append_one(&mut tx, batch).await?,
            Some(_) => with_data_key(&mut tx, batch).await?,
        };
        if let Ok(head) = &outcome {
            heads.insert(batch.conversation.clone(), *head);
            for event in &batch.events {
                written.push(batch.conversation.as_str(), to_i64(event.seq)?);
            }
        }
        outcomes[index] = Some(outcome);
    }
    let checkpoint = if heads.is_empty() {
        0
    } else {
        super::checkpoint::chain(&mut tx, heads, written).await?
    };
    tx.commit().await?;
    let (mut appends, mut events) = (0, 0);
    let results: Vec<_> = outcomes
        .into_iter()
        .zip(batches)
        .map(|(outcome, batch)| match outcome {
            Some(Ok((last_seq, head))) => {
                appends += 1;
                events += batch.events.len() as u64;
                Ok(AppendReceipt {
                    last_seq,
                    head,
                    checkpoint,
                })
            }
            Some(Err(refused)) => Err(refused),
            None => Err(StoreError::Engine("append skipped".into())),
        })
        .collect();
    if appends > 0 {
        counters.record(appends, events);
    }
    Ok(results)
}

/// [`append_one`] for a batch that brings its conversation's first data key, in a
/// savepoint: the key goes in after the events, and should another node have stored
/// one meanwhile the batch is refused with its events rolled back, its neighbours
/// kept. Only a conversation's first sealed batch pays for the savepoint.
async fn with_data_key(
    tx: &mut PgConnection,
    batch: &AppendBatch,
) -> Result<Result<(u64, Digest), StoreError>, StoreError> {
    sqlx::query("SAVEPOINT data_key").execute(&mut *tx).await?;
    let mut outcome = append_one(tx, batch).await?;
    if let (Ok(_), Some(key)) = (&outcome, &batch.data_key)
        && !super::data_keys::insert_new(&mut *tx, key).await?
    {
        outcome = Err(batch.conflict(batch.expected_last_seq));
    }
    if outcome.is_err() {
        sqlx::query("ROLLBACK TO SAVEPOINT data_key")
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("RELEASE SAVEPOINT data_key")
        .execute(&mut *tx)
        .await?;
    Ok(outcome)
}

/// Checks and writes one batch inside the group's transaction.
async fn append_one(
    tx: &mut PgConnection,
    batch: &AppendBatch,
) -> Result<Result<(u64, Digest), StoreError>, StoreError> {
    let cid = batch.conversation.as_str();
    let Some(last) = batch.events.last() else {
        return Ok(Err(StoreError::Engine("empty batch".into())));
    };
    if let Some(repeated) = repeated_id(batch) {
        return Ok(Err(StoreError::DuplicateEventId(repeated)));
    }
    let mut seqs = Vec::with_capacity(batch.events.len());
    let mut ids = Vec::with_capacity(batch.events.len());
    let mut kinds = Vec::with_capacity(batch.events.len());
    let mut bodies = Vec::with_capacity(batch.events.len());
    let mut hashes = Vec::with_capacity(batch.events.len());
    for event in &batch.events {
        seqs.push(to_i64(event.seq)?);
        ids.push(event.id.as_str());
        kinds.push(event.kind);
        bodies.push(event.canonical.as_str());
        hashes.push(event.hash.0.to_vec());
    }
    if let Some(claim) = &batch.claim {
        let owned: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM conversations WHERE agent = $1 AND owner = $2 AND id <> $3",
        )
        .bind(claim.agent.as_str())
        .bind(Owner::Agent.as_str())
        .bind(cid)
        .fetch_one(&mut *tx)
        .await?;
        if owned >= i64::from(claim.capacity) {
            return Ok(Err(StoreError::AtCapacity {
                agent: claim.agent.to_string(),
                capacity: claim.capacity,
            }));
        }
    }
    let s = &batch.summary;
    let current: Option<i64> =
        sqlx::query_scalar("SELECT last_seq FROM conversations WHERE id = $1 FOR UPDATE")
            .bind(cid)
            .fetch_optional(&mut *tx)
            .await?;
    match current {
        Some(actual) => {
            let actual = to_u64(actual)?;
            if actual != batch.expected_last_seq {
                return Ok(Err(batch.conflict(actual)));
            }
            // A new statement, so a new snapshot: it sees every event committed by
            // whoever held the lock before us.
            let duplicate: Option<String> = sqlx::query_scalar(
                "WITH duplicate AS (
                     SELECT event_id FROM events WHERE conversation = $1 AND event_id = ANY($3) LIMIT 1
                 ), inserted AS (
                     INSERT INTO events (conversation, seq, event_id, kind, body, hash)
                     SELECT $1, e.* FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::bytea[]) AS e
                     WHERE NOT EXISTS (SELECT 1 FROM duplicate)
                 ), updated AS (
                     UPDATE conversations SET last_seq = $7, head = $8, owner = $9, customer = $10,
                         agent = $11, updated_at = $12, intent = $13
                     WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM duplicate)
                 )
                 SELECT event_id FROM duplicate",
            )
            .bind(cid)
            .bind(&seqs)
            .bind(&ids)
            .bind(&kinds)
            .bind(&bodies)
            .bind(&hashes)
            .bind(to_i64(last.seq)?)
            .bind(last.hash.0.as_slice())
            .bind(s.owner.as_str())
            .bind(s.customer.as_ref().map(|c| c.as_str()))
            .bind(s.agent.as_ref().map(|a| a.as_str()))
            .bind(s.updated_at.unix_millis())
            .bind(s.intent.as_ref().map(|i| i.as_str()))
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(id) = duplicate {
                return Ok(Err(StoreError::DuplicateEventId(id)));
            }
        }
        None => {
            if batch.expected_last_seq != 0 {
                return Ok(Err(batch.conflict(0)));
            }
            // Another node may be creating the same conversation: its uncommitted row
            // makes this insert wait, then do nothing, and the batch is stale.
            let written = sqlx::query(
                "WITH created AS (
                     INSERT INTO conversations (id, last_seq, head, owner, customer, agent, started_at, updated_at, intent)
                     VALUES ($1, $7, $8, $9, $10, $11, $12, $13, $14)
                     ON CONFLICT (id) DO NOTHING
                     RETURNING id
                 )
                 INSERT INTO events (conversation, seq, event_id, kind, body, hash)
                 SELECT created.id, e.* FROM created,
                     unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::bytea[]) AS e",
            )
            .bind(cid)
            .bind(&seqs)
            .bind(&ids)
            .bind(&kinds)
            .bind(&bodies)
            .bind(&hashes)
            .bind(to_i64(last.seq)?)
            .bind(last.hash.0.as_slice())
            .bind(s.owner.as_str())
            .bind(s.customer.as_ref().map(|c| c.as_str()))
            .bind(s.agent.as_ref().map(|a| a.as_str()))
            .bind(s.started_at.unix_millis())
            .bind(s.updated_at.unix_millis())
            .bind(s.intent.as_ref().map(|i| i.as_str()))
            .execute(&mut *tx)
            .await?;
            if written.rows_affected() == 0 {
                let actual: i64 =
                    sqlx::query_scalar("SELECT last_seq FROM conversations WHERE id = $1")
                        .bind(cid)
                        .fetch_one(&mut *tx)
                        .await?;
                return Ok(Err(batch.conflict(to_u64(actual)?)));
            }
        }
    }
    super::outbox::record(tx, batch).await?;
    Ok(Ok((last.seq, last.hash)))
}

/// An id used twice within one batch (the unique index would refuse it mid-group).
fn repeated_id(batch: &AppendBatch) -> Option<String> {
    let mut seen = std::collections::BTreeSet::new();
    batch
        .events
        .iter()
        .find(|event| !seen.insert(event.id.as_str()))
        .map(|event| event.id.to_string())
}
