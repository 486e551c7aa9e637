//! Ledger verification over the SQLite tables, streaming rows into baton-core's
//! verifiers so memory stays flat however long the logs are.

use baton_core::id::ConversationId;
use baton_core::ledger::{
    Break, ChainVerifier, GENESIS, StoredCheckpointRef, StoredEventRef, Verified,
};
use rusqlite::Connection;

use super::digest_from;
use crate::StoreError;
use crate::model::{CheckpointTrail, StoredCheckpoint};

/// Verifies every chain (or one conversation's) and the checkpoint chain.
pub fn verify(
    conn: &Connection,
    only: Option<&ConversationId>,
) -> Result<Result<Verified, Break>, StoreError> {
    let mut chains = ChainVerifier::new();
    let (sql, arg) = match only {
        Some(cid) => (
            "SELECT conversation, seq, body, hash FROM events WHERE conversation = ?1 ORDER BY seq",
            Some(cid.as_str()),
        ),
        None => (
            "SELECT conversation, seq, body, hash FROM events ORDER BY conversation, seq",
            None,
        ),
    };
    let mut stmt = conn.prepare(sql)?;
    let mut rows = match arg {
        Some(cid) => stmt.query([cid])?,
        None => stmt.query([])?,
    };
    let mut current: Option<ConversationId> = None;
    while let Some(row) = rows.next()? {
        let raw_cid = row
            .get_ref(0)?
            .as_str()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if current.as_ref().map(|c| c.as_str()) != Some(raw_cid) {
            current =
                Some(ConversationId::parse(raw_cid).map_err(|e| {
                    StoreError::Corrupt(format!("conversation id {raw_cid:?}: {e}"))
                })?);
        }
        let Some(conversation) = current.as_ref() else {
            continue;
        };
        let seq: u64 = row.get(1)?;
        let body = row
            .get_ref(2)?
            .as_bytes()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let hash = digest_from(
            row.get_ref(3)?
                .as_blob()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        )?;
        if let Err(broken) = chains.push(StoredEventRef {
            conversation,
            seq,
            canonical: body,
            hash,
        }) {
            return Ok(Err(broken));
        }
    }
    let mut checkpoints = chains.finish();
    let mut stmt = conn.prepare("SELECT number, body, hash FROM checkpoints ORDER BY number")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let number: u64 = row.get(0)?;
        let body = row
            .get_ref(1)?
            .as_bytes()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let hash = digest_from(
            row.get_ref(2)?
                .as_blob()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        )?;
        if let Err(broken) = checkpoints.push(StoredCheckpointRef {
            number,
            canonical: body,
            hash,
        }) {
            return Ok(Err(broken));
        }
    }
    Ok(checkpoints.finish(only))
}

/// The checkpoints that recorded `only` and the newest checkpoint, read in one pass.
pub fn checkpoint_trail(
    conn: &Connection,
    only: &ConversationId,
) -> Result<CheckpointTrail, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT number, body, hash,
                EXISTS (SELECT 1 FROM json_each(body, '$.heads') AS h
                        WHERE json_extract(h.value, '$.conversation') = ?1)
         FROM checkpoints ORDER BY number",
    )?;
    let mut rows = stmt.query([only.as_str()])?;
    let mut trail = CheckpointTrail::default();
    let mut prev = GENESIS;
    while let Some(row) = rows.next()? {
        let number: u64 = row.get(0)?;
        let hash = super::digest_from(&row.get::<_, Vec<u8>>(2)?)?;
        if row.get::<_, bool>(3)? {
            trail.checkpoints.push(StoredCheckpoint {
                number,
                prev,
                canonical: row.get(1)?,
                hash,
            });
        }
        trail.head = Some((number, hash));
        prev = hash;
    }
    Ok(trail)
}
