//! Conversations' data keys as a store keeps them: wrapped by a master key (the store
//! never sees a key in clear), and destroyed by an erasure. The crypto is baton-core's
//! ([`baton_core::seal`]); this is only the record.

use baton_core::id::ConversationId;
use baton_core::timestamp::Timestamp;

/// One conversation's data key.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKeyRecord {
    /// Its conversation (one key each).
    pub conversation: ConversationId,
    /// Its id (`dk_` + hex), which sealed events name as `kid`.
    pub id: String,
    /// The id of the master key that wrapped it (`mk_` + hex).
    pub master: String,
    /// Nonce and ciphertext of the key; `None` once destroyed.
    pub wrapped: Option<Vec<u8>>,
    /// When it was made.
    pub created_at: Timestamp,
    /// When an erasure destroyed it.
    pub destroyed_at: Option<Timestamp>,
}

impl std::fmt::Debug for DataKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKeyRecord")
            .field("conversation", &self.conversation)
            .field("id", &self.id)
            .field("master", &self.master)
            .field("wrapped", &self.wrapped.as_ref().map(|_| ".."))
            .field("created_at", &self.created_at)
            .field("destroyed_at", &self.destroyed_at)
            .finish()
    }
}

/// A key wrapped again under a new master key (a rotation).
#[derive(Clone)]
pub struct Rewrap {
    /// Whose key.
    pub conversation: ConversationId,
    /// The new master key's id.
    pub master: String,
    /// The key wrapped under it.
    pub wrapped: Vec<u8>,
}
