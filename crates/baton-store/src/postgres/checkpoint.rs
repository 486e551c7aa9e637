//! The one step every node serialises: chaining the next checkpoint, and handing out
//! the global feed's positions.
//!
//! The head row (`checkpoint_head`) is locked last in an append transaction and held
//! until its commit, so checkpoint numbers and feed positions follow commit order
//! across every node: a snapshot that sees checkpoint N (or position P) sees every
//! one before it, because whoever took the number before it had committed, and become
//! visible, before releasing the lock. The step is three statements; what makes it
//! long is only the commit's flush behind it.

use std::collections::BTreeMap;

use baton_core::id::ConversationId;
use baton_core::ledger::{CheckpointBody, Digest, Head, checkpoint_hash};
use sqlx::postgres::PgConnection;

use super::{digest_from, to_i64, to_u64};
use crate::StoreError;

/// The events a group wrote, in the order they enter the feed.
#[derive(Debug, Default)]
pub struct Written {
    conversations: Vec<String>,
    seqs: Vec<i64>,
}

impl Written {
    /// Adds an event.
    pub fn push(&mut self, conversation: &str, seq: i64) {
        self.conversations.push(conversation.to_owned());
        self.seqs.push(seq);
    }
}

/// Records `heads` as the next checkpoint and gives `written` the next feed
/// positions; returns the checkpoint's number.
pub async fn chain(
    tx: &mut PgConnection,
    heads: BTreeMap<ConversationId, (u64, Digest)>,
    written: Written,
) -> Result<u64, StoreError> {
    let (last, prev, position): (i64, Vec<u8>, i64) =
        sqlx::query_as("SELECT number, hash, position FROM checkpoint_head FOR UPDATE")
            .fetch_one(&mut *tx)
            .await?;
    let count = i64::try_from(written.seqs.len())
        .map_err(|_| StoreError::Engine("too many events in one commit".into()))?;
    sqlx::query(
        "INSERT INTO feed (position, conversation, seq)
         SELECT $1 + w.n, w.conversation, w.seq
         FROM unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS w(conversation, seq, n)",
    )
    .bind(position)
    .bind(&written.conversations)
    .bind(&written.seqs)
    .execute(&mut *tx)
    .await?;
    let number = to_u64(last)? + 1;
    let body = CheckpointBody {
        number,
        heads: heads
            .into_iter()
            .map(|(conversation, (seq, hash))| Head {
                conversation,
                seq,
                hash,
            })
            .collect(),
    };
    let (canonical, hash) = checkpoint_hash(&digest_from(&prev)?, &body)
        .map_err(|e| StoreError::Engine(e.to_string()))?;
    sqlx::query(
        "WITH recorded AS (
             INSERT INTO checkpoints (number, body, hash) VALUES ($1, $2, $3)
         )
         UPDATE checkpoint_head SET number = $1, hash = $3, position = $4",
    )
    .bind(to_i64(number)?)
    .bind(canonical)
    .bind(hash.0.as_slice())
    .bind(position + count)
    .execute(&mut *tx)
    .await?;
    Ok(number)
}
