//! The access log in SQLite: appends run on the writer thread (one savepoint of a
//! group commit, so the chain is extended by one writer at a time), reads and
//! verification on the pool.

use baton_core::access::{
    AccessEntry, AccessRecord, AccessVerifier, Chained, StoredAccessRef, chain_entries,
};
use baton_core::ledger::Break;
use rusqlite::{Connection, Transaction, params};

use super::digest_from;
use crate::StoreError;
use crate::model::{AccessQuery, StoredAccess};

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("access log: {e}"))
}

/// Chains `entries` after the head and writes them with the new head.
pub fn append(tx: &Transaction<'_>, entries: Vec<AccessEntry>) -> Result<u64, StoreError> {
    let (last, prev): (u64, Vec<u8>) = tx.query_row(
        "SELECT number, hash FROM access_head WHERE only = 1",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    if entries.is_empty() {
        return Ok(last);
    }
    let Chained {
        entries: sealed,
        last: number,
        head,
    } = chain_entries(last, digest_from(&prev)?, entries)
        .map_err(|e| StoreError::Engine(e.to_string()))?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO access_log (number, at, key_id, conversation, body, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (record, seal) in &sealed {
        insert.execute(params![
            record.number,
            record.at.unix_millis(),
            record.key.as_str(),
            record.conversation.as_ref().map(|c| c.as_str()),
            seal.canonical,
            seal.hash.0.as_slice(),
        ])?;
    }
    tx.execute(
        "UPDATE access_head SET number = ?1, hash = ?2 WHERE only = 1",
        params![number, head.0.as_slice()],
    )?;
    Ok(number)
}

/// Entries matching `query`, in number order.
pub fn read(conn: &Connection, query: &AccessQuery) -> Result<Vec<StoredAccess>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT body, hash FROM access_log
         WHERE number > ?1
           AND (?2 IS NULL OR conversation = ?2)
           AND (?3 IS NULL OR key_id = ?3)
           AND (?4 IS NULL OR at >= ?4)
         ORDER BY number LIMIT ?5",
    )?;
    let mut rows = stmt.query(params![
        query.after,
        query.conversation.as_ref().map(|c| c.as_str()),
        query.key.as_ref().map(|k| k.as_str()),
        query.since.map(|t| t.unix_millis()),
        query.limit,
    ])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let body = row.get_ref(0)?.as_bytes().map_err(corrupt)?;
        let record: AccessRecord = serde_json::from_slice(body).map_err(corrupt)?;
        let hash = digest_from(row.get_ref(1)?.as_blob().map_err(corrupt)?)?;
        out.push(StoredAccess { record, hash });
    }
    Ok(out)
}

/// Verifies the whole chain against its head, in one snapshot; the entries verified.
pub fn verify(conn: &Connection) -> Result<Result<u64, Break>, StoreError> {
    // One read transaction: a batch committing meanwhile must not look like entries
    // the head does not record.
    let tx = conn.unchecked_transaction()?;
    let mut verifier = AccessVerifier::new();
    {
        let mut stmt = tx.prepare("SELECT number, body, hash FROM access_log ORDER BY number")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let number: u64 = row.get(0)?;
            let body = row.get_ref(1)?.as_bytes().map_err(corrupt)?;
            let hash = digest_from(row.get_ref(2)?.as_blob().map_err(corrupt)?)?;
            if let Err(broken) = verifier.push(StoredAccessRef {
                number,
                canonical: body,
                hash,
            }) {
                return Ok(Err(broken));
            }
        }
    }
    let (number, hash): (u64, Vec<u8>) = tx.query_row(
        "SELECT number, hash FROM access_head WHERE only = 1",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let verdict = verifier.finish((number, digest_from(&hash)?));
    tx.commit()?;
    Ok(verdict)
}
