//! Ledger verification over the PostgreSQL tables, streaming rows into baton-core's
//! verifiers, and the access log's chain after them. Every pass reads one snapshot (a repeatable-read transaction), so
//! appends committing meanwhile on any node never look like a truncated tail.

use baton_core::id::ConversationId;
use baton_core::ledger::{
    Break, ChainVerifier, GENESIS, StoredCheckpointRef, StoredEventRef, Verified,
};
use futures_util::TryStreamExt;
use sqlx::Row;
use sqlx::postgres::PgPool;

use super::{digest_from, to_u64};
use crate::StoreError;
use crate::model::{CheckpointTrail, StoredCheckpoint};

/// Verifies every chain (or one conversation's) and the checkpoint chain.
pub async fn verify(
    pool: &PgPool,
    only: Option<&ConversationId>,
) -> Result<Result<Verified, Break>, StoreError> {
    let mut tx = pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .await?;
    let mut chains = ChainVerifier::new();
    {
        let mut rows = sqlx::query(
            "SELECT conversation, seq, body, hash FROM events
             WHERE $1::text IS NULL OR conversation = $1
             ORDER BY conversation, seq",
        )
        .bind(only.map(|c| c.as_str()))
        .fetch(&mut *tx);
        let mut current: Option<ConversationId> = None;
        while let Some(row) = rows.try_next().await? {
            let raw_cid: &str = row.try_get(0)?;
            if current.as_ref().map(|c| c.as_str()) != Some(raw_cid) {
                current = Some(ConversationId::parse(raw_cid).map_err(|e| {
                    StoreError::Corrupt(format!("conversation id {raw_cid:?}: {e}"))
                })?);
            }
            let Some(conversation) = current.as_ref() else {
                continue;
            };
            let body: &str = row.try_get(2)?;
            let hash: &[u8] = row.try_get(3)?;
            if let Err(broken) = chains.push(StoredEventRef {
                conversation,
                seq: to_u64(row.try_get(1)?)?,
                canonical: body.as_bytes(),
                hash: digest_from(hash)?,
            }) {
                return Ok(Err(broken));
            }
        }
    }
    let mut checkpoints = chains.finish();
    {
        let mut rows = sqlx::query("SELECT number, body, hash FROM checkpoints ORDER BY number")
            .fetch(&mut *tx);
        while let Some(row) = rows.try_next().await? {
            let body: &str = row.try_get(1)?;
            let hash: &[u8] = row.try_get(2)?;
            if let Err(broken) = checkpoints.push(StoredCheckpointRef {
                number: to_u64(row.try_get(0)?)?,
                canonical: body.as_bytes(),
                hash: digest_from(hash)?,
            }) {
                return Ok(Err(broken));
            }
        }
    }
    let verified = match checkpoints.finish(only) {
        Ok(verified) => verified,
        broken => return Ok(broken),
    };
    if only.is_some() {
        tx.commit().await?;
        return Ok(Ok(verified));
    }
    let access = super::access::verify(&mut tx).await?;
    tx.commit().await?;
    Ok(access.map(|entries| Verified {
        access_entries: Some(entries),
        ..verified
    }))
}

/// The checkpoints that recorded `only` and the newest checkpoint, read in one pass.
pub async fn checkpoint_trail(
    pool: &PgPool,
    only: &ConversationId,
) -> Result<CheckpointTrail, StoreError> {
    let mut rows = sqlx::query(
        "SELECT number, body, hash,
                body::jsonb -> 'heads' @> jsonb_build_array(jsonb_build_object('conversation', $1::text))
                    AS records
         FROM checkpoints ORDER BY number",
    )
    .bind(only.as_str())
    .fetch(pool);
    let mut trail = CheckpointTrail::default();
    let mut prev = GENESIS;
    while let Some(row) = rows.try_next().await? {
        let number = to_u64(row.try_get("number")?)?;
        let hash = digest_from(row.try_get("hash")?)?;
        if row.try_get::<bool, _>("records")? {
            trail.checkpoints.push(StoredCheckpoint {
                number,
                prev,
                canonical: row.try_get("body")?,
                hash,
            });
        }
        trail.head = Some((number, hash));
        prev = hash;
    }
    Ok(trail)
}
