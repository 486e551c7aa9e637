//! The single writer thread and its group commit.
//!
//! Every write goes through one thread that owns the write connection. It blocks for
//! the first job, then drains whatever else is waiting (up to [`MAX_GROUP`]) into the
//! same transaction: one fsync acknowledges them all. A conflicting batch is refused
//! alone and its neighbours commit: an append's seq check comes before it writes
//! anything, so appends run without a savepoint of their own; should one fail after
//! writing (a duplicate event id), the transaction is rolled back and the group run
//! again with a savepoint per job. Other jobs always have their savepoint.
//! Each transaction that appended events also appends one global checkpoint recording
//! the heads it touched.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};

use baton_core::id::ConversationId;
use baton_core::ledger::{CheckpointBody, Digest, GENESIS, Head, checkpoint_hash};
use baton_core::state::Owner;
use baton_core::timestamp::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::oneshot;

use crate::StoreError;
use crate::model::{
    AgentRecord, AppendBatch, AppendReceipt, KeyId, KeyRecord, RevokeOutcome, SessionRecord,
};

/// The most jobs one transaction takes.
const MAX_GROUP: usize = 1024;

/// A write waiting for the writer thread.
pub enum Job {
    /// Append a batch.
    Append(
        AppendBatch,
        oneshot::Sender<Result<AppendReceipt, StoreError>>,
    ),
    /// Store a key.
    Key(KeyRecord, oneshot::Sender<Result<(), StoreError>>),
    /// Store an agent.
    Agent(AgentRecord, oneshot::Sender<Result<(), StoreError>>),
    /// Revoke a key (unless it is the last working admin key) and end its sessions.
    RevokeKey(
        KeyId,
        Timestamp,
        oneshot::Sender<Result<RevokeOutcome, StoreError>>,
    ),
    /// Open a console session (and forget the expired ones).
    Session(SessionRecord, oneshot::Sender<Result<(), StoreError>>),
    /// End a console session.
    EndSession([u8; 32], oneshot::Sender<Result<(), StoreError>>),
    /// Any other write: it runs in its own savepoint and answers its caller itself.
    Write(Box<dyn WriteJob>),
}

/// A write the writer runs without knowing what it is (the outbox's, the webhooks'),
/// so a new kind of write needs no new arm here.
pub trait WriteJob: Send {
    /// Does the work inside the group's transaction (in a savepoint of its own).
    fn write(&self, tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError>;
    /// Answers the caller once the transaction's fate is known: `Ok` once committed.
    fn answer(self: Box<Self>, committed: Result<(), StoreError>);
}

/// A [`WriteJob`] made of a closure and the channel its value goes back on.
pub struct Typed<T, F> {
    work: std::sync::Mutex<Option<F>>,
    value: std::sync::Mutex<Option<T>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Typed<T, F>
where
    T: Send + 'static,
    F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
{
    /// The job for `work`, answered on `reply`.
    pub fn job(work: F, reply: oneshot::Sender<Result<T, StoreError>>) -> Job {
        Job::Write(Box::new(Self {
            work: std::sync::Mutex::new(Some(work)),
            value: std::sync::Mutex::new(None),
            reply,
        }))
    }
}

impl<T, F> WriteJob for Typed<T, F>
where
    T: Send + 'static,
    F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
{
    fn write(&self, tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
        let work = self
            .work
            .lock()
            .map_err(|_| StoreError::Closed)?
            .take()
            .ok_or_else(|| StoreError::Engine("a write job ran twice".into()))?;
        let value = work(tx)?;
        *self.value.lock().map_err(|_| StoreError::Closed)? = Some(value);
        Ok(())
    }

    fn answer(self: Box<Self>, committed: Result<(), StoreError>) {
        let Typed { value, reply, .. } = *self;
        let result = committed.and_then(|()| {
            value
                .into_inner()
                .ok()
                .flatten()
                .ok_or_else(|| StoreError::Engine("a write job left no result".into()))
        });
        let _ = reply.send(result);
    }
}

/// What the writer has done since the store opened: how many transactions it
/// committed, how many jobs (and append jobs) shared them, and how long it was busy.
/// Read by benchmarks to show how much each fsync is shared and whether the one
/// writer is what everything waits on.
#[derive(Debug, Default)]
pub struct WriterCounters {
    busy_ns: AtomicU64,
    commits: AtomicU64,
    jobs: AtomicU64,
    appends: AtomicU64,
    events: AtomicU64,
}

/// A snapshot of [`WriterCounters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Transactions committed (one fsync each).
    pub commits: u64,
    /// Jobs of any kind in them.
    pub jobs: u64,
    /// Append jobs (one conversation's batch each) in them.
    pub appends: u64,
    /// Events those appends carried.
    pub events: u64,
    /// Nanoseconds the writer spent writing and committing groups (fsync included):
    /// against wall time, how close the one writer is to saturation.
    pub busy_ns: u64,
}

impl WriterCounters {
    /// The counts so far.
    pub fn snapshot(&self) -> StoreStats {
        StoreStats {
            commits: self.commits.load(Ordering::Relaxed),
            jobs: self.jobs.load(Ordering::Relaxed),
            appends: self.appends.load(Ordering::Relaxed),
            events: self.events.load(Ordering::Relaxed),
            busy_ns: self.busy_ns.load(Ordering::Relaxed),
        }
    }

    fn record(&self, group: &[Job], busy: std::time::Duration) {
        let (mut appends, mut events) = (0, 0);
        for job in group {
            if let Job::Append(batch, _) = job {
                appends += 1;
                events += batch.events.len() as u64;
            }
        }
        self.jobs.fetch_add(group.len() as u64, Ordering::Relaxed);
        self.appends.fetch_add(appends, Ordering::Relaxed);
        self.events.fetch_add(events, Ordering::Relaxed);
        let busy_ns = u64::try_from(busy.as_nanos()).unwrap_or(u64::MAX);
        self.busy_ns.fetch_add(busy_ns, Ordering::Relaxed);
        // Last, so a reader that sees the commit also sees its jobs.
        self.commits.fetch_add(1, Ordering::Release);
    }
}

/// Runs the writer until every sender is dropped.
pub fn run(mut conn: Connection, jobs: Receiver<Job>, counters: Arc<WriterCounters>) {
    let mut last_checkpoint = match load_last_checkpoint(&conn) {
        Ok(last) => last,
        Err(error) => {
            tracing::error!(%error, "cannot read the checkpoint chain; writer stops");
            return;
        }
    };
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        commit_group(&mut conn, group, &mut last_checkpoint, &counters);
    }
}

fn load_last_checkpoint(conn: &Connection) -> Result<(u64, Digest), StoreError> {
    let row: Option<(u64, Vec<u8>)> = conn
        .query_row(
            "SELECT number, hash FROM checkpoints ORDER BY number DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        None => Ok((0, GENESIS)),
        Some((number, hash)) => Ok((number, super::digest_from(&hash)?)),
    }
}

enum JobResult {
    Append(Result<AppendReceipt, StoreError>),
    Unit(Result<(), StoreError>),
    Revoke(Result<RevokeOutcome, StoreError>),
}

fn commit_group(
    conn: &mut Connection,
    group: Vec<Job>,
    last_checkpoint: &mut (u64, Digest),
    counters: &WriterCounters,
) {
    let started = std::time::Instant::now();
    let outcome = match write_group(conn, &group, last_checkpoint, false) {
        Ok(None) => write_group(conn, &group, last_checkpoint, true).and_then(|outcome| {
            outcome.ok_or_else(|| StoreError::Engine("a guarded group asked to be rerun".into()))
        }),
        Ok(Some(outcome)) => Ok(outcome),
        Err(error) => Err(error),
    };
    match outcome {
        Ok((results, new_checkpoint)) => {
            // Counted before anyone is answered, so a caller's commit is always counted.
            counters.record(&group, started.elapsed());
            if let Some(checkpoint) = new_checkpoint {
                *last_checkpoint = checkpoint;
            }
            for (job, result) in group.into_iter().zip(results) {
                match (job, result) {
                    (Job::Append(_, reply), JobResult::Append(result)) => {
                        let _ = reply.send(result);
                    }
                    (
                        Job::Key(_, reply)
                        | Job::Agent(_, reply)
                        | Job::Session(_, reply)
                        | Job::EndSession(_, reply),
                        JobResult::Unit(result),
                    ) => {
                        let _ = reply.send(result);
                    }
                    (Job::RevokeKey(_, _, reply), JobResult::Revoke(result)) => {
                        let _ = reply.send(result);
                    }
                    (Job::Write(job), JobResult::Unit(result)) => job.answer(result),
                    _ => unreachable_pairing(),
                }
            }
        }
        Err(error) => {
            // The transaction rolled back: nobody is acknowledged, everybody is told.
            tracing::error!(%error, "group commit failed; every write in it was rolled back");
            let message = error.to_string();
            for job in group {
                match job {
                    Job::Append(_, reply) => {
                        let _ = reply.send(Err(StoreError::Engine(message.clone())));
                    }
                    Job::Key(_, reply)
                    | Job::Agent(_, reply)
                    | Job::Session(_, reply)
                    | Job::EndSession(_, reply) => {
                        let _ = reply.send(Err(StoreError::Engine(message.clone())));
                    }
                    Job::RevokeKey(_, _, reply) => {
                        let _ = reply.send(Err(StoreError::Engine(message.clone())));
                    }
                    Job::Write(job) => job.answer(Err(StoreError::Engine(message.clone()))),
                }
            }
        }
    }
}

/// Results are produced in job order and of the job's own kind.
fn unreachable_pairing() {
    tracing::error!("writer paired a result with a job of another kind");
}

type GroupOutcome = (Vec<JobResult>, Option<(u64, Digest)>);

/// Writes and commits a group; `None` (only when not `guarded`) when an append failed
/// after writing part of its batch: the transaction is rolled back, to be run again
/// with a savepoint per append.
fn write_group(
    conn: &mut Connection,
    group: &[Job],
    last_checkpoint: &(u64, Digest),
    guarded: bool,
) -> Result<Option<GroupOutcome>, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut results = Vec::with_capacity(group.len());
    let mut heads: BTreeMap<ConversationId, (u64, Digest)> = BTreeMap::new();
    let checkpoint_number = last_checkpoint.0 + 1;
    for job in group {
        results.push(match job {
            Job::Append(batch, _) => {
                let result = if guarded {
                    in_savepoint(&tx, |tx| append(tx, batch, checkpoint_number))
                } else {
                    match append(&tx, batch, checkpoint_number) {
                        // Refused before it wrote anything: nothing to roll back.
                        Err(conflict @ StoreError::Conflict { .. }) => Err(conflict),
                        Err(full @ StoreError::AtCapacity { .. }) => Err(full),
                        Err(_) => return Ok(None),
                        ok => ok,
                    }
                };
                if let Ok(receipt) = &result {
                    heads.insert(batch.conversation.clone(), (receipt.last_seq, receipt.head));
                }
                JobResult::Append(result)
            }
            Job::Key(key, _) => JobResult::Unit(in_savepoint(&tx, |tx| insert_key(tx, key))),
            Job::Agent(agent, _) => JobResult::Unit(in_savepoint(&tx, |tx| put_agent(tx, agent))),
            Job::RevokeKey(id, at, _) => {
                JobResult::Revoke(in_savepoint(&tx, |tx| revoke_key(tx, id, *at)))
            }
            Job::Session(session, _) => {
                JobResult::Unit(in_savepoint(&tx, |tx| insert_session(tx, session)))
            }
            Job::EndSession(hash, _) => JobResult::Unit(in_savepoint(&tx, |tx| {
                tx.execute(
                    "DELETE FROM console_sessions WHERE hash = ?1",
                    [hash.as_slice()],
                )?;
                Ok(())
            })),
            Job::Write(job) => JobResult::Unit(in_savepoint(&tx, |tx| job.write(tx))),
        });
    }
    let mut new_checkpoint = None;
    if !heads.is_empty() {
        let body = CheckpointBody {
            number: checkpoint_number,
            heads: heads
                .into_iter()
                .map(|(conversation, (seq, hash))| Head {
                    conversation,
                    seq,
                    hash,
                })
                .collect(),
        };
        let (canonical, hash) = checkpoint_hash(&last_checkpoint.1, &body)
            .map_err(|e| StoreError::Engine(e.to_string()))?;
        tx.execute(
            "INSERT INTO checkpoints (number, body, hash) VALUES (?1, ?2, ?3)",
            params![checkpoint_number, canonical, hash.0.as_slice()],
        )?;
        new_checkpoint = Some((checkpoint_number, hash));
    }
    tx.commit()?;
    Ok(Some((results, new_checkpoint)))
}

fn in_savepoint<T>(
    tx: &rusqlite::Transaction<'_>,
    work: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    // Cached statements: a savepoint per job is on the hot path of every append.
    tx.prepare_cached("SAVEPOINT job")?.execute([])?;
    match work(tx) {
        Ok(value) => {
            tx.prepare_cached("RELEASE job")?.execute([])?;
            Ok(value)
        }
        Err(error) => {
            tx.prepare_cached("ROLLBACK TO job")?.execute([])?;
            tx.prepare_cached("RELEASE job")?.execute([])?;
            Err(error)
        }
    }
}

fn append(
    tx: &rusqlite::Transaction<'_>,
    batch: &AppendBatch,
    checkpoint: u64,
) -> Result<AppendReceipt, StoreError> {
    let cid = batch.conversation.as_str();
    let s = &batch.summary;
    let stored: Option<(u64, bool)> = tx
        .prepare_cached(
            "SELECT last_seq, owner = ?2 AND customer IS ?3 AND agent IS ?4 AND intent IS ?5
             FROM conversations WHERE id = ?1",
        )?
        .query_row(
            params![
                cid,
                s.owner.as_str(),
                s.customer.as_ref().map(|c| c.as_str()),
                s.agent.as_ref().map(|a| a.as_str()),
                s.intent.as_ref().map(|i| i.as_str()),
            ],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (actual, only_the_head_moves) = stored.unwrap_or((0, false));
    if actual != batch.expected_last_seq {
        return Err(batch.conflict(actual));
    }
    let Some(last) = batch.events.last() else {
        return Err(StoreError::Engine("empty batch".into()));
    };
    // One writer: earlier claims of this group are already in the summaries counted.
    if let Some(claim) = &batch.claim {
        let owned: u64 = tx
            .prepare_cached(
                "SELECT count(*) FROM conversations WHERE agent = ?1 AND owner = ?2 AND id <> ?3",
            )?
            .query_row(
                params![claim.agent.as_str(), Owner::Agent.as_str(), cid],
                |r| r.get(0),
            )?;
        if owned >= u64::from(claim.capacity) {
            return Err(StoreError::AtCapacity {
                agent: claim.agent.to_string(),
                capacity: claim.capacity,
            });
        }
    }
    // Before any event: a refusal here leaves nothing to roll back.
    if let Some(key) = &batch.data_key
        && !super::data_keys::insert_new(tx, key)?
    {
        return Err(batch.conflict(actual));
    }
    {
        let mut insert = tx.prepare_cached(
            // The global position: one past the last, read in this transaction on the
            // one writer, so positions grow in commit order.
            "INSERT INTO events (conversation, seq, event_id, kind, body, hash, position)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, (SELECT ifnull(max(position), 0) + 1 FROM events))",
        )?;
        for event in &batch.events {
            insert
                .execute(params![
                    cid,
                    event.seq,
                    event.id.as_str(),
                    event.kind,
                    event.canonical,
                    event.hash.0.as_slice()
                ])
                .map_err(|e| match e {
                    rusqlite::Error::SqliteFailure(f, _)
                        if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                    {
                        StoreError::DuplicateEventId(event.id.to_string())
                    }
                    other => other.into(),
                })?;
        }
    }
    super::outbox::record(tx, batch)?;
    if only_the_head_moves {
        // Most appends change nothing but the head: the indexes on customer, agent,
        // intent and start are left alone instead of rewritten (the one on owner and
        // `updated_at` moves either way).
        tx.prepare_cached(
            "UPDATE conversations SET last_seq = ?2, head = ?3, updated_at = ?4 WHERE id = ?1",
        )?
        .execute(params![
            cid,
            last.seq,
            last.hash.0.as_slice(),
            s.updated_at.unix_millis(),
        ])?;
    } else {
        tx.prepare_cached(
            "INSERT INTO conversations (id, last_seq, head, owner, customer, agent, started_at, updated_at, intent)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq, head = excluded.head,
               owner = excluded.owner, customer = excluded.customer, agent = excluded.agent,
               updated_at = excluded.updated_at, intent = excluded.intent",
        )?
        .execute(params![
            cid,
            last.seq,
            last.hash.0.as_slice(),
            s.owner.as_str(),
            s.customer.as_ref().map(|c| c.as_str()),
            s.agent.as_ref().map(|a| a.as_str()),
            s.started_at.unix_millis(),
            s.updated_at.unix_millis(),
            s.intent.as_ref().map(|i| i.as_str()),
        ])?;
    }
    Ok(AppendReceipt {
        last_seq: last.seq,
        head: last.hash,
        checkpoint,
    })
}

fn insert_key(tx: &rusqlite::Transaction<'_>, key: &KeyRecord) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO api_keys (id, hash, role, agent, name, created_at, expires_at, revoked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            key.id.as_str(),
            key.hash.as_slice(),
            key.role.as_str(),
            key.agent.as_ref().map(|a| a.as_str()),
            key.name.as_ref().map(|n| n.as_str()),
            key.created_at.unix_millis(),
            key.expires_at.map(Timestamp::unix_millis),
            key.revoked_at.map(Timestamp::unix_millis),
        ],
    )?;
    Ok(())
}

/// The last-admin check and the revocation share one transaction on the one writer, so
/// two admins revoking each other at once cannot both succeed.
fn revoke_key(
    tx: &rusqlite::Transaction<'_>,
    id: &KeyId,
    at: Timestamp,
) -> Result<RevokeOutcome, StoreError> {
    let Some(mut key) = super::read::find_key_by_id(tx, id)? else {
        return Ok(RevokeOutcome::NotFound);
    };
    if key.revoked_at.is_some() {
        return Ok(RevokeOutcome::AlreadyRevoked(key));
    }
    if key.role == crate::Role::Admin
        && key.dead_at(at).is_none()
        && super::read::admin_key_count(tx, at)? <= 1
    {
        return Ok(RevokeOutcome::LastAdmin);
    }
    tx.execute(
        "UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2",
        params![at.unix_millis(), id.as_str()],
    )?;
    tx.execute(
        "DELETE FROM console_sessions WHERE key_hash = ?1",
        [key.hash.as_slice()],
    )?;
    key.revoked_at = Some(at);
    Ok(RevokeOutcome::Revoked(key))
}

/// Sessions past their expiry are deleted whenever one opens, so the table holds only
/// live ones (plus those that expired since the last sign-in).
fn insert_session(
    tx: &rusqlite::Transaction<'_>,
    session: &SessionRecord,
) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM console_sessions WHERE expires_at <= ?1",
        [session.created_at.unix_millis()],
    )?;
    tx.execute(
        "INSERT INTO console_sessions (hash, key_hash, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            session.hash.as_slice(),
            session.key_hash.as_slice(),
            session.created_at.unix_millis(),
            session.expires_at.unix_millis(),
        ],
    )?;
    Ok(())
}

fn put_agent(tx: &rusqlite::Transaction<'_>, agent: &AgentRecord) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO agents (id, profile, presence, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET profile = excluded.profile, presence = excluded.presence,
           updated_at = excluded.updated_at",
        params![
            agent.id.as_str(),
            agent.profile,
            agent.presence,
            agent.updated_at.unix_millis()
        ],
    )?;
    Ok(())
}
