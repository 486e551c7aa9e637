//! The key hierarchy at run time: the master key, each conversation's data key
//! (created on its first append, wrapped by the master key, stored in `data_keys`),
//! a bounded in-memory cache of unwrapped keys, and erasure (destroy the key, forget
//! it). [`Vault::open`] is the one function every read path decrypts through (see
//! [`crate::unseal`]); [`Vault::seal`] is the one step the append pipeline seals with.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use baton_core::event::Event;
use baton_core::id::ConversationId;
use baton_core::ledger::Digest;
use baton_core::seal::{self, DataKey, MasterKey, NONCE_BYTES, Opened};
use baton_core::timestamp::Timestamp;
use baton_store::{DataKeyRecord, SealedEvent, Store, StoreError};
use rand::RngCore;

/// Unwrapped keys kept in memory at most; past it the cache starts again empty (a miss
/// costs one indexed read and one unwrap).
pub const KEY_CACHE: usize = 50_000;

/// A conversation's data key, unwrapped, with its id.
pub struct OpenKey {
    /// The key.
    pub key: DataKey,
    /// Its id (`kid` in envelopes).
    pub id: String,
}

/// The key an append seals with, and the record to store with it when it is new.
pub struct ForAppend {
    /// The key.
    pub key: Arc<OpenKey>,
    /// Its record, when this append makes it (the conversation's first sealed one).
    pub new: Option<DataKeyRecord>,
}

#[derive(Clone)]
enum Cached {
    Live(Arc<OpenKey>),
    Destroyed,
}

/// Why the keys cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The data keys were wrapped by another master key than the one given.
    #[error(
        "the data keys here were wrapped by master key {stored}, but the key given is {given}: start with the right master key (--master-key-file / BATON_MASTER_KEY_FILE or --master-key-command / BATON_MASTER_KEY_COMMAND)"
    )]
    WrongMaster {
        /// The id the store records.
        stored: String,
        /// The id of the key given.
        given: String,
    },
    /// A wrapped key does not open.
    #[error("the data key of {0} does not unwrap with the master key given")]
    Unwrap(ConversationId),
    /// Sealed data exists but no master key was given.
    #[error(
        "this store holds {0} encrypted conversations but no master key was given: pass --master-key-file / BATON_MASTER_KEY_FILE or --master-key-command / BATON_MASTER_KEY_COMMAND"
    )]
    NoMaster(usize),
    /// The conversation was erased: it takes no new data.
    #[error("conversation {0} was erased")]
    Erased(ConversationId),
}

/// Master key, store of wrapped keys, cache.
pub struct Vault {
    master: MasterKey,
    store: Arc<dyn Store>,
    cache: Mutex<BTreeMap<ConversationId, Cached>>,
    /// Conversations whose new key a store refused (one was stored meanwhile): their
    /// next append reads the store's key even though memory says they are new.
    refused: Mutex<BTreeSet<ConversationId>>,
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

impl Vault {
    /// Checks `master` against every live data key in `store` (the store's raw engine,
    /// not a decrypting wrapper), before anything is written: a wrong key is refused
    /// at start-up rather than found on the first read.
    pub async fn open_store(master: MasterKey, store: Arc<dyn Store>) -> Result<Self, VaultError> {
        let keys = store.data_keys().await?;
        if let Some(other) = keys
            .iter()
            .find(|k| k.wrapped.is_some() && k.master != master.id())
        {
            return Err(VaultError::WrongMaster {
                stored: other.master.clone(),
                given: master.id().to_owned(),
            });
        }
        if let Some(live) = keys.iter().find(|k| k.wrapped.is_some()) {
            unwrap(&master, live)?;
        }
        Ok(Self {
            master,
            store,
            cache: Mutex::new(BTreeMap::new()),
            refused: Mutex::new(BTreeSet::new()),
        })
    }

    /// Refuses a store with encrypted conversations when no master key is given.
    pub async fn refuse_without_master(store: &dyn Store) -> Result<(), VaultError> {
        let live = store
            .data_keys()
            .await?
            .iter()
            .filter(|k| k.wrapped.is_some())
            .count();
        if live > 0 {
            return Err(VaultError::NoMaster(live));
        }
        Ok(())
    }

    /// The master key's id.
    pub fn master_id(&self) -> &str {
        self.master.id()
    }

    fn cached(&self, cid: &ConversationId) -> Option<Cached> {
        self.cache.lock().ok()?.get(cid).cloned()
    }

    fn remember(&self, cid: &ConversationId, entry: Cached) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= KEY_CACHE {
                cache.clear();
            }
            cache.insert(cid.clone(), entry);
        }
    }

    /// Drops a conversation's key from memory (on erasure).
    pub fn forget(&self, cid: &ConversationId) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(cid);
        }
    }

    async fn load(&self, cid: &ConversationId) -> Result<Option<Cached>, VaultError> {
        if let Some(hit) = self.cached(cid) {
            return Ok(Some(hit));
        }
        let Some(record) = self.store.data_key(cid).await? else {
            return Ok(None);
        };
        let entry = match &record.wrapped {
            Some(_) => Cached::Live(Arc::new(unwrap(&self.master, &record)?)),
            None => Cached::Destroyed,
        };
        self.remember(cid, entry.clone());
        Ok(Some(entry))
    }

    /// The key to seal a conversation's new events with. On its first sealed append
    /// the key is new: [`ForAppend::new`] is the record the append must store with its
    /// events, and [`Vault::committed`] remembers the key once they are durable, so a
    /// batch that fails leaves no key behind, in the store or in memory.
    ///
    /// `first` says memory holds no event of the conversation: it then has no key
    /// either (a key is stored only with events, and an erasure is an event), so the
    /// store is not asked, saving a read on every new conversation. Should memory be
    /// behind another node, the append is refused for its seq; should a key be stored
    /// without events (by an older baton), for the key ([`Vault::refused`]) and the
    /// next try reads it.
    pub async fn for_append(
        &self,
        cid: &ConversationId,
        now: Timestamp,
        first: bool,
    ) -> Result<ForAppend, VaultError> {
        let found = if first && !self.was_refused(cid) {
            self.cached(cid)
        } else {
            self.load(cid).await?
        };
        match found {
            Some(Cached::Live(key)) => return Ok(ForAppend { key, new: None }),
            Some(Cached::Destroyed) => return Err(VaultError::Erased(cid.clone())),
            None => {}
        }
        let key = DataKey::from_random(random());
        let record = DataKeyRecord {
            conversation: cid.clone(),
            id: format!("dk_{}", hex::encode(random::<8>())),
            master: self.master.id().to_owned(),
            wrapped: Some(self.master.wrap(cid, &key, random())),
            created_at: now,
            destroyed_at: None,
        };
        Ok(ForAppend {
            key: Arc::new(OpenKey {
                key,
                id: record.id.clone(),
            }),
            new: Some(record),
        })
    }

    /// An append sealed with `key` has committed: a new key is now the stored one.
    pub fn committed(&self, cid: &ConversationId, key: &ForAppend) {
        if key.new.is_some() {
            self.remember(cid, Cached::Live(Arc::clone(&key.key)));
            if let Ok(mut refused) = self.refused.lock() {
                refused.remove(cid);
            }
        }
    }

    /// The store refused an append that brought a new key: the next one reads the
    /// store's.
    pub fn refused(&self, cid: &ConversationId, key: &ForAppend) {
        if key.new.is_some()
            && let Ok(mut refused) = self.refused.lock()
        {
            // Bounded like the cache: forgetting only costs a refused try.
            if refused.len() >= KEY_CACHE {
                refused.clear();
            }
            refused.insert(cid.clone());
        }
    }

    fn was_refused(&self, cid: &ConversationId) -> bool {
        self.refused.lock().map_or(true, |r| r.contains(cid))
    }

    /// Seals `event` (its customer data into an envelope) and chains it onto `prev`;
    /// with it, the plain canonical event when that differs from what is stored.
    pub fn seal(
        cid: &ConversationId,
        key: &OpenKey,
        prev: &Digest,
        event: &Event,
    ) -> Result<(SealedEvent, Option<String>), baton_core::seal::SealError> {
        let nonce: [u8; NONCE_BYTES] = random();
        let forms = seal::seal_forms(event, cid, &key.key, &key.id, nonce)?;
        Ok(match forms.sealed {
            Some(sealed) => (
                SealedEvent::from_canonical(prev, event, sealed),
                Some(forms.plain),
            ),
            None => (SealedEvent::from_canonical(prev, event, forms.plain), None),
        })
    }

    /// A stored event as it reads: decrypted, its own plain form, or erased.
    pub async fn open(&self, cid: &ConversationId, stored: String) -> Result<String, StoreError> {
        if !seal::may_be_sealed(&stored) {
            return Ok(stored);
        }
        let corrupt = |e: &dyn std::fmt::Display| {
            StoreError::Corrupt(format!("a sealed event of {cid} does not open: {e}"))
        };
        let key = match self.load(cid).await {
            Ok(Some(Cached::Live(key))) => Some(key),
            Ok(Some(Cached::Destroyed)) | Ok(None) => None,
            Err(VaultError::Store(e)) => return Err(e),
            Err(e) => return Err(corrupt(&e)),
        };
        let opened = seal::open(
            &stored,
            cid,
            key.as_deref().map(|k| (&k.key, k.id.as_str())),
        )
        .map_err(|e| corrupt(&e))?;
        Ok(match opened {
            Opened::Plain => stored,
            Opened::Decrypted(json) | Opened::Erased(json) => json,
        })
    }

    /// Destroys a conversation's data key in the store and in memory. Whether a live
    /// key was destroyed.
    pub async fn destroy(&self, cid: &ConversationId, at: Timestamp) -> Result<bool, StoreError> {
        self.forget(cid);
        let destroyed = self.store.destroy_data_key(cid, at).await?;
        self.remember(cid, Cached::Destroyed);
        Ok(destroyed)
    }

    /// Whether the conversation's key was destroyed.
    pub async fn is_erased(&self, cid: &ConversationId) -> Result<bool, VaultError> {
        Ok(matches!(self.load(cid).await?, Some(Cached::Destroyed)))
    }
}

fn unwrap(master: &MasterKey, record: &DataKeyRecord) -> Result<OpenKey, VaultError> {
    let wrapped = record.wrapped.as_deref().unwrap_or_default();
    let key = master
        .unwrap_key(&record.conversation, wrapped)
        .map_err(|_| VaultError::Unwrap(record.conversation.clone()))?;
    Ok(OpenKey {
        key,
        id: record.id.clone(),
    })
}
