//! Errors of the storage layer. The server maps them to HTTP in its one error file.

/// What went wrong in a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The conversation moved on: `expected_last_seq` is stale (or, for a batch that
    /// brings its conversation's first data key, another key was stored meanwhile).
    #[error("conversation {conversation} is at seq {actual}, not {expected}")]
    Conflict {
        /// Conversation.
        conversation: String,
        /// What the caller expected.
        expected: u64,
        /// What the store holds.
        actual: u64,
    },
    /// The batch assigns its conversation to an agent who already owns as many others
    /// as their capacity allows (see [`crate::AppendBatch::claim`]); nothing written.
    #[error("agent {agent} already owns {capacity} conversations, their capacity")]
    AtCapacity {
        /// The agent.
        agent: String,
        /// Their capacity.
        capacity: u32,
    },
    /// An event id already exists in this conversation.
    #[error("event id {0} already exists in this conversation")]
    DuplicateEventId(String),
    /// Something stored cannot be read back (corruption or an edit behind baton's back).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The engine failed (disk, I/O, SQL).
    #[error("storage engine error: {0}")]
    Engine(String),
    /// The store is shutting down or its writer is gone.
    #[error("store is closed")]
    Closed,
    /// Other connections kept the engine busy through every retry; what the message
    /// names was not done (what came before it in the same call may have been).
    #[error("storage engine busy: {0}")]
    Busy(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Engine(e.to_string())
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Engine(e.to_string())
    }
}
