//! The in-memory view of the conversations in use: each one's last committed state
//! (folded state, chain head, signals, known facts) as an immutable snapshot, and a
//! per-conversation writer lock that serializes its appends.
//!
//! Reads take the snapshot and never wait for a writer: a slow commit slows only the
//! appends queued behind it. A writer works on a copy and publishes it only once the
//! store has committed ([`LiveGuard::commit`]); when the store's answer leaves the
//! outcome unknown, the entry is dropped ([`LiveGuard::invalidate`]) and the next use
//! reloads it from the log.
//!
//! Memory is bounded: a read of a conversation the store does not hold allocates
//! nothing, and conversations nobody holds leave memory when idle for
//! [`LiveLimits::idle_after`] or, least recently used first, beyond
//! [`LiveLimits::max_conversations`]. They are reloaded from the store on next use.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use baton_core::ledger::{Digest, GENESIS};
use baton_core::policy::Policy;
use baton_core::signals::SignalState;
use baton_core::{ConversationId, ConversationState, Event};
use baton_store::Store;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::auth::Principal;
use crate::error::ApiError;

/// What baton holds in memory for one conversation, as of its last commit.
#[derive(Debug, Clone)]
pub struct Live {
    /// The folded state.
    pub state: ConversationState,
    /// Hash of the last event.
    pub head: Digest,
    /// The decision engine's signals, folded incrementally.
    pub signals: SignalState,
    /// Facts already given, for repeat detection.
    pub facts: crate::derive::KnownFacts,
}

impl Default for Live {
    fn default() -> Self {
        Self {
            state: ConversationState::default(),
            head: GENESIS,
            signals: SignalState::default(),
            facts: Default::default(),
        }
    }
}

impl Live {
    /// Whether the conversation has any event.
    pub fn exists(&self) -> bool {
        self.state.last_seq > 0
    }
}

/// How many conversations stay in memory, and for how long once idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveLimits {
    /// Beyond this many, the least recently used idle ones leave memory.
    pub max_conversations: usize,
    /// A conversation untouched this long leaves memory.
    pub idle_after: Duration,
}

impl Default for LiveLimits {
    fn default() -> Self {
        // `bench idle` holds 100,000 open conversations well under 1 GiB.
        Self {
            max_conversations: 100_000,
            idle_after: Duration::from_secs(15 * 60),
        }
    }
}

/// One conversation in memory.
struct Entry {
    /// Serializes writers; readers never take it.
    write: Arc<AsyncMutex<()>>,
    /// The last committed state; `None` until loaded (or after an invalidation).
    committed: RwLock<Option<Arc<Live>>>,
    /// Milliseconds since the cache's epoch at last use.
    touched: AtomicU64,
}

impl Entry {
    fn new(now: u64) -> Self {
        Self {
            write: Arc::new(AsyncMutex::new(())),
            committed: RwLock::new(None),
            touched: AtomicU64::new(now),
        }
    }

    fn committed(&self) -> Option<Arc<Live>> {
        self.committed
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn set(&self, live: Option<Arc<Live>>) {
        *self
            .committed
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = live;
    }
}

/// A writer's exclusive hold on one loaded conversation. Derefs to the last committed
/// state; [`Self::commit`] publishes the next one.
pub struct LiveGuard {
    entry: Arc<Entry>,
    live: Arc<Live>,
    _lock: OwnedMutexGuard<()>,
}

impl std::ops::Deref for LiveGuard {
    type Target = Live;
    fn deref(&self) -> &Live {
        &self.live
    }
}

impl LiveGuard {
    /// Publishes the state after a commit: readers see it from now on.
    pub fn commit(&mut self, live: Live) {
        self.live = Arc::new(live);
        self.entry.set(Some(Arc::clone(&self.live)));
    }

    /// Forgets the in-memory state (the store's outcome is unknown, or the store holds
    /// a log this state does not match): the next use reloads it from the store.
    pub fn invalidate(&mut self) {
        self.entry.set(None);
    }
}

/// The conversations in memory.
pub struct Conversations {
    map: Mutex<BTreeMap<ConversationId, Arc<Entry>>>,
    /// The policy's fact extractor, for folding a log's facts on load.
    extractor: Arc<crate::derive::ExtractorSlot>,
    limits: LiveLimits,
    clock: crate::clock::Clock,
}

/// Page size and byte budget when folding a log from the store.
const LOAD_PAGE: u32 = 5_000;
const LOAD_BYTES: usize = 4 * 1024 * 1024;

impl Conversations {
    /// An empty cache that reads facts with the extractor in `slot`.
    pub fn new(
        extractor: Arc<crate::derive::ExtractorSlot>,
        limits: LiveLimits,
        clock: crate::clock::Clock,
    ) -> Self {
        Self {
            map: Mutex::default(),
            extractor,
            limits,
            clock,
        }
    }

    /// The clock's milliseconds, as the entries' touch marks hold them.
    fn now(&self) -> u64 {
        u64::try_from(self.clock.now().unix_millis()).unwrap_or(0)
    }

    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<ConversationId, Arc<Entry>>> {
        self.map
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The entry for `id`, created when `create` (a writer) and absent.
    fn entry(&self, id: &ConversationId, create: bool) -> Option<Arc<Entry>> {
        let now = self.now();
        let mut map = self.map();
        if let Some(entry) = map.get(id) {
            entry.touched.store(now, Ordering::Relaxed);
            return Some(Arc::clone(entry));
        }
        if !create {
            return None;
        }
        let entry = Arc::new(Entry::new(now));
        map.insert(id.clone(), Arc::clone(&entry));
        if map.len() > self.limits.max_conversations {
            // Evict a tenth at once, so a full cache does not scan on every insert.
            let keep = self.limits.max_conversations - self.limits.max_conversations / 10;
            evict(&mut map, keep, None);
        }
        Some(entry)
    }

    /// Locks a conversation for writing, loading it from the store on first use.
    pub async fn lock(
        &self,
        store: &dyn Store,
        policy: &Policy,
        id: &ConversationId,
    ) -> Result<LiveGuard, ApiError> {
        let entry = self.entry(id, true).ok_or_else(|| {
            ApiError::internal("the conversation cache refused to create an entry")
        })?;
        let lock = Arc::clone(&entry.write).lock_owned().await;
        let live = self.committed_or_load(&entry, store, policy, id).await?;
        Ok(LiveGuard {
            entry,
            live,
            _lock: lock,
        })
    }

    /// The entry's committed state, loaded from the store if it has none yet. Called
    /// with the entry's writer lock held, so two loads never race.
    async fn committed_or_load(
        &self,
        entry: &Entry,
        store: &dyn Store,
        policy: &Policy,
        id: &ConversationId,
    ) -> Result<Arc<Live>, ApiError> {
        if let Some(live) = entry.committed() {
            return Ok(live);
        }
        let live = Arc::new(self.load(store, policy, id).await?);
        entry.set(Some(Arc::clone(&live)));
        Ok(live)
    }

    /// Replaces a locked conversation's state with the store's: for a writer whose
    /// append the store refused because the log moved on (another node wrote it), so
    /// the batch is checked and decided again on what is really stored.
    pub async fn reload(
        &self,
        guard: &mut LiveGuard,
        store: &dyn Store,
        policy: &Policy,
        id: &ConversationId,
    ) -> Result<(), ApiError> {
        guard.invalidate();
        let live = Arc::new(self.load(store, policy, id).await?);
        guard.entry.set(Some(Arc::clone(&live)));
        guard.live = live;
        Ok(())
    }

    /// Drops a conversation's state from memory unless someone is writing it (a
    /// writer's own commit is the newer truth): the next use reloads it from the
    /// store. For a notification that another node moved it to `seq`.
    pub fn forget_behind(&self, id: &ConversationId, seq: u64) {
        let Some(entry) = self.entry(id, false) else {
            return;
        };
        let Ok(_lock) = entry.write.try_lock() else {
            // A writer holds it: its append either lands after `seq` or is refused
            // by the store and reloads.
            return;
        };
        if entry
            .committed()
            .is_some_and(|live| live.state.last_seq < seq)
        {
            entry.set(None);
        }
    }

    /// The last committed state of a conversation, or `None` when it has no event.
    /// Never waits for an append in progress; allocates nothing for a conversation the
    /// store does not hold.
    pub async fn snapshot(
        &self,
        store: &dyn Store,
        policy: &Policy,
        id: &ConversationId,
    ) -> Result<Option<Arc<Live>>, ApiError> {
        let entry = match self.entry(id, false) {
            Some(entry) => entry,
            None => {
                if store.conversation(id).await?.is_none() {
                    return Ok(None);
                }
                self.entry(id, true).ok_or_else(|| {
                    ApiError::internal("the conversation cache refused to create an entry")
                })?
            }
        };
        if let Some(live) = entry.committed() {
            return Ok(Some(live).filter(|l| l.exists()));
        }
        // Not loaded yet: load under the writer lock, so a writer's load and ours do
        // not race. A writer loads before it writes, so this never waits for a commit.
        let _lock = Arc::clone(&entry.write).lock_owned().await;
        let live = self.committed_or_load(&entry, store, policy, id).await?;
        Ok(Some(live).filter(|l| l.exists()))
    }

    /// The last committed state of a conversation already in memory, without loading
    /// or waiting for anything: for a holder of the routing gate, which must never wait
    /// for a conversation's writer (a writer may be waiting for the gate).
    pub fn loaded(&self, id: &ConversationId) -> Option<Arc<Live>> {
        self.entry(id, false)?.committed()
    }

    /// The last committed state for a reader: 404 unless the conversation exists and
    /// `principal` may read it.
    pub async fn readable(
        &self,
        store: &dyn Store,
        policy: &Policy,
        principal: &Principal,
        id: &ConversationId,
    ) -> Result<Arc<Live>, ApiError> {
        let live = self
            .snapshot(store, policy, id)
            .await?
            .ok_or_else(|| ApiError::not_found("no such conversation"))?;
        crate::access::ensure_readable(principal, live.exists(), &live.state)?;
        Ok(live)
    }

    async fn load(
        &self,
        store: &dyn Store,
        policy: &Policy,
        id: &ConversationId,
    ) -> Result<Live, ApiError> {
        let mut live = Live::default();
        let extractor = self.extractor.get().ok();
        let mut after = 0;
        loop {
            let page = store.events_page(id, after, LOAD_PAGE, LOAD_BYTES).await?;
            for stored in &page.events {
                let event = parse_stored(id, stored)?;
                live.state.apply(&event);
                live.signals.apply(&event, policy);
                if let Some(extractor) = &extractor {
                    live.facts.observe(&event, extractor);
                }
                live.head = stored.hash;
                after = stored.seq;
            }
            if !page.more {
                return Ok(live);
            }
        }
    }

    /// Drops conversations untouched for the idle time, and the least recently used
    /// beyond the cap; none that anyone holds.
    pub fn sweep(&self) {
        let idle = u64::try_from(self.limits.idle_after.as_millis()).unwrap_or(u64::MAX);
        let cutoff = self.now().checked_sub(idle);
        let mut map = self.map();
        evict(&mut map, self.limits.max_conversations, cutoff);
    }

    /// How many conversations are held in memory.
    pub fn len(&self) -> usize {
        self.map().len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Removes entries nobody holds: those touched before `idle_cutoff`, then the least
/// recently used until at most `keep` remain. An entry only the map holds cannot be
/// taken by anyone while the map is locked, so removing it loses nothing.
fn evict(map: &mut BTreeMap<ConversationId, Arc<Entry>>, keep: usize, idle_cutoff: Option<u64>) {
    let free = |entry: &Arc<Entry>| Arc::strong_count(entry) == 1;
    if let Some(cutoff) = idle_cutoff {
        map.retain(|_, entry| !(free(entry) && entry.touched.load(Ordering::Relaxed) < cutoff));
    }
    if map.len() <= keep {
        return;
    }
    let mut candidates: Vec<(u64, ConversationId)> = map
        .iter()
        .filter(|(_, entry)| free(entry))
        .map(|(id, entry)| (entry.touched.load(Ordering::Relaxed), id.clone()))
        .collect();
    candidates.sort_unstable();
    let excess = map.len() - keep;
    for (_, id) in candidates.into_iter().take(excess) {
        map.remove(&id);
    }
}

/// Drops idle conversations from memory on a timer until the app is dropped.
pub fn spawn_sweeper(app: &crate::app::AppState) {
    let weak = Arc::downgrade(&app.0);
    let every = (app.conversations.limits.idle_after / 4)
        .clamp(Duration::from_millis(10), Duration::from_secs(30));
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut moves = weak.upgrade().and_then(|inner| inner.clock.moves());
        loop {
            crate::clock::tick_or_move(&mut interval, &mut moves).await;
            let Some(inner) = weak.upgrade() else { return };
            inner.conversations.sweep();
        }
    });
}

pub use baton_core::ledger::with_hash;

/// A stored event, parsed.
pub fn parse_stored(
    id: &ConversationId,
    stored: &baton_store::StoredEvent,
) -> Result<Event, ApiError> {
    serde_json::from_str(&stored.canonical).map_err(|e| {
        ApiError::internal(format!(
            "stored event {id}/{} does not parse: {e}",
            stored.seq
        ))
    })
}
