//! Webhook subscriptions and the delivery outbox on PostgreSQL. A batch's outbox entry
//! is inserted in its append transaction ([`record`]) and fanned out into deliveries
//! by a claim ([`expand`]); claims take the rows they lease with `FOR UPDATE SKIP
//! LOCKED`, so workers on several nodes never take the same delivery, and a
//! conversation's later delivery waits behind its earlier one.

use baton_core::id::ConversationId;
use baton_core::timestamp::Timestamp;
use sqlx::Row;
use sqlx::postgres::{PgConnection, PgPool, PgRow};

use super::{to_i64, to_u64};
use crate::StoreError;
use crate::model::{AppendBatch, Role};
use crate::outbox::*;

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// Writes a batch's outbox entry, in the append's transaction: one row, however many
/// subscriptions there are.
pub async fn record(tx: &mut PgConnection, batch: &AppendBatch) -> Result<(), StoreError> {
    let (Some(entry), Some(first)) = (&batch.outbox, batch.events.first()) else {
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO webhook_outbox (conversation, first_seq, kinds, state, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(batch.conversation.as_str())
    .bind(to_i64(first.seq)?)
    .bind(kinds_column(batch.events.iter().map(|e| e.kind)))
    .bind(&entry.state)
    .bind(batch.summary.updated_at.unix_millis())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Fans the oldest outbox entries out into deliveries and removes them, unless another
/// node is doing so right now (it holds the lock until its transaction ends, so fan-outs
/// never interleave and a conversation's deliveries get ids in seq order).
async fn expand(tx: &mut PgConnection) -> Result<(), StoreError> {
    let ours: bool = sqlx::query_scalar(
        "SELECT pg_try_advisory_xact_lock(hashtextextended(current_schema() || 'webhook fan-out', 0))",
    )
    .fetch_one(&mut *tx)
    .await?;
    if !ours {
        return Ok(());
    }
    let rows: Vec<(i64, String, i64, String, String, i64)> = sqlx::query_as(
        "SELECT id, conversation, first_seq, kinds, state, created_at FROM webhook_outbox
         ORDER BY id LIMIT $1",
    )
    .bind(i64::from(FAN_OUT_PER_CLAIM))
    .fetch_all(&mut *tx)
    .await?;
    let entries = rows
        .into_iter()
        .map(|(id, conversation, first_seq, kinds, state, created_at)| {
            Ok(StoredEntry {
                id,
                conversation,
                first_seq: to_u64(first_seq)?,
                kinds,
                state,
                created_at,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    if entries.is_empty() {
        return Ok(());
    }
    let subscriptions = webhooks(&mut *tx).await?;
    let (mut hooks, mut conversations, mut seqs, mut kinds, mut states, mut times) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for entry in &entries {
        for delivery in entry.fan_out(&subscriptions) {
            hooks.push(delivery.webhook.as_str());
            conversations.push(entry.conversation.as_str());
            seqs.push(to_i64(delivery.seq)?);
            kinds.push(delivery.kind);
            states.push(entry.state.as_str());
            times.push(entry.created_at);
        }
    }
    // WITH ORDINALITY keeps the fan-out's order in the ids the sequence hands out.
    sqlx::query(
        "INSERT INTO webhook_deliveries
           (webhook, conversation, seq, kind, state, created_at, status, series_start, next_at)
         SELECT o.webhook, o.conversation, o.seq, o.kind, o.state, o.at, 'pending', o.at, o.at
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::bigint[])
           WITH ORDINALITY AS o(webhook, conversation, seq, kind, state, at, n)
         ORDER BY o.n",
    )
    .bind(&hooks)
    .bind(&conversations)
    .bind(&seqs)
    .bind(&kinds)
    .bind(&states)
    .bind(&times)
    .execute(&mut *tx)
    .await?;
    let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
    sqlx::query("DELETE FROM webhook_outbox WHERE id = ANY($1)")
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

pub async fn put_webhook(pool: &PgPool, webhook: &WebhookRecord) -> Result<(), StoreError> {
    let events =
        serde_json::to_string(&webhook.events).map_err(|e| StoreError::Engine(e.to_string()))?;
    sqlx::query(
        "INSERT INTO webhooks (id, url, events, description, role, secret, previous_secret,
           previous_until, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (id) DO UPDATE SET url = excluded.url, events = excluded.events,
           description = excluded.description, role = excluded.role, secret = excluded.secret,
           previous_secret = excluded.previous_secret, previous_until = excluded.previous_until",
    )
    .bind(webhook.id.as_str())
    .bind(&webhook.url)
    .bind(events)
    .bind(webhook.description.as_deref())
    .bind(webhook.role.as_str())
    .bind(&webhook.secret.0)
    .bind(webhook.previous.as_ref().map(|(s, _)| s.0.as_str()))
    .bind(
        webhook
            .previous
            .as_ref()
            .map(|(_, until)| until.unix_millis()),
    )
    .bind(webhook.created_at.unix_millis())
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn delete_webhook(pool: &PgPool, id: &WebhookId) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "DELETE FROM webhook_attempts WHERE delivery IN
           (SELECT id FROM webhook_deliveries WHERE webhook = $1)",
    )
    .bind(id.as_str())
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM webhook_deliveries WHERE webhook = $1")
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
    let deleted = sqlx::query("DELETE FROM webhooks WHERE id = $1")
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    // Entries no subscription is left to receive would wait for ever.
    sqlx::query("DELETE FROM webhook_outbox WHERE NOT EXISTS (SELECT 1 FROM webhooks)")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(deleted > 0)
}

fn webhook_row(row: &PgRow) -> Result<WebhookRecord, StoreError> {
    let id: &str = row.try_get("id")?;
    let events: &str = row.try_get("events")?;
    let role: &str = row.try_get("role")?;
    let previous: Option<String> = row.try_get("previous_secret")?;
    let until: Option<i64> = row.try_get("previous_until")?;
    Ok(WebhookRecord {
        id: WebhookId::parse(id).map_err(|e| corrupt("webhook id", e))?,
        url: row.try_get("url")?,
        events: serde_json::from_str(events).map_err(|e| corrupt("webhook events", e))?,
        description: row.try_get("description")?,
        role: Role::parse(role).ok_or_else(|| corrupt("webhook role", role))?,
        secret: SigningSecret(row.try_get("secret")?),
        previous: previous
            .zip(until)
            .map(|(s, u)| (SigningSecret(s), Timestamp::from_unix_millis(u))),
        created_at: Timestamp::from_unix_millis(row.try_get("created_at")?),
    })
}

pub async fn webhooks<'c>(db: impl sqlx::PgExecutor<'c>) -> Result<Vec<WebhookRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, url, events, description, role, secret, previous_secret, previous_until,
           created_at FROM webhooks ORDER BY created_at, id",
    )
    .fetch_all(db)
    .await?;
    rows.iter().map(webhook_row).collect()
}

fn delivery_row(row: &PgRow) -> Result<Delivery, StoreError> {
    let webhook: &str = row.try_get("webhook")?;
    let conversation: String = row.try_get("conversation")?;
    let status: &str = row.try_get("status")?;
    Ok(Delivery {
        id: to_u64(row.try_get("id")?)?,
        webhook: WebhookId::parse(webhook).map_err(|e| corrupt("webhook id", e))?,
        conversation: ConversationId::parse(conversation)
            .map_err(|e| corrupt("conversation id", e))?,
        seq: to_u64(row.try_get("seq")?)?,
        kind: row.try_get("kind")?,
        state: row.try_get("state")?,
        created_at: Timestamp::from_unix_millis(row.try_get("created_at")?),
        status: DeliveryStatus::parse(status).ok_or_else(|| corrupt("status", status))?,
        series_start: Timestamp::from_unix_millis(row.try_get("series_start")?),
        next_at: Timestamp::from_unix_millis(row.try_get("next_at")?),
        attempts: Vec::new(),
    })
}

/// Fans out the oldest outbox entries, then leases the deliveries due: each the
/// oldest pending one of its webhook and conversation (the `NOT EXISTS`). A row
/// another node is leasing right now is skipped, not waited for; one it leased and
/// committed no longer matches, because PostgreSQL re-checks a locked row's new
/// version against the conditions.
pub async fn claim(
    pool: &PgPool,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
) -> Result<Vec<Delivery>, StoreError> {
    let mut tx = pool.begin().await?;
    expand(&mut tx).await?;
    let rows = sqlx::query(
        "WITH due AS (
             SELECT d.id FROM webhook_deliveries AS d
             WHERE d.status = 'pending' AND d.next_at <= $1
               AND (d.lease_until IS NULL OR d.lease_until <= $1)
               AND NOT EXISTS (SELECT 1 FROM webhook_deliveries AS e
                 WHERE e.status = 'pending' AND e.webhook = d.webhook
                   AND e.conversation = d.conversation AND e.id < d.id)
             ORDER BY d.next_at, d.id LIMIT $3
             FOR UPDATE SKIP LOCKED
         )
         UPDATE webhook_deliveries AS w SET lease_until = $2 FROM due WHERE w.id = due.id
         RETURNING w.id, w.webhook, w.conversation, w.seq, w.kind, w.state, w.created_at,
           w.status, w.series_start, w.next_at",
    )
    .bind(now.unix_millis())
    .bind(lease_until.unix_millis())
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut claimed: Vec<Delivery> = rows.iter().map(delivery_row).collect::<Result<_, _>>()?;
    // RETURNING has no order of its own.
    claimed.sort_by_key(|d| (d.next_at, d.id));
    Ok(claimed)
}

pub async fn finish(
    pool: &PgPool,
    id: u64,
    attempt: &Attempt,
    finish: &Finish,
) -> Result<(), StoreError> {
    let id = to_i64(id)?;
    let (status, next_at) = match finish {
        Finish::Delivered => ("delivered", None),
        Finish::RetryAt(at) => ("pending", Some(at.unix_millis())),
        Finish::Dead => ("dead", None),
    };
    let mut tx = pool.begin().await?;
    // The delivery row's lock orders two finishes of one delivery, so their numbers
    // never collide.
    sqlx::query("SELECT id FROM webhook_deliveries WHERE id = $1 FOR UPDATE")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO webhook_attempts (delivery, number, at, status, error)
         SELECT $1, count(*) + 1, $2, $3, $4 FROM webhook_attempts WHERE delivery = $1",
    )
    .bind(id)
    .bind(attempt.at.unix_millis())
    .bind(attempt.status.map(i32::from))
    .bind(attempt.error.as_deref())
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE webhook_deliveries SET status = $1, next_at = coalesce($2, next_at),
           lease_until = NULL WHERE id = $3",
    )
    .bind(status)
    .bind(next_at)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn replay(
    pool: &PgPool,
    webhook: &WebhookId,
    since: Timestamp,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let changed = sqlx::query(
        "UPDATE webhook_deliveries SET status = 'pending', series_start = $3, next_at = $3,
           lease_until = NULL
         WHERE webhook = $1 AND created_at >= $2 AND status <> 'pending'",
    )
    .bind(webhook.as_str())
    .bind(since.unix_millis())
    .bind(now.unix_millis())
    .execute(pool)
    .await?;
    Ok(changed.rows_affected())
}

pub async fn deliveries(pool: &PgPool, query: &DeliveryQuery) -> Result<Vec<Delivery>, StoreError> {
    let before = query.before.map(to_i64).transpose()?;
    let rows = sqlx::query(
        "SELECT id, webhook, conversation, seq, kind, state, created_at, status, series_start,
           next_at
         FROM webhook_deliveries
         WHERE webhook = $1 AND ($2::text IS NULL OR status = $2)
           AND ($3::bigint IS NULL OR id < $3)
         ORDER BY id DESC LIMIT $4",
    )
    .bind(query.webhook.as_str())
    .bind(query.status.map(DeliveryStatus::as_str))
    .bind(before)
    .bind(i64::from(query.limit))
    .fetch_all(pool)
    .await?;
    let mut out: Vec<Delivery> = rows.iter().map(delivery_row).collect::<Result<_, _>>()?;
    let ids: Vec<i64> = out.iter().map(|d| to_i64(d.id)).collect::<Result<_, _>>()?;
    let tries: Vec<(i64, i64, Option<i32>, Option<String>)> = sqlx::query_as(
        "SELECT delivery, at, status, error FROM webhook_attempts
         WHERE delivery = ANY($1) ORDER BY delivery, number",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    for (delivery, at, status, error) in tries {
        let delivery = to_u64(delivery)?;
        if let Some(d) = out.iter_mut().find(|d| d.id == delivery) {
            d.attempts.push(Attempt {
                at: Timestamp::from_unix_millis(at),
                status: status
                    .map(u16::try_from)
                    .transpose()
                    .map_err(|e| corrupt("attempt status", e))?,
                error,
            });
        }
    }
    Ok(out)
}

pub async fn stats(pool: &PgPool) -> Result<OutboxStats, StoreError> {
    let (pending, oldest, dead): (i64, Option<i64>, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'pending'),
                min(created_at) FILTER (WHERE status = 'pending'),
                count(*) FILTER (WHERE status = 'dead')
         FROM webhook_deliveries",
    )
    .fetch_one(pool)
    .await?;
    let (unexpanded, oldest_entry): (i64, Option<i64>) =
        sqlx::query_as("SELECT count(*), min(created_at) FROM webhook_outbox")
            .fetch_one(pool)
            .await?;
    Ok(OutboxStats {
        pending: to_u64(pending)?,
        unexpanded: to_u64(unexpanded)?,
        oldest_pending: oldest
            .into_iter()
            .chain(oldest_entry)
            .min()
            .map(Timestamp::from_unix_millis),
        dead: to_u64(dead)?,
    })
}
