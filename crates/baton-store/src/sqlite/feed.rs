//! The global feed: every event by its position (see migration 4 in [`super::schema`]).

use baton_core::id::ConversationId;
use rusqlite::{Connection, params};

use super::digest_from;
use crate::StoreError;
use crate::model::{FeedEvent, FeedPage, StoredEvent};

/// A read after the largest position reads nothing, never an error.
const MAX_POSITION: u64 = i64::MAX as u64;

pub fn feed_page(
    conn: &Connection,
    after: u64,
    kinds: &[String],
    limit: u32,
    max_bytes: usize,
) -> Result<FeedPage, StoreError> {
    let kinds_json = serde_json::to_string(kinds).map_err(|e| StoreError::Engine(e.to_string()))?;
    let mut stmt = conn.prepare_cached(
        "SELECT position, conversation, kind, seq, body, hash FROM events
         WHERE position > ?1 AND (?2 = '[]' OR kind IN (SELECT value FROM json_each(?2)))
         ORDER BY position",
    )?;
    let mut rows = stmt.query(params![after.min(MAX_POSITION), kinds_json])?;
    let mut page = FeedPage::default();
    let mut bytes = 0usize;
    while let Some(row) = rows.next()? {
        let body: String = row.get(4)?;
        if page.events.len() >= limit as usize
            || (!page.events.is_empty() && bytes + body.len() > max_bytes)
        {
            page.more = true;
            break;
        }
        bytes += body.len();
        let conversation: String = row.get(1)?;
        let hash: Vec<u8> = row.get(5)?;
        page.events.push(FeedEvent {
            position: row.get(0)?,
            conversation: ConversationId::parse(conversation)
                .map_err(|e| StoreError::Corrupt(format!("conversation id: {e}")))?,
            kind: row.get(2)?,
            event: StoredEvent {
                seq: row.get(3)?,
                canonical: body,
                hash: digest_from(&hash)?,
            },
        });
    }
    Ok(page)
}

pub fn feed_head(conn: &Connection) -> Result<u64, StoreError> {
    Ok(
        conn.query_row("SELECT ifnull(max(position), 0) FROM events", [], |r| {
            r.get(0)
        })?,
    )
}
