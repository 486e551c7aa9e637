//! A [`Store`] wrapper that can hold, slow or lie about appends, to test what the
//! server does when a commit is slow, its client gives up, or its outcome is unknown.
//! Every append is handed to the real store at once (as the SQLite writer takes a
//! batch when it is submitted); only the answer is held back or altered.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Duration;

use baton_core::Timestamp;
use baton_core::id::{AgentId, ConversationId, CustomerId, EventId};
use baton_core::ledger::{Break, Verified};
use baton_store::sqlite::SqliteStore;
use baton_store::*;
use tokio::sync::{Notify, Semaphore};

/// A server over a [`FaultyStore`] in a fresh directory, and the wrapper.
pub async fn spawn_faulty() -> (crate::helpers::TestApp, Arc<FaultyStore>) {
    let mut faulty = None;
    let app = crate::helpers::spawn_app_over(
        tempfile::tempdir().unwrap(),
        baton_server::AppConfig::default(),
        |store| {
            let wrapped = FaultyStore::new(store);
            faulty = Some(Arc::clone(&wrapped));
            wrapped
        },
    )
    .await;
    (app, faulty.unwrap())
}

/// What the next appends do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// Pass through.
    Normal = 0,
    /// Commit, then wait for [`FaultyStore::release`] before answering.
    Hold = 1,
    /// Commit, then answer with an engine error (the outcome looks unknown).
    FailAfterCommit = 2,
    /// Commit, then answer after a few random milliseconds.
    Slow = 3,
}

/// The wrapper.
pub struct FaultyStore {
    inner: Arc<SqliteStore>,
    mode: AtomicU8,
    /// Notified when a held append has been handed to the real store.
    pub entered: Notify,
    released: Semaphore,
    /// Whether this node's leadership claim leads (it does until told otherwise).
    leads: Arc<AtomicBool>,
    /// Whether a data key's destruction answers busy after it is done.
    scrub_busy: AtomicBool,
}

impl FaultyStore {
    /// Wraps `inner`, passing everything through.
    pub fn new(inner: Arc<SqliteStore>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            mode: AtomicU8::new(Mode::Normal as u8),
            entered: Notify::new(),
            released: Semaphore::new(0),
            leads: Arc::new(AtomicBool::new(true)),
            scrub_busy: AtomicBool::new(false),
        })
    }

    /// Makes destroying a data key destroy it and then answer busy, as SQLite does when
    /// readers keep its log from being truncated, or stop doing so.
    pub fn set_scrub_busy(&self, busy: bool) {
        self.scrub_busy.store(busy, Ordering::SeqCst);
    }

    /// Makes this node's claim lead or not, as a lock held or lost would.
    pub fn set_leading(&self, leads: bool) {
        self.leads.store(leads, Ordering::SeqCst);
    }

    /// Sets what the next appends do.
    pub fn set(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }

    /// Lets every held append answer, and later ones pass.
    pub fn release(&self) {
        self.set(Mode::Normal);
        self.released.add_permits(Semaphore::MAX_PERMITS / 2);
    }

    fn mode(&self) -> u8 {
        self.mode.load(Ordering::SeqCst)
    }
}

/// A claim that leads while its switch is on.
struct Switch(Arc<AtomicBool>);

impl Leadership for Switch {
    fn try_lead(&self) -> StoreFuture<'_, bool> {
        let leads = self.0.load(Ordering::SeqCst);
        Box::pin(async move { Ok(leads) })
    }

    fn still_leads(&self) -> StoreFuture<'_, bool> {
        self.try_lead()
    }

    fn resign(&self) -> StoreFuture<'_, ()> {
        self.0.store(false, Ordering::SeqCst);
        Box::pin(async { Ok(()) })
    }
}

impl Store for FaultyStore {
    fn leadership(&self) -> Box<dyn Leadership> {
        Box::new(Switch(Arc::clone(&self.leads)))
    }

    fn append(&self, batch: AppendBatch) -> StoreFuture<'_, AppendReceipt> {
        let mode = self.mode();
        let committing = self.inner.append(batch);
        Box::pin(async move {
            if mode == Mode::Hold as u8 {
                self.entered.notify_one();
                let _ = self.released.acquire().await;
            }
            if mode == Mode::Slow as u8 {
                let ms = rand::random_range(0..6);
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            let receipt = committing.await?;
            if mode == Mode::FailAfterCommit as u8 {
                return Err(StoreError::Engine("the disk said nothing".into()));
            }
            Ok(receipt)
        })
    }

    fn find_event_ids<'a>(
        &'a self,
        conversation: &'a ConversationId,
        ids: &'a [EventId],
    ) -> StoreFuture<'a, Vec<StoredRef>> {
        self.inner.find_event_ids(conversation, ids)
    }

    fn events_after<'a>(
        &'a self,
        conversation: &'a ConversationId,
        after_seq: u64,
        limit: u32,
    ) -> StoreFuture<'a, Vec<StoredEvent>> {
        self.inner.events_after(conversation, after_seq, limit)
    }

    fn events_page<'a>(
        &'a self,
        conversation: &'a ConversationId,
        after_seq: u64,
        limit: u32,
        max_bytes: usize,
    ) -> StoreFuture<'a, EventsPage> {
        self.inner
            .events_page(conversation, after_seq, limit, max_bytes)
    }

    fn events_tail<'a>(
        &'a self,
        conversation: &'a ConversationId,
        limit: u32,
        max_bytes: usize,
    ) -> StoreFuture<'a, Vec<StoredEvent>> {
        self.inner.events_tail(conversation, limit, max_bytes)
    }

    fn events_of_kinds<'a>(
        &'a self,
        kinds: &'a [&'a str],
        since: baton_core::Timestamp,
        limit: u32,
    ) -> StoreFuture<'a, Vec<KindEvent>> {
        self.inner.events_of_kinds(kinds, since, limit)
    }

    fn conversation<'a>(
        &'a self,
        conversation: &'a ConversationId,
    ) -> StoreFuture<'a, Option<ConversationRow>> {
        self.inner.conversation(conversation)
    }

    fn conversations(&self, filter: ConversationFilter) -> StoreFuture<'_, Vec<ConversationRow>> {
        self.inner.conversations(filter)
    }

    fn search_conversations(
        &self,
        query: ConversationQuery,
    ) -> StoreFuture<'_, Vec<ConversationRow>> {
        self.inner.search_conversations(query)
    }

    fn conversations_of_customer<'a>(
        &'a self,
        customer: &'a CustomerId,
    ) -> StoreFuture<'a, Vec<ConversationRow>> {
        self.inner.conversations_of_customer(customer)
    }

    fn insert_key(&self, key: KeyRecord) -> StoreFuture<'_, ()> {
        self.inner.insert_key(key)
    }

    fn find_key<'a>(&'a self, hash: &'a [u8; 32]) -> StoreFuture<'a, Option<KeyRecord>> {
        self.inner.find_key(hash)
    }

    fn admin_key_count(&self, now: Timestamp) -> StoreFuture<'_, u64> {
        self.inner.admin_key_count(now)
    }

    fn keys(&self) -> StoreFuture<'_, Vec<KeyRecord>> {
        self.inner.keys()
    }

    fn revoke_key<'a>(&'a self, id: &'a KeyId, at: Timestamp) -> StoreFuture<'a, RevokeOutcome> {
        self.inner.revoke_key(id, at)
    }

    fn insert_session(&self, session: SessionRecord) -> StoreFuture<'_, ()> {
        self.inner.insert_session(session)
    }

    fn find_session<'a>(&'a self, hash: &'a [u8; 32]) -> StoreFuture<'a, Option<SessionRecord>> {
        self.inner.find_session(hash)
    }

    fn delete_session<'a>(&'a self, hash: &'a [u8; 32]) -> StoreFuture<'a, ()> {
        self.inner.delete_session(hash)
    }

    fn put_agent(&self, agent: AgentRecord) -> StoreFuture<'_, ()> {
        self.inner.put_agent(agent)
    }

    fn agent<'a>(&'a self, id: &'a AgentId) -> StoreFuture<'a, Option<AgentRecord>> {
        self.inner.agent(id)
    }

    fn agents(&self) -> StoreFuture<'_, Vec<AgentRecord>> {
        self.inner.agents()
    }

    fn verify(&self, only: Option<ConversationId>) -> StoreFuture<'_, Result<Verified, Break>> {
        self.inner.verify(only)
    }

    fn checkpoint_trail<'a>(
        &'a self,
        conversation: &'a ConversationId,
    ) -> StoreFuture<'a, CheckpointTrail> {
        self.inner.checkpoint_trail(conversation)
    }

    fn disk_bytes(&self) -> StoreFuture<'_, u64> {
        self.inner.disk_bytes()
    }

    fn feed_page<'a>(
        &'a self,
        after: u64,
        kinds: &'a [&'a str],
        limit: u32,
        max_bytes: usize,
    ) -> StoreFuture<'a, FeedPage> {
        self.inner.feed_page(after, kinds, limit, max_bytes)
    }

    fn feed_head(&self) -> StoreFuture<'_, u64> {
        self.inner.feed_head()
    }

    fn put_webhook(&self, webhook: WebhookRecord) -> StoreFuture<'_, ()> {
        self.inner.put_webhook(webhook)
    }

    fn webhooks(&self) -> StoreFuture<'_, Vec<WebhookRecord>> {
        self.inner.webhooks()
    }

    fn delete_webhook<'a>(&'a self, id: &'a WebhookId) -> StoreFuture<'a, bool> {
        self.inner.delete_webhook(id)
    }

    fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> StoreFuture<'_, Vec<Delivery>> {
        self.inner.claim_deliveries(now, lease_until, limit)
    }

    fn finish_delivery(&self, id: u64, attempt: Attempt, finish: Finish) -> StoreFuture<'_, ()> {
        self.inner.finish_delivery(id, attempt, finish)
    }

    fn deliveries(&self, query: DeliveryQuery) -> StoreFuture<'_, Vec<Delivery>> {
        self.inner.deliveries(query)
    }

    fn replay_deliveries<'a>(
        &'a self,
        webhook: &'a WebhookId,
        since: Timestamp,
        now: Timestamp,
    ) -> StoreFuture<'a, u64> {
        self.inner.replay_deliveries(webhook, since, now)
    }

    fn outbox_stats(&self) -> StoreFuture<'_, OutboxStats> {
        self.inner.outbox_stats()
    }

    fn put_data_key(&self, key: DataKeyRecord) -> StoreFuture<'_, DataKeyRecord> {
        self.inner.put_data_key(key)
    }

    fn data_key<'a>(
        &'a self,
        conversation: &'a ConversationId,
    ) -> StoreFuture<'a, Option<DataKeyRecord>> {
        self.inner.data_key(conversation)
    }

    fn data_keys(&self) -> StoreFuture<'_, Vec<DataKeyRecord>> {
        self.inner.data_keys()
    }

    fn rewrap_data_keys(&self, keys: Vec<Rewrap>) -> StoreFuture<'_, u64> {
        self.inner.rewrap_data_keys(keys)
    }

    fn destroy_data_key<'a>(
        &'a self,
        conversation: &'a ConversationId,
        at: baton_core::Timestamp,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let destroyed = self.inner.destroy_data_key(conversation, at).await?;
            if self.scrub_busy.load(Ordering::SeqCst) {
                return Err(StoreError::Busy("the log is held by the test".into()));
            }
            Ok(destroyed)
        })
    }

    fn append_access(&self, entries: Vec<baton_core::access::AccessEntry>) -> StoreFuture<'_, u64> {
        self.inner.append_access(entries)
    }

    fn access_log(
        &self,
        query: baton_store::AccessQuery,
    ) -> StoreFuture<'_, Vec<baton_store::StoredAccess>> {
        self.inner.access_log(query)
    }
}
