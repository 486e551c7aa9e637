//! Idempotent retries: an event id already stored is answered with the first result
//! only when the request carries the same event.
//!
//! "The same event" is what the client sent: its `type` and the type's fields, its
//! `actor`, its `meta`, and its `at` when it gave one. A field the server filled in
//! (an `at` it stamped, the actor a key writes as by default) matches whatever the
//! first delivery got. The comparison is on canonical JSON, the form the ledger hashes,
//! so two spellings of one value (`1.0` and `1`) are the same event.

use baton_core::ConversationId;
use baton_core::Event;
use baton_core::ledger::canonical_json;
use baton_store::{StoredEvent, StoredRef};

use crate::app::AppState;
use crate::append::Draft;
use crate::error::ApiError;
use crate::live::parse_stored;

/// 409 `idempotency_conflict`, naming the first event of `drafts` whose id is stored
/// (in `found`) with a different event.
pub async fn ensure_same(
    app: &AppState,
    conversation: &ConversationId,
    drafts: &[Draft],
    found: &[StoredRef],
) -> Result<(), ApiError> {
    let stored = stored_events(app, conversation, found).await?;
    for (index, draft) in drafts.iter().enumerate() {
        let Some(id) = &draft.id else { continue };
        let Some(seq) = found.iter().find(|f| &f.id == id).map(|f| f.seq) else {
            continue;
        };
        let Some(first) = stored.iter().find(|s| s.seq == seq) else {
            return Err(ApiError::internal(format!(
                "event {conversation}/{seq} is indexed but cannot be read"
            )));
        };
        if !same_event(conversation, draft, first)? {
            return Err(ApiError::conflict(
                "idempotency_conflict",
                format!("event id {id} was stored earlier with a different body"),
            )
            .with_field(format!("events[{index}].id")));
        }
    }
    Ok(())
}

/// Whether `draft` is the event stored as `first`.
fn same_event(
    conversation: &ConversationId,
    draft: &Draft,
    first: &StoredEvent,
) -> Result<bool, ApiError> {
    let stored = parse_stored(conversation, first)?;
    let candidate = Event {
        erased: false,
        seq: stored.seq,
        id: stored.id,
        actor: draft.actor.clone(),
        at: draft.at.unwrap_or(stored.at),
        meta: draft.meta.clone(),
        body: draft.body.clone(),
    };
    Ok(canonical_json(&candidate).map_err(ApiError::internal)? == first.canonical)
}

/// The stored events at the seqs in `found`: one read when they are close together
/// (a retried batch is contiguous), else one read each.
async fn stored_events(
    app: &AppState,
    conversation: &ConversationId,
    found: &[StoredRef],
) -> Result<Vec<StoredEvent>, ApiError> {
    let (Some(first), Some(last)) = (
        found.iter().map(|f| f.seq).min(),
        found.iter().map(|f| f.seq).max(),
    ) else {
        return Ok(Vec::new());
    };
    let span = last - first + 1;
    if span <= 2 * found.len() as u64 {
        let limit = u32::try_from(span).unwrap_or(u32::MAX);
        return Ok(app
            .store
            .events_page(conversation, first.saturating_sub(1), limit, usize::MAX)
            .await?
            .events);
    }
    let mut events = Vec::with_capacity(found.len());
    for stored in found {
        let page = app
            .store
            .events_page(conversation, stored.seq.saturating_sub(1), 1, usize::MAX)
            .await?;
        events.extend(page.events);
    }
    Ok(events)
}
