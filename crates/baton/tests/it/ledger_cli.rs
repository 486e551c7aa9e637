//! `baton ledger verify --data-dir DIR`: exit 0 on a clean store; exit 1 naming the
//! first broken conversation and seq (or access log entry) on a tampered one.

use serde_json::json;

use crate::helpers::{run, start, workspace};

#[tokio::test]
async fn ledger_verify_exits_0_when_clean_and_1_naming_the_break_when_tampered() {
    let (root, data) = workspace();
    let server = start(&data, &root.path().join("serve.log")).await;
    let bot = server.key("bot").await;
    for cid in ["t-1", "t-2"] {
        for n in 0..4 {
            let events = json!({"events": [{"id": format!("x-{n}"), "type": "bot_message", "text": format!("{cid} line {n}")}]});
            let url = server.url(&format!("/v1/conversations/{cid}/events"));
            let response = server
                .client
                .post(url)
                .bearer_auth(&bot)
                .json(&events)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
        }
    }
    let events = server.events("t-2").await;
    let total = events.len() + server.events("t-1").await.len();
    let seq = events.iter().find(|e| e["id"] == "x-2").unwrap()["seq"]
        .as_u64()
        .unwrap();
    server.kill9().await;

    let clean = run(&["ledger", "verify"], &data).await;
    let stdout = String::from_utf8_lossy(&clean.stdout);
    assert_eq!(clean.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.starts_with(&format!("ok: 2 conversations, {total} events")),
        "{stdout}"
    );

    let conn = rusqlite::Connection::open(data.join("baton.db")).unwrap();
    let changed = conn
        .execute(
            "UPDATE events SET body = replace(body, 't-2 line 2', 't-2 line 7') WHERE conversation = 't-2' AND seq = ?1",
            [seq],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(conn);

    let broken = run(&["ledger", "verify"], &data).await;
    let stdout = String::from_utf8_lossy(&broken.stdout);
    assert_eq!(broken.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("conversation t-2 at seq {seq}")),
        "{stdout}"
    );
    assert!(stdout.contains("HashMismatch"), "{stdout}");

    let nowhere = run(&["ledger", "verify"], &root.path().join("nowhere")).await;
    assert_ne!(nowhere.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&nowhere.stderr).contains("no baton store"));
}

#[tokio::test]
async fn ledger_verify_checks_the_access_log_and_names_an_edited_entry() {
    let (root, data) = workspace();
    let server = start(&data, &root.path().join("serve.log")).await;
    let bot = server.key("bot").await;
    let auditor = server.key("auditor").await;
    let events = json!({"events": [{"id": "x-1", "type": "customer_message", "text": "hello"}]});
    let response = server
        .client
        .post(server.url("/v1/conversations/a-1/events"))
        .bearer_auth(&bot)
        .json(&events)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    for _ in 0..3 {
        assert!(!server.events("a-1").await.is_empty());
    }
    // Reading the log flushes what is queued: once it answers, the reads are on disk.
    let page: serde_json::Value = server
        .client
        .get(server.url("/v1/audit/access"))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let recorded = page["entries"].as_array().unwrap().len();
    assert!(
        recorded >= 4,
        "three event reads and the audit read: {page}"
    );
    server.kill9().await;

    let clean = run(&["ledger", "verify"], &data).await;
    let stdout = String::from_utf8_lossy(&clean.stdout);
    assert_eq!(clean.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!("{recorded} access log entries verified")),
        "{stdout}"
    );

    let conn = rusqlite::Connection::open(data.join("baton.db")).unwrap();
    let changed = conn
        .execute(
            "UPDATE access_log SET body = replace(body, '\"kind\":\"events\"', '\"kind\":\"state\"') WHERE number = 2",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(conn);
    let broken = run(&["ledger", "verify"], &data).await;
    let stdout = String::from_utf8_lossy(&broken.stdout);
    assert_eq!(broken.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("access log entry 2"), "{stdout}");
    assert!(stdout.contains("AccessLogMismatch"), "{stdout}");
}
