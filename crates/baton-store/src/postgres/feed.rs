//! The global feed on PostgreSQL: positions from the `feed` table (handed out in
//! commit order, see [`super::checkpoint`]), events joined from the log.

use baton_core::id::ConversationId;
use futures_util::TryStreamExt;
use sqlx::Row;
use sqlx::postgres::PgPool;

use super::{digest_from, to_u64};
use crate::StoreError;
use crate::model::{FeedEvent, FeedPage, StoredEvent};

/// A read after the largest position reads nothing, never an error.
fn position_param(after: u64) -> i64 {
    i64::try_from(after).unwrap_or(i64::MAX)
}

pub async fn feed_page(
    pool: &PgPool,
    after: u64,
    kinds: &[&str],
    limit: u32,
    max_bytes: usize,
) -> Result<FeedPage, StoreError> {
    let mut rows = sqlx::query(
        "SELECT f.position, f.conversation, e.kind, e.seq, e.body, e.hash
         FROM feed AS f JOIN events AS e ON e.conversation = f.conversation AND e.seq = f.seq
         WHERE f.position > $1 AND (cardinality($2::text[]) = 0 OR e.kind = ANY($2))
         ORDER BY f.position LIMIT $3",
    )
    .bind(position_param(after))
    .bind(kinds)
    .bind(i64::from(limit) + 1)
    .fetch(pool);
    let mut page = FeedPage::default();
    let mut bytes = 0usize;
    while let Some(row) = rows.try_next().await? {
        let body: String = row.try_get(4)?;
        if page.events.len() >= limit as usize
            || (!page.events.is_empty() && bytes.saturating_add(body.len()) > max_bytes)
        {
            page.more = true;
            break;
        }
        bytes = bytes.saturating_add(body.len());
        let conversation: String = row.try_get(1)?;
        let hash: &[u8] = row.try_get(5)?;
        page.events.push(FeedEvent {
            position: to_u64(row.try_get(0)?)?,
            conversation: ConversationId::parse(conversation)
                .map_err(|e| StoreError::Corrupt(format!("conversation id: {e}")))?,
            kind: row.try_get(2)?,
            event: StoredEvent {
                seq: to_u64(row.try_get(3)?)?,
                canonical: body,
                hash: digest_from(hash)?,
            },
        });
    }
    Ok(page)
}

/// The last position handed out. Read from the head row without its lock: a commit
/// in flight has not published its positions yet, and the row shows the last
/// committed ones.
pub async fn feed_head(pool: &PgPool) -> Result<u64, StoreError> {
    let position: i64 = sqlx::query_scalar("SELECT position FROM checkpoint_head")
        .fetch_one(pool)
        .await?;
    to_u64(position)
}
