//! Writes other than appends (keys, console sessions, agents): rare and small, so
//! each is its own transaction on the pool, beside the append writers.

use baton_core::timestamp::Timestamp;
use sqlx::postgres::PgPool;

use super::read::{ADMIN_COUNT, key_row};
use super::to_u64;
use crate::StoreError;
use crate::model::{AgentRecord, KeyId, KeyRecord, RevokeOutcome, SessionRecord};

pub async fn insert_key(pool: &PgPool, key: &KeyRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO api_keys (id, hash, role, agent, name, created_at, expires_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(key.id.as_str())
    .bind(key.hash.as_slice())
    .bind(key.role.as_str())
    .bind(key.agent.as_ref().map(|a| a.as_str()))
    .bind(key.name.as_ref().map(|n| n.as_str()))
    .bind(key.created_at.unix_millis())
    .bind(key.expires_at.map(Timestamp::unix_millis))
    .bind(key.revoked_at.map(Timestamp::unix_millis))
    .execute(pool)
    .await?;
    Ok(())
}

/// The last-admin check and the revocation share one transaction, which first locks
/// every admin key row: two admins on two nodes revoking each other at once queue on
/// those locks, and the second one counts after the first committed.
pub async fn revoke_key(
    pool: &PgPool,
    id: &KeyId,
    at: Timestamp,
) -> Result<RevokeOutcome, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT id FROM api_keys WHERE role = 'admin' ORDER BY id FOR UPDATE")
        .execute(&mut *tx)
        .await?;
    let row = sqlx::query(
        "SELECT id, hash, role, agent, name, created_at, expires_at, revoked_at
         FROM api_keys WHERE id = $1 FOR UPDATE",
    )
    .bind(id.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(mut key) = row.as_ref().map(key_row).transpose()? else {
        return Ok(RevokeOutcome::NotFound);
    };
    if key.revoked_at.is_some() {
        return Ok(RevokeOutcome::AlreadyRevoked(key));
    }
    if key.role == crate::Role::Admin && key.dead_at(at).is_none() {
        let admins: i64 = sqlx::query_scalar(ADMIN_COUNT)
            .bind(at.unix_millis())
            .fetch_one(&mut *tx)
            .await?;
        if to_u64(admins)? <= 1 {
            return Ok(RevokeOutcome::LastAdmin);
        }
    }
    sqlx::query(
        "WITH revoked AS (UPDATE api_keys SET revoked_at = $1 WHERE id = $2)
         DELETE FROM console_sessions WHERE key_hash = $3",
    )
    .bind(at.unix_millis())
    .bind(id.as_str())
    .bind(key.hash.as_slice())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    key.revoked_at = Some(at);
    Ok(RevokeOutcome::Revoked(key))
}

/// Sessions past their expiry go whenever one opens, so the table holds live ones.
pub async fn insert_session(pool: &PgPool, session: &SessionRecord) -> Result<(), StoreError> {
    sqlx::query(
        "WITH expired AS (DELETE FROM console_sessions WHERE expires_at <= $3)
         INSERT INTO console_sessions (hash, key_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(session.hash.as_slice())
    .bind(session.key_hash.as_slice())
    .bind(session.created_at.unix_millis())
    .bind(session.expires_at.unix_millis())
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn delete_session(pool: &PgPool, hash: &[u8; 32]) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM console_sessions WHERE hash = $1")
        .bind(hash.as_slice())
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn put_agent(pool: &PgPool, agent: &AgentRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO agents (id, profile, presence, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET profile = excluded.profile, presence = excluded.presence,
           updated_at = excluded.updated_at",
    )
    .bind(agent.id.as_str())
    .bind(&agent.profile)
    .bind(&agent.presence)
    .bind(agent.updated_at.unix_millis())
    .execute(pool)
    .await?;
    Ok(())
}
