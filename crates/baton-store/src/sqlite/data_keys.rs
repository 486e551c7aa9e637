//! The `data_keys` table: one wrapped key per conversation, overwritten on erasure.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use baton_core::id::ConversationId;
use baton_core::timestamp::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::schema;
use crate::StoreError;
use crate::data_keys::{DataKeyRecord, Rewrap};

const COLUMNS: &str = "conversation, id, master, wrapped, created_at, destroyed_at";

fn row(row: &Row<'_>) -> Result<DataKeyRecord, StoreError> {
    let conversation: String = row.get(0)?;
    Ok(DataKeyRecord {
        conversation: ConversationId::parse(&conversation)
            .map_err(|e| StoreError::Corrupt(format!("data key of {conversation:?}: {e}")))?,
        id: row.get(1)?,
        master: row.get(2)?,
        wrapped: row.get(3)?,
        created_at: Timestamp::from_unix_millis(row.get(4)?),
        destroyed_at: row
            .get::<_, Option<i64>>(5)?
            .map(Timestamp::from_unix_millis),
    })
}

pub fn put(tx: &Connection, key: &DataKeyRecord) -> Result<DataKeyRecord, StoreError> {
    insert_new(tx, key)?;
    get(tx, &key.conversation)?
        .ok_or_else(|| StoreError::Engine("data key vanished after insert".into()))
}

/// Stores `key` unless its conversation has one already; whether it did.
pub fn insert_new(tx: &Connection, key: &DataKeyRecord) -> Result<bool, StoreError> {
    let inserted = tx
        .prepare_cached(
            "INSERT INTO data_keys (conversation, id, master, wrapped, created_at, destroyed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, NULL) ON CONFLICT (conversation) DO NOTHING",
        )?
        .execute(params![
            key.conversation.as_str(),
            key.id,
            key.master,
            key.wrapped,
            key.created_at.unix_millis()
        ])?;
    Ok(inserted == 1)
}

pub fn get(
    conn: &Connection,
    conversation: &ConversationId,
) -> Result<Option<DataKeyRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM data_keys WHERE conversation = ?1"
    ))?;
    let found = stmt
        .query_row([conversation.as_str()], |r| Ok(row(r)))
        .optional()?;
    found.transpose()
}

pub fn all(conn: &Connection) -> Result<Vec<DataKeyRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM data_keys ORDER BY conversation"
    ))?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(row(r)?);
    }
    Ok(out)
}

pub fn rewrap(tx: &Connection, keys: &[Rewrap]) -> Result<u64, StoreError> {
    let mut changed = 0;
    for key in keys {
        changed += tx.execute(
            "UPDATE data_keys SET master = ?2, wrapped = ?3
             WHERE conversation = ?1 AND destroyed_at IS NULL",
            params![key.conversation.as_str(), key.master, key.wrapped],
        )? as u64;
    }
    Ok(changed)
}

/// Overwrites the wrapped bytes with zeros of the same length first, so the cell is
/// rewritten in place, then drops them; `secure_delete` (set on the writer) zeroes
/// the freed space.
pub fn destroy(
    tx: &Connection,
    conversation: &ConversationId,
    at: Timestamp,
) -> Result<bool, StoreError> {
    tx.execute(
        "UPDATE data_keys SET wrapped = zeroblob(length(wrapped))
         WHERE conversation = ?1 AND destroyed_at IS NULL",
        [conversation.as_str()],
    )?;
    let changed = tx.execute(
        "UPDATE data_keys SET wrapped = NULL, destroyed_at = ?2
         WHERE conversation = ?1 AND destroyed_at IS NULL",
        params![conversation.as_str(), at.unix_millis()],
    )?;
    Ok(changed > 0)
}

/// How long one truncating checkpoint waits, through the connection's busy handler,
/// for the writer's lock and for readers to leave the log: three tries stay within
/// the ten seconds a single wait allowed before.
const SCRUB_WAIT: Duration = Duration::from_secs(3);
/// Tries before the truncation is reported as not done. Retrying helps because
/// SQLite never waits for the checkpoint lock: while the checkpointer thread's
/// passive copy (every 100 ms) holds it, a try fails at once.
const SCRUB_TRIES: u32 = 3;
/// The pause after the first failed try, doubled after each.
const SCRUB_PAUSE: Duration = Duration::from_millis(50);

/// Copies the WAL into the database and truncates it, so no old page image (a key
/// before its erasure) stays in the log file. [`StoreError::Busy`] when every try
/// found the log busy: the log file may then still hold such an image.
pub fn truncate_wal(conn: &Connection) -> Result<(), StoreError> {
    truncate_wal_waiting(conn, SCRUB_WAIT)
}

fn truncate_wal_waiting(conn: &Connection, wait: Duration) -> Result<(), StoreError> {
    let mut pause = SCRUB_PAUSE;
    let mut tried = 1;
    loop {
        match try_truncate_wal(conn, wait) {
            Err(StoreError::Busy(message)) if tried < SCRUB_TRIES => {
                tracing::debug!(tried, %message, "truncating the write-ahead log: busy, trying again");
                std::thread::sleep(pause);
                pause *= 2;
                tried += 1;
            }
            done => return done,
        }
    }
}

/// One truncating checkpoint, waiting at most `wait` for the writer's lock and the
/// readers. A busy one still copies what it can (as a passive checkpoint would) but
/// leaves the log file as it was: [`StoreError::Busy`].
pub fn try_truncate_wal(conn: &Connection, wait: Duration) -> Result<(), StoreError> {
    conn.busy_timeout(wait)?;
    // (busy, frames in the log, frames copied into the database)
    let answer = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, i64>(2)?,
        ))
    });
    // The connection goes back to the read pool (or the checkpointer) with its usual wait.
    conn.busy_timeout(schema::BUSY_TIMEOUT)?;
    match answer? {
        (0, _, _) => Ok(()),
        (_, log, copied) => Err(StoreError::Busy(format!(
            "the write-ahead log was not truncated: other connections held it \
             ({copied} of {log} frames copied into the database)"
        ))),
    }
}

/// Keys destroyed against truncations that covered them: a destroy whose truncation
/// was busy leaves this pending, and the checkpointer truncates until it is not.
#[derive(Debug, Default)]
pub struct Scrubs {
    /// Destroys committed so far.
    destroyed: AtomicU64,
    /// The most destroys a successful truncation began after.
    covered: AtomicU64,
}

impl Scrubs {
    /// Counts a destroy, once committed.
    pub fn destroyed(&self) {
        self.destroyed.fetch_add(1, Ordering::SeqCst);
    }

    /// Whether a destroyed key's old page image may still be in the log.
    pub fn pending(&self) -> bool {
        self.covered.load(Ordering::SeqCst) < self.destroyed.load(Ordering::SeqCst)
    }

    /// Runs a truncation. Only the destroys counted before it began are covered when
    /// it succeeds: one committed while it ran may have written after it.
    pub fn run(&self, truncate: impl FnOnce() -> Result<(), StoreError>) -> Result<(), StoreError> {
        let before = self.destroyed.load(Ordering::SeqCst);
        truncate()?;
        self.covered.fetch_max(before, Ordering::SeqCst);
        Ok(())
    }
}

/// At open, before anything is written: a process that stopped (a crash, a kill -9)
/// between destroying a key and truncating the log may have left the key's old page
/// image in it, and nothing in memory remembers that. With any destroyed key in the
/// store, the log is truncated now; when another process holds it, the scrub is left
/// pending for the checkpointer to finish, as after a busy erasure.
pub fn scrub_on_open(conn: &Connection, scrubs: &Scrubs) -> Result<(), StoreError> {
    let any_destroyed: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM data_keys WHERE destroyed_at IS NOT NULL)",
        [],
        |r| r.get(0),
    )?;
    if !any_destroyed {
        return Ok(());
    }
    scrubs.destroyed();
    match scrubs.run(|| try_truncate_wal(conn, SCRUB_WAIT)) {
        Err(StoreError::Busy(message)) => {
            tracing::warn!(%message, "erased keys' old copies may remain in the write-ahead log; the checkpointer keeps truncating it");
            Ok(())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(path: &std::path::Path) -> Connection {
        let conn = Connection::open(path).unwrap();
        schema::configure(&conn).unwrap();
        conn
    }

    fn wal_len(dir: &std::path::Path) -> u64 {
        std::fs::metadata(dir.join("t.db-wal")).map_or(0, |m| m.len())
    }

    #[test]
    fn a_reader_in_the_log_makes_the_truncation_fail_and_it_succeeds_once_gone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let writer = open(&path);
        writer
            .execute_batch("CREATE TABLE t (v BLOB); INSERT INTO t VALUES (randomblob(64));")
            .unwrap();
        // A read transaction begun while the log holds frames reads from the log, so
        // the log cannot start over until it ends.
        let reader = open(&path);
        reader.execute_batch("BEGIN").unwrap();
        let rows: i64 = reader
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1);

        let scrubber = open(&path);
        let busy = truncate_wal_waiting(&scrubber, Duration::from_millis(10));
        assert!(matches!(busy, Err(StoreError::Busy(_))), "{busy:?}");
        assert!(wal_len(dir.path()) > 0, "the log file was left as it was");
        let wait: i64 = scrubber
            .query_row("PRAGMA busy_timeout", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            wait,
            schema::BUSY_TIMEOUT.as_millis() as i64,
            "the connection gets its usual wait back"
        );

        reader.execute_batch("COMMIT").unwrap();
        truncate_wal_waiting(&scrubber, Duration::from_millis(10)).unwrap();
        assert_eq!(wal_len(dir.path()), 0, "the log file is empty");
    }

    #[test]
    fn a_truncation_covers_only_the_destroys_counted_before_it_began() {
        let scrubs = Scrubs::default();
        assert!(!scrubs.pending());
        scrubs.destroyed();
        assert!(scrubs.pending());
        let busy = scrubs.run(|| Err(StoreError::Busy("held".into())));
        assert!(busy.is_err());
        assert!(scrubs.pending(), "a busy truncation covers nothing");
        scrubs
            .run(|| {
                scrubs.destroyed();
                Ok(())
            })
            .unwrap();
        assert!(
            scrubs.pending(),
            "the destroy counted during it is not covered"
        );
        scrubs.run(|| Ok(())).unwrap();
        assert!(!scrubs.pending());
    }

    /// Whether any file under `dir` holds `needle`.
    fn on_disk(dir: &std::path::Path, needle: &[u8]) -> bool {
        std::fs::read_dir(dir).unwrap().flatten().any(|entry| {
            let bytes = std::fs::read(entry.path()).unwrap_or_default();
            bytes.windows(needle.len()).any(|w| w == needle)
        })
    }

    #[test]
    fn a_key_destroyed_just_before_a_crash_is_scrubbed_from_the_log_at_open() {
        let dir = tempfile::tempdir().unwrap();
        // The schema, made by the store itself, then closed.
        drop(super::super::SqliteStore::open(dir.path()).unwrap());
        let conn = open(&dir.path().join(super::super::DB_FILE));
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0").unwrap();
        let wrapped = [0xA7_u8; 48];
        conn.execute(
            "INSERT INTO data_keys (conversation, id, master, wrapped, created_at, destroyed_at)
             VALUES ('c1', 'dk_1', 'mk_1', ?1, 0, NULL)",
            [wrapped.as_slice()],
        )
        .unwrap();
        let cid = ConversationId::parse("c1").unwrap();
        assert!(destroy(&conn, &cid, Timestamp::from_unix_millis(1)).unwrap());
        assert!(
            on_disk(dir.path(), &wrapped),
            "the old page image is in the log (the control)"
        );
        // A crash: the connection ends without a checkpoint or a truncation.
        std::mem::forget(conn);

        let _store = super::super::SqliteStore::open(dir.path()).unwrap();
        assert!(
            !on_disk(dir.path(), &wrapped),
            "the next open truncated the log before anything else"
        );
    }
}
