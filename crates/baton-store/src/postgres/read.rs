//! Read queries on the pool. Rows become plain records here, so no sqlx type escapes
//! the crate; seqs and times are `bigint`s written from u64s and unix milliseconds.

use baton_core::id::{AgentId, ConversationId, CustomerId, EventId};
use baton_core::state::Owner;
use baton_core::timestamp::Timestamp;
use futures_util::TryStreamExt;
use sqlx::Row;
use sqlx::postgres::{PgPool, PgRow};

use super::{digest_from, to_u64};
use crate::StoreError;
use crate::model::*;

/// The largest seq a `bigint` holds; a read after it reads nothing, never an error.
const MAX_SEQ: u64 = i64::MAX as u64;

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn seq_param(after: u64) -> i64 {
    i64::try_from(after.min(MAX_SEQ)).unwrap_or(i64::MAX)
}

pub async fn find_event_ids(
    pool: &PgPool,
    cid: &ConversationId,
    ids: &[EventId],
) -> Result<Vec<StoredRef>, StoreError> {
    let raw: Vec<&str> = ids.iter().map(|id| id.as_str()).collect();
    let rows: Vec<(String, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT event_id, seq, hash FROM events WHERE conversation = $1 AND event_id = ANY($2)",
    )
    .bind(cid.as_str())
    .bind(&raw)
    .fetch_all(pool)
    .await?;
    // In the order asked, as the embedded engine answers.
    let mut found = Vec::with_capacity(rows.len());
    for id in ids {
        if let Some((_, seq, hash)) = rows.iter().find(|(raw, _, _)| raw == id.as_str()) {
            found.push(StoredRef {
                id: id.clone(),
                seq: to_u64(*seq)?,
                hash: digest_from(hash)?,
            });
        }
    }
    Ok(found)
}

fn stored_event(row: &PgRow) -> Result<StoredEvent, StoreError> {
    let hash: &[u8] = row.try_get(2)?;
    Ok(StoredEvent {
        seq: to_u64(row.try_get(0)?)?,
        canonical: row.try_get(1)?,
        hash: digest_from(hash)?,
    })
}

/// Keeps rows until `limit` or `max_bytes` of bodies (the first row always); says
/// whether another row follows. Queries ask for `limit + 1` rows, so there is one to
/// see.
fn bounded(
    rows: &[PgRow],
    limit: u32,
    max_bytes: usize,
) -> Result<(Vec<StoredEvent>, bool), StoreError> {
    let mut events = Vec::new();
    let mut bytes = 0usize;
    for row in rows {
        if events.len() >= limit as usize {
            return Ok((events, true));
        }
        let event = stored_event(row)?;
        let size = event.canonical.len();
        if !events.is_empty() && bytes.saturating_add(size) > max_bytes {
            return Ok((events, true));
        }
        bytes = bytes.saturating_add(size);
        events.push(event);
    }
    Ok((events, false))
}

pub async fn events_page(
    pool: &PgPool,
    cid: &ConversationId,
    after: u64,
    limit: u32,
    max_bytes: usize,
) -> Result<EventsPage, StoreError> {
    let rows = sqlx::query(
        "SELECT seq, body, hash FROM events WHERE conversation = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(cid.as_str())
    .bind(seq_param(after))
    .bind(i64::from(limit) + 1)
    .fetch_all(pool)
    .await?;
    let (events, more) = bounded(&rows, limit, max_bytes)?;
    Ok(EventsPage { events, more })
}

pub async fn events_tail(
    pool: &PgPool,
    cid: &ConversationId,
    limit: u32,
    max_bytes: usize,
) -> Result<Vec<StoredEvent>, StoreError> {
    let rows = sqlx::query(
        "SELECT seq, body, hash FROM events WHERE conversation = $1 ORDER BY seq DESC LIMIT $2",
    )
    .bind(cid.as_str())
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    let (mut events, _) = bounded(&rows, limit, max_bytes)?;
    events.reverse();
    Ok(events)
}

pub async fn events_of_kinds(
    pool: &PgPool,
    kinds: &[&str],
    since: Timestamp,
    limit: u32,
) -> Result<Vec<KindEvent>, StoreError> {
    // `at` is RFC 3339 UTC with milliseconds, so text order is time order.
    let mut rows = sqlx::query(
        "SELECT conversation, seq, body FROM (
             SELECT conversation, seq, body, (body::jsonb ->> 'at') COLLATE \"C\" AS at
             FROM events WHERE kind = ANY($1)
         ) AS e
         WHERE at >= $2 ORDER BY at, conversation, seq LIMIT $3",
    )
    .bind(kinds)
    .bind(since.to_string())
    .bind(i64::from(limit))
    .fetch(pool);
    let mut out = Vec::new();
    while let Some(row) = rows.try_next().await? {
        let conversation: String = row.try_get(0)?;
        out.push(KindEvent {
            conversation: ConversationId::parse(conversation)
                .map_err(|e| corrupt("conversation id", e))?,
            seq: to_u64(row.try_get(1)?)?,
            canonical: row.try_get(2)?,
        });
    }
    Ok(out)
}

fn owner_from(raw: &str) -> Result<Owner, StoreError> {
    Owner::parse(raw).ok_or_else(|| corrupt("owner", raw))
}

fn conversation_row(row: &PgRow) -> Result<ConversationRow, StoreError> {
    let id: String = row.try_get("id")?;
    let head: &[u8] = row.try_get("head")?;
    let owner: &str = row.try_get("owner")?;
    let customer: Option<String> = row.try_get("customer")?;
    let agent: Option<String> = row.try_get("agent")?;
    let intent: Option<String> = row.try_get("intent")?;
    Ok(ConversationRow {
        id: ConversationId::parse(id).map_err(|e| corrupt("conversation id", e))?,
        last_seq: to_u64(row.try_get("last_seq")?)?,
        head: digest_from(head)?,
        summary: ConversationSummary {
            owner: owner_from(owner)?,
            customer: customer
                .map(CustomerId::parse)
                .transpose()
                .map_err(|e| corrupt("customer id", e))?,
            agent: agent
                .map(AgentId::parse)
                .transpose()
                .map_err(|e| corrupt("agent id", e))?,
            started_at: Timestamp::from_unix_millis(row.try_get("started_at")?),
            updated_at: Timestamp::from_unix_millis(row.try_get("updated_at")?),
            intent: intent
                .map(baton_core::Label::parse)
                .transpose()
                .map_err(|e| corrupt("intent", e))?,
        },
    })
}

pub async fn conversation(
    pool: &PgPool,
    cid: &ConversationId,
) -> Result<Option<ConversationRow>, StoreError> {
    let row = sqlx::query(
        "SELECT id, last_seq, head, owner, customer, agent, started_at, updated_at, intent
         FROM conversations WHERE id = $1",
    )
    .bind(cid.as_str())
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(conversation_row).transpose()
}

pub async fn conversations(
    pool: &PgPool,
    filter: &ConversationFilter,
) -> Result<Vec<ConversationRow>, StoreError> {
    let owners: Vec<&str> = filter.owners.iter().map(|o| o.as_str()).collect();
    let rows = sqlx::query(
        "SELECT id, last_seq, head, owner, customer, agent, started_at, updated_at, intent
         FROM conversations
         WHERE (cardinality($1::text[]) = 0 OR owner = ANY($1))
           AND ($2::text IS NULL OR agent = $2)
         ORDER BY updated_at DESC LIMIT $3",
    )
    .bind(&owners)
    .bind(filter.agent.as_ref().map(|a| a.as_str()))
    .bind(filter.limit.map_or(i64::MAX, i64::from))
    .fetch_all(pool)
    .await?;
    rows.iter().map(conversation_row).collect()
}

pub async fn search_conversations(
    pool: &PgPool,
    query: &ConversationQuery,
) -> Result<Vec<ConversationRow>, StoreError> {
    let owners: Vec<&str> = query.owners.iter().map(|o| o.as_str()).collect();
    let rows = sqlx::query(
        "SELECT id, last_seq, head, owner, customer, agent, started_at, updated_at, intent
         FROM conversations
         WHERE (cardinality($1::text[]) = 0 OR owner = ANY($1))
           AND ($2::text IS NULL OR agent = $2)
           AND ($3::text IS NULL OR customer = $3)
           AND ($4::text IS NULL OR intent = $4)
           AND ($5::bigint IS NULL OR started_at >= $5)
           AND ($6::bigint IS NULL OR started_at < $6)
           AND ($7::bigint IS NULL OR (started_at, id) < ($7, $8::text))
         ORDER BY started_at DESC, id DESC LIMIT $9",
    )
    .bind(&owners)
    .bind(query.agent.as_ref().map(|a| a.as_str()))
    .bind(query.customer.as_ref().map(|c| c.as_str()))
    .bind(query.intent.as_ref().map(|i| i.as_str()))
    .bind(query.since.map(|t| t.unix_millis()))
    .bind(query.until.map(|t| t.unix_millis()))
    .bind(query.after.as_ref().map(|c| c.started_at.unix_millis()))
    .bind(query.after.as_ref().map(|c| c.id.as_str()))
    .bind(i64::from(query.limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(conversation_row).collect()
}

pub async fn conversations_of_customer(
    pool: &PgPool,
    customer: &CustomerId,
) -> Result<Vec<ConversationRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, last_seq, head, owner, customer, agent, started_at, updated_at, intent
         FROM conversations WHERE customer = $1 ORDER BY started_at",
    )
    .bind(customer.as_str())
    .fetch_all(pool)
    .await?;
    rows.iter().map(conversation_row).collect()
}

/// The columns [`key_row`] reads.
pub(super) fn key_row(row: &PgRow) -> Result<KeyRecord, StoreError> {
    let id: &str = row.try_get("id")?;
    let hash: &[u8] = row.try_get("hash")?;
    let role: &str = row.try_get("role")?;
    let agent: Option<String> = row.try_get("agent")?;
    let name: Option<String> = row.try_get("name")?;
    let expires_at: Option<i64> = row.try_get("expires_at")?;
    let revoked_at: Option<i64> = row.try_get("revoked_at")?;
    Ok(KeyRecord {
        id: KeyId::parse(id).map_err(|e| corrupt("key id", e))?,
        hash: <[u8; 32]>::try_from(hash).map_err(|e| corrupt("key hash", e))?,
        role: Role::parse(role).ok_or_else(|| corrupt("role", role))?,
        agent: agent
            .map(AgentId::parse)
            .transpose()
            .map_err(|e| corrupt("agent id", e))?,
        name: name
            .map(baton_core::Label::parse)
            .transpose()
            .map_err(|e| corrupt("key name", e))?,
        created_at: Timestamp::from_unix_millis(row.try_get("created_at")?),
        expires_at: expires_at.map(Timestamp::from_unix_millis),
        revoked_at: revoked_at.map(Timestamp::from_unix_millis),
    })
}

pub async fn find_key(pool: &PgPool, hash: &[u8; 32]) -> Result<Option<KeyRecord>, StoreError> {
    let row = sqlx::query(
        "SELECT id, hash, role, agent, name, created_at, expires_at, revoked_at
         FROM api_keys WHERE hash = $1",
    )
    .bind(hash.as_slice())
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(key_row).transpose()
}

pub async fn keys(pool: &PgPool) -> Result<Vec<KeyRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, hash, role, agent, name, created_at, expires_at, revoked_at
         FROM api_keys ORDER BY created_at, id",
    )
    .fetch_all(pool)
    .await?;
    rows.iter().map(key_row).collect()
}

/// The admin-count query, on any connection (the pool, or a revocation's transaction).
pub(super) const ADMIN_COUNT: &str = "SELECT count(*) FROM api_keys WHERE role = 'admin'
    AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)";

pub async fn admin_key_count(pool: &PgPool, now: Timestamp) -> Result<u64, StoreError> {
    let count: i64 = sqlx::query_scalar(ADMIN_COUNT)
        .bind(now.unix_millis())
        .fetch_one(pool)
        .await?;
    to_u64(count)
}

pub async fn find_session(
    pool: &PgPool,
    hash: &[u8; 32],
) -> Result<Option<SessionRecord>, StoreError> {
    let row: Option<(Vec<u8>, i64, i64)> = sqlx::query_as(
        "SELECT key_hash, created_at, expires_at FROM console_sessions WHERE hash = $1",
    )
    .bind(hash.as_slice())
    .fetch_optional(pool)
    .await?;
    let Some((key_hash, created_at, expires_at)) = row else {
        return Ok(None);
    };
    Ok(Some(SessionRecord {
        hash: *hash,
        key_hash: <[u8; 32]>::try_from(key_hash.as_slice())
            .map_err(|e| corrupt("session key hash", e))?,
        created_at: Timestamp::from_unix_millis(created_at),
        expires_at: Timestamp::from_unix_millis(expires_at),
    }))
}

fn agent_row(row: (String, String, String, i64)) -> Result<AgentRecord, StoreError> {
    let (id, profile, presence, updated_at) = row;
    Ok(AgentRecord {
        id: AgentId::parse(id).map_err(|e| corrupt("agent id", e))?,
        profile,
        presence,
        updated_at: Timestamp::from_unix_millis(updated_at),
    })
}

pub async fn agent(pool: &PgPool, id: &AgentId) -> Result<Option<AgentRecord>, StoreError> {
    let row = sqlx::query_as("SELECT id, profile, presence, updated_at FROM agents WHERE id = $1")
        .bind(id.as_str())
        .fetch_optional(pool)
        .await?;
    row.map(agent_row).transpose()
}

pub async fn agents(pool: &PgPool) -> Result<Vec<AgentRecord>, StoreError> {
    let rows: Vec<(String, String, String, i64)> =
        sqlx::query_as("SELECT id, profile, presence, updated_at FROM agents ORDER BY id")
            .fetch_all(pool)
            .await?;
    rows.into_iter().map(agent_row).collect()
}

/// Bytes of the store's tables and their indexes, in the schema it uses.
pub async fn disk_bytes(pool: &PgPool) -> Result<u64, StoreError> {
    let bytes: Option<i64> = sqlx::query_scalar(
        "SELECT sum(pg_total_relation_size(c.oid))::bigint FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = current_schema() AND c.relkind = 'r'",
    )
    .fetch_one(pool)
    .await?;
    to_u64(bytes.unwrap_or(0))
}
