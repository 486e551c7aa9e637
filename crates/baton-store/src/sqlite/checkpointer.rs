//! Copies the write-ahead log back into the database file off the writer's thread.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses the threshold,
//! so that one commit, and every append waiting behind it, stalls while megabytes are
//! copied and synced: the tail of append latency. A passive checkpoint from a second
//! connection does the bulk of that copy beside the writer without blocking it, so
//! the writer's own checkpoint has little left to do.

//!
//! It also finishes an erasure whose truncation of the log was busy: until a
//! truncation succeeds, each round truncates instead of copying.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use rusqlite::Connection;

use super::data_keys::{self, Scrubs};
use super::schema;
use crate::StoreError;

/// How often the log is copied back.
const INTERVAL: Duration = Duration::from_millis(100);

/// How long a truncation here waits for the readers: enough for a read in flight to
/// end, short enough that the appends it holds back while waiting barely notice.
const SCRUB_WAIT: Duration = Duration::from_millis(25);

/// Runs until the store drops its end of `stop`.
pub fn run(path: PathBuf, stop: Receiver<()>, scrubs: Arc<Scrubs>) {
    let conn = match Connection::open(&path)
        .map_err(crate::StoreError::from)
        .and_then(|conn| {
            schema::configure(&conn)?;
            Ok(conn)
        }) {
        Ok(conn) => conn,
        Err(error) => {
            tracing::error!(%error, "checkpointer cannot open the database; the writer checkpoints alone");
            return;
        }
    };
    loop {
        match stop.recv_timeout(INTERVAL) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        if scrubs.pending() {
            scrub(&conn, &scrubs);
        } else if let Err(error) = checkpoint(&conn) {
            tracing::warn!(%error, "checkpoint failed; will retry");
        }
    }
}

/// One try at truncating the log for an erasure that could not; a busy try copies
/// what it can, as the passive checkpoint it replaces would.
fn scrub(conn: &Connection, scrubs: &Scrubs) {
    match scrubs.run(|| data_keys::try_truncate_wal(conn, SCRUB_WAIT)) {
        Ok(()) => tracing::info!(
            "write-ahead log truncated: no destroyed data key's old page is left in it"
        ),
        Err(StoreError::Busy(_)) => {}
        Err(error) => tracing::warn!(%error, "truncating the write-ahead log failed; will retry"),
    }
}

/// A passive copy: it never blocks the writer. Under steady load the log is never
/// wholly copied at the moment the writer begins a transaction, so it cannot start
/// over on this thread's work alone; the writer's own automatic checkpoint, finding
/// almost everything already copied, finishes the rest in a moment and lets it.
fn checkpoint(conn: &Connection) -> rusqlite::Result<()> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
}
