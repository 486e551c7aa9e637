//! Plain records exchanged with a store. No engine types appear here.

use baton_core::event::Event;
use baton_core::id::{AgentId, ConversationId, CustomerId, EventId};
pub use baton_core::id::{KeyId, KeyIdError};
use baton_core::label::Label;
use baton_core::ledger::{CanonicalError, Digest, seal};
use baton_core::state::Owner;
use baton_core::timestamp::Timestamp;

/// Roles an API key can hold; the type lives in core, re-exported so `baton_store::Role`
/// keeps naming it.
pub use baton_core::role::Role;

/// One event ready to be written: sealed by the caller.
#[derive(Debug, Clone)]
pub struct SealedEvent {
    /// Position in the conversation.
    pub seq: u64,
    /// Idempotency key.
    pub id: EventId,
    /// Event type (for indexing and metrics).
    pub kind: &'static str,
    /// RFC 8785 JSON of the event without hash.
    pub canonical: String,
    /// Chained hash.
    pub hash: Digest,
}

impl SealedEvent {
    /// Canonicalizes `event` and chains it onto `prev` (the hash of the event before it).
    pub fn seal(prev: &Digest, event: &Event) -> Result<Self, CanonicalError> {
        let sealed = seal(prev, event)?;
        Ok(Self {
            seq: event.seq,
            id: event.id.clone(),
            kind: event.body.kind(),
            canonical: sealed.canonical,
            hash: sealed.hash,
        })
    }

    /// Chains already-canonical JSON of `event` (its sealed form) onto `prev`.
    pub fn from_canonical(prev: &Digest, event: &Event, canonical: String) -> Self {
        let hash = baton_core::ledger::chain_hash(prev, canonical.as_bytes());
        Self {
            seq: event.seq,
            id: event.id.clone(),
            kind: event.body.kind(),
            canonical,
            hash,
        }
    }
}

/// An atomic append: events plus the conversation's summary after them.
#[derive(Debug, Clone)]
pub struct AppendBatch {
    /// Conversation.
    pub conversation: ConversationId,
    /// Seq the caller believes is the last stored (0 for a new conversation).
    pub expected_last_seq: u64,
    /// Events in seq order, continuing from `expected_last_seq + 1`.
    pub events: Vec<SealedEvent>,
    /// The summary after the batch.
    pub summary: ConversationSummary,
    /// The batch's webhook notifications, written in the same transaction (the
    /// transactional outbox): a crash after the commit cannot lose one. `None` when no
    /// subscription exists.
    pub outbox: Option<crate::outbox::OutboxEntry>,
    /// The agent this batch assigns the conversation to, if it does: the store refuses
    /// the batch ([`crate::StoreError::AtCapacity`]) when the agent already owns
    /// `capacity` other conversations, counted from the summaries under a lock per
    /// agent, so claims racing on several nodes never take an agent over capacity.
    pub claim: Option<AgentClaim>,
    /// A data key made for this conversation's first sealed events, stored in the same
    /// transaction: the key commits exactly when the events it sealed do, and a new
    /// conversation needs one commit, not a key's and then its events'. Refused as a
    /// [`crate::StoreError::Conflict`], with nothing written, when the conversation
    /// already has a key (another node made one meanwhile): the caller reloads.
    pub data_key: Option<crate::data_keys::DataKeyRecord>,
}

impl AppendBatch {
    /// The refusal of this batch because the store holds `actual` as the last seq
    /// (or, with `actual` equal to the expected seq, another data key).
    pub fn conflict(&self, actual: u64) -> crate::StoreError {
        crate::StoreError::Conflict {
            conversation: self.conversation.to_string(),
            expected: self.expected_last_seq,
            actual,
        }
    }
}

/// An assignment's claim on its agent's capacity (see [`AppendBatch::claim`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentClaim {
    /// The agent the batch makes the owner.
    pub agent: AgentId,
    /// How many conversations they may own at once.
    pub capacity: u32,
}

/// The searchable summary of a conversation, kept beside its log.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationSummary {
    /// Owner after the batch.
    pub owner: Owner,
    /// Verified customer, if any.
    pub customer: Option<CustomerId>,
    /// Owning agent, if any.
    pub agent: Option<AgentId>,
    /// When the conversation started.
    pub started_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// What it is about: the intent a resolving human judged, else the NLU's latest.
    pub intent: Option<Label>,
}

/// What a committed append returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendReceipt {
    /// Seq of the last event written.
    pub last_seq: u64,
    /// Hash of the last event written.
    pub head: Digest,
    /// The checkpoint that recorded the batch.
    pub checkpoint: u64,
}

/// A stored event's place and hash (for idempotent retries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRef {
    /// Its idempotency key.
    pub id: EventId,
    /// Its seq.
    pub seq: u64,
    /// Its hash.
    pub hash: Digest,
}

/// A stored event as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Its seq.
    pub seq: u64,
    /// Canonical JSON without hash, exactly as stored.
    pub canonical: String,
    /// Its hash.
    pub hash: Digest,
}

/// A page of one conversation's events (see [`crate::Store::events_page`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventsPage {
    /// The events, in seq order.
    pub events: Vec<StoredEvent>,
    /// Whether more events follow the last one.
    pub more: bool,
}

/// An event read across conversations (see [`crate::Store::events_of_kinds`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindEvent {
    /// Its conversation.
    pub conversation: ConversationId,
    /// Its seq.
    pub seq: u64,
    /// Canonical JSON without hash, exactly as stored.
    pub canonical: String,
}

impl KindEvent {
    /// Rows of [`crate::Store::events_of_kinds`] parsed and grouped: each conversation's
    /// events in seq order (the rows come in time order).
    pub fn by_conversation(
        rows: Vec<KindEvent>,
    ) -> Result<std::collections::BTreeMap<ConversationId, Vec<Event>>, crate::StoreError> {
        let mut out: std::collections::BTreeMap<ConversationId, Vec<Event>> =
            std::collections::BTreeMap::new();
        for row in rows {
            let event: Event = serde_json::from_str(&row.canonical).map_err(|e| {
                crate::StoreError::Corrupt(format!(
                    "stored event {}/{} does not parse: {e}",
                    row.conversation, row.seq
                ))
            })?;
            out.entry(row.conversation).or_default().push(event);
        }
        for events in out.values_mut() {
            events.sort_by_key(|e| e.seq);
        }
        Ok(out)
    }
}

/// An event in the global feed: its position, its conversation, the event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEvent {
    /// Its global position: every stored event has one, and positions grow in commit
    /// order, so a reader that has read up to a position has missed nothing before it.
    pub position: u64,
    /// Its conversation.
    pub conversation: ConversationId,
    /// Its type.
    pub kind: String,
    /// The event (seq, canonical JSON, hash).
    pub event: StoredEvent,
}

/// A page of the global feed (see [`crate::Store::feed_page`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedPage {
    /// The events, in position order.
    pub events: Vec<FeedEvent>,
    /// Whether more events follow the last one.
    pub more: bool,
}

/// A conversation's summary row.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationRow {
    /// Conversation.
    pub id: ConversationId,
    /// Seq of its last event.
    pub last_seq: u64,
    /// Hash of its last event.
    pub head: Digest,
    /// Summary.
    pub summary: ConversationSummary,
}

/// Which conversations to list.
#[derive(Debug, Clone, Default)]
pub struct ConversationFilter {
    /// Only these owners (all when empty).
    pub owners: Vec<Owner>,
    /// Only this agent's.
    pub agent: Option<AgentId>,
    /// At most this many.
    pub limit: Option<u32>,
}

/// A search over conversations, newest started first, one page at a time. Every filter
/// is optional; the order (`started_at` then id, both descending) never changes for a
/// conversation, so paging by [`ConversationCursor`] neither skips nor repeats one.
#[derive(Debug, Clone, Default)]
pub struct ConversationQuery {
    /// Only these owners (all when empty).
    pub owners: Vec<Owner>,
    /// Only this agent's.
    pub agent: Option<AgentId>,
    /// Only this customer's.
    pub customer: Option<CustomerId>,
    /// Only those about this intent.
    pub intent: Option<Label>,
    /// Started at or after.
    pub since: Option<Timestamp>,
    /// Started before.
    pub until: Option<Timestamp>,
    /// Only those after this one in the order (the last row of the previous page).
    pub after: Option<ConversationCursor>,
    /// At most this many.
    pub limit: u32,
}

/// A place in a [`ConversationQuery`]'s order: a conversation's start and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationCursor {
    /// When it started.
    pub started_at: Timestamp,
    /// Its id.
    pub id: ConversationId,
}

/// A stored API key: only its SHA-256 is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// Public id, safe to list, log and revoke by.
    pub id: KeyId,
    /// SHA-256 of the key.
    pub hash: [u8; 32],
    /// Role.
    pub role: Role,
    /// The agent an agent key is bound to.
    pub agent: Option<AgentId>,
    /// A label the admin gave it ("zendesk bot", "ana's laptop").
    pub name: Option<Label>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it stops working, if ever.
    pub expires_at: Option<Timestamp>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

impl KeyRecord {
    /// Why the key does not work at `now`, if it does not.
    pub fn dead_at(&self, now: Timestamp) -> Option<KeyDeath> {
        if self.revoked_at.is_some() {
            Some(KeyDeath::Revoked)
        } else if self.expires_at.is_some_and(|at| at <= now) {
            Some(KeyDeath::Expired)
        } else {
            None
        }
    }
}

/// Why a known key no longer works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyDeath {
    /// An admin revoked it.
    Revoked,
    /// Its expiry passed.
    Expired,
}

/// What revoking a key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokeOutcome {
    /// Revoked now; its console sessions are gone with it.
    Revoked(KeyRecord),
    /// It was revoked before (nothing changed).
    AlreadyRevoked(KeyRecord),
    /// Refused: it is the last admin key that works, and revoking it would lock
    /// everybody out.
    LastAdmin,
    /// No key has that id.
    NotFound,
}

/// A console session: only the SHA-256 of its id is kept, like keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the session id the browser holds.
    pub hash: [u8; 32],
    /// SHA-256 of the key the session was opened with; revoking it ends the session.
    pub key_hash: [u8; 32],
    /// When it was opened.
    pub created_at: Timestamp,
    /// When it ends, whatever happens.
    pub expires_at: Timestamp,
}

/// A stored agent: profile as JSON (owned by the router's types), presence, time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRecord {
    /// Agent.
    pub id: AgentId,
    /// Skills and capacity, as JSON.
    pub profile: String,
    /// `available`, `away` or `offline`.
    pub presence: String,
    /// Last change.
    pub updated_at: Timestamp,
}

/// A stored checkpoint with the hash it chains onto.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// Its number.
    pub number: u64,
    /// The hash of checkpoint `number - 1` (zeros for the first).
    pub prev: Digest,
    /// Canonical JSON of its body, as stored.
    pub canonical: String,
    /// Its hash.
    pub hash: Digest,
}

/// The checkpoints that recorded one conversation, and the ledger's newest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckpointTrail {
    /// Every checkpoint that recorded a head of the conversation, in number order.
    pub checkpoints: Vec<StoredCheckpoint>,
    /// The newest checkpoint of the whole ledger (number and hash), if any.
    pub head: Option<(u64, Digest)>,
}

/// Which access log entries to read: all filters must match; entries after `after`
/// (the cursor: the last number already read), oldest first, at most `limit`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessQuery {
    /// Only reads of this conversation.
    pub conversation: Option<ConversationId>,
    /// Only reads with this key.
    pub key: Option<KeyId>,
    /// Only reads at or after this instant.
    pub since: Option<Timestamp>,
    /// Only entries numbered above this.
    pub after: u64,
    /// At most this many.
    pub limit: u32,
}

/// A stored access log entry and its chained hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAccess {
    /// The record as hashed.
    pub record: baton_core::access::AccessRecord,
    /// Its hash in the access log's chain.
    pub hash: Digest,
}
