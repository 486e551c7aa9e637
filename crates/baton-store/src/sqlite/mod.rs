//! The embedded engine: one SQLite file in the data directory, WAL, `synchronous=FULL`.
//!
//! Writes go to the group-commit writer thread ([`writer`]); reads use a small pool of
//! connections on the blocking thread pool, which WAL lets run beside the writer.

mod access;
mod checkpointer;
mod data_keys;
mod feed;
mod outbox;
mod read;
mod schema;
mod verify;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};

use baton_core::id::{AgentId, ConversationId, CustomerId, EventId};
use baton_core::ledger::Digest;
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::data_keys::{DataKeyRecord, Rewrap};
use crate::model::*;
use crate::outbox::*;
use crate::{Store, StoreError, StoreFuture};
use writer::Job;
pub use writer::StoreStats;

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "baton.db";

/// The embedded SQLite store.
pub struct SqliteStore {
    writer: Mutex<Option<mpsc::Sender<Job>>>,
    /// Dropped with the store, which ends the checkpointer thread.
    _stop_checkpoints: mpsc::Sender<()>,
    readers: Arc<ReadPool>,
    path: PathBuf,
    counters: Arc<writer::WriterCounters>,
    /// Shared with the checkpointer, which finishes a busy erasure's log truncation.
    scrubs: Arc<data_keys::Scrubs>,
}

struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl ReadPool {
    fn with<T>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self.idle.lock().map_err(|_| StoreError::Closed)?.pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => {
                let conn = Connection::open(&self.path)?;
                schema::configure(&conn)?;
                conn
            }
        };
        let result = work(&conn);
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(conn);
        }
        result
    }
}

pub(crate) fn digest_from(bytes: &[u8]) -> Result<Digest, StoreError> {
    <[u8; 32]>::try_from(bytes)
        .map(Digest)
        .map_err(|_| StoreError::Corrupt(format!("hash of {} bytes, expected 32", bytes.len())))
}

impl SqliteStore {
    /// Opens (creating if needed) the store in `data_dir`, migrating its schema.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Engine(format!("cannot create {}: {e}", data_dir.display()))
        })?;
        let path = data_dir.join(DB_FILE);
        let mut conn = Connection::open(&path)?;
        schema::configure(&conn)?;
        schema::configure_writer(&conn)?;
        schema::migrate(&mut conn)?;
        let scrubs = Arc::new(data_keys::Scrubs::default());
        data_keys::scrub_on_open(&conn, &scrubs)?;
        let (sender, receiver) = mpsc::channel();
        let counters = Arc::new(writer::WriterCounters::default());
        let counted = Arc::clone(&counters);
        std::thread::Builder::new()
            .name("baton-sqlite-writer".into())
            .spawn(move || writer::run(conn, receiver, counted))
            .map_err(|e| StoreError::Engine(format!("cannot start writer thread: {e}")))?;
        let (stop_checkpoints, stop) = mpsc::channel();
        let checkpointed = path.clone();
        let scrubbed = Arc::clone(&scrubs);
        std::thread::Builder::new()
            .name("baton-sqlite-checkpointer".into())
            .spawn(move || checkpointer::run(checkpointed, stop, scrubbed))
            .map_err(|e| StoreError::Engine(format!("cannot start checkpointer thread: {e}")))?;
        Ok(Self {
            writer: Mutex::new(Some(sender)),
            _stop_checkpoints: stop_checkpoints,
            readers: Arc::new(ReadPool {
                path: path.clone(),
                idle: Mutex::new(Vec::new()),
            }),
            path,
            counters,
            scrubs,
        })
    }

    /// What the writer has committed so far, and how many writes shared each commit.
    pub fn stats(&self) -> StoreStats {
        self.counters.snapshot()
    }

    /// Opens the store read-only for offline verification, without migrating.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn submit<T: Send + 'static>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Job,
    ) -> StoreFuture<'_, T> {
        let (reply, answer) = oneshot::channel();
        let sent = self
            .writer
            .lock()
            .map_err(|_| StoreError::Closed)
            .and_then(|guard| {
                guard
                    .as_ref()
                    .ok_or(StoreError::Closed)?
                    .send(make(reply))
                    .map_err(|_| StoreError::Closed)
            });
        Box::pin(async move {
            sent?;
            answer.await.map_err(|_| StoreError::Closed)?
        })
    }

    /// Runs `work` on the writer thread, in its own savepoint of a group commit.
    fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreFuture<'_, T> {
        self.submit(|reply| writer::Typed::job(work, reply))
    }

    fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreFuture<'_, T> {
        let pool = Arc::clone(&self.readers);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || pool.with(work))
                .await
                .map_err(|e| StoreError::Engine(format!("read task failed: {e}")))?
        })
    }

    /// Stops accepting writes; the writer finishes what it holds and exits.
    pub fn close(&self) {
        if let Ok(mut guard) = self.writer.lock() {
            guard.take();
        }
    }
}

impl Store for SqliteStore {
    fn append(&self, batch: AppendBatch) -> StoreFuture<'_, AppendReceipt> {
        self.submit(|reply| Job::Append(batch, reply))
    }

    fn find_event_ids<'a>(
        &'a self,
        conversation: &'a ConversationId,
        ids: &'a [EventId],
    ) -> StoreFuture<'a, Vec<StoredRef>> {
        let conversation = conversation.clone();
        let ids = ids.to_vec();
        self.read(move |conn| read::find_event_ids(conn, &conversation, &ids))
    }

    fn events_after<'a>(
        &'a self,
        conversation: &'a ConversationId,
        after_seq: u64,
        limit: u32,
    ) -> StoreFuture<'a, Vec<StoredEvent>> {
        let conversation = conversation.clone();
        self.read(move |conn| read::events_after(conn, &conversation, after_seq, limit))
    }

    fn events_page<'a>(
        &'a self,
        conversation: &'a ConversationId,
        after_seq: u64,
        limit: u32,
        max_bytes: usize,
    ) -> StoreFuture<'a, EventsPage> {
        let conversation = conversation.clone();
        self.read(move |conn| read::events_page(conn, &conversation, after_seq, limit, max_bytes))
    }

    fn events_tail<'a>(
        &'a self,
        conversation: &'a ConversationId,
        limit: u32,
        max_bytes: usize,
    ) -> StoreFuture<'a, Vec<StoredEvent>> {
        let conversation = conversation.clone();
        self.read(move |conn| read::events_tail(conn, &conversation, limit, max_bytes))
    }

    fn events_of_kinds<'a>(
        &'a self,
        kinds: &'a [&'a str],
        since: baton_core::Timestamp,
        limit: u32,
    ) -> StoreFuture<'a, Vec<KindEvent>> {
        let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
        self.read(move |conn| read::events_of_kinds(conn, &kinds, since, limit))
    }

    fn conversation<'a>(
        &'a self,
        conversation: &'a ConversationId,
    ) -> StoreFuture<'a, Option<ConversationRow>> {
        let conversation = conversation.clone();
        self.read(move |conn| read::conversation(conn, &conversation))
    }

    fn conversations(&self, filter: ConversationFilter) -> StoreFuture<'_, Vec<ConversationRow>> {
        self.read(move |conn| read::conversations(conn, &filter))
    }

    fn search_conversations(
        &self,
        query: ConversationQuery,
    ) -> StoreFuture<'_, Vec<ConversationRow>> {
        self.read(move |conn| read::search_conversations(conn, &query))
    }

    fn conversations_of_customer<'a>(
        &'a self,
        customer: &'a CustomerId,
    ) -> StoreFuture<'a, Vec<ConversationRow>> {
        let customer = customer.clone();
        self.read(move |conn| read::conversations_of_customer(conn, &customer))
    }

    fn insert_key(&self, key: KeyRecord) -> StoreFuture<'_, ()> {
        self.submit(|reply| Job::Key(key, reply))
    }

    fn find_key<'a>(&'a self, hash: &'a [u8; 32]) -> StoreFuture<'a, Option<KeyRecord>> {
        let hash = *hash;
        self.read(move |conn| read::find_key(conn, &hash))
    }

    fn admin_key_count(&self, now: baton_core::Timestamp) -> StoreFuture<'_, u64> {
        self.read(move |conn| read::admin_key_count(conn, now))
    }

    fn keys(&self) -> StoreFuture<'_, Vec<KeyRecord>> {
        self.read(read::keys)
    }

    fn revoke_key<'a>(
        &'a self,
        id: &'a KeyId,
        at: baton_core::Timestamp,
    ) -> StoreFuture<'a, RevokeOutcome> {
        let id = id.clone();
        self.submit(move |reply| Job::RevokeKey(id, at, reply))
    }

    fn insert_session(&self, session: SessionRecord) -> StoreFuture<'_, ()> {
        self.submit(|reply| Job::Session(session, reply))
    }

    fn find_session<'a>(&'a self, hash: &'a [u8; 32]) -> StoreFuture<'a, Option<SessionRecord>> {
        let hash = *hash;
        self.read(move |conn| read::find_session(conn, &hash))
    }

    fn delete_session<'a>(&'a self, hash: &'a [u8; 32]) -> StoreFuture<'a, ()> {
        let hash = *hash;
        self.submit(move |reply| Job::EndSession(hash, reply))
    }

    fn put_agent(&self, agent: AgentRecord) -> StoreFuture<'_, ()> {
        self.submit(|reply| Job::Agent(agent, reply))
    }

    fn agent<'a>(&'a self, id: &'a AgentId) -> StoreFuture<'a, Option<AgentRecord>> {
        let id = id.clone();
        self.read(move |conn| read::agent(conn, &id))
    }

    fn agents(&self) -> StoreFuture<'_, Vec<AgentRecord>> {
        self.read(read::agents)
    }

    fn verify(
        &self,
        only: Option<ConversationId>,
    ) -> StoreFuture<'_, Result<baton_core::ledger::Verified, baton_core::ledger::Break>> {
        self.read(move |conn| {
            let verified = match verify::verify(conn, only.as_ref())? {
                Ok(verified) => verified,
                broken => return Ok(broken),
            };
            if only.is_some() {
                return Ok(Ok(verified));
            }
            Ok(
                access::verify(conn)?.map(|entries| baton_core::ledger::Verified {
                    access_entries: Some(entries),
                    ..verified
                }),
            )
        })
    }

    fn checkpoint_trail<'a>(
        &'a self,
        conversation: &'a ConversationId,
    ) -> StoreFuture<'a, CheckpointTrail> {
        let conversation = conversation.clone();
        self.read(move |conn| verify::checkpoint_trail(conn, &conversation))
    }

    fn disk_bytes(&self) -> StoreFuture<'_, u64> {
        let path = self.path.clone();
        Box::pin(async move {
            let mut total = 0;
            for suffix in ["", "-wal", "-shm"] {
                let file = PathBuf::from(format!("{}{suffix}", path.display()));
                if let Ok(meta) = std::fs::metadata(file) {
                    total += meta.len();
                }
            }
            Ok(total)
        })
    }

    fn feed_page<'a>(
        &'a self,
        after: u64,
        kinds: &'a [&'a str],
        limit: u32,
        max_bytes: usize,
    ) -> StoreFuture<'a, FeedPage> {
        let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
        self.read(move |conn| feed::feed_page(conn, after, &kinds, limit, max_bytes))
    }

    fn feed_head(&self) -> StoreFuture<'_, u64> {
        self.read(feed::feed_head)
    }

    fn put_webhook(&self, webhook: WebhookRecord) -> StoreFuture<'_, ()> {
        self.write(move |tx| outbox::put_webhook(tx, &webhook))
    }

    fn webhooks(&self) -> StoreFuture<'_, Vec<WebhookRecord>> {
        self.read(outbox::webhooks)
    }

    fn delete_webhook<'a>(&'a self, id: &'a WebhookId) -> StoreFuture<'a, bool> {
        let id = id.clone();
        self.write(move |tx| outbox::delete_webhook(tx, &id))
    }

    fn claim_deliveries(
        &self,
        now: baton_core::Timestamp,
        lease_until: baton_core::Timestamp,
        limit: u32,
    ) -> StoreFuture<'_, Vec<Delivery>> {
        self.write(move |tx| outbox::claim(tx, now, lease_until, limit))
    }

    fn finish_delivery(&self, id: u64, attempt: Attempt, finish: Finish) -> StoreFuture<'_, ()> {
        self.write(move |tx| outbox::finish(tx, id, &attempt, &finish))
    }

    fn deliveries(&self, query: DeliveryQuery) -> StoreFuture<'_, Vec<Delivery>> {
        self.read(move |conn| outbox::deliveries(conn, &query))
    }

    fn replay_deliveries<'a>(
        &'a self,
        webhook: &'a WebhookId,
        since: baton_core::Timestamp,
        now: baton_core::Timestamp,
    ) -> StoreFuture<'a, u64> {
        let webhook = webhook.clone();
        self.write(move |tx| outbox::replay(tx, &webhook, since, now))
    }

    fn outbox_stats(&self) -> StoreFuture<'_, OutboxStats> {
        self.read(outbox::stats)
    }

    fn put_data_key(&self, key: DataKeyRecord) -> StoreFuture<'_, DataKeyRecord> {
        self.write(move |tx| data_keys::put(tx, &key))
    }

    fn data_key<'a>(
        &'a self,
        conversation: &'a ConversationId,
    ) -> StoreFuture<'a, Option<DataKeyRecord>> {
        let conversation = conversation.clone();
        self.read(move |conn| data_keys::get(conn, &conversation))
    }

    fn data_keys(&self) -> StoreFuture<'_, Vec<DataKeyRecord>> {
        self.read(data_keys::all)
    }

    fn rewrap_data_keys(&self, keys: Vec<Rewrap>) -> StoreFuture<'_, u64> {
        self.write(move |tx| data_keys::rewrap(tx, &keys))
    }

    fn destroy_data_key<'a>(
        &'a self,
        conversation: &'a ConversationId,
        at: baton_core::Timestamp,
    ) -> StoreFuture<'a, bool> {
        let cid = conversation.clone();
        Box::pin(async move {
            let destroyed = self
                .write(move |tx| data_keys::destroy(tx, &cid, at))
                .await?;
            if destroyed {
                self.scrubs.destroyed();
            }
            // Truncated even when nothing was destroyed now: repeating an erasure whose
            // truncation was busy is how a caller learns it is done.
            let scrubs = Arc::clone(&self.scrubs);
            let truncated = self
                .read(move |conn| scrubs.run(|| data_keys::truncate_wal(conn)))
                .await;
            if let Err(StoreError::Busy(message)) = &truncated {
                tracing::warn!(
                    conversation = %conversation,
                    %message,
                    "data key destroyed, but the write-ahead log may still hold its old page; \
                     the checkpointer keeps truncating it"
                );
            }
            truncated.map(|()| destroyed)
        })
    }

    fn append_access(&self, entries: Vec<baton_core::access::AccessEntry>) -> StoreFuture<'_, u64> {
        self.write(move |tx| access::append(tx, entries))
    }

    fn access_log(&self, query: AccessQuery) -> StoreFuture<'_, Vec<StoredAccess>> {
        self.read(move |conn| access::read(conn, &query))
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.close();
    }
}
