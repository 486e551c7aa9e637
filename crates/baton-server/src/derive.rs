//! baton's own reactions to a client batch: the events it derives before the batch is
//! written (so they commit in the same transaction), and what it sets in motion after.
//!
//! This is the seam between the append path and the domain engines in baton-core.

use baton_core::event::EventBody;
use baton_core::{ConversationId, ConversationState, Event, Timestamp};

use crate::app::AppState;
use crate::live::Live;

/// The engines consulted on every append.
#[derive(Default)]
pub struct Derive {}

impl Derive {
    /// Events baton adds after a client batch, given the state after it.
    pub fn after_batch(
        &self,
        _app: &AppState,
        _before: &Live,
        _state: &ConversationState,
        _batch: &[Event],
        _now: Timestamp,
    ) -> Vec<EventBody> {
        Vec::new()
    }

    /// Work started once a batch is durable.
    pub fn after_commit(
        &self,
        _app: &AppState,
        _conversation: &ConversationId,
        _state: &ConversationState,
        _written: &[Event],
        _now: Timestamp,
    ) {
    }
}
