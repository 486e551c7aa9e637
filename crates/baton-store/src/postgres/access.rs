//! The access log in PostgreSQL: a batch is one transaction that locks the head row
//! (`access_head`), so concurrent batches from any number of nodes extend one chain
//! in turn; reads run on the pool, verification in the ledger's snapshot.

use baton_core::access::{
    AccessEntry, AccessRecord, AccessVerifier, Chained, StoredAccessRef, chain_entries,
};
use baton_core::ledger::Break;
use futures_util::TryStreamExt;
use sqlx::Row;
use sqlx::postgres::{PgConnection, PgPool};

use super::{digest_from, to_i64, to_u64};
use crate::StoreError;
use crate::model::{AccessQuery, StoredAccess};

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("access log: {e}"))
}

/// Chains `entries` after the head and writes them with the new head, in one
/// transaction.
pub async fn append(pool: &PgPool, entries: Vec<AccessEntry>) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    let (last, prev): (i64, Vec<u8>) =
        sqlx::query_as("SELECT number, hash FROM access_head FOR UPDATE")
            .fetch_one(&mut *tx)
            .await?;
    let last = to_u64(last)?;
    if entries.is_empty() {
        tx.commit().await?;
        return Ok(last);
    }
    let Chained {
        entries: sealed,
        last: number,
        head,
    } = chain_entries(last, digest_from(&prev)?, entries)
        .map_err(|e| StoreError::Engine(e.to_string()))?;
    let mut numbers = Vec::with_capacity(sealed.len());
    let mut ats = Vec::with_capacity(sealed.len());
    let mut keys = Vec::with_capacity(sealed.len());
    let mut conversations: Vec<Option<String>> = Vec::with_capacity(sealed.len());
    let mut bodies = Vec::with_capacity(sealed.len());
    let mut hashes: Vec<Vec<u8>> = Vec::with_capacity(sealed.len());
    for (record, seal) in sealed {
        numbers.push(to_i64(record.number)?);
        ats.push(record.at.unix_millis());
        keys.push(record.key.as_str().to_owned());
        conversations.push(record.conversation.map(String::from));
        bodies.push(seal.canonical);
        hashes.push(seal.hash.0.to_vec());
    }
    sqlx::query(
        "INSERT INTO access_log (number, at, key_id, conversation, body, hash)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bytea[])",
    )
    .bind(&numbers)
    .bind(&ats)
    .bind(&keys)
    .bind(&conversations)
    .bind(&bodies)
    .bind(&hashes)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE access_head SET number = $1, hash = $2")
        .bind(to_i64(number)?)
        .bind(head.0.as_slice())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(number)
}

/// Entries matching `query`, in number order.
pub async fn read(pool: &PgPool, query: &AccessQuery) -> Result<Vec<StoredAccess>, StoreError> {
    let rows = sqlx::query(
        "SELECT body, hash FROM access_log
         WHERE number > $1
           AND ($2::text IS NULL OR conversation = $2)
           AND ($3::text IS NULL OR key_id = $3)
           AND ($4::bigint IS NULL OR at >= $4)
         ORDER BY number LIMIT $5",
    )
    .bind(to_i64(query.after)?)
    .bind(query.conversation.as_ref().map(|c| c.as_str()))
    .bind(query.key.as_ref().map(|k| k.as_str()))
    .bind(query.since.map(|t| t.unix_millis()))
    .bind(i64::from(query.limit))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let body: &str = row.try_get(0)?;
            let record: AccessRecord = serde_json::from_str(body).map_err(corrupt)?;
            let hash: &[u8] = row.try_get(1)?;
            Ok(StoredAccess {
                record,
                hash: digest_from(hash)?,
            })
        })
        .collect()
}

/// Verifies the whole chain against its head, on `tx`'s snapshot; the entries verified.
pub async fn verify(tx: &mut PgConnection) -> Result<Result<u64, Break>, StoreError> {
    let mut verifier = AccessVerifier::new();
    {
        let mut rows = sqlx::query("SELECT number, body, hash FROM access_log ORDER BY number")
            .fetch(&mut *tx);
        while let Some(row) = rows.try_next().await? {
            let body: &str = row.try_get(1)?;
            let hash: &[u8] = row.try_get(2)?;
            if let Err(broken) = verifier.push(StoredAccessRef {
                number: to_u64(row.try_get(0)?)?,
                canonical: body.as_bytes(),
                hash: digest_from(hash)?,
            }) {
                return Ok(Err(broken));
            }
        }
    }
    let (number, hash): (i64, Vec<u8>) = sqlx::query_as("SELECT number, hash FROM access_head")
        .fetch_one(&mut *tx)
        .await?;
    Ok(verifier.finish((to_u64(number)?, digest_from(&hash)?)))
}
