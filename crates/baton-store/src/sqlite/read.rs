//! Read queries. Each takes a pooled connection; rows are turned into plain records
//! here so no SQLite type escapes the crate.

use baton_core::id::{AgentId, ConversationId, CustomerId, EventId};
use baton_core::state::Owner;
use baton_core::timestamp::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::digest_from;
use crate::StoreError;
use crate::model::*;

/// The largest seq SQLite can hold; a read after it reads nothing, never an error.
const MAX_SEQ: u64 = i64::MAX as u64;

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

pub fn find_event_ids(
    conn: &Connection,
    cid: &ConversationId,
    ids: &[EventId],
) -> Result<Vec<StoredRef>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT seq, hash FROM events WHERE conversation = ?1 AND event_id = ?2")?;
    let mut found = Vec::new();
    for id in ids {
        let row: Option<(u64, Vec<u8>)> = stmt
            .query_row(params![cid.as_str(), id.as_str()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        if let Some((seq, hash)) = row {
            found.push(StoredRef {
                id: id.clone(),
                seq,
                hash: digest_from(&hash)?,
            });
        }
    }
    Ok(found)
}

pub fn events_after(
    conn: &Connection,
    cid: &ConversationId,
    after: u64,
    limit: u32,
) -> Result<Vec<StoredEvent>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, body, hash FROM events WHERE conversation = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![cid.as_str(), after.min(MAX_SEQ), limit], |r| {
        Ok((
            r.get::<_, u64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Vec<u8>>(2)?,
        ))
    })?;
    rows.map(|row| {
        let (seq, canonical, hash) = row?;
        Ok(StoredEvent {
            seq,
            canonical,
            hash: digest_from(&hash)?,
        })
    })
    .collect()
}

/// Reads rows until `limit` rows or `max_bytes` of bodies (the first row always), then
/// reports whether another row follows. Rows are read one by one, so a page of large
/// events never holds more than its budget plus one event.
fn bounded_rows(
    rows: impl Iterator<Item = rusqlite::Result<(u64, String, Vec<u8>)>>,
    limit: u32,
    max_bytes: usize,
) -> Result<(Vec<StoredEvent>, bool), StoreError> {
    let mut events = Vec::new();
    let mut bytes = 0usize;
    let mut rows = rows.peekable();
    while events.len() < limit as usize {
        let Some(row) = rows.peek() else { break };
        let size = row.as_ref().map_or(0, |(_, body, _)| body.len());
        if !events.is_empty() && bytes + size > max_bytes {
            break;
        }
        let Some(row) = rows.next() else { break };
        let (seq, canonical, hash) = row?;
        bytes += size;
        events.push(StoredEvent {
            seq,
            canonical,
            hash: digest_from(&hash)?,
        });
    }
    Ok((events, rows.next().is_some()))
}

pub fn events_page(
    conn: &Connection,
    cid: &ConversationId,
    after: u64,
    limit: u32,
    max_bytes: usize,
) -> Result<EventsPage, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, body, hash FROM events WHERE conversation = ?1 AND seq > ?2 ORDER BY seq",
    )?;
    let rows = stmt.query_map(params![cid.as_str(), after.min(MAX_SEQ)], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    let (events, more) = bounded_rows(rows, limit, max_bytes)?;
    Ok(EventsPage { events, more })
}

pub fn events_tail(
    conn: &Connection,
    cid: &ConversationId,
    limit: u32,
    max_bytes: usize,
) -> Result<Vec<StoredEvent>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, body, hash FROM events WHERE conversation = ?1 ORDER BY seq DESC",
    )?;
    let rows = stmt.query_map(params![cid.as_str()], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    let (mut events, _) = bounded_rows(rows, limit, max_bytes)?;
    events.reverse();
    Ok(events)
}

pub fn events_of_kinds(
    conn: &Connection,
    kinds: &[String],
    since: Timestamp,
    limit: u32,
) -> Result<Vec<KindEvent>, StoreError> {
    let kinds_json = serde_json::to_string(kinds).map_err(|e| StoreError::Engine(e.to_string()))?;
    // `at` is RFC 3339 UTC with milliseconds, so text order is time order.
    let mut stmt = conn.prepare_cached(
        "SELECT conversation, seq, body, json_extract(body, '$.at') AS at FROM events
         WHERE kind IN (SELECT value FROM json_each(?1)) AND at >= ?2
         ORDER BY at, conversation, seq LIMIT ?3",
    )?;
    let mut rows = stmt.query(params![kinds_json, since.to_string(), limit])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let conversation: String = row.get(0)?;
        out.push(KindEvent {
            conversation: ConversationId::parse(conversation)
                .map_err(|e| corrupt("conversation id", e))?,
            seq: row.get(1)?,
            canonical: row.get(2)?,
        });
    }
    Ok(out)
}

const CONVERSATION_COLUMNS: &str =
    "id, last_seq, head, owner, customer, agent, started_at, updated_at, intent";

fn owner_from(raw: &str) -> Result<Owner, StoreError> {
    Owner::parse(raw).ok_or_else(|| corrupt("owner", raw))
}

fn conversation_row(row: &Row<'_>) -> Result<ConversationRow, StoreError> {
    let id: String = row.get(0)?;
    let head: Vec<u8> = row.get(2)?;
    let owner: String = row.get(3)?;
    let customer: Option<String> = row.get(4)?;
    let agent: Option<String> = row.get(5)?;
    let intent: Option<String> = row.get(8)?;
    Ok(ConversationRow {
        id: ConversationId::parse(id).map_err(|e| corrupt("conversation id", e))?,
        last_seq: row.get(1)?,
        head: digest_from(&head)?,
        summary: ConversationSummary {
            owner: owner_from(&owner)?,
            customer: customer
                .map(CustomerId::parse)
                .transpose()
                .map_err(|e| corrupt("customer id", e))?,
            agent: agent
                .map(AgentId::parse)
                .transpose()
                .map_err(|e| corrupt("agent id", e))?,
            started_at: Timestamp::from_unix_millis(row.get(6)?),
            updated_at: Timestamp::from_unix_millis(row.get(7)?),
            intent: intent
                .map(baton_core::Label::parse)
                .transpose()
                .map_err(|e| corrupt("intent", e))?,
        },
    })
}

fn collect_rows(mut rows: rusqlite::Rows<'_>) -> Result<Vec<ConversationRow>, StoreError> {
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(conversation_row(row)?);
    }
    Ok(out)
}

pub fn conversation(
    conn: &Connection,
    cid: &ConversationId,
) -> Result<Option<ConversationRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = ?1"
    ))?;
    let mut rows = stmt.query([cid.as_str()])?;
    match rows.next()? {
        Some(row) => conversation_row(row).map(Some),
        None => Ok(None),
    }
}

pub fn conversations(
    conn: &Connection,
    filter: &ConversationFilter,
) -> Result<Vec<ConversationRow>, StoreError> {
    let owners: Vec<&str> = filter.owners.iter().map(|o| o.as_str()).collect();
    let owners_json =
        serde_json::to_string(&owners).map_err(|e| StoreError::Engine(e.to_string()))?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations
         WHERE (?1 = '[]' OR owner IN (SELECT value FROM json_each(?1)))
           AND (?2 IS NULL OR agent = ?2)
         ORDER BY updated_at DESC LIMIT ?3"
    ))?;
    let limit = filter.limit.map_or(i64::MAX, i64::from);
    let rows = stmt.query(params![
        owners_json,
        filter.agent.as_ref().map(|a| a.as_str()),
        limit
    ])?;
    collect_rows(rows)
}

pub fn search_conversations(
    conn: &Connection,
    query: &ConversationQuery,
) -> Result<Vec<ConversationRow>, StoreError> {
    let owners: Vec<&str> = query.owners.iter().map(|o| o.as_str()).collect();
    let owners_json =
        serde_json::to_string(&owners).map_err(|e| StoreError::Engine(e.to_string()))?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations
         WHERE (?1 = '[]' OR owner IN (SELECT value FROM json_each(?1)))
           AND (?2 IS NULL OR agent = ?2)
           AND (?3 IS NULL OR customer = ?3)
           AND (?4 IS NULL OR intent = ?4)
           AND (?5 IS NULL OR started_at >= ?5)
           AND (?6 IS NULL OR started_at < ?6)
           AND (?7 IS NULL OR started_at < ?7 OR (started_at = ?7 AND id < ?8))
         ORDER BY started_at DESC, id DESC LIMIT ?9"
    ))?;
    let rows = stmt.query(params![
        owners_json,
        query.agent.as_ref().map(|a| a.as_str()),
        query.customer.as_ref().map(|c| c.as_str()),
        query.intent.as_ref().map(|i| i.as_str()),
        query.since.map(|t| t.unix_millis()),
        query.until.map(|t| t.unix_millis()),
        query.after.as_ref().map(|c| c.started_at.unix_millis()),
        query.after.as_ref().map(|c| c.id.as_str()),
        i64::from(query.limit),
    ])?;
    collect_rows(rows)
}

pub fn conversations_of_customer(
    conn: &Connection,
    customer: &CustomerId,
) -> Result<Vec<ConversationRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE customer = ?1 ORDER BY started_at"
    ))?;
    let rows = stmt.query([customer.as_str()])?;
    collect_rows(rows)
}

/// The columns [`key_row`] reads, in order.
const KEY_COLUMNS: &str = "id, hash, role, agent, name, created_at, expires_at, revoked_at";

fn key_row(row: &Row<'_>) -> Result<KeyRecord, StoreError> {
    let id: Option<String> = row.get(0)?;
    let id = id.ok_or_else(|| corrupt("key id", "missing"))?;
    let hash: Vec<u8> = row.get(1)?;
    let role: String = row.get(2)?;
    let agent: Option<String> = row.get(3)?;
    let name: Option<String> = row.get(4)?;
    let expires_at: Option<i64> = row.get(6)?;
    let revoked_at: Option<i64> = row.get(7)?;
    Ok(KeyRecord {
        id: KeyId::parse(&id).map_err(|e| corrupt("key id", e))?,
        hash: <[u8; 32]>::try_from(hash.as_slice()).map_err(|e| corrupt("key hash", e))?,
        role: Role::parse(&role).ok_or_else(|| corrupt("role", &role))?,
        agent: agent
            .map(AgentId::parse)
            .transpose()
            .map_err(|e| corrupt("agent id", e))?,
        name: name
            .map(baton_core::Label::parse)
            .transpose()
            .map_err(|e| corrupt("key name", e))?,
        created_at: Timestamp::from_unix_millis(row.get(5)?),
        expires_at: expires_at.map(Timestamp::from_unix_millis),
        revoked_at: revoked_at.map(Timestamp::from_unix_millis),
    })
}

fn one_key(
    conn: &Connection,
    condition: &str,
    param: &dyn rusqlite::ToSql,
) -> Result<Option<KeyRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {KEY_COLUMNS} FROM api_keys WHERE {condition}"
    ))?;
    let mut rows = stmt.query([param])?;
    match rows.next()? {
        Some(row) => key_row(row).map(Some),
        None => Ok(None),
    }
}

pub fn find_key(conn: &Connection, hash: &[u8; 32]) -> Result<Option<KeyRecord>, StoreError> {
    one_key(conn, "hash = ?1", &hash.as_slice())
}

pub fn find_key_by_id(conn: &Connection, id: &KeyId) -> Result<Option<KeyRecord>, StoreError> {
    one_key(conn, "id = ?1", &id.as_str())
}

/// Every key, oldest first.
pub fn keys(conn: &Connection) -> Result<Vec<KeyRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, id"
    ))?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(key_row(row)?);
    }
    Ok(out)
}

/// Admin keys that work at `now` (neither revoked nor expired).
pub fn admin_key_count(conn: &Connection, now: Timestamp) -> Result<u64, StoreError> {
    Ok(conn.query_row(
        "SELECT count(*) FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL
           AND (expires_at IS NULL OR expires_at > ?1)",
        [now.unix_millis()],
        |r| r.get(0),
    )?)
}

pub fn find_session(
    conn: &Connection,
    hash: &[u8; 32],
) -> Result<Option<SessionRecord>, StoreError> {
    let row: Option<(Vec<u8>, i64, i64)> = conn
        .prepare_cached(
            "SELECT key_hash, created_at, expires_at FROM console_sessions WHERE hash = ?1",
        )?
        .query_row([hash.as_slice()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
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

fn agent_row(row: &Row<'_>) -> Result<AgentRecord, StoreError> {
    let id: String = row.get(0)?;
    Ok(AgentRecord {
        id: AgentId::parse(id).map_err(|e| corrupt("agent id", e))?,
        profile: row.get(1)?,
        presence: row.get(2)?,
        updated_at: Timestamp::from_unix_millis(row.get(3)?),
    })
}

pub fn agent(conn: &Connection, id: &AgentId) -> Result<Option<AgentRecord>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT id, profile, presence, updated_at FROM agents WHERE id = ?1")?;
    let mut rows = stmt.query([id.as_str()])?;
    match rows.next()? {
        Some(row) => agent_row(row).map(Some),
        None => Ok(None),
    }
}

pub fn agents(conn: &Connection) -> Result<Vec<AgentRecord>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT id, profile, presence, updated_at FROM agents ORDER BY id")?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(agent_row(row)?);
    }
    Ok(out)
}
