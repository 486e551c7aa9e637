//! Where baton keeps things: the [`Store`] trait and its engines.
//!
//! The embedded default is SQLite ([`sqlite::SqliteStore`]): WAL, `synchronous=FULL`,
//! and a single writer thread that group-commits concurrent appends (many appends, one
//! fsync), so durable throughput is not capped by fsync latency. Nothing SQL- or
//! engine-specific leaks past this crate: the server sees only [`Store`] and the plain
//! records in [`model`], so a PostgreSQL engine slots in beside SQLite.
//!
//! # Layout
//! - [`model`]: the records the store reads and writes.
//! - [`outbox`]: webhook subscriptions and their deliveries.
//! - the access log (who read what) rides on every engine: [`Store::append_access`],
//!   [`Store::access_log`], and [`Store::verify`] checks its chain.
//! - [`error`]: the error type, [`StoreError`].
//! - [`leadership`]: which node runs what must run once ([`Leadership`]).
//! - [`sqlite`]: the embedded engine (schema, group-commit writer, reads, verify).
//! - [`postgres`]: the scale-out engine (sqlx pool, embedded migrations, one
//!   checkpoint chain across nodes).

pub mod data_keys;
pub mod error;
pub mod leadership;
pub mod model;
pub mod outbox;
pub mod postgres;
pub mod sqlite;

use std::future::Future;
use std::pin::Pin;

use baton_core::id::{AgentId, ConversationId, CustomerId, EventId};
use baton_core::ledger::{Break, Verified};

pub use data_keys::{DataKeyRecord, Rewrap};
pub use error::StoreError;
pub use leadership::{Leadership, SoleNode};
pub use model::*;
pub use outbox::*;

/// A boxed future, so [`Store`] can be used as `dyn Store`.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// What baton needs from a storage engine.
///
/// Appends are atomic per batch and acknowledged only once durable. The caller (the
/// server) serializes appends per conversation and seals events (seq and hash) itself;
/// the store still refuses a batch whose `expected_last_seq` is stale, so two nodes
/// racing on one conversation cannot fork its chain.
pub trait Store: Send + Sync + 'static {
    /// Appends a sealed batch and records a checkpoint; all or nothing.
    fn append(&self, batch: AppendBatch) -> StoreFuture<'_, AppendReceipt>;

    /// Which of `ids` are already stored in `conversation`, with their seq and hash.
    fn find_event_ids<'a>(
        &'a self,
        conversation: &'a ConversationId,
        ids: &'a [EventId],
    ) -> StoreFuture<'a, Vec<StoredRef>>;

    /// Events after `after_seq`, at most `limit`, in seq order.
    fn events_after<'a>(
        &'a self,
        conversation: &'a ConversationId,
        after_seq: u64,
        limit: u32,
    ) -> StoreFuture<'a, Vec<StoredEvent>>;

    /// Events after `after_seq` in seq order, at most `limit` of them and at most
    /// `max_bytes` of canonical JSON, but always the first one if any follows (so a
    /// reader paging through always moves on). `more` says whether events follow the page.
    fn events_page<'a>(
        &'a self,
        conversation: &'a ConversationId,
        after_seq: u64,
        limit: u32,
        max_bytes: usize,
    ) -> StoreFuture<'a, EventsPage>;

    /// The latest events, in seq order: at most `limit` of them and at most `max_bytes`
    /// of canonical JSON, but always the last one if the conversation has any.
    fn events_tail<'a>(
        &'a self,
        conversation: &'a ConversationId,
        limit: u32,
        max_bytes: usize,
    ) -> StoreFuture<'a, Vec<StoredEvent>>;

    /// Events of the given types (`decision`, `assigned`...) across all conversations,
    /// written at or after `since`, ordered by time, at most `limit` (for statistics).
    fn events_of_kinds<'a>(
        &'a self,
        kinds: &'a [&'a str],
        since: baton_core::Timestamp,
        limit: u32,
    ) -> StoreFuture<'a, Vec<KindEvent>>;

    /// The conversation's summary row, if it exists.
    fn conversation<'a>(
        &'a self,
        conversation: &'a ConversationId,
    ) -> StoreFuture<'a, Option<ConversationRow>>;

    /// Conversations, most recently updated first, optionally only those with an owner.
    fn conversations(&self, filter: ConversationFilter) -> StoreFuture<'_, Vec<ConversationRow>>;

    /// One page of a search over conversations, in the query's fixed order.
    fn search_conversations(
        &self,
        query: ConversationQuery,
    ) -> StoreFuture<'_, Vec<ConversationRow>>;

    /// Conversations of one customer, oldest first (the journey).
    fn conversations_of_customer<'a>(
        &'a self,
        customer: &'a CustomerId,
    ) -> StoreFuture<'a, Vec<ConversationRow>>;

    /// Stores an API key record (the key itself is never stored, only its hash).
    fn insert_key(&self, key: KeyRecord) -> StoreFuture<'_, ()>;

    /// Finds a key by its hash.
    fn find_key<'a>(&'a self, hash: &'a [u8; 32]) -> StoreFuture<'a, Option<KeyRecord>>;

    /// How many admin keys work at `now`: neither revoked nor expired (a fresh install
    /// has none).
    fn admin_key_count(&self, now: baton_core::Timestamp) -> StoreFuture<'_, u64>;

    /// Every key, oldest first (hashes only, as always).
    fn keys(&self) -> StoreFuture<'_, Vec<KeyRecord>>;

    /// Revokes a key at `at` and ends its console sessions, unless it is the last admin
    /// key that works; the check and the write are one transaction.
    fn revoke_key<'a>(
        &'a self,
        id: &'a KeyId,
        at: baton_core::Timestamp,
    ) -> StoreFuture<'a, RevokeOutcome>;

    /// Stores a console session (its id only as a hash) and drops expired ones.
    fn insert_session(&self, session: SessionRecord) -> StoreFuture<'_, ()>;

    /// Finds a console session by the hash of its id (expired ones included: the caller
    /// compares `expires_at` with its clock).
    fn find_session<'a>(&'a self, hash: &'a [u8; 32]) -> StoreFuture<'a, Option<SessionRecord>>;

    /// Ends a console session (nothing happens if there is none).
    fn delete_session<'a>(&'a self, hash: &'a [u8; 32]) -> StoreFuture<'a, ()>;

    /// Creates or replaces an agent.
    fn put_agent(&self, agent: AgentRecord) -> StoreFuture<'_, ()>;

    /// One agent.
    fn agent<'a>(&'a self, id: &'a AgentId) -> StoreFuture<'a, Option<AgentRecord>>;

    /// Every agent.
    fn agents(&self) -> StoreFuture<'_, Vec<AgentRecord>>;

    /// Verifies every chain and the checkpoint chain (or one conversation's); verifying
    /// them all verifies the access log's chain too.
    fn verify(&self, only: Option<ConversationId>) -> StoreFuture<'_, Result<Verified, Break>>;

    /// The checkpoints that recorded `conversation` (for an export that proves it
    /// offline) and the ledger's newest checkpoint. Reads every checkpoint: for exports,
    /// not for request paths.
    fn checkpoint_trail<'a>(
        &'a self,
        conversation: &'a ConversationId,
    ) -> StoreFuture<'a, CheckpointTrail>;

    /// Bytes on disk (for benchmarks and metrics).
    fn disk_bytes(&self) -> StoreFuture<'_, u64>;

    /// A claim to lead the nodes sharing this store (see [`Leadership`]); an engine
    /// only one node opens always leads.
    fn leadership(&self) -> Box<dyn Leadership> {
        Box::new(SoleNode)
    }

    /// Whether the engine answers (for `/healthz`); an embedded engine always does.
    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }

    /// The global feed: events of every conversation after `after`, in position order
    /// (positions grow in commit order, so nothing committed later ever sorts before a
    /// position already read), only those whose type is in `kinds` (all when empty).
    /// Bounded like [`Store::events_page`]: at most `limit` events and `max_bytes` of
    /// JSON, but always the first one that follows.
    fn feed_page<'a>(
        &'a self,
        after: u64,
        kinds: &'a [&'a str],
        limit: u32,
        max_bytes: usize,
    ) -> StoreFuture<'a, FeedPage>;

    /// The position of the last stored event (0 when there is none).
    fn feed_head(&self) -> StoreFuture<'_, u64>;

    /// Creates or replaces a webhook subscription (a rotation replaces it).
    fn put_webhook(&self, webhook: WebhookRecord) -> StoreFuture<'_, ()>;

    /// Every subscription, oldest first.
    fn webhooks(&self) -> StoreFuture<'_, Vec<WebhookRecord>>;

    /// Deletes a subscription and its pending deliveries (delivered and dead ones stay
    /// listed nowhere: they go too). Whether it existed.
    fn delete_webhook<'a>(&'a self, id: &'a WebhookId) -> StoreFuture<'a, bool>;

    /// Claims up to `limit` deliveries due at `now`, leasing them until `lease_until`:
    /// pending, due, not leased, and each the oldest pending one of its webhook and
    /// conversation (so a conversation's deliveries go out in order). A lease that
    /// lapses (a crashed worker) makes the delivery claimable again.
    fn claim_deliveries(
        &self,
        now: baton_core::Timestamp,
        lease_until: baton_core::Timestamp,
        limit: u32,
    ) -> StoreFuture<'_, Vec<Delivery>>;

    /// Records a try of delivery `id` and what follows it; the lease ends.
    fn finish_delivery(&self, id: u64, attempt: Attempt, finish: Finish) -> StoreFuture<'_, ()>;

    /// A webhook's deliveries, newest first, with their tries.
    fn deliveries(&self, query: DeliveryQuery) -> StoreFuture<'_, Vec<Delivery>>;

    /// Sends again every delivery of `webhook` committed at or after `since` that is
    /// not pending: each becomes pending, due at `now`, in a new series of tries. How
    /// many.
    fn replay_deliveries<'a>(
        &'a self,
        webhook: &'a WebhookId,
        since: baton_core::Timestamp,
        now: baton_core::Timestamp,
    ) -> StoreFuture<'a, u64>;

    /// Pending and dead counts and the oldest pending delivery.
    fn outbox_stats(&self) -> StoreFuture<'_, OutboxStats>;

    /// Stores a conversation's data key unless it has one (live or destroyed), and
    /// returns the one it holds: when two nodes race, the first key stays.
    fn put_data_key(&self, key: DataKeyRecord) -> StoreFuture<'_, DataKeyRecord>;

    /// A conversation's data key record, if it has one.
    fn data_key<'a>(
        &'a self,
        conversation: &'a ConversationId,
    ) -> StoreFuture<'a, Option<DataKeyRecord>>;

    /// Every data key record, destroyed ones included, by conversation.
    fn data_keys(&self) -> StoreFuture<'_, Vec<DataKeyRecord>>;

    /// Replaces wrapped keys in one transaction (a master-key rotation); a destroyed
    /// key stays destroyed. How many were replaced.
    fn rewrap_data_keys(&self, keys: Vec<Rewrap>) -> StoreFuture<'_, u64>;

    /// Destroys a conversation's data key: its wrapped bytes are overwritten and
    /// dropped, and `destroyed_at` set; the engine then scrubs what it can (SQLite:
    /// `secure_delete` and a WAL checkpoint that truncates the log). Whether a live key
    /// was destroyed. [`StoreError::Busy`] when the key is destroyed but the scrub
    /// could not finish (SQLite: the log stayed busy, and may still hold the key's old
    /// page until the engine's own retries truncate it); calling again retries the
    /// scrub, and answers `Ok(false)` once it is done.
    fn destroy_data_key<'a>(
        &'a self,
        conversation: &'a ConversationId,
        at: baton_core::Timestamp,
    ) -> StoreFuture<'a, bool>;

    /// Numbers, chains and appends access log entries in the order given, in one
    /// transaction, after the log's head (one chain however many nodes write);
    /// returns the last number.
    fn append_access(&self, entries: Vec<baton_core::access::AccessEntry>) -> StoreFuture<'_, u64>;

    /// Access log entries matching `query`, in number order.
    fn access_log(&self, query: AccessQuery) -> StoreFuture<'_, Vec<StoredAccess>>;
}
