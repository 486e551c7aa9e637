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
    // 2: events in a rowid table. Clustered by (conversation, seq), every append landed
    // on its own conversation's leaf page and split pages of ~500-byte rows; in
    // insertion order, a commit's events share the last pages and only the small
    // index entries scatter. About twice the durable appends per second.
    "CREATE TABLE events_v2 (
        conversation TEXT NOT NULL,
        seq INTEGER NOT NULL,
        event_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        body TEXT NOT NULL,
        hash BLOB NOT NULL
    );
    INSERT INTO events_v2 (conversation, seq, event_id, kind, body, hash)
        SELECT conversation, seq, event_id, kind, body, hash FROM events ORDER BY conversation, seq;
    DROP TABLE events;
    ALTER TABLE events_v2 RENAME TO events;
    CREATE UNIQUE INDEX events_by_seq ON events (conversation, seq);
    CREATE UNIQUE INDEX events_by_id ON events (conversation, event_id);",
    // 3: key lifecycle (a public id, a label, expiry, revocation) and console sessions.
    // Keys made before this get a random id of their own: never one derived from the
    // secret.
    "ALTER TABLE api_keys ADD COLUMN id TEXT;
    ALTER TABLE api_keys ADD COLUMN name TEXT;
    ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
    ALTER TABLE api_keys ADD COLUMN revoked_at INTEGER;
    UPDATE api_keys SET id = 'key_' || lower(hex(randomblob(8)));
    CREATE UNIQUE INDEX api_keys_by_id ON api_keys (id);
    CREATE TABLE console_sessions (
        hash BLOB PRIMARY KEY,
        key_hash BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX console_sessions_by_key ON console_sessions (key_hash);
    CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);",
    // 4: the global feed's positions (existing events keep their insertion order:
    // the rowid), webhook subscriptions, and the outbox of their deliveries with the
    // tries of each. The position is a column of its own because a VACUUM may
    // renumber rowids.
    "ALTER TABLE events ADD COLUMN position INTEGER;
    UPDATE events SET position = rowid;
    CREATE UNIQUE INDEX events_by_position ON events (position);
    CREATE TABLE webhooks (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        events TEXT NOT NULL,
        description TEXT,
        role TEXT NOT NULL,
        secret TEXT NOT NULL,
        previous_secret TEXT,
        previous_until INTEGER,
        created_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE webhook_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        webhook TEXT NOT NULL,
        conversation TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        status TEXT NOT NULL,
        series_start INTEGER NOT NULL,
        next_at INTEGER NOT NULL,
        lease_until INTEGER
    );
    CREATE INDEX deliveries_due ON webhook_deliveries (next_at) WHERE status = 'pending';
    CREATE INDEX deliveries_in_line ON webhook_deliveries (webhook, conversation, id)
        WHERE status = 'pending';
    CREATE INDEX deliveries_by_webhook ON webhook_deliveries (webhook, id);
    CREATE INDEX deliveries_by_status ON webhook_deliveries (status, created_at);
    CREATE TABLE webhook_attempts (
        delivery INTEGER NOT NULL,
        number INTEGER NOT NULL,
        at INTEGER NOT NULL,
        status INTEGER,
        error TEXT,
        PRIMARY KEY (delivery, number)
    ) WITHOUT ROWID;",
    // 5: conversation search: what each is about, and the order search pages in
    // (newest started first; a conversation's start never moves, so cursors hold).
    // Existing conversations take the intent of their latest NLU read, or the one a
    // resolving human gave.
    "ALTER TABLE conversations ADD COLUMN intent TEXT;
    UPDATE conversations SET intent = coalesce(
        (SELECT json_extract(body, '$.true_intent') FROM events
          WHERE events.conversation = conversations.id AND kind = 'resolved'
            AND json_extract(body, '$.true_intent') IS NOT NULL
          ORDER BY seq DESC LIMIT 1),
        (SELECT json_extract(body, '$.intent') FROM events
          WHERE events.conversation = conversations.id AND kind = 'nlu'
          ORDER BY seq DESC LIMIT 1));
    CREATE INDEX conversations_by_start ON conversations (started_at, id);
    CREATE INDEX conversations_by_intent ON conversations (intent, started_at);",
    // 6: data keys, one per conversation, wrapped by the master key (encryption at rest).
    "CREATE TABLE data_keys (
        conversation TEXT PRIMARY KEY,
        id TEXT NOT NULL,
        master TEXT NOT NULL,
        wrapped BLOB,
        created_at INTEGER NOT NULL,
        destroyed_at INTEGER
    ) WITHOUT ROWID;",
    // 7: the access log (who read what), chained like the ledger; its head records the
    // last entry so a deleted tail is caught. `body` is the hashed record and the only
    // truth; the other columns are there to filter by.
    "CREATE TABLE access_log (
        number INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        key_id TEXT NOT NULL,
        conversation TEXT,
        body TEXT NOT NULL,
        hash BLOB NOT NULL
    );
    CREATE INDEX access_by_conversation ON access_log (conversation, number)
        WHERE conversation IS NOT NULL;
    CREATE INDEX access_by_key ON access_log (key_id, number);
    CREATE INDEX access_by_time ON access_log (at);
    CREATE TABLE access_head (
        only INTEGER PRIMARY KEY CHECK (only = 1),
        number INTEGER NOT NULL,
        hash BLOB NOT NULL
    );
    INSERT INTO access_head (only, number, hash) VALUES (1, 0, zeroblob(32));",
    // 8: what an agent owns, counted by every assignment's capacity claim.
    "CREATE INDEX conversations_by_agent ON conversations (agent, owner) WHERE agent IS NOT NULL;",
    // 9: the claim reads due deliveries in (next_at, id) order and stops at its limit.
    // A full index led by `status` tempted the planner to read every pending row and
    // sort them on each claim (12 ms at 20,000 pending, on the writer thread, against
    // 0.06 ms this way); the outbox figures read dead letters through a partial index
    // instead, which new (pending) rows never touch.
    "DROP INDEX deliveries_due;
    CREATE INDEX deliveries_due ON webhook_deliveries (next_at, id) WHERE status = 'pending';
    DROP INDEX deliveries_by_status;
    CREATE INDEX deliveries_dead ON webhook_deliveries (created_at) WHERE status = 'dead';",
    // 10: one outbox row per append, fanned out into deliveries by the next claim: an
    // append wrote one delivery row per event and subscription (five b-trees each), so
    // ten subscriptions cost appends 60-80 %. Entries are read in rowid order and
    // deleted once fanned out, so a reused rowid still sorts after every live one.
    "CREATE TABLE webhook_outbox (
        id INTEGER PRIMARY KEY,
        conversation TEXT NOT NULL,
        first_seq INTEGER NOT NULL,
        kinds TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );",
];

/// How long a connection waits for another's lock before SQLite answers busy.
pub const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Pragmas every connection needs: durability first (an acknowledged append is on disk).
pub fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -16000;
         PRAGMA temp_store = MEMORY;",
    )?;
    Ok(())
}

/// The writer's own settings: it checkpoints (passively, after a commit) once the log
/// passes 16 MiB, by which time the checkpointer thread has copied nearly all of it;
/// that checkpoint is what lets the log start over, and a restarted log file is cut
/// back to 16 MiB.
pub fn configure_writer(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "PRAGMA wal_autocheckpoint = 4000;
         PRAGMA journal_size_limit = 16777216;
         PRAGMA secure_delete = ON;",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_a_version_2_database_get_ids_and_stay_usable() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..2] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 2).unwrap();
        for (hash, role) in [(1u8, "admin"), (2, "bot")] {
            conn.execute(
                "INSERT INTO api_keys (hash, role, agent, created_at) VALUES (?1, ?2, NULL, 7)",
                rusqlite::params![vec![hash; 32], role],
            )
            .unwrap();
        }
        migrate(&mut conn).unwrap();
        let keys = super::super::read::keys(&conn).unwrap();
        assert_eq!(keys.len(), 2);
        assert_ne!(keys[0].id, keys[1].id, "each old key gets its own id");
        for key in &keys {
            let digits = key.id.as_str().strip_prefix("key_").unwrap();
            assert_ne!(
                digits,
                hex::encode(&key.hash[..8]),
                "not derived from the hash"
            );
            assert_eq!(key.created_at.unix_millis(), 7);
            assert_eq!(
                (key.expires_at, key.revoked_at, key.name.clone()),
                (None, None, None)
            );
        }
        let found = super::super::read::find_key(&conn, &[1; 32])
            .unwrap()
            .unwrap();
        assert_eq!(found.role, crate::Role::Admin);
        assert_eq!(
            super::super::read::admin_key_count(&conn, baton_core::Timestamp::from_unix_millis(8))
                .unwrap(),
            1
        );
        conn.execute(
            "INSERT INTO console_sessions (hash, key_hash, created_at, expires_at) VALUES (x'00', x'01', 1, 2)",
            [],
        )
        .unwrap();
    }

    #[test]
    fn conversations_of_a_version_4_database_learn_their_intent() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..4] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 4).unwrap();
        let events = [
            ("judged", 1, "nlu", r#"{"type":"nlu","intent":"billing"}"#),
            (
                "judged",
                2,
                "resolved",
                r#"{"type":"resolved","true_intent":"refund"}"#,
            ),
            ("read", 1, "nlu", r#"{"type":"nlu","intent":"billing"}"#),
            ("read", 2, "nlu", r#"{"type":"nlu","intent":"cancel"}"#),
            ("read", 3, "resolved", r#"{"type":"resolved"}"#),
            (
                "silent",
                1,
                "customer_message",
                r#"{"type":"customer_message"}"#,
            ),
        ];
        for (position, (conversation, seq, kind, body)) in events.into_iter().enumerate() {
            conn.execute(
                "INSERT INTO events (conversation, seq, event_id, kind, body, hash, position)
                 VALUES (?1, ?2, ?3, ?4, ?5, x'00', ?6)",
                rusqlite::params![conversation, seq, format!("e{seq}"), kind, body, position],
            )
            .unwrap();
        }
        for conversation in ["judged", "read", "silent"] {
            conn.execute(
                "INSERT INTO conversations (id, last_seq, head, owner, started_at, updated_at)
                 VALUES (?1, 1, x'00', 'bot', 1, 1)",
                [conversation],
            )
            .unwrap();
        }
        migrate(&mut conn).unwrap();
        let intent = |id: &str| -> Option<String> {
            conn.query_row(
                "SELECT intent FROM conversations WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap()
        };
        assert_eq!(
            intent("judged").as_deref(),
            Some("refund"),
            "the human's judgement wins"
        );
        assert_eq!(
            intent("read").as_deref(),
            Some("cancel"),
            "else the latest NLU read"
        );
        assert_eq!(intent("silent"), None);
    }

    #[test]
    fn an_old_event_log_survives_the_move_to_a_rowid_table() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        for seq in 1..=3 {
            conn.execute(
                "INSERT INTO events (conversation, seq, event_id, kind, body, hash) VALUES ('c1', ?1, ?2, 'note', ?3, x'00')",
                rusqlite::params![seq, format!("e{seq}"), format!("{{\"seq\":{seq}}}")],
            )
            .unwrap();
        }
        migrate(&mut conn).unwrap();
        let version: usize = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len());
        let bodies: Vec<String> = conn
            .prepare("SELECT body FROM events WHERE conversation = 'c1' ORDER BY seq")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(bodies, ["{\"seq\":1}", "{\"seq\":2}", "{\"seq\":3}"]);
        let positions: Vec<i64> = conn
            .prepare("SELECT position FROM events WHERE conversation = 'c1' ORDER BY seq")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            positions,
            [1, 2, 3],
            "old events enter the feed in log order"
        );
        // Both uniqueness rules still hold after the move.
        let duplicate_seq = conn.execute(
            "INSERT INTO events (conversation, seq, event_id, kind, body, hash) VALUES ('c1', 3, 'e9', 'note', '{}', x'00')",
            [],
        );
        assert!(duplicate_seq.is_err());
        let duplicate_id = conn.execute(
            "INSERT INTO events (conversation, seq, event_id, kind, body, hash) VALUES ('c1', 4, 'e1', 'note', '{}', x'00')",
            [],
        );
        assert!(duplicate_id.is_err());
    }
}
