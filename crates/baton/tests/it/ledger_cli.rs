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
            // Structure, not text: with encryption at rest the text is sealed.
            r#"UPDATE events SET body = replace(body, '"actor":"bot"', '"actor":"system"') WHERE conversation = 't-2' AND seq = ?1"#,
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

/// `baton export --customer ID --out FILE` then `baton ledger verify --file FILE`: the
/// export proves itself without the database, and an edit to the file is named.
#[tokio::test]
async fn an_export_verifies_offline_and_an_edit_to_it_is_named() {
    let (root, data) = workspace();
    let server = start(&data, &root.path().join("serve.log")).await;
    let bot = server.key("bot").await;
    let conversations = [
        ("x-1", Some("cust-7")),
        ("x-2", Some("cust-7")),
        ("x-3", None),
    ];
    for (cid, customer) in conversations {
        let mut events =
            vec![json!({"type": "customer_message", "text": format!("{cid} needs help")})];
        if let Some(customer) = customer {
            events.push(
                json!({"type": "identity_verified", "customer_id": customer, "method": "otp"}),
            );
        }
        events.push(json!({"type": "bot_message", "text": format!("{cid} is helped")}));
        for event in events {
            let response = server
                .client
                .post(server.url(&format!("/v1/conversations/{cid}/events")))
                .bearer_auth(&bot)
                .json(&json!({ "events": [event] }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
        }
    }
    let stored: usize = server.events("x-1").await.len() + server.events("x-2").await.len();
    server.kill9().await;

    let file = root.path().join("cust-7.json");
    let file_arg = file.to_str().unwrap();
    let exported = run(
        &["export", "--customer", "cust-7", "--out", file_arg],
        &data,
    )
    .await;
    assert_eq!(
        exported.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let verified = run(&["ledger", "verify", "--file", file_arg], &data).await;
    let stdout = String::from_utf8_lossy(&verified.stdout);
    assert_eq!(verified.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.starts_with(&format!("ok: 2 conversations, {stored} events")),
        "{stdout}"
    );

    // The file alone: move the store away and it still verifies.
    std::fs::rename(&data, root.path().join("moved")).unwrap();
    let offline = run(&["ledger", "verify", "--file", file_arg], &data).await;
    assert_eq!(offline.status.code(), Some(0));

    let mut document: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let edited = &mut document["conversations"][1]["events"][0];
    edited["text"] = "something else".into();
    let seq = edited["seq"].as_u64().unwrap();
    let cid = document["conversations"][1]["conversation"]
        .as_str()
        .unwrap()
        .to_owned();
    std::fs::write(&file, serde_json::to_vec(&document).unwrap()).unwrap();
    let broken = run(&["ledger", "verify", "--file", file_arg], &data).await;
    let stdout = String::from_utf8_lossy(&broken.stdout);
    assert_eq!(broken.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("conversation {cid} at seq {seq}"))
            && stdout.contains("HashMismatch"),
        "{stdout}"
    );

    std::fs::write(&file, b"{\"not\": \"an export\"}").unwrap();
    let garbage = run(&["ledger", "verify", "--file", file_arg], &data).await;
    assert_eq!(garbage.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&garbage.stdout).contains("is not a ledger export"));

    let nothing = run(&["export"], &root.path().join("moved")).await;
    assert_ne!(nothing.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&nothing.stderr).contains("--conversation"),
        "{}",
        String::from_utf8_lossy(&nothing.stderr)
    );
    let one = run(
        &["export", "--conversation", "x-3"],
        &root.path().join("moved"),
    )
    .await;
    assert_eq!(one.status.code(), Some(0));
    let document: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
    assert_eq!(document["format"], "baton-ledger-export");
    assert_eq!(document["conversations"][0]["conversation"], "x-3");
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
