//! The `data_keys` table: one wrapped key per conversation, overwritten on erasure.

use baton_core::id::ConversationId;
use baton_core::timestamp::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::StoreError;
use crate::data_keys::{DataKeyRecord, Rewrap};

const COLUMNS: &str = "conversation, id, master, wrapped, created_at, destroyed_at";

fn row(row: &Row<'_>) -> Result<DataKeyRecord, StoreError> {
    let conversation: String = row.get(0)?;
    Ok(DataKeyRecord {
        conversation: ConversationId::parse(&conversation)
            .map_err(|e| StoreError::Corrupt(format!("data key of {conversation:?}: {e}")))?,
        id: row.get(1)?,
        master: row.get(2)?,
        wrapped: row.get(3)?,
        created_at: Timestamp::from_unix_millis(row.get(4)?),
        destroyed_at: row
            .get::<_, Option<i64>>(5)?
            .map(Timestamp::from_unix_millis),
    })
}

pub fn put(tx: &Connection, key: &DataKeyRecord) -> Result<DataKeyRecord, StoreError> {
    insert_new(tx, key)?;
    get(tx, &key.conversation)?
        .ok_or_else(|| StoreError::Engine("data key vanished after insert".into()))
}

/// Stores `key` unless its conversation has one already; whether it did.
pub fn insert_new(tx: &Connection, key: &DataKeyRecord) -> Result<bool, StoreError> {
    let inserted = tx
        .prepare_cached(
            "INSERT INTO data_keys (conversation, id, master, wrapped, created_at, destroyed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, NULL) ON CONFLICT (conversation) DO NOTHING",
        )?
        .execute(params![
            key.conversation.as_str(),
            key.id,
            key.master,
            key.wrapped,
            key.created_at.unix_millis()
        ])?;
    Ok(inserted == 1)
}

pub fn get(
    conn: &Connection,
    conversation: &ConversationId,
) -> Result<Option<DataKeyRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM data_keys WHERE conversation = ?1"
    ))?;
    let found = stmt
        .query_row([conversation.as_str()], |r| Ok(row(r)))
        .optional()?;
    found.transpose()
}

pub fn all(conn: &Connection) -> Result<Vec<DataKeyRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM data_keys ORDER BY conversation"
    ))?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(row(r)?);
    }
    Ok(out)
}

pub fn rewrap(tx: &Connection, keys: &[Rewrap]) -> Result<u64, StoreError> {
    let mut changed = 0;
    for key in keys {
        changed += tx.execute(
            "UPDATE data_keys SET master = ?2, wrapped = ?3
             WHERE conversation = ?1 AND destroyed_at IS NULL",
            params![key.conversation.as_str(), key.master, key.wrapped],
        )? as u64;
    }
    Ok(changed)
}

/// Overwrites the wrapped bytes with zeros of the same length first, so the cell is
/// rewritten in place, then drops them; `secure_delete` (set on the writer) zeroes
/// the freed space.
pub fn destroy(
    tx: &Connection,
    conversation: &ConversationId,
    at: Timestamp,
) -> Result<bool, StoreError> {
    tx.execute(
        "UPDATE data_keys SET wrapped = zeroblob(length(wrapped))
         WHERE conversation = ?1 AND destroyed_at IS NULL",
        [conversation.as_str()],
    )?;
    let changed = tx.execute(
        "UPDATE data_keys SET wrapped = NULL, destroyed_at = ?2
         WHERE conversation = ?1 AND destroyed_at IS NULL",
        params![conversation.as_str(), at.unix_millis()],
    )?;
    Ok(changed > 0)
}

/// Copies the WAL into the database and truncates it, so no old page image (a key
/// before its erasure) stays in the log file.
pub fn truncate_wal(conn: &Connection) -> Result<(), StoreError> {
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}
