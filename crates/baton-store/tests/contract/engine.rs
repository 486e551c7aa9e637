//! The engines the contract runs against, and what a case needs from each: a fresh,
//! empty store; the same store reopened (durability); and a way to tamper with the
//! stored log behind the engine's back (what `verify` must catch).
//!
//! Each engine implements [`Engine`] and has one `contract!` line in `main.rs`; every
//! case then runs against it. An engine that several nodes share (PostgreSQL) also
//! implements [`Nodes`], for the cases about two handles on one store.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use baton_store::Store;
use baton_store::sqlite::SqliteStore;
use rusqlite::{Connection, params};
use tempfile::TempDir;

/// Edits to the stored log that bypass the engine.
pub trait Tamper: Send + Sync {
    /// Rewrites an event's stored JSON, replacing `from` with `to` (hash unchanged).
    fn edit_event(&self, conversation: &str, seq: u64, from: &str, to: &str);
    /// Deletes the events of `conversation` from `seq` on, and moves its summary back.
    fn truncate(&self, conversation: &str, from_seq: u64);
    /// Deletes a whole conversation: its events and its summary row.
    fn delete_conversation(&self, conversation: &str);
    /// Runs one SQL statement both engines understand (without parameters); the rows
    /// it changed.
    fn raw(&self, statement: &'static str) -> u64;
}

/// A store under test.
pub struct Fresh {
    /// The engine, as the server sees it.
    pub store: Arc<dyn Store>,
    /// Behind-the-back edits.
    pub tamper: Box<dyn Tamper>,
    /// Kept alive for the test (a temporary directory, a schema...).
    pub place: Place,
}

/// What a fresh store lives in, dropped with the test.
pub enum Place {
    /// A temporary SQLite data directory.
    Dir(TempDir),
    /// A PostgreSQL schema of its own, dropped with the test.
    Schema(Box<crate::postgres_engine::SchemaGuard>),
}

/// One storage engine.
pub trait Engine {
    /// Whether the engine can run here (a server engine needs its URL); when it
    /// cannot, the cases pass without running, and say so.
    fn available() -> bool {
        true
    }
    /// An empty store.
    fn fresh() -> Fresh;
    /// The store in `place` opened again, after the old handle was dropped.
    fn reopen(place: Place) -> Fresh;
}

/// An engine several baton nodes share.
pub trait Nodes: Engine {
    /// Another handle on the store in `place`, as a second node would open it.
    fn another_node(place: &Place) -> Arc<dyn Store>;
}

/// The embedded default.
pub struct Sqlite;

impl Sqlite {
    fn open(dir: TempDir) -> Fresh {
        let store = SqliteStore::open(dir.path()).expect("sqlite store opens");
        let db = store.path().to_path_buf();
        Fresh {
            store: Arc::new(store),
            tamper: Box::new(SqliteTamper { db }),
            place: Place::Dir(dir),
        }
    }
}

impl Engine for Sqlite {
    fn fresh() -> Fresh {
        Self::open(tempfile::tempdir().expect("temporary directory"))
    }

    fn reopen(place: Place) -> Fresh {
        match place {
            Place::Dir(dir) => Self::open(dir),
            Place::Schema(_) => panic!("a SQLite store lives in a directory"),
        }
    }
}

struct SqliteTamper {
    db: PathBuf,
}

impl SqliteTamper {
    fn conn(path: &Path) -> Connection {
        let conn = Connection::open(path).expect("tamper connection");
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .expect("busy timeout");
        conn
    }
}

impl Tamper for SqliteTamper {
    fn edit_event(&self, conversation: &str, seq: u64, from: &str, to: &str) {
        let changed = Self::conn(&self.db)
            .execute(
                "UPDATE events SET body = replace(body, ?1, ?2) WHERE conversation = ?3 AND seq = ?4",
                params![from, to, conversation, seq],
            )
            .expect("edit");
        assert_eq!(changed, 1, "the edited event exists");
    }

    fn truncate(&self, conversation: &str, from_seq: u64) {
        let conn = Self::conn(&self.db);
        conn.execute(
            "DELETE FROM events WHERE conversation = ?1 AND seq >= ?2",
            params![conversation, from_seq],
        )
        .expect("truncate");
        conn.execute(
            "UPDATE conversations SET last_seq = ?2 WHERE id = ?1",
            params![conversation, from_seq - 1],
        )
        .expect("move the summary back");
    }

    fn delete_conversation(&self, conversation: &str) {
        let conn = Self::conn(&self.db);
        conn.execute(
            "DELETE FROM events WHERE conversation = ?1",
            params![conversation],
        )
        .expect("delete events");
        conn.execute(
            "DELETE FROM conversations WHERE id = ?1",
            params![conversation],
        )
        .expect("delete summary");
    }

    fn raw(&self, statement: &'static str) -> u64 {
        let changed = Self::conn(&self.db)
            .execute(statement, [])
            .expect("raw statement");
        changed as u64
    }
}
