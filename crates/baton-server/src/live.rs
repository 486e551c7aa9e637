//! The in-memory view of each conversation touched since start: its folded state and
//! chain head, behind a per-conversation lock that serializes its appends.
//!
//! A conversation is loaded from the store on first use (a fold of its log) and then
//! kept current by the append path, so a decision never re-reads history.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use baton_core::ledger::{Digest, GENESIS};
use baton_core::policy::Policy;
use baton_core::signals::SignalState;
use baton_core::{ConversationId, ConversationState, Event};
use baton_store::Store;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::error::ApiError;

/// What baton holds in memory for one conversation.
#[derive(Debug, Clone)]
pub struct Live {
    /// Whether the log has been folded in yet.
    loaded: bool,
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
            loaded: false,
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

/// A locked, loaded conversation.
pub type LiveGuard = OwnedMutexGuard<Live>;

/// Every conversation seen since start.
#[derive(Default)]
pub struct Conversations {
    map: Mutex<BTreeMap<ConversationId, Arc<AsyncMutex<Live>>>>,
    /// The policy's fact extractor, for folding a log's facts on load.
    extractor: Arc<crate::package::ExtractorSlot>,
}

/// Page size when folding a log from the store.
const LOAD_PAGE: u32 = 5_000;

impl Conversations {
    /// An empty cache that reads facts with the extractor in `slot`.
    pub fn with_extractor(extractor: Arc<crate::package::ExtractorSlot>) -> Self {
        Self {
            map: Mutex::default(),
            extractor,
        }
    }

    /// Locks a conversation, loading it from the store on first use.
    pub async fn lock(
        &self,
        store: &dyn Store,
        policy: &Policy,
        id: &ConversationId,
    ) -> Result<LiveGuard, ApiError> {
        let entry = {
            let mut map = self
                .map
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            Arc::clone(map.entry(id.clone()).or_default())
        };
        let mut live = entry.lock_owned().await;
        if !live.loaded {
            for (event, hash) in stored_events(store, id).await? {
                live.state.apply(&event);
                live.signals.apply(&event, policy);
                if let Ok(extractor) = self.extractor.get() {
                    live.facts.observe(&event, &extractor);
                }
                live.head = hash;
            }
            live.loaded = true;
        }
        Ok(live)
    }

    /// How many conversations are held in memory.
    pub fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The event JSON as the API serves it: the stored canonical object plus `hash`.
pub fn with_hash(canonical: &str, hash: &Digest) -> String {
    let open = canonical.strip_suffix('}').unwrap_or(canonical);
    format!("{open},\"hash\":\"{hash}\"}}")
}

/// Every stored event of a conversation, parsed, with its hash, read page by page.
pub async fn stored_events(
    store: &dyn Store,
    id: &ConversationId,
) -> Result<Vec<(Event, Digest)>, ApiError> {
    let mut events = Vec::new();
    let mut after = 0;
    loop {
        let page = store.events_after(id, after, LOAD_PAGE).await?;
        for stored in &page {
            let event: Event = serde_json::from_str(&stored.canonical).map_err(|e| {
                ApiError::internal(format!(
                    "stored event {id}/{} does not parse: {e}",
                    stored.seq
                ))
            })?;
            events.push((event, stored.hash));
            after = stored.seq;
        }
        if page.len() < LOAD_PAGE as usize {
            return Ok(events);
        }
    }
}
