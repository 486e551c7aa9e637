//! Erasure by crypto-shredding: record who erased a conversation, when and why as an
//! `erased` event in its chain, then destroy its data key and drop what memory holds
//! of it. The sealed events, their hashes and the checkpoints stay as they were, so
//! every chain still verifies; reads afterwards show structure with erased markers.

use baton_core::event::{Erased, ErasedBy, EventBody};
use baton_core::id::KeyId;
use baton_core::{ConversationId, Text};
use baton_store::StoreError;
use serde::Serialize;

use crate::app::AppState;
use crate::error::ApiError;

/// What one erasure did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Erasure {
    /// The conversation.
    pub conversation: String,
    /// Seq of the `erased` event.
    pub seq: u64,
    /// Its hash (the conversation's head).
    pub hash: String,
    /// When the key was destroyed.
    pub erased_at: String,
}

/// Erases one conversation. 404 if it does not exist, 409 if it is already erased or
/// encryption is off (there is then no key to destroy, and nothing is changed).
pub async fn erase(
    app: &AppState,
    cid: &ConversationId,
    reason: Text,
    by: ErasedBy,
    key: Option<KeyId>,
) -> Result<Erasure, ApiError> {
    let Some(vault) = app.vault.clone() else {
        return Err(ApiError::conflict(
            "encryption_off",
            "erasure destroys a conversation's data key; this server runs with encryption off",
        ));
    };
    if app.raw_store.conversation(cid).await?.is_none() {
        return Err(ApiError::not_found("no such conversation"));
    }
    let mut live = app
        .conversations
        .lock(app.store.as_ref(), &app.policy(), cid)
        .await?;
    if vault.is_erased(cid).await? {
        // The store's scrub again, so that after an `erasure_incomplete` the repeated
        // request answers `already_erased` only once the scrub has finished.
        vault
            .destroy(cid, app.clock.now())
            .await
            .map_err(|e| incomplete(cid, e))?;
        return Err(ApiError::conflict(
            "already_erased",
            format!("conversation {cid} was already erased"),
        ));
    }
    let written = crate::append::write_system(
        app,
        cid,
        &mut live,
        EventBody::Erased(Erased { reason, by, key }),
    )
    .await?;
    let now = app.clock.now();
    let destroyed = vault.destroy(cid, now).await;
    // Facts, signals and texts folded in memory came from the data just destroyed,
    // even when the store's scrub after it did not finish.
    live.invalidate();
    drop(live);
    destroyed.map_err(|e| incomplete(cid, e))?;
    metrics::counter!("baton_erasures_total", "by" => match by {
        ErasedBy::Admin => "admin",
        ErasedBy::Retention => "retention",
    })
    .increment(1);
    tracing::info!(conversation = %cid, seq = written.seq, "conversation erased");
    Ok(Erasure {
        conversation: cid.to_string(),
        seq: written.seq,
        hash: written.hash,
        erased_at: now.to_string(),
    })
}

/// A destroy whose scrub did not finish is not a success: the `erased` event and the
/// destroyed key stand, but an old copy of the wrapped key may still be on disk, so
/// the caller hears so and repeats the request.
fn incomplete(cid: &ConversationId, e: StoreError) -> ApiError {
    match e {
        StoreError::Busy(_) => ApiError::unavailable(
            "erasure_incomplete",
            format!(
                "conversation {cid} is erased and its data key destroyed, but the store \
                 could not yet scrub every old copy of the key ({e}); it keeps trying: \
                 repeat the request, and `already_erased` confirms it is done"
            ),
        ),
        e => e.into(),
    }
}
