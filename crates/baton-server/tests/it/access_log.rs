//! The access log over HTTP: every read path of customer data leaves one entry (and a
//! refused read none), only auditors read the log, its filters and cursor work, it never
//! holds customer text, and an entry edited or deleted behind baton's back is named by
//! `GET /v1/ledger/verify`.

use baton_server::AppConfig;
use baton_store::sqlite::DB_FILE;
use reqwest::{Method, StatusCode};
use rusqlite::Connection;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::helpers::{TestApp, assert_error, spawn_app, spawn_app_in, spawn_app_with};

const SECRET: &str = "my card 4111 1111 1111 1111 is secret";

struct Keys {
    supervisor: String,
    supervisor_id: String,
    agent: String,
    auditor: String,
}

async fn with_a_conversation(app: &TestApp) -> Keys {
    let bot = app.key("bot", None).await;
    let (status, created) = app
        .post(
            "/v1/keys",
            &json!({"role": "supervisor"}),
            Some(&app.admin_key),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    app.append_ok(
        "c-1",
        json!([
            {"id": "m1", "type": "customer_message", "text": SECRET},
            {"id": "m2", "type": "identity_verified", "customer_id": "cust-1", "method": "otp"},
        ]),
        &bot,
    )
    .await;
    Keys {
        supervisor: created["key"].as_str().unwrap().to_owned(),
        supervisor_id: created["id"].as_str().unwrap().to_owned(),
        agent: app.key("agent", Some("ana")).await,
        auditor: app.key("auditor", None).await,
    }
}

async fn entries(app: &TestApp, query: &str, auditor: &str) -> Vec<Value> {
    let (status, page) = app
        .get(&format!("/v1/audit/access{query}"), Some(auditor))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["entries"].as_array().unwrap().clone()
}

/// `(kind, format or page, conversation, role)` of an entry.
fn what(entry: &Value) -> (String, String, String, String) {
    let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let what = &entry["what"];
    let detail = if what["format"].is_string() {
        text(&what["format"])
    } else {
        text(&what["page"])
    };
    (
        text(&what["kind"]),
        detail,
        text(&entry["conversation"]),
        text(&entry["role"]),
    )
}

fn row(
    kind: &str,
    detail: &str,
    conversation: &str,
    role: &str,
) -> (String, String, String, String) {
    (kind.into(), detail.into(), conversation.into(), role.into())
}

#[tokio::test]
async fn every_read_path_is_recorded_once_and_a_refused_read_is_not() {
    let app = spawn_app().await;
    let keys = with_a_conversation(&app).await;
    let sup = keys.supervisor.as_str();
    for path in ["/v1/conversations/c-1/events", "/v1/conversations/c-1"] {
        assert_eq!(app.get(path, Some(sup)).await.0, StatusCode::OK, "{path}");
    }
    let formats = [
        "json",
        "markdown",
        "html",
        "botframework",
        "zendesk",
        "taskrouter",
    ];
    for format in formats {
        let response = app
            .client
            .get(app.url(&format!("/v1/conversations/c-1/package?format={format}")))
            .bearer_auth(sup)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{format}");
    }
    drop(app.stream("c-1", sup, None).await);
    assert_eq!(app.get("/v1/events", Some(sup)).await.0, StatusCode::OK);
    let feed_stream = baton_server::http_client::builder()
        .build()
        .unwrap()
        .get(app.url("/v1/events/stream"))
        .bearer_auth(sup)
        .send()
        .await
        .unwrap();
    assert_eq!(feed_stream.status(), StatusCode::OK);
    drop(feed_stream);
    let session = app.sign_in(sup).await;
    let page = app
        .with_session(
            Method::GET,
            "/console/conversations/c-1",
            &session,
            None,
            None,
        )
        .await;
    assert_eq!(page.0, StatusCode::OK);
    assert_eq!(
        app.get("/v1/conversations", Some(sup)).await.0,
        StatusCode::OK
    );
    let list = app
        .with_session(
            Method::GET,
            "/console/supervisor/conversations",
            &session,
            None,
            None,
        )
        .await;
    assert_eq!(list.0, StatusCode::OK);
    let ana = app.sign_in(&keys.agent).await;
    assert_eq!(
        app.with_session(Method::GET, "/console/agent", &ana, None, None)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/v1/customers/cust-1/export", Some(&keys.auditor))
            .await
            .0,
        StatusCode::OK
    );
    // Ana is not assigned c-1: refused (404), so nothing was read and nothing recorded.
    let refused = app
        .get("/v1/conversations/c-1/events", Some(&keys.agent))
        .await;
    assert_eq!(refused.0, StatusCode::NOT_FOUND);

    let found = entries(&app, "?limit=1000", &keys.auditor).await;
    let mut expected = vec![
        row("events", "", "c-1", "supervisor"),
        row("state", "", "c-1", "supervisor"),
    ];
    expected.extend(formats.map(|f| row("package", f, "c-1", "supervisor")));
    expected.extend([
        row("stream_opened", "", "c-1", "supervisor"),
        row("feed", "", "", "supervisor"),
        row("feed_stream", "", "", "supervisor"),
        row("console_page", "conversation", "c-1", "supervisor"),
        row("conversation_search", "", "", "supervisor"),
        row("console_page", "conversation_list", "", "supervisor"),
        row("console_page", "agent_home", "", "agent"),
        row("customer_export", "", "c-1", "auditor"),
        row("access_log", "", "", "auditor"),
    ]);
    assert_eq!(found.iter().map(what).collect::<Vec<_>>(), expected);
    let numbers: Vec<u64> = found
        .iter()
        .map(|e| e["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, (1..=expected.len() as u64).collect::<Vec<_>>());
    assert_eq!(found[0]["key"], keys.supervisor_id.as_str());
    assert_eq!(found[0]["address"], "127.0.0.1");
    let at = |entry: (String, String, String, String)| {
        expected.iter().position(|e| *e == entry).unwrap()
    };
    assert_eq!(
        found[at(row("console_page", "agent_home", "", "agent"))]["agent"],
        "ana"
    );
    assert!(
        found[at(row("console_page", "conversation", "c-1", "supervisor"))]
            .get("agent")
            .is_none(),
        "a supervisor has no agent"
    );
    assert!(
        // The card number with its spaces: four digits alone turn up by chance in the
        // entries' hex hashes.
        !serde_json::to_string(&found).unwrap().contains("4111 1111"),
        "the log records what was read, never the text"
    );
    let verify = app.get("/v1/ledger/verify", Some(&keys.auditor)).await;
    assert_eq!(verify.1["ok"], true, "{}", verify.1);
    assert_eq!(
        verify.1["verified"]["access_entries"],
        expected.len() as u64
    );
}

#[tokio::test]
async fn the_log_is_for_auditors_and_filters_pages_and_has_a_stable_shape() {
    let app = spawn_app().await;
    let keys = with_a_conversation(&app).await;
    let sup = keys.supervisor.as_str();
    for path in [
        "/v1/conversations/c-1/events",
        "/v1/events",
        "/v1/conversations/c-1",
    ] {
        assert_eq!(app.get(path, Some(sup)).await.0, StatusCode::OK);
    }
    for key in [sup, keys.agent.as_str(), app.admin_key.as_str()] {
        let (status, _) = app.get("/v1/audit/access", Some(key)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, page) = app
        .get(
            "/v1/audit/access?conversation=c-1&limit=1",
            Some(&keys.auditor),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    insta::assert_json_snapshot!("audit_access_page", page, {
        ".entries[].at" => "[at]",
        ".entries[].key" => "[key]",
        ".entries[].hash" => "[hash]",
    });
    let next = page["next_cursor"].as_str().unwrap().to_owned();
    let rest = entries(
        &app,
        &format!("?conversation=c-1&cursor={next}"),
        &keys.auditor,
    )
    .await;
    let kinds: Vec<&str> = rest
        .iter()
        .map(|e| e["what"]["kind"].as_str().unwrap())
        .collect();
    // The second page: the state read, then both audit reads (they named c-1; each is
    // recorded before it answers, so it lists itself).
    assert_eq!(kinds, ["state", "access_log", "access_log"]);
    let by_key = entries(&app, &format!("?key={}", keys.supervisor_id), &keys.auditor).await;
    assert_eq!(by_key.len(), 3, "the supervisor's three reads");
    let later = entries(&app, "?since=2999-01-01T00:00:00Z", &keys.auditor).await;
    assert!(later.is_empty());
    for (query, field) in [
        ("?key=nope", "key"),
        ("?since=yesterday", "since"),
        ("?cursor=-1", "cursor"),
        ("?limit=0", "limit"),
        ("?conversation=a%20b", "conversation"),
    ] {
        let answer = app
            .get(&format!("/v1/audit/access{query}"), Some(&keys.auditor))
            .await;
        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "invalid_query",
            Some(field),
        );
    }
}

#[tokio::test]
async fn with_the_log_off_nothing_is_recorded() {
    let app = spawn_app_with(AppConfig {
        access_log: false,
        ..AppConfig::default()
    })
    .await;
    let keys = with_a_conversation(&app).await;
    assert_eq!(
        app.get("/v1/conversations/c-1/events", Some(&keys.supervisor))
            .await
            .0,
        StatusCode::OK
    );
    assert!(entries(&app, "", &keys.auditor).await.is_empty());
}

/// Six recorded reads; the stopped server's directory and an auditor key.
async fn six_reads() -> (TempDir, String) {
    let app = spawn_app().await;
    let keys = with_a_conversation(&app).await;
    for _ in 0..6 {
        app.get("/v1/conversations/c-1/events", Some(&keys.supervisor))
            .await;
    }
    // Nothing is flushed by hand: stopping the server writes what is queued.
    (app.stop().await, keys.auditor)
}

async fn verdict_after(tamper: &str) -> Value {
    let (dir, auditor) = six_reads().await;
    let changed = Connection::open(dir.path().join(DB_FILE))
        .unwrap()
        .execute(tamper, [])
        .unwrap();
    assert!(changed >= 1, "{tamper}");
    let app = spawn_app_in(dir).await;
    let auditor_key = auditor;
    let (status, report) = app.get("/v1/ledger/verify", Some(&auditor_key)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["ok"], false, "{report}");
    report["break"].clone()
}

#[tokio::test]
async fn an_untampered_log_verifies_after_a_restart() {
    let (dir, auditor) = six_reads().await;
    let app = spawn_app_in(dir).await;
    let (_, report) = app.get("/v1/ledger/verify", Some(&auditor)).await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["verified"]["access_entries"], 6);
}

#[tokio::test]
async fn an_edited_entry_is_named_by_verify() {
    let broken = verdict_after(
        "UPDATE access_log SET body = replace(body, '\"role\":\"supervisor\"', '\"role\":\"bot\"') WHERE number = 2",
    )
    .await;
    assert_eq!(broken["kind"], "access_log_mismatch");
    assert_eq!(broken["seq"], 2);
    assert!(
        broken["message"]
            .as_str()
            .unwrap()
            .starts_with("access log entry 2"),
        "{broken}"
    );
}

#[tokio::test]
async fn a_deleted_middle_entry_is_named_by_verify() {
    let broken = verdict_after("DELETE FROM access_log WHERE number = 3").await;
    assert_eq!(
        (broken["kind"].as_str(), broken["seq"].as_u64()),
        (Some("access_log_gap"), Some(3))
    );
}

#[tokio::test]
async fn a_deleted_last_entry_is_named_by_verify() {
    let broken = verdict_after("DELETE FROM access_log WHERE number = 6").await;
    assert_eq!(
        (broken["kind"].as_str(), broken["seq"].as_u64()),
        (Some("access_log_truncated"), Some(6))
    );
}
