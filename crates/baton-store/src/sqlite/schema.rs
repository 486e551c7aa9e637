//! The SQLite schema and its migrations, applied in order and recorded in
//! `PRAGMA user_version`, so an old data directory upgrades in place.

use rusqlite::Connection;

use crate::StoreError;

/// Each entry moves the schema from version `i` to `i + 1`. Append; never edit.
const MIGRATIONS: &[&str] = &[
    // 1: the log, its summaries, the checkpoint chain, keys and agents.
    "CREATE TABLE events (
        conversation TEXT NOT NULL,
        seq INTEGER NOT NULL,
        event_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        body TEXT NOT NULL,
        hash BLOB NOT NULL,
        PRIMARY KEY (conversation, seq)
    ) WITHOUT ROWID;
    CREATE UNIQUE INDEX events_by_id ON events (conversation, event_id);
    CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        last_seq INTEGER NOT NULL,
        head BLOB NOT NULL,
        owner TEXT NOT NULL,
        customer TEXT,
        agent TEXT,
        started_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX conversations_by_owner ON conversations (owner, updated_at);
    CREATE INDEX conversations_by_customer ON conversations (customer, started_at);
    CREATE TABLE checkpoints (
        number INTEGER PRIMARY KEY,
        body TEXT NOT NULL,
        hash BLOB NOT NULL
    );
    CREATE TABLE api_keys (
        hash BLOB PRIMARY KEY,
        role TEXT NOT NULL,
        agent TEXT,
        created_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE agents (
        id TEXT PRIMARY KEY,
        profile TEXT NOT NULL,
        presence TEXT NOT NULL,
        updated_at INTEGER NOT NULL
    ) WITHOUT ROWID;",
];

/// Pragmas every connection needs: durability first (an acknowledged append is on disk).
pub fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -16000;",
    )?;
    Ok(())
}

/// Brings the schema up to date.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: usize = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if current > MIGRATIONS.len() {
        return Err(StoreError::Engine(format!(
            "data was written by a newer baton (schema {current}, this build knows {})",
            MIGRATIONS.len()
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
    }
    Ok(())
}
