//! `baton import`: each format's fixture lands in order with the right types, through
//! the append pipeline (ledger verifies, baton's decisions interleave); a second run
//! stores nothing twice; a malformed line is named by file:line and the rest imports;
//! imported texts are sealed like served ones (no plaintext on disk, `serve` reads them
//! back), into a fresh data directory or one already encrypted; and the same on
//! PostgreSQL when `BATON_TEST_POSTGRES_URL` is set.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use baton_core::ConversationId;
use baton_core::seal::MasterKey;
use baton_server::unseal::Unsealing;
use baton_server::vault::Vault;
use baton_store::Store;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_KEY, baton, cat, holds, run, run_with_env, start, workspace};

fn fixture(name: &str) -> String {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "fixtures",
        "import",
        name,
    ]
    .iter()
    .collect();
    path.to_str().unwrap().to_owned()
}

struct Imported {
    code: Option<i32>,
    summary: Value,
    stderr: String,
}

async fn import(files: &[&str], format: &str, data: &Path) -> Imported {
    let mut args = vec!["import"];
    args.extend_from_slice(files);
    args.extend_from_slice(&["--format", format]);
    let output = run_with_env(&args, data, &[("BATON_ADMIN_KEY", ADMIN_KEY)]).await;
    parse(output)
}

fn parse(output: std::process::Output) -> Imported {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let summary = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("summary {stdout:?}: {e}; stderr: {stderr}"));
    Imported {
        code: output.status.code(),
        summary,
        stderr,
    }
}

/// Every stored event of `cid`, in seq order.
async fn stored(store: &dyn Store, cid: &str) -> Vec<Value> {
    let cid = ConversationId::parse(cid).unwrap();
    let mut all = Vec::new();
    loop {
        let page = store
            .events_after(&cid, all.len() as u64, 1000)
            .await
            .unwrap();
        if page.is_empty() {
            return all;
        }
        all.extend(
            page.iter()
                .map(|e| serde_json::from_str::<Value>(&e.canonical).unwrap()),
        );
    }
}

/// `raw` read through the master key in `key_file`, as `serve` reads it.
async fn decrypting(raw: Arc<dyn Store>, key_file: &Path) -> Arc<dyn Store> {
    let master = MasterKey::parse_hex(&std::fs::read_to_string(key_file).unwrap()).unwrap();
    let vault = Vault::open_store(master, Arc::clone(&raw)).await.unwrap();
    Arc::new(Unsealing::new(raw, Arc::new(vault)))
}

/// The embedded store in `data`, decrypted with the key the import made there.
async fn sqlite(data: &Path) -> Arc<dyn Store> {
    let raw = Arc::new(baton_store::sqlite::SqliteStore::open(data).unwrap());
    decrypting(raw, &data.join("master.key")).await
}

/// The events the import wrote (not baton's own), as `type` or `type:detail`.
fn client_events(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["actor"] != "system")
        .map(|e| {
            let kind = e["type"].as_str().unwrap();
            match kind {
                "nlu" => format!("nlu:{}", e["intent"].as_str().unwrap()),
                "action" => format!("action:{}", e["name"].as_str().unwrap()),
                _ => kind.to_owned(),
            }
        })
        .collect()
}

fn assert_seqs_and_ids_unique(events: &[Value]) {
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=events.len() as u64).collect::<Vec<_>>());
    let ids: std::collections::BTreeSet<&str> =
        events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), events.len(), "no event stored twice");
}

async fn ledger_verifies(data: &Path) {
    let verified = run(&["ledger", "verify"], data).await;
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
}

#[tokio::test]
async fn rasa_tracker_imports_in_order_and_a_second_run_stores_nothing_twice() {
    let (_root, data) = workspace();
    let file = fixture("tracker.json");
    let first = import(&[&file], "rasa", &data).await;
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let s = &first.summary;
    assert_eq!(s["records"], 1);
    assert_eq!(s["conversations"], 1);
    assert_eq!(s["events_imported"], 9, "{s}");
    assert_eq!(s["already_present"], 0);
    assert_eq!(s["errors"], 0);
    assert_eq!(s["skipped"]["action_listen"], 3);
    assert_eq!(s["skipped"]["session_start"], 2);
    assert_eq!(s["skipped"]["slot"], 1);
    assert_eq!(s["skipped"]["utter_action"], 1);
    assert_eq!(s["skipped"]["unsupported_rasa_event"], 1);

    let store = sqlite(&data).await;
    let events = stored(store.as_ref(), "rasa-order-88231").await;
    assert_eq!(
        client_events(&events),
        [
            "customer_message",
            "nlu:order.missing",
            "action:action_check_order",
            "bot_message",
            "bot_message",
            "customer_message",
            "nlu:human_handoff",
            "action:action_handoff",
            "bot_message",
        ]
    );
    let first_message = &events[0];
    assert_eq!(first_message["actor"], "customer");
    assert_eq!(first_message["at"], "2025-11-20T10:00:12.250Z");
    assert_eq!(first_message["text"], "Hi, my order 88231 never arrived");
    let nlu = events.iter().find(|e| e["type"] == "nlu").unwrap();
    assert_eq!(nlu["confidence"], 0.87);
    assert_eq!(nlu["alternatives"][0]["intent"], "order.status");
    assert_eq!(nlu["entities"][0]["kind"], "order_id");
    assert_eq!(nlu["entities"][0]["value"], "88231");
    assert_eq!(nlu["entities"][0]["start"], 13);
    // baton judged the imported turns as it would live ones: its own decisions follow.
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "decision" && e["outcome"] == "handoff"),
        "the explicit request for a human hands off: {events:#?}"
    );
    assert_seqs_and_ids_unique(&events);
    drop(store);

    let second = import(&[&file], "rasa", &data).await;
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert_eq!(second.summary["events_imported"], 0, "{}", second.summary);
    assert_eq!(second.summary["already_present"], 9);
    let store = sqlite(&data).await;
    let again = stored(store.as_ref(), "rasa-order-88231").await;
    assert_eq!(again, events, "the second run wrote nothing");
    drop(store);
    ledger_verifies(&data).await;
}

#[tokio::test]
async fn rasa_jsonl_of_trackers_names_the_refused_tracker_and_imports_the_other() {
    let (_root, data) = workspace();
    let file = fixture("trackers.jsonl");
    let out = import(&[&file], "rasa", &data).await;
    assert_eq!(out.code, Some(1), "a refused record fails the run");
    assert_eq!(out.summary["records"], 2);
    assert_eq!(out.summary["errors"], 1);
    assert_eq!(out.summary["events_imported"], 3, "{}", out.summary);
    assert!(
        out.stderr
            .contains(&format!("{file}:2: sender_id \"not a valid id!\"")),
        "{}",
        out.stderr
    );
    let store = sqlite(&data).await;
    let events = stored(store.as_ref(), "rasa-reset-1").await;
    assert_eq!(
        client_events(&events),
        [
            "customer_message",
            "nlu:account.password_reset",
            "bot_message"
        ]
    );
}

#[tokio::test]
async fn botframework_transcript_imports_messages_and_the_handoff() {
    let (_root, data) = workspace();
    let file = fixture("support.transcript");
    let out = import(&[&file], "botframework", &data).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let s = &out.summary;
    assert_eq!(s["records"], 9);
    assert_eq!(s["events_imported"], 5, "{s}");
    assert_eq!(s["skipped"]["conversation_update"], 1);
    assert_eq!(s["skipped"]["typing"], 1);
    assert_eq!(s["skipped"]["handoff_status"], 1);
    assert_eq!(s["skipped"]["message_without_text"], 1);

    let store = sqlite(&data).await;
    let events = stored(store.as_ref(), "bf-conv-7f3a").await;
    assert_eq!(
        client_events(&events),
        [
            "bot_message",
            "customer_message",
            "bot_message",
            "handoff_requested",
            "bot_message",
        ]
    );
    assert_eq!(events[0]["at"], "2026-11-20T10:00:01.123Z");
    let handoff = events
        .iter()
        .find(|e| e["type"] == "handoff_requested")
        .unwrap();
    assert_eq!(handoff["meta"]["handoff_context"]["skill"], "billing");
    assert_seqs_and_ids_unique(&events);
    drop(store);

    let again = import(&[&file], "botframework", &data).await;
    assert_eq!(again.summary["events_imported"], 0, "{}", again.summary);
    assert_eq!(again.summary["already_present"], 5);
    ledger_verifies(&data).await;
}

#[tokio::test]
async fn baton_jsonl_imports_both_shapes_and_skips_what_only_baton_writes() {
    let (_root, data) = workspace();
    let file = fixture("events.jsonl");
    let out = import(&[&file], "jsonl", &data).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.summary["events_imported"], 5, "{}", out.summary);
    assert_eq!(out.summary["conversations"], 2);
    assert_eq!(out.summary["skipped"]["server_written"], 1);
    let store = sqlite(&data).await;
    let refund = stored(store.as_ref(), "jsonl-refund-1").await;
    assert_eq!(
        client_events(&refund),
        [
            "customer_message",
            "nlu:billing.double_charge",
            "action:refund.issue",
            "bot_message"
        ]
    );
    assert_eq!(refund[0]["id"], "r1-1");
    let other = stored(store.as_ref(), "jsonl-other-2").await;
    assert_eq!(other[0]["id"], "o2-1");
    assert_eq!(other[0]["at"], "2026-11-20T09:00:00.000Z");
    assert_eq!(other[0]["seq"], 1);
    drop(store);

    let again = import(&[&file], "jsonl", &data).await;
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert_eq!(again.summary["events_imported"], 0, "{}", again.summary);
    assert_eq!(
        again.summary["already_present"], 5,
        "the event without an id got the same derived id"
    );
}

#[tokio::test]
async fn a_malformed_line_is_named_by_file_and_line_and_the_rest_imports() {
    let (_root, data) = workspace();
    let file = fixture("with_errors.jsonl");
    let out = import(&[&file], "jsonl", &data).await;
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert_eq!(out.summary["errors"], 2, "{}", out.summary);
    assert_eq!(out.summary["events_imported"], 3);
    assert!(
        out.stderr.contains(&format!("error: {file}:2: ")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("error: {file}:4: event.confidence")),
        "{}",
        out.stderr
    );
    let store = sqlite(&data).await;
    let ids: Vec<Value> = stored(store.as_ref(), "jsonl-bad")
        .await
        .into_iter()
        .filter(|e| e["actor"] != "system")
        .map(|e| e["id"].clone())
        .collect();
    assert_eq!(ids, ["b-1", "b-3", "b-5"]);
}

#[tokio::test]
async fn rasa_imports_into_postgres() {
    let Some(url) = crate::helpers::postgres_url() else {
        return;
    };
    use baton_store::postgres::{PgOptions, PgStore, SchemaName, Scratch};
    let unique = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        ^ (u64::from(std::process::id()) << 40);
    let scratch = Scratch::create(&url, SchemaName::random("baton_import", unique).unwrap())
        .await
        .unwrap();
    let separator = if url.contains('?') { '&' } else { '?' };
    let schema_url = format!(
        "{url}{separator}options=-c%20search_path%3D{}",
        scratch.name.as_str()
    );
    let file = fixture("tracker.json");
    // PostgreSQL has no default key: the import needs one, as `serve` does.
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("master.key");
    std::fs::write(&key_file, "3c".repeat(32)).unwrap();
    let run_import = || async {
        let output = baton()
            .args([
                "import",
                &file,
                "--format",
                "rasa",
                "--database-url",
                &schema_url,
                "--master-key-file",
                key_file.to_str().unwrap(),
            ])
            .env("BATON_ADMIN_KEY", ADMIN_KEY)
            .stdin(std::process::Stdio::null())
            .output();
        parse(
            tokio::time::timeout(crate::helpers::WAIT, output)
                .await
                .expect("baton exits")
                .unwrap(),
        )
    };
    let first = run_import().await;
    let second = run_import().await;
    let store = PgStore::open(scratch.connect_options(), PgOptions::default())
        .await
        .unwrap();
    let store = decrypting(Arc::new(store), &key_file).await;
    let events = stored(store.as_ref(), "rasa-order-88231").await;
    drop(store);
    scratch.drop_schema().await.unwrap();
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert_eq!(first.summary["events_imported"], 9, "{}", first.summary);
    assert_eq!(second.summary["events_imported"], 0, "{}", second.summary);
    assert_eq!(second.summary["already_present"], 9);
    assert_eq!(client_events(&events).len(), 9);
    assert_eq!(events[0]["text"], "Hi, my order 88231 never arrived");
    assert_seqs_and_ids_unique(&events);
}

#[tokio::test]
async fn a_handoff_baton_already_made_is_skipped_and_the_rest_of_its_turn_kept() {
    let (root, data) = workspace();
    let activity = |id: &str, role: &str, text: &str| {
        serde_json::json!({"type": "message", "id": id, "timestamp": "2026-11-21T08:00:00Z",
            "conversation": {"id": "bf-human-now"}, "from": {"id": role, "role": role}, "text": text})
    };
    let transcript = serde_json::json!([
        activity("a1", "user", "This is useless. I want to talk to a human now!"),
        activity("a2", "bot", "Of course, let me find someone."),
        // The next turn: baton handed off after the first, so the bot's own request
        // that follows is one too many.
        activity("a2b", "user", "Hello? Is anyone there?"),
        {"type": "event", "id": "a3", "name": "handoff.initiate", "timestamp": "2026-11-21T08:00:01Z",
         "conversation": {"id": "bf-human-now"}, "from": {"id": "bot", "role": "bot"}, "value": {}},
        activity("a4", "bot", "An agent will be with you shortly."),
    ]);
    let file = root.path().join("human.transcript");
    std::fs::write(&file, transcript.to_string()).unwrap();
    let out = import(&[file.to_str().unwrap()], "botframework", &data).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.summary["errors"], 0);
    assert_eq!(
        out.summary["skipped"]["handoff_already_under_way"], 1,
        "{}",
        out.summary
    );
    assert_eq!(out.summary["events_imported"], 4);
    let store = sqlite(&data).await;
    let events = stored(store.as_ref(), "bf-human-now").await;
    assert_eq!(
        client_events(&events),
        [
            "customer_message",
            "bot_message",
            "customer_message",
            "bot_message"
        ],
        "the refused handoff did not sink the replies batched with it"
    );
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "decision" && e["outcome"] == "handoff")
    );
}

/// Long and distinctive, so finding it in raw bytes means the text is stored in clear.
const PHRASE: &str = "periwinkle accordion with a cracked bellows";

/// A baton JSONL file of one turn of `cid`, both texts quoting [`PHRASE`].
fn turn_file(root: &Path, name: &str, cid: &str) -> String {
    let lines = [
        json!({"conversation": cid, "event": {"type": "customer_message",
            "text": format!("The {PHRASE} arrived today")}}),
        json!({"conversation": cid, "event": {"type": "bot_message",
            "text": format!("Sorry about the {PHRASE}.")}}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let path = root.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// The texts of `cid` as `serve` answers them, in order.
async fn served_texts(server: &crate::helpers::Server, cid: &str) -> Vec<String> {
    server
        .events(cid)
        .await
        .iter()
        .filter_map(|e| e["text"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn an_import_into_a_fresh_data_dir_is_sealed_and_served_decrypted() {
    let (root, data) = workspace();
    let file = turn_file(root.path(), "turn.jsonl", "sealed-fresh");
    let out = import(&[&file], "jsonl", &data).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.summary["events_imported"], 2, "{}", out.summary);
    assert!(
        data.join("master.key").exists(),
        "the embedded default made its key, as serve does"
    );
    assert!(
        !holds(&data, PHRASE.as_bytes()),
        "no imported text in clear in any file under the data dir"
    );

    let server = start(&data, &root.path().join("serve.log")).await;
    assert_eq!(
        served_texts(&server, "sealed-fresh").await,
        [
            format!("The {PHRASE} arrived today"),
            format!("Sorry about the {PHRASE}.")
        ]
    );
    server.kill9().await;
    ledger_verifies(&data).await;
}

#[tokio::test]
async fn an_import_into_an_encrypted_store_joins_its_data() {
    let (root, data) = workspace();
    let log = root.path().join("serve.log");
    let server = start(&data, &log).await;
    server
        .call_ok(
            reqwest::Method::POST,
            "/v1/conversations/sealed-live/events",
            ADMIN_KEY,
            json!({"events": [{"type": "bot_message", "text": "Hello from the live bot"}]}),
        )
        .await;
    server.kill9().await;

    let live = turn_file(root.path(), "live.jsonl", "sealed-live");
    let new = turn_file(root.path(), "new.jsonl", "sealed-new");
    // The key through the command option, which `import` takes as `serve` does.
    let key_command = cat(&data.join("master.key"));
    let output = run_with_env(
        &[
            "import",
            &live,
            &new,
            "--format",
            "jsonl",
            "--master-key-command",
            &key_command,
        ],
        &data,
        &[("BATON_ADMIN_KEY", ADMIN_KEY)],
    )
    .await;
    let out = parse(output);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.summary["events_imported"], 4, "{}", out.summary);
    assert!(
        !holds(&data, PHRASE.as_bytes()),
        "sealed under the store's key"
    );

    let server = start(&data, &log).await;
    let texts = served_texts(&server, "sealed-live").await;
    assert_eq!(texts[0], "Hello from the live bot");
    assert_eq!(texts[1], format!("The {PHRASE} arrived today"));
    assert_eq!(served_texts(&server, "sealed-new").await.len(), 2);
    server.kill9().await;
}
