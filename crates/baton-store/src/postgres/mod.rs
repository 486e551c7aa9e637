//! The scale-out engine: PostgreSQL through a pool of sqlx connections, shared by any
//! number of baton nodes.
//!
//! Appends go through this node's group-commit writers ([`writer`]): each takes every
//! append waiting and writes them in one transaction, which also chains one
//! checkpoint under the lock on the one `checkpoint_head` row, so the chain stays one
//! chain however many nodes write. Every other write is its own short transaction;
//! reads run on the pool. `expected_last_seq` is checked under the conversation row's
//! lock, so two nodes racing on one conversation cannot fork it. Acknowledged means
//! committed with `synchronous_commit = on` (the default, forced per connection).
//!
//! Which commit shape wins was measured (`baton bench ingest --database-url`, see
//! docs/benchmarks.md): PostgreSQL's own group commit cannot share a flush between
//! appends that each chain a checkpoint, because the head row stays locked until the
//! commit is flushed; batching in the node can.

mod access;
mod admin;
mod checkpoint;
mod data_keys;
mod feed;
pub mod leader;
mod outbox;
mod read;
mod schema;
pub mod scratch;
mod verify;
mod writer;

use std::sync::Arc;

use baton_core::id::{AgentId, ConversationId, CustomerId, EventId};
use baton_core::ledger::Digest;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::data_keys::{DataKeyRecord, Rewrap};
use crate::model::*;
use crate::outbox::*;
use crate::{Store, StoreError, StoreFuture};
pub use scratch::{SchemaName, Scratch};
pub use writer::CommitStats;

/// How appends reach PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitMode {
    /// `writers` tasks, each writing every append waiting in one transaction (the
    /// default: measured fastest).
    Batched {
        /// Transactions in flight at once from this node.
        writers: usize,
    },
    /// Each append its own transaction on a pooled connection, leaving the sharing of
    /// flushes to PostgreSQL's group commit (kept to measure against).
    PerAppend,
}

/// Settings of a [`PgStore`].
#[derive(Debug, Clone, Copy)]
pub struct PgOptions {
    /// Connections in the pool (writers included).
    pub pool_size: u32,
    /// How appends are committed.
    pub commit: CommitMode,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            pool_size: 16,
            commit: CommitMode::Batched { writers: 2 },
        }
    }
}

/// The PostgreSQL store.
pub struct PgStore {
    pool: PgPool,
    /// Where appends queue for the writers (absent in [`CommitMode::PerAppend`]).
    appends: Option<mpsc::UnboundedSender<writer::Job>>,
    counters: Arc<writer::Counters>,
}

impl PgStore {
    /// Connects to `url` (`postgres://...`), migrating the schema.
    pub async fn connect(url: &str, options: PgOptions) -> Result<Self, StoreError> {
        let connect: PgConnectOptions = url
            .parse()
            .map_err(|e| StoreError::Engine(format!("not a PostgreSQL URL: {e}")))?;
        Self::open(connect, options).await
    }

    /// Opens the store `connect` names (its `search_path` chooses the schema), applies
    /// the embedded migrations and starts the writers.
    pub async fn open(connect: PgConnectOptions, options: PgOptions) -> Result<Self, StoreError> {
        // Forced on every connection: a server configured with `synchronous_commit =
        // off` must not turn an acknowledgement into a promise it may break.
        let connect = connect.options([("synchronous_commit", "on")]);
        let pool = PgPoolOptions::new()
            .max_connections(options.pool_size.max(1))
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_with(connect)
            .await?;
        schema::migrate(&pool).await?;
        let counters = Arc::new(writer::Counters::default());
        let appends = match options.commit {
            CommitMode::PerAppend => None,
            CommitMode::Batched { writers } => {
                let (sender, receiver) = mpsc::unbounded_channel();
                let receiver = Arc::new(Mutex::new(receiver));
                for _ in 0..writers.max(1) {
                    tokio::spawn(writer::run(
                        pool.clone(),
                        Arc::clone(&receiver),
                        Arc::clone(&counters),
                    ));
                }
                Some(sender)
            }
        };
        Ok(Self {
            pool,
            appends,
            counters,
        })
    }

    /// Commits so far, and how many appends shared them.
    pub fn stats(&self) -> CommitStats {
        self.counters.snapshot()
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool; appends queued are answered with [`StoreError::Closed`].
    pub async fn close(&self) {
        self.pool.close().await;
    }

    fn run<'a, T: Send + 'a>(
        &'a self,
        work: impl Future<Output = Result<T, StoreError>> + Send + 'a,
    ) -> StoreFuture<'a, T> {
        Box::pin(work)
    }
}

pub(crate) fn digest_from(bytes: &[u8]) -> Result<Digest, StoreError> {
    super::sqlite::digest_from(bytes)
}

/// A u64 the store keeps in a `bigint`.
fn to_i64(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Engine(format!("{value} exceeds a bigint")))
}

/// A `bigint` the store wrote from a u64.
fn to_u64(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative count {value}")))
}

impl Store for PgStore {
    fn append(&self, batch: AppendBatch) -> StoreFuture<'_, AppendReceipt> {
        let Some(appends) = &self.appends else {
            return self.run(writer::append_alone(&self.pool, batch, &self.counters));
        };
        let (reply, answer) = oneshot::channel();
        let sent = appends
            .send(writer::Job { batch, reply })
            .map_err(|_| StoreError::Closed);
        Box::pin(async move {
            sent?;
            answer.await.map_err(|_| StoreError::Closed)?
        })
    }

    fn find_event_ids<'a>(
        &'a self,
        conversation: &'a ConversationId,
        ids: &'a [EventId],
    ) -> StoreFuture<'a, Vec<StoredRef>> {
        self.run(read::find_event_ids(&self.pool, conversation, ids))
    }

    fn events_after<'a>(
        &'a self,
        conversation: &'a ConversationId,
        after_seq: u64,
        limit: u32,
    ) -> StoreFuture<'a, Vec<StoredEvent>> {
        self.run(async move {
            let page = read::events_page(&self.pool, conversation, after_seq, limit, usize::MAX);
            Ok(page.await?.events)
        })
    }

    fn events_page<'a>(
        &'a self,
        conversation: &'a ConversationId,
        after_seq: u64,
        limit: u32,
        max_bytes: usize,
    ) -> StoreFuture<'a, EventsPage> {
        self.run(read::events_page(
            &self.pool,
            conversation,
            after_seq,
            limit,
            max_bytes,
        ))
    }

    fn events_tail<'a>(
        &'a self,
        conversation: &'a ConversationId,
        limit: u32,
        max_bytes: usize,
    ) -> StoreFuture<'a, Vec<StoredEvent>> {
        self.run(read::events_tail(
            &self.pool,
            conversation,
            limit,
            max_bytes,
        ))
    }

    fn events_of_kinds<'a>(
        &'a self,
        kinds: &'a [&'a str],
        since: baton_core::Timestamp,
        limit: u32,
    ) -> StoreFuture<'a, Vec<KindEvent>> {
        self.run(read::events_of_kinds(&self.pool, kinds, since, limit))
    }

    fn conversation<'a>(
        &'a self,
        conversation: &'a ConversationId,
    ) -> StoreFuture<'a, Option<ConversationRow>> {
        self.run(read::conversation(&self.pool, conversation))
    }

    fn conversations(&self, filter: ConversationFilter) -> StoreFuture<'_, Vec<ConversationRow>> {
        self.run(async move { read::conversations(&self.pool, &filter).await })
    }

    fn search_conversations(
        &self,
        query: ConversationQuery,
    ) -> StoreFuture<'_, Vec<ConversationRow>> {
        self.run(async move { read::search_conversations(&self.pool, &query).await })
    }

    fn conversations_of_customer<'a>(
        &'a self,
        customer: &'a CustomerId,
    ) -> StoreFuture<'a, Vec<ConversationRow>> {
        self.run(read::conversations_of_customer(&self.pool, customer))
    }

    fn insert_key(&self, key: KeyRecord) -> StoreFuture<'_, ()> {
        self.run(async move { admin::insert_key(&self.pool, &key).await })
    }

    fn find_key<'a>(&'a self, hash: &'a [u8; 32]) -> StoreFuture<'a, Option<KeyRecord>> {
        self.run(read::find_key(&self.pool, hash))
    }

    fn admin_key_count(&self, now: baton_core::Timestamp) -> StoreFuture<'_, u64> {
        self.run(read::admin_key_count(&self.pool, now))
    }

    fn keys(&self) -> StoreFuture<'_, Vec<KeyRecord>> {
        self.run(read::keys(&self.pool))
    }

    fn revoke_key<'a>(
        &'a self,
        id: &'a KeyId,
        at: baton_core::Timestamp,
    ) -> StoreFuture<'a, RevokeOutcome> {
        self.run(admin::revoke_key(&self.pool, id, at))
    }

    fn insert_session(&self, session: SessionRecord) -> StoreFuture<'_, ()> {
        self.run(async move { admin::insert_session(&self.pool, &session).await })
    }

    fn find_session<'a>(&'a self, hash: &'a [u8; 32]) -> StoreFuture<'a, Option<SessionRecord>> {
        self.run(read::find_session(&self.pool, hash))
    }

    fn delete_session<'a>(&'a self, hash: &'a [u8; 32]) -> StoreFuture<'a, ()> {
        self.run(admin::delete_session(&self.pool, hash))
    }

    fn put_agent(&self, agent: AgentRecord) -> StoreFuture<'_, ()> {
        self.run(async move { admin::put_agent(&self.pool, &agent).await })
    }

    fn agent<'a>(&'a self, id: &'a AgentId) -> StoreFuture<'a, Option<AgentRecord>> {
        self.run(read::agent(&self.pool, id))
    }

    fn agents(&self) -> StoreFuture<'_, Vec<AgentRecord>> {
        self.run(read::agents(&self.pool))
    }

    fn verify(
        &self,
        only: Option<ConversationId>,
    ) -> StoreFuture<'_, Result<baton_core::ledger::Verified, baton_core::ledger::Break>> {
        self.run(async move { verify::verify(&self.pool, only.as_ref()).await })
    }

    fn checkpoint_trail<'a>(
        &'a self,
        conversation: &'a ConversationId,
    ) -> StoreFuture<'a, CheckpointTrail> {
        self.run(verify::checkpoint_trail(&self.pool, conversation))
    }

    fn disk_bytes(&self) -> StoreFuture<'_, u64> {
        self.run(read::disk_bytes(&self.pool))
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        self.run(PgStore::ping(self))
    }

    fn leadership(&self) -> Box<dyn crate::Leadership> {
        // The store's own options: same server, same schema, same settings.
        Box::new(leader::PgLeadership::new(
            (*self.pool.connect_options()).clone(),
        ))
    }

    fn feed_page<'a>(
        &'a self,
        after: u64,
        kinds: &'a [&'a str],
        limit: u32,
        max_bytes: usize,
    ) -> StoreFuture<'a, FeedPage> {
        self.run(feed::feed_page(&self.pool, after, kinds, limit, max_bytes))
    }

    fn feed_head(&self) -> StoreFuture<'_, u64> {
        self.run(feed::feed_head(&self.pool))
    }

    fn put_webhook(&self, webhook: WebhookRecord) -> StoreFuture<'_, ()> {
        self.run(async move { outbox::put_webhook(&self.pool, &webhook).await })
    }

    fn webhooks(&self) -> StoreFuture<'_, Vec<WebhookRecord>> {
        self.run(outbox::webhooks(&self.pool))
    }

    fn delete_webhook<'a>(&'a self, id: &'a WebhookId) -> StoreFuture<'a, bool> {
        self.run(outbox::delete_webhook(&self.pool, id))
    }

    fn claim_deliveries(
        &self,
        now: baton_core::Timestamp,
        lease_until: baton_core::Timestamp,
        limit: u32,
    ) -> StoreFuture<'_, Vec<Delivery>> {
        self.run(outbox::claim(&self.pool, now, lease_until, limit))
    }

    fn finish_delivery(&self, id: u64, attempt: Attempt, finish: Finish) -> StoreFuture<'_, ()> {
        self.run(async move { outbox::finish(&self.pool, id, &attempt, &finish).await })
    }

    fn deliveries(&self, query: DeliveryQuery) -> StoreFuture<'_, Vec<Delivery>> {
        self.run(async move { outbox::deliveries(&self.pool, &query).await })
    }

    fn replay_deliveries<'a>(
        &'a self,
        webhook: &'a WebhookId,
        since: baton_core::Timestamp,
        now: baton_core::Timestamp,
    ) -> StoreFuture<'a, u64> {
        self.run(outbox::replay(&self.pool, webhook, since, now))
    }

    fn outbox_stats(&self) -> StoreFuture<'_, OutboxStats> {
        self.run(outbox::stats(&self.pool))
    }

    fn put_data_key(&self, key: DataKeyRecord) -> StoreFuture<'_, DataKeyRecord> {
        self.run(async move { data_keys::put(&self.pool, &key).await })
    }

    fn data_key<'a>(
        &'a self,
        conversation: &'a ConversationId,
    ) -> StoreFuture<'a, Option<DataKeyRecord>> {
        self.run(data_keys::get(&self.pool, conversation))
    }

    fn data_keys(&self) -> StoreFuture<'_, Vec<DataKeyRecord>> {
        self.run(data_keys::all(&self.pool))
    }

    fn rewrap_data_keys(&self, keys: Vec<Rewrap>) -> StoreFuture<'_, u64> {
        self.run(async move { data_keys::rewrap(&self.pool, &keys).await })
    }

    fn destroy_data_key<'a>(
        &'a self,
        conversation: &'a ConversationId,
        at: baton_core::Timestamp,
    ) -> StoreFuture<'a, bool> {
        self.run(data_keys::destroy(&self.pool, conversation, at))
    }

    fn append_access(&self, entries: Vec<baton_core::access::AccessEntry>) -> StoreFuture<'_, u64> {
        self.run(access::append(&self.pool, entries))
    }

    fn access_log(&self, query: AccessQuery) -> StoreFuture<'_, Vec<StoredAccess>> {
        self.run(async move { access::read(&self.pool, &query).await })
    }
}
