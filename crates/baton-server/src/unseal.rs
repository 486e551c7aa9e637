//! The store as handlers see it when encryption is on: a wrapper that opens every
//! event it reads (events, pages, tails, by kind, the global feed) through the one
//! function [`Vault::open`], so no read path can forget to decrypt or serve ciphertext
//! by mistake. Appends, verification and everything else pass through unchanged:
//! events arrive sealed from the append pipeline, and the ledger verifies the stored
//! (sealed) form without any key.

use std::sync::Arc;

use baton_core::Timestamp;
use baton_core::id::{AgentId, ConversationId, CustomerId, EventId};
use baton_core::ledger::{Break, Verified};
use baton_store::*;

use crate::vault::Vault;

/// A store whose reads come back decrypted.
pub struct Unsealing {
    inner: Arc<dyn Store>,
    vault: Arc<Vault>,
}

impl Unsealing {
    /// Wraps `inner`, opening events with `vault`.
    pub fn new(inner: Arc<dyn Store>, vault: Arc<Vault>) -> Self {
        Self { inner, vault }
    }

    async fn open_all(
        &self,
        conversation: &ConversationId,
        mut events: Vec<StoredEvent>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        for event in &mut events {
            let stored = std::mem::take(&mut event.canonical);
            event.canonical = self.vault.open(conversation, stored).await?;
        }
        Ok(events)
    }
}

impl Store for Unsealing {
    fn append(&self, batch: AppendBatch) -> StoreFuture<'_, AppendReceipt> {
        self.inner.append(batch)
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
        Box::pin(async move {
            let events = self
                .inner
                .events_after(conversation, after_seq, limit)
                .await?;
            self.open_all(conversation, events).await
        })
    }

    fn events_page<'a>(
        &'a self,
        conversation: &'a ConversationId,
        after_seq: u64,
        limit: u32,
        max_bytes: usize,
    ) -> StoreFuture<'a, EventsPage> {
        Box::pin(async move {
            let page = self
                .inner
                .events_page(conversation, after_seq, limit, max_bytes)
                .await?;
            Ok(EventsPage {
                events: self.open_all(conversation, page.events).await?,
                more: page.more,
            })
        })
    }

    fn events_tail<'a>(
        &'a self,
        conversation: &'a ConversationId,
        limit: u32,
        max_bytes: usize,
    ) -> StoreFuture<'a, Vec<StoredEvent>> {
        Box::pin(async move {
            let events = self
                .inner
                .events_tail(conversation, limit, max_bytes)
                .await?;
            self.open_all(conversation, events).await
        })
    }

    fn events_of_kinds<'a>(
        &'a self,
        kinds: &'a [&'a str],
        since: Timestamp,
        limit: u32,
    ) -> StoreFuture<'a, Vec<KindEvent>> {
        Box::pin(async move {
            let mut rows = self.inner.events_of_kinds(kinds, since, limit).await?;
            for row in &mut rows {
                let stored = std::mem::take(&mut row.canonical);
                row.canonical = self.vault.open(&row.conversation, stored).await?;
            }
            Ok(rows)
        })
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
        query: baton_store::ConversationQuery,
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

    fn ping(&self) -> StoreFuture<'_, ()> {
        self.inner.ping()
    }

    fn leadership(&self) -> Box<dyn baton_store::Leadership> {
        self.inner.leadership()
    }

    fn checkpoint_trail<'a>(
        &'a self,
        conversation: &'a ConversationId,
    ) -> StoreFuture<'a, baton_store::CheckpointTrail> {
        // Checkpoints hold heads (seq and hash), never customer data.
        self.inner.checkpoint_trail(conversation)
    }

    fn append_access(&self, entries: Vec<baton_core::access::AccessEntry>) -> StoreFuture<'_, u64> {
        // Access records say what was read, never what it said.
        self.inner.append_access(entries)
    }

    fn access_log(
        &self,
        query: baton_store::AccessQuery,
    ) -> StoreFuture<'_, Vec<baton_store::StoredAccess>> {
        self.inner.access_log(query)
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
        Box::pin(async move {
            let mut page = self.inner.feed_page(after, kinds, limit, max_bytes).await?;
            for event in &mut page.events {
                let stored = std::mem::take(&mut event.event.canonical);
                event.event.canonical = self.vault.open(&event.conversation, stored).await?;
            }
            Ok(page)
        })
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
        self.inner.destroy_data_key(conversation, at)
    }
}
