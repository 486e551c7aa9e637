//! The `data_keys` table on PostgreSQL: one wrapped key per conversation.

use baton_core::id::ConversationId;
use baton_core::timestamp::Timestamp;
use sqlx::Row;
use sqlx::postgres::{PgPool, PgRow};

use crate::StoreError;
use crate::data_keys::{DataKeyRecord, Rewrap};

fn row(row: &PgRow) -> Result<DataKeyRecord, StoreError> {
    let conversation: String = row.try_get(0)?;
    Ok(DataKeyRecord {
        conversation: ConversationId::parse(&conversation)
            .map_err(|e| StoreError::Corrupt(format!("data key of {conversation:?}: {e}")))?,
        id: row.try_get(1)?,
        master: row.try_get(2)?,
        wrapped: row.try_get(3)?,
        created_at: Timestamp::from_unix_millis(row.try_get(4)?),
        destroyed_at: row
            .try_get::<Option<i64>, _>(5)?
            .map(Timestamp::from_unix_millis),
    })
}

pub async fn put(pool: &PgPool, key: &DataKeyRecord) -> Result<DataKeyRecord, StoreError> {
    insert_new(pool, key).await?;
    get(pool, &key.conversation)
        .await?
        .ok_or_else(|| StoreError::Engine("data key vanished after insert".into()))
}

/// Stores `key` unless its conversation has one already; whether it did.
pub async fn insert_new(
    executor: impl sqlx::PgExecutor<'_>,
    key: &DataKeyRecord,
) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO data_keys (conversation, id, master, wrapped, created_at, destroyed_at)
         VALUES ($1, $2, $3, $4, $5, NULL) ON CONFLICT (conversation) DO NOTHING",
    )
    .bind(key.conversation.as_str())
    .bind(&key.id)
    .bind(&key.master)
    .bind(key.wrapped.as_deref())
    .bind(key.created_at.unix_millis())
    .execute(executor)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub async fn get(
    pool: &PgPool,
    conversation: &ConversationId,
) -> Result<Option<DataKeyRecord>, StoreError> {
    let found = sqlx::query(
        "SELECT conversation, id, master, wrapped, created_at, destroyed_at
         FROM data_keys WHERE conversation = $1",
    )
    .bind(conversation.as_str())
    .fetch_optional(pool)
    .await?;
    found.as_ref().map(row).transpose()
}

pub async fn all(pool: &PgPool) -> Result<Vec<DataKeyRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT conversation, id, master, wrapped, created_at, destroyed_at
         FROM data_keys ORDER BY conversation",
    )
    .fetch_all(pool)
    .await?;
    rows.iter().map(row).collect()
}

pub async fn rewrap(pool: &PgPool, keys: &[Rewrap]) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    let mut changed = 0;
    for key in keys {
        changed += sqlx::query(
            "UPDATE data_keys SET master = $2, wrapped = $3
             WHERE conversation = $1 AND destroyed_at IS NULL",
        )
        .bind(key.conversation.as_str())
        .bind(&key.master)
        .bind(&key.wrapped)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    tx.commit().await?;
    Ok(changed)
}

pub async fn destroy(
    pool: &PgPool,
    conversation: &ConversationId,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let changed = sqlx::query(
        "UPDATE data_keys SET wrapped = NULL, destroyed_at = $2
         WHERE conversation = $1 AND destroyed_at IS NULL",
    )
    .bind(conversation.as_str())
    .bind(at.unix_millis())
    .execute(pool)
    .await?
    .rows_affected();
    // The old row version stays in the heap until vacuumed: vacuum now, so it is not
    // kept for autovacuum's next visit. Best effort: the key is destroyed either way,
    // and a role without the right to vacuum must not fail the erasure.
    if let Err(e) = sqlx::query("VACUUM data_keys").execute(pool).await {
        tracing::warn!(error = %e, "VACUUM data_keys after an erasure failed");
    }
    Ok(changed > 0)
}
