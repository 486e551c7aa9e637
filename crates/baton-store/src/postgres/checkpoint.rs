//! The one step every node serialises: chaining the next checkpoint.
//!
//! The head row (`checkpoint_head`) is locked last in an append transaction and held
//! until its commit, so checkpoint numbers follow commit order across every node and
//! a snapshot that sees checkpoint N sees every checkpoint before it. The step is two
//! statements; what makes it long is only the commit's flush behind it.

use std::collections::BTreeMap;

use baton_core::id::ConversationId;
use baton_core::ledger::{CheckpointBody, Digest, Head, checkpoint_hash};
use sqlx::postgres::PgConnection;

use super::{digest_from, to_i64, to_u64};
use crate::StoreError;

/// Records `heads` as the next checkpoint; returns its number.
pub async fn chain(
    tx: &mut PgConnection,
    heads: BTreeMap<ConversationId, (u64, Digest)>,
) -> Result<u64, StoreError> {
    let (last, prev): (i64, Vec<u8>) =
        sqlx::query_as("SELECT number, hash FROM checkpoint_head FOR UPDATE")
            .fetch_one(&mut *tx)
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
         UPDATE checkpoint_head SET number = $1, hash = $3",
    )
    .bind(to_i64(number)?)
    .bind(canonical)
    .bind(hash.0.as_slice())
    .execute(&mut *tx)
    .await?;
    Ok(number)
}
