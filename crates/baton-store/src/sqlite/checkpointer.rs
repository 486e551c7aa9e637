//! Copies the write-ahead log back into the database file off the writer's thread.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses the threshold,
//! so that one commit, and every append waiting behind it, stalls while megabytes are
//! copied and synced: the tail of append latency. A passive checkpoint from a second
//! connection does the bulk of that copy beside the writer without blocking it, so
//! the writer's own checkpoint has little left to do.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use rusqlite::Connection;

use super::schema;

/// How often the log is copied back.
const INTERVAL: Duration = Duration::from_millis(100);

/// Runs until the store drops its end of `stop`.
pub fn run(path: PathBuf, stop: Receiver<()>) {
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
        if let Err(error) = checkpoint(&conn) {
            tracing::warn!(%error, "checkpoint failed; will retry");
        }
    }
}

/// A passive copy: it never blocks the writer. Under steady load the log is never
/// wholly copied at the moment the writer begins a transaction, so it cannot start
/// over on this thread's work alone; the writer's own automatic checkpoint, finding
/// almost everything already copied, finishes the rest in a moment and lets it.
fn checkpoint(conn: &Connection) -> rusqlite::Result<()> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
}
