//! The ledger: `GET /v1/ledger/verify` passes on a clean store, and every kind of edit
//! made to the SQLite file behind baton's back is caught, naming the conversation and
//! seq. Tampering happens with the server stopped; verification runs through a fresh
//! store (`Store::verify`) and through a restarted server over the same directory.

use baton_core::Event;
use baton_core::ledger::{Break, BreakKind, Digest, seal};
use baton_store::Store;
use baton_store::sqlite::{DB_FILE, SqliteStore};
use reqwest::StatusCode;
use rusqlite::{Connection, params};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::helpers::{TestApp, by_id, spawn_app, spawn_app_in};

const CONVERSATIONS: [&str; 3] = ["c-a", "c-b", "c-c"];
const TARGET: &str = "c-b";

/// Three conversations of five appends each (one checkpoint per append); returns the
/// stopped server's directory and the events as the API served them.
async fn populated() -> (TempDir, Vec<Value>) {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    for n in 0..5 {
        for cid in CONVERSATIONS {
            let kind = if n % 2 == 0 {
                "customer_message"
            } else {
                "bot_message"
            };
            app.append_ok(cid, json!([{"id": format!("{cid}-{n}"), "type": kind, "text": format!("{cid} says {n}")}]), &bot)
                .await;
        }
    }
    let target = app.events(TARGET).await;
    (app.stop().await, target)
}

fn open(dir: &TempDir) -> Connection {
    Connection::open(dir.path().join(DB_FILE)).unwrap()
}

fn seq_of(events: &[Value], id: &str) -> u64 {
    by_id(events, id)["seq"].as_u64().unwrap()
}

/// Verifies through a fresh store and a restarted server; both must report `expected`.
async fn assert_break(dir: TempDir, conversation: Option<&str>, seq: u64, kind: BreakKind) {
    let store = SqliteStore::open(dir.path()).unwrap();
    let found: Break = store
        .verify(None)
        .await
        .unwrap()
        .expect_err("tampering is detected");
    store.close();
    drop(store);
    assert_eq!(
        found.conversation.as_ref().map(|c| c.as_str()),
        conversation,
        "{found:?}"
    );
    assert_eq!(found.seq, seq, "{found:?}");
    assert_eq!(found.kind, kind, "{found:?}");
    assert!(!found.message.is_empty());

    let app = spawn_app_in(dir).await;
    let (status, report) = app.get("/v1/ledger/verify", Some(&app.admin_key)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["ok"], false);
    assert_eq!(report["break"], serde_json::to_value(&found).unwrap());
    assert!(report.get("verified").is_none());
}

#[tokio::test]
async fn a_clean_store_verifies() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let auditor = app.key("auditor", None).await;
    for n in 0..4 {
        for cid in CONVERSATIONS {
            app.append_ok(cid, json!([{"type": "bot_message", "text": format!("{n}")}, {"type": "note", "text": "n"}]), &bot).await;
        }
    }
    let mut total = 0;
    for cid in CONVERSATIONS {
        total += app.events(cid).await.len() as u64;
    }
    let (status, report) = app.get("/v1/ledger/verify", Some(&auditor)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["ok"], true, "{report}");
    assert!(report.get("break").is_none());
    assert_eq!(report["verified"]["conversations"], 3);
    assert_eq!(report["verified"]["events"], total);
    assert!(
        report["verified"]["checkpoints"].as_u64().unwrap() >= 12,
        "one checkpoint per commit at least: {report}"
    );
    assert_eq!(report["verified"]["head"].as_str().unwrap().len(), 64);

    let (status, one) = app
        .get("/v1/ledger/verify?conversation=c-b", Some(&auditor))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["ok"], true, "{one}");
    assert_eq!(one["verified"]["conversations"], 1);
    assert_eq!(one["verified"]["events"], app.events("c-b").await.len());

    // An empty store verifies too.
    let empty = spawn_app().await;
    let (_, report) = empty.get("/v1/ledger/verify", Some(&empty.admin_key)).await;
    assert_eq!(report["ok"], true);
    assert_eq!(report["verified"]["events"], 0);

    // And the same directory verifies after a restart.
    let dir = app.stop().await;
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.verify(None).await.unwrap().unwrap().events, total);
}

#[tokio::test]
async fn an_edited_event_body_is_a_hash_mismatch_at_its_seq() {
    let (dir, events) = populated().await;
    let seq = seq_of(&events, "c-b-2");
    let changed = open(&dir)
        .execute(
            "UPDATE events SET body = replace(body, 'c-b says 2', 'c-b says 9') WHERE conversation = ?1 AND seq = ?2",
            params![TARGET, seq],
        )
        .unwrap();
    assert_eq!(changed, 1);
    assert_break(dir, Some(TARGET), seq, BreakKind::HashMismatch).await;
}

#[tokio::test]
async fn an_edited_stored_hash_is_a_hash_mismatch_at_its_seq() {
    let (dir, events) = populated().await;
    let seq = seq_of(&events, "c-b-1");
    let changed = open(&dir)
        .execute(
            "UPDATE events SET hash = zeroblob(32) WHERE conversation = ?1 AND seq = ?2",
            params![TARGET, seq],
        )
        .unwrap();
    assert_eq!(changed, 1);
    assert_break(dir, Some(TARGET), seq, BreakKind::HashMismatch).await;
}

#[tokio::test]
async fn a_deleted_middle_event_is_a_seq_gap() {
    let (dir, events) = populated().await;
    let seq = seq_of(&events, "c-b-2");
    let deleted = open(&dir)
        .execute(
            "DELETE FROM events WHERE conversation = ?1 AND seq = ?2",
            params![TARGET, seq],
        )
        .unwrap();
    assert_eq!(deleted, 1);
    assert_break(dir, Some(TARGET), seq, BreakKind::SeqGap).await;
}

#[tokio::test]
async fn a_deleted_first_event_is_a_seq_gap_at_1() {
    let (dir, _) = populated().await;
    open(&dir)
        .execute(
            "DELETE FROM events WHERE conversation = ?1 AND seq = 1",
            params![TARGET],
        )
        .unwrap();
    assert_break(dir, Some(TARGET), 1, BreakKind::SeqGap).await;
}

#[tokio::test]
async fn deleted_tail_events_are_a_truncated_tail() {
    let (dir, events) = populated().await;
    let first_gone = events[events.len() - 2]["seq"].as_u64().unwrap();
    let deleted = open(&dir)
        .execute(
            "DELETE FROM events WHERE conversation = ?1 AND seq >= ?2",
            params![TARGET, first_gone],
        )
        .unwrap();
    assert_eq!(deleted, 2);
    assert_break(dir, Some(TARGET), first_gone, BreakKind::TruncatedTail).await;
}

#[tokio::test]
async fn a_deleted_conversation_is_missing() {
    let (dir, events) = populated().await;
    let conn = open(&dir);
    let deleted = conn
        .execute(
            "DELETE FROM events WHERE conversation = ?1",
            params![TARGET],
        )
        .unwrap();
    assert_eq!(deleted, events.len());
    conn.execute("DELETE FROM conversations WHERE id = ?1", params![TARGET])
        .unwrap();
    drop(conn);
    assert_break(dir, Some(TARGET), 1, BreakKind::MissingConversation).await;
}

/// Reads the target's stored events as baton-core events with their hashes.
fn stored(conn: &Connection) -> Vec<(Event, Digest)> {
    let mut stmt = conn
        .prepare("SELECT body, hash FROM events WHERE conversation = ?1 ORDER BY seq")
        .unwrap();
    let rows = stmt
        .query_map([TARGET], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?))
        })
        .unwrap()
        .map(|row| row.unwrap());
    rows.map(|(body, hash)| {
        (
            serde_json::from_str(&body).unwrap(),
            Digest(hash.try_into().unwrap()),
        )
    })
    .collect()
}

#[tokio::test]
async fn a_forged_but_correctly_chained_append_is_unrecorded() {
    let (dir, events) = populated().await;
    let conn = open(&dir);
    let (mut forged, head) = stored(&conn).pop().unwrap();
    forged.seq += 1;
    forged.id = "forged".parse().unwrap();
    let sealed = seal(&head, &forged).unwrap();
    conn.execute(
        "INSERT INTO events (conversation, seq, event_id, kind, body, hash) VALUES (?1, ?2, 'forged', ?3, ?4, ?5)",
        params![TARGET, forged.seq, forged.body.kind(), sealed.canonical, sealed.hash.0.as_slice()],
    )
    .unwrap();
    drop(conn);
    let recorded = events.last().unwrap()["seq"].as_u64().unwrap();
    assert_break(dir, Some(TARGET), recorded + 1, BreakKind::Unrecorded).await;
}

#[tokio::test]
async fn a_rewritten_and_rehashed_chain_differs_from_its_checkpoint() {
    let (dir, events) = populated().await;
    let conn = open(&dir);
    let log = stored(&conn);
    let from = seq_of(&events, "c-b-1") as usize;
    let mut prev = log[from - 2].1;
    for (event, _) in &log[from - 1..] {
        let mut event = event.clone();
        if event.id.as_str() == "c-b-1" {
            event.body = serde_json::from_value(
                json!({"type": "bot_message", "text": "a rewritten history"}),
            )
            .unwrap();
        }
        let sealed = seal(&prev, &event).unwrap();
        conn.execute(
            "UPDATE events SET body = ?1, hash = ?2 WHERE conversation = ?3 AND seq = ?4",
            params![
                sealed.canonical,
                sealed.hash.0.as_slice(),
                TARGET,
                event.seq
            ],
        )
        .unwrap();
        prev = sealed.hash;
    }
    drop(conn);
    // Every link verifies; only the checkpointed head gives the rewrite away.
    let last = events.last().unwrap()["seq"].as_u64().unwrap();
    assert_break(dir, Some(TARGET), last, BreakKind::HashMismatch).await;
}

#[tokio::test]
async fn an_edited_checkpoint_breaks_the_checkpoint_chain() {
    let (dir, _) = populated().await;
    let changed = open(&dir)
        .execute(
            "UPDATE checkpoints SET body = body || ' ' WHERE number = 2",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    assert_break(dir, None, 2, BreakKind::CheckpointMismatch).await;
}

#[tokio::test]
async fn verifying_one_conversation_looks_only_at_it() {
    let (dir, events) = populated().await;
    let seq = seq_of(&events, "c-b-3");
    open(&dir)
        .execute(
            "DELETE FROM events WHERE conversation = ?1 AND seq = ?2",
            params![TARGET, seq],
        )
        .unwrap();
    let app: TestApp = spawn_app_in(dir).await;
    let (status, clean) = app
        .get("/v1/ledger/verify?conversation=c-a", Some(&app.admin_key))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(clean["ok"], true, "{clean}");
    let (_, broken) = app
        .get("/v1/ledger/verify?conversation=c-b", Some(&app.admin_key))
        .await;
    assert_eq!(broken["ok"], false);
    assert_eq!(broken["break"]["conversation"], TARGET);
    assert_eq!(broken["break"]["seq"], seq);
    assert_eq!(broken["break"]["kind"], "seq_gap");
    let (status, bad) = app
        .get(
            "/v1/ledger/verify?conversation=no%20such",
            Some(&app.admin_key),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
}
