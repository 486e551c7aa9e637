//! Webhook subscriptions and the delivery outbox in SQLite. Writes run on the writer
//! thread (as [`super::writer::Typed`] jobs, or inside an append for [`record`]);
//! reads on the pool.

use baton_core::id::ConversationId;
use baton_core::timestamp::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use crate::StoreError;
use crate::model::{AppendBatch, Role};
use crate::outbox::*;

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// Writes a batch's outbox entry, in the append's transaction: one row, however many
/// subscriptions there are.
pub fn record(tx: &Transaction<'_>, batch: &AppendBatch) -> Result<(), StoreError> {
    let (Some(entry), Some(first)) = (&batch.outbox, batch.events.first()) else {
        return Ok(());
    };
    tx.prepare_cached(
        "INSERT INTO webhook_outbox (conversation, first_seq, kinds, state, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        batch.conversation.as_str(),
        first.seq,
        kinds_column(batch.events.iter().map(|e| e.kind)),
        entry.state,
        batch.summary.updated_at.unix_millis(),
    ])?;
    Ok(())
}

/// Fans the oldest outbox entries out into deliveries, in entry order (so each
/// conversation's deliveries get ids in seq order), and removes them.
fn expand(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let mut entries = Vec::new();
    {
        let mut stmt = tx.prepare_cached(
            "SELECT id, conversation, first_seq, kinds, state, created_at FROM webhook_outbox
             ORDER BY id LIMIT ?1",
        )?;
        let mut rows = stmt.query([FAN_OUT_PER_CLAIM])?;
        while let Some(row) = rows.next()? {
            entries.push(StoredEntry {
                id: row.get(0)?,
                conversation: row.get(1)?,
                first_seq: row.get(2)?,
                kinds: row.get(3)?,
                state: row.get(4)?,
                created_at: row.get(5)?,
            });
        }
    }
    let Some(last) = entries.last().map(|e| e.id) else {
        return Ok(());
    };
    let subscriptions = webhooks(tx)?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO webhook_deliveries
           (webhook, conversation, seq, kind, state, created_at, status, series_start, next_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?6, ?6)",
    )?;
    for entry in &entries {
        for delivery in entry.fan_out(&subscriptions) {
            insert.execute(params![
                delivery.webhook.as_str(),
                entry.conversation,
                delivery.seq,
                delivery.kind,
                entry.state,
                entry.created_at,
            ])?;
        }
    }
    tx.execute("DELETE FROM webhook_outbox WHERE id <= ?1", [last])?;
    Ok(())
}

pub fn put_webhook(tx: &Transaction<'_>, webhook: &WebhookRecord) -> Result<(), StoreError> {
    let events =
        serde_json::to_string(&webhook.events).map_err(|e| StoreError::Engine(e.to_string()))?;
    tx.execute(
        "INSERT INTO webhooks (id, url, events, description, role, secret, previous_secret,
           previous_until, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (id) DO UPDATE SET url = excluded.url, events = excluded.events,
           description = excluded.description, role = excluded.role, secret = excluded.secret,
           previous_secret = excluded.previous_secret, previous_until = excluded.previous_until",
        params![
            webhook.id.as_str(),
            webhook.url,
            events,
            webhook.description,
            webhook.role.as_str(),
            webhook.secret.0,
            webhook.previous.as_ref().map(|(s, _)| s.0.as_str()),
            webhook
                .previous
                .as_ref()
                .map(|(_, until)| until.unix_millis()),
            webhook.created_at.unix_millis(),
        ],
    )?;
    Ok(())
}

pub fn delete_webhook(tx: &Transaction<'_>, id: &WebhookId) -> Result<bool, StoreError> {
    tx.execute(
        "DELETE FROM webhook_attempts WHERE delivery IN
           (SELECT id FROM webhook_deliveries WHERE webhook = ?1)",
        [id.as_str()],
    )?;
    tx.execute(
        "DELETE FROM webhook_deliveries WHERE webhook = ?1",
        [id.as_str()],
    )?;
    let deleted = tx.execute("DELETE FROM webhooks WHERE id = ?1", [id.as_str()])? > 0;
    // Entries no subscription is left to receive would wait for ever.
    tx.execute(
        "DELETE FROM webhook_outbox WHERE NOT EXISTS (SELECT 1 FROM webhooks)",
        [],
    )?;
    Ok(deleted)
}

fn webhook_row(row: &Row<'_>) -> Result<WebhookRecord, StoreError> {
    let id: String = row.get(0)?;
    let events: String = row.get(2)?;
    let role: String = row.get(4)?;
    let previous: Option<String> = row.get(6)?;
    let until: Option<i64> = row.get(7)?;
    Ok(WebhookRecord {
        id: WebhookId::parse(&id).map_err(|e| corrupt("webhook id", e))?,
        url: row.get(1)?,
        events: serde_json::from_str(&events).map_err(|e| corrupt("webhook events", e))?,
        description: row.get(3)?,
        role: Role::parse(&role).ok_or_else(|| corrupt("webhook role", &role))?,
        secret: SigningSecret(row.get(5)?),
        previous: previous
            .zip(until)
            .map(|(s, u)| (SigningSecret(s), Timestamp::from_unix_millis(u))),
        created_at: Timestamp::from_unix_millis(row.get(8)?),
    })
}

pub fn webhooks(conn: &Connection) -> Result<Vec<WebhookRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, url, events, description, role, secret, previous_secret, previous_until,
           created_at FROM webhooks ORDER BY created_at, id",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(webhook_row(row)?);
    }
    Ok(out)
}

const DELIVERY_COLUMNS: &str =
    "id, webhook, conversation, seq, kind, state, created_at, status, series_start, next_at";

fn delivery_row(row: &Row<'_>) -> Result<Delivery, StoreError> {
    let webhook: String = row.get(1)?;
    let conversation: String = row.get(2)?;
    let status: String = row.get(7)?;
    Ok(Delivery {
        id: row.get(0)?,
        webhook: WebhookId::parse(&webhook).map_err(|e| corrupt("webhook id", e))?,
        conversation: ConversationId::parse(conversation)
            .map_err(|e| corrupt("conversation id", e))?,
        seq: row.get(3)?,
        kind: row.get(4)?,
        state: row.get(5)?,
        created_at: Timestamp::from_unix_millis(row.get(6)?),
        status: DeliveryStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        series_start: Timestamp::from_unix_millis(row.get(8)?),
        next_at: Timestamp::from_unix_millis(row.get(9)?),
        attempts: Vec::new(),
    })
}

/// Fans out the oldest outbox entries first. Each claimed delivery is the oldest
/// pending one of its webhook and conversation: the `NOT EXISTS` keeps a
/// conversation's later deliveries behind an earlier one that is leased, waiting for a
/// retry, or not yet due.
pub fn claim(
    tx: &Transaction<'_>,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
) -> Result<Vec<Delivery>, StoreError> {
    expand(tx)?;
    let mut claimed = Vec::new();
    {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries AS d
             WHERE status = 'pending' AND next_at <= ?1
               AND (lease_until IS NULL OR lease_until <= ?1)
               AND NOT EXISTS (SELECT 1 FROM webhook_deliveries AS e
                 WHERE e.status = 'pending' AND e.webhook = d.webhook
                   AND e.conversation = d.conversation AND e.id < d.id)
             ORDER BY next_at, id LIMIT ?2"
        ))?;
        let mut rows = stmt.query(params![now.unix_millis(), limit])?;
        while let Some(row) = rows.next()? {
            claimed.push(delivery_row(row)?);
        }
    }
    let mut lease =
        tx.prepare_cached("UPDATE webhook_deliveries SET lease_until = ?1 WHERE id = ?2")?;
    for delivery in &claimed {
        lease.execute(params![lease_until.unix_millis(), delivery.id])?;
    }
    Ok(claimed)
}

pub fn finish(
    tx: &Transaction<'_>,
    id: u64,
    attempt: &Attempt,
    finish: &Finish,
) -> Result<(), StoreError> {
    let number: u64 = tx.query_row(
        "SELECT count(*) FROM webhook_attempts WHERE delivery = ?1",
        [id],
        |r| r.get(0),
    )?;
    tx.execute(
        "INSERT INTO webhook_attempts (delivery, number, at, status, error) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            id,
            number + 1,
            attempt.at.unix_millis(),
            attempt.status,
            attempt.error
        ],
    )?;
    let (status, next_at) = match finish {
        Finish::Delivered => ("delivered", None),
        Finish::RetryAt(at) => ("pending", Some(at.unix_millis())),
        Finish::Dead => ("dead", None),
    };
    tx.execute(
        "UPDATE webhook_deliveries SET status = ?1, next_at = ifnull(?2, next_at),
           lease_until = NULL WHERE id = ?3",
        params![status, next_at, id],
    )?;
    Ok(())
}

pub fn replay(
    tx: &Transaction<'_>,
    webhook: &WebhookId,
    since: Timestamp,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let changed = tx.execute(
        "UPDATE webhook_deliveries SET status = 'pending', series_start = ?3, next_at = ?3,
           lease_until = NULL
         WHERE webhook = ?1 AND created_at >= ?2 AND status != 'pending'",
        params![webhook.as_str(), since.unix_millis(), now.unix_millis()],
    )?;
    Ok(changed as u64)
}

pub fn deliveries(conn: &Connection, query: &DeliveryQuery) -> Result<Vec<Delivery>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
         WHERE webhook = ?1 AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR id < ?3)
         ORDER BY id DESC LIMIT ?4"
    ))?;
    let mut rows = stmt.query(params![
        query.webhook.as_str(),
        query.status.map(DeliveryStatus::as_str),
        query.before,
        query.limit
    ])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(delivery_row(row)?);
    }
    drop(rows);
    let mut tries = conn.prepare_cached(
        "SELECT at, status, error FROM webhook_attempts WHERE delivery = ?1 ORDER BY number",
    )?;
    for delivery in &mut out {
        let mut rows = tries.query([delivery.id])?;
        while let Some(row) = rows.next()? {
            delivery.attempts.push(Attempt {
                at: Timestamp::from_unix_millis(row.get(0)?),
                status: row.get(1)?,
                error: row.get(2)?,
            });
        }
    }
    Ok(out)
}

pub fn stats(conn: &Connection) -> Result<OutboxStats, StoreError> {
    let (pending, oldest): (u64, Option<i64>) = conn.query_row(
        "SELECT count(*), min(created_at) FROM webhook_deliveries WHERE status = 'pending'",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let dead: u64 = conn
        .query_row(
            "SELECT count(*) FROM webhook_deliveries WHERE status = 'dead'",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    let (unexpanded, oldest_entry): (u64, Option<i64>) = conn.query_row(
        "SELECT count(*), min(created_at) FROM webhook_outbox",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(OutboxStats {
        pending,
        unexpanded,
        oldest_pending: oldest
            .into_iter()
            .chain(oldest_entry)
            .min()
            .map(Timestamp::from_unix_millis),
        dead,
    })
}
