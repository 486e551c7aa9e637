//! Leadership: at most one node at a time runs what must not run twice (the
//! router's decisions). The embedded store has one node, which always leads; on
//! PostgreSQL a node leads while it holds a session-level advisory lock on a
//! connection of its own, so a node that dies (its connection lost) frees the lock
//! for the next one without anyone's help.

use crate::StoreFuture;

/// One node's claim to lead.
pub trait Leadership: Send + Sync {
    /// Tries to lead; true when this claim leads now (it does until dropped, resigned
    /// or its connection is lost). Never waits for the current leader.
    fn try_lead(&self) -> StoreFuture<'_, bool>;

    /// Whether this claim still leads: false once its connection is gone.
    fn still_leads(&self) -> StoreFuture<'_, bool>;

    /// Gives the lead up (dropping the claim does too).
    fn resign(&self) -> StoreFuture<'_, ()>;
}

/// The claim of the only node: it always leads.
#[derive(Debug, Default)]
pub struct SoleNode;

impl Leadership for SoleNode {
    fn try_lead(&self) -> StoreFuture<'_, bool> {
        Box::pin(async { Ok(true) })
    }

    fn still_leads(&self) -> StoreFuture<'_, bool> {
        Box::pin(async { Ok(true) })
    }

    fn resign(&self) -> StoreFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }
}
