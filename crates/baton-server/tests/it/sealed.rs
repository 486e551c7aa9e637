//! Encryption at rest (issue 16): customer data is stored and hashed sealed, every
//! read decrypts, `?view=sealed` shows auditors the stored form, the ledger verifies
//! from that form alone, and a wrong or missing master key stops the start.

use std::path::Path;

use baton_core::seal::MasterKey;
use baton_server::{AppConfig, AppState};
use baton_store::Store;
use baton_store::sqlite::SqliteStore;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_in_with, spawn_app_with};

pub fn master(n: u8) -> MasterKey {
    MasterKey::from_bytes([n; 32])
}

pub fn encrypted() -> AppConfig {
    AppConfig {
        master_key: Some(master(1)),
        ..AppConfig::default()
    }
}

/// Whether any file under `dir` (database, WAL, journal...) holds `needle`.
pub fn found_on_disk(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in walk(dir) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        if bytes.windows(needle.len()).any(|w| w == needle) {
            hits.push(entry.display().to_string());
        }
    }
    hits
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Recomputes a conversation's chain from its sealed view, as an auditor would.
pub fn recompute(events: &[Value]) {
    let mut prev = baton_core::ledger::GENESIS;
    for event in events {
        let mut object = event.as_object().unwrap().clone();
        let hash = object.remove("hash").unwrap();
        let canonical = baton_core::canonical::to_canonical_string(&Value::Object(object)).unwrap();
        let computed = baton_core::ledger::chain_hash(&prev, canonical.as_bytes());
        assert_eq!(json!(computed.to_hex()), hash, "seq {}", event["seq"]);
        prev = computed;
    }
}

/// `GET path` (`/v1/ledger/verify`, maybe `?conversation=`) as `key`: asserts the
/// verdict, not only the status (a broken ledger answers 200 too), and returns what
/// was verified.
pub async fn verified(app: &TestApp, path: &str, key: &str) -> Value {
    let (status, report) = app.get(path, Some(key)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["ok"], true, "{report}");
    assert!(report.get("break").is_none(), "{report}");
    report["verified"].clone()
}

pub async fn sealed_view(app: &TestApp, cid: &str, key: &str) -> (StatusCode, Value) {
    app.get(
        &format!("/v1/conversations/{cid}/events?view=sealed"),
        Some(key),
    )
    .await
}

/// Every event as `key` reads it (auditors see clear text; other roles masked PII).
pub async fn events_as(app: &TestApp, cid: &str, key: &str) -> Vec<Value> {
    let (status, body) = app
        .get(
            &format!("/v1/conversations/{cid}/events?limit=10000"),
            Some(key),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["events"].as_array().unwrap().clone()
}

pub const SECRET: &str = "my card ends 4242 and I live at 12 Quinta Lane";

pub async fn talk(app: &TestApp, cid: &str, bot: &str) {
    app.append_ok(
        cid,
        json!([
            {"type": "customer_message", "text": SECRET, "meta": {"channel": "Quinta-web"}},
            {"type": "identity_verified", "customer_id": "cust-77", "method": "otp"},
            {"type": "nlu", "intent": "billing", "confidence": 0.9,
             "entities": [{"kind": "street", "value": "Quinta Lane"}]},
            {"type": "bot_message", "text": "Let me look at Quinta Lane's account"}
        ]),
        bot,
    )
    .await;
}

#[tokio::test]
async fn customer_data_is_stored_sealed_and_read_decrypted() {
    let app = spawn_app_with(encrypted()).await;
    let bot = app.key("bot", None).await;
    talk(&app, "c-seal", &bot).await;

    let auditor = app.key("auditor", None).await;
    let events = events_as(&app, "c-seal", &auditor).await;
    assert_eq!(events[0]["text"], SECRET, "the default view decrypts");
    assert_eq!(events[0]["meta"]["channel"], "Quinta-web");
    assert_eq!(events[2]["entities"][0]["value"], "Quinta Lane");

    let (status, sealed) = sealed_view(&app, "c-seal", &auditor).await;
    assert_eq!(status, StatusCode::OK, "{sealed}");
    let sealed = sealed["events"].as_array().unwrap().clone();
    assert!(!sealed.is_empty());
    let text = serde_json::to_string(&sealed).unwrap();
    assert!(!text.contains("Quinta"), "{text}");
    assert_eq!(sealed[0]["sealed"]["alg"], "A256GCM");
    assert!(sealed[0].get("text").is_none());
    assert_eq!(sealed[1]["customer_id"], "cust-77", "structure stays clear");
    assert_eq!(sealed[2]["intent"], "billing");
    assert!(
        sealed[1].get("sealed").is_none(),
        "no customer data, no envelope"
    );
    for (plain, stored) in events.iter().zip(&sealed) {
        assert_eq!(
            plain["hash"], stored["hash"],
            "both views carry the stored hash"
        );
    }
    recompute(&sealed);

    for role in ["bot", "agent", "supervisor"] {
        let agent = (role == "agent").then_some("ana");
        let key = app.key(role, agent).await;
        let (status, _) = sealed_view(&app, "c-seal", &key).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
    }
    let all = verified(&app, "/v1/ledger/verify", &auditor).await;
    assert_eq!(all["conversations"], 1, "{all}");
    assert_eq!(all["events"], sealed.len(), "{all}");
    assert!(all["checkpoints"].as_u64().unwrap() > 0, "{all}");

    let dir = app.stop().await;
    assert_eq!(
        found_on_disk(dir.path(), b"Quinta"),
        Vec::<String>::new(),
        "no plaintext under the data dir"
    );
}

#[tokio::test]
async fn without_encryption_the_same_search_finds_the_plaintext() {
    // The control for the raw-byte searches: they do find clear text when it is there.
    let app = spawn_app_with(AppConfig::default()).await;
    let bot = app.key("bot", None).await;
    talk(&app, "c-clear", &bot).await;
    let dir = app.stop().await;
    assert!(!found_on_disk(dir.path(), b"Quinta Lane").is_empty());
}

#[tokio::test]
async fn a_wrong_or_missing_master_key_refuses_to_start_and_writes_nothing() {
    let app = spawn_app_with(encrypted()).await;
    let bot = app.key("bot", None).await;
    talk(&app, "c-keys", &bot).await;
    let dir = app.stop().await;

    let store: std::sync::Arc<dyn Store> =
        std::sync::Arc::new(SqliteStore::open(dir.path()).unwrap());
    let keys_before = store.keys().await.unwrap().len();
    for (given, expected) in [(Some(master(2)), "mk_"), (None, "no master key")] {
        let config = AppConfig {
            master_key: given,
            admin_key: Some("b".repeat(40)),
            ..AppConfig::default()
        };
        let Err(error) = AppState::new(store.clone(), config).await else {
            panic!("started with the wrong key");
        };
        assert_eq!(error.code, "master_key");
        assert!(error.message.contains(expected), "{}", error.message);
    }
    assert_eq!(
        store.keys().await.unwrap().len(),
        keys_before,
        "the refused starts registered no admin key"
    );
    drop(store);

    let app = spawn_app_in_with(dir, encrypted()).await;
    let auditor = app.key("auditor", None).await;
    assert_eq!(
        events_as(&app, "c-keys", &auditor).await[0]["text"],
        SECRET,
        "the right key reads on"
    );
}

#[tokio::test]
async fn with_encryption_healthz_still_asks_the_database() {
    // The decrypting wrapper must pass `ping` on, not answer it itself.
    let Some(schema) = crate::helpers::postgres_schema().await else {
        return;
    };
    let store = std::sync::Arc::new(
        baton_store::postgres::PgStore::open(
            schema.scratch.connect_options(),
            baton_store::postgres::PgOptions::default(),
        )
        .await
        .unwrap(),
    );
    let app =
        crate::helpers::spawn_app_on_store_with(store.clone(), Some(schema), encrypted()).await;
    assert_eq!(app.get("/healthz", None).await.0, StatusCode::OK);
    store.close().await;
    assert_eq!(
        app.get("/healthz", None).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn a_first_append_makes_its_key_with_its_events_or_uses_one_stored_without_events() {
    let app = spawn_app_with(encrypted()).await;
    let bot = app.key("bot", None).await;
    let auditor = app.key("auditor", None).await;
    let kid_of = async |cid: &str| {
        let (status, sealed) = sealed_view(&app, cid, &auditor).await;
        assert_eq!(status, StatusCode::OK, "{sealed}");
        sealed["events"][0]["sealed"]["kid"].clone()
    };

    // A new conversation: its key is stored by the append that first needs it.
    let fresh = baton_core::ConversationId::parse("c-fresh").unwrap();
    assert!(app.store.data_key(&fresh).await.unwrap().is_none());
    talk(&app, "c-fresh", &bot).await;
    let stored = app.store.data_key(&fresh).await.unwrap().expect("a key");
    assert_eq!(kid_of("c-fresh").await, json!(stored.id));

    // A key stored without events (as an older baton did, before its first append):
    // memory says the conversation is new, the store refuses the fresh key, and the
    // retry seals with the stored one.
    let orphan = baton_core::ConversationId::parse("c-orphan").unwrap();
    let key = baton_core::seal::DataKey::from_random([9; 32]);
    app.store
        .put_data_key(baton_store::DataKeyRecord {
            conversation: orphan.clone(),
            id: "dk_0123456789abcdef".to_owned(),
            master: master(1).id().to_owned(),
            wrapped: Some(master(1).wrap(&orphan, &key, [3; 12])),
            created_at: baton_core::Timestamp::from_unix_millis(0),
            destroyed_at: None,
        })
        .await
        .unwrap();
    talk(&app, "c-orphan", &bot).await;
    assert_eq!(kid_of("c-orphan").await, json!("dk_0123456789abcdef"));
    let events = events_as(&app, "c-orphan", &auditor).await;
    assert_eq!(events[0]["text"], SECRET, "read back with the stored key");
    // Later appends go on with it.
    talk(&app, "c-orphan", &bot).await;
    let events = events_as(&app, "c-orphan", &auditor).await;
    let said: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "customer_message")
        .map(|e| &e["text"])
        .collect();
    assert_eq!(said, [SECRET, SECRET]);
}
