//! The real app on PostgreSQL, end to end: append, read, hand off, package, verify;
//! a restart and other nodes read what was acknowledged, and a node with a stale
//! view is refused rather than forking the chain; `/healthz` tells when the
//! database is gone. Each test has a schema of its own in `BATON_TEST_POSTGRES_URL`.

use std::sync::Arc;

use baton_store::postgres::{PgOptions, PgStore};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    TestApp, assert_error, nats_stream_name, nats_url, postgres_schema, seqs,
    spawn_app_on_postgres, spawn_app_on_schema, spawn_app_on_store, spawn_cluster_node, spawn_node,
};

#[tokio::test]
async fn on_postgres_a_conversation_is_appended_read_handed_off_packaged_and_verified() {
    let Some(app) = spawn_app_on_postgres().await else {
        return;
    };
    let (status, health) = app.get("/healthz", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["database"], "ok");

    let bot = app.key("bot", None).await;
    let ana = app.key("agent", Some("ana")).await;
    app.append_ok(
        "pg-1",
        json!([{"type": "customer_message", "text": "My refund for order 88231 never arrived."}]),
        &bot,
    )
    .await;
    app.append_ok(
        "pg-1",
        json!([{"type": "bot_message", "text": "Let me check order 88231."}]),
        &bot,
    )
    .await;
    let events = app.events("pg-1").await;
    assert_eq!(seqs(&events), (1..=events.len() as u64).collect::<Vec<_>>());
    assert_eq!(events[0]["type"], "customer_message");

    app.available_agent("ana", json!({"billing": 3}), 2).await;
    app.hand_off("pg-1", &bot, &["billing"], "normal").await;
    app.assign("pg-1", "ana", &ana).await;
    assert_eq!(app.state("pg-1").await["owner"], "agent");

    let (status, package) = app.get("/v1/conversations/pg-1/package", Some(&ana)).await;
    assert_eq!(status, StatusCode::OK, "{package}");
    assert!(
        package.to_string().contains("88231"),
        "the agent's package carries what the customer said: {package}"
    );
    app.append_ok(
        "pg-1",
        json!([{"type": "agent_message", "text": "I'm on it."}]),
        &ana,
    )
    .await;

    let events = app.events("pg-1").await;
    let verified = app
        .store
        .verify(None)
        .await
        .unwrap()
        .expect("the PostgreSQL ledger verifies");
    assert_eq!(verified.events, events.len() as u64);
    assert_eq!(verified.conversations, 1);
}

#[tokio::test]
async fn on_postgres_other_nodes_read_what_was_acknowledged_and_a_stale_node_is_refused() {
    let Some(mut app) = spawn_app_on_postgres().await else {
        return;
    };
    let bot = app.key("bot", None).await;
    for text in ["one", "two", "three"] {
        app.append_ok(
            "pg-2",
            json!([{"type": "customer_message", "text": text}]),
            &bot,
        )
        .await;
    }
    let before = app.events("pg-2").await;
    let schema = app.schema.take().expect("the app owns its schema");
    app.stop().await;

    let restarted = spawn_app_on_schema(schema).await;
    assert_eq!(
        restarted.events("pg-2").await,
        before,
        "nothing acknowledged is lost"
    );
    let scratch = restarted.schema.as_ref().unwrap().scratch.clone();
    let second = spawn_node(&scratch).await;
    assert_eq!(
        second.events("pg-2").await,
        before,
        "another node reads the same log"
    );
    // The key was issued on the first node; the second knows it from the database.
    second
        .append_ok(
            "pg-2",
            json!([{"type": "customer_message", "text": "four"}]),
            &bot,
        )
        .await;
    let after = second.events("pg-2").await;
    assert!(after.len() > before.len() && after[..before.len()] == before[..]);
    let third = spawn_node(&scratch).await;
    assert_eq!(
        third.events("pg-2").await,
        after,
        "a fresh node reads both nodes' events"
    );

    // The restarted node still holds the conversation as it was before the second
    // node's append. The store refuses its stale seq (no fork); the node reloads,
    // checks and seals the batch again on the stored log, and the client sees a
    // plain success.
    let (status, body) = restarted
        .append(
            "pg-2",
            &json!({"events": [{"type": "customer_message", "text": "stale"}]}),
            &bot,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Read through a fresh node: the others serve what their memory knows, until a
    // notification (NATS) or a write of theirs catches them up.
    let last = spawn_node(&scratch).await.events("pg-2").await;
    assert_eq!(
        last[..after.len()],
        after[..],
        "the other node's events stay"
    );
    assert_eq!(last[after.len()]["text"], "stale");
    assert_eq!(seqs(&last), (1..=last.len() as u64).collect::<Vec<_>>());
    assert!(second.store.verify(None).await.unwrap().is_ok());

    // A client that itself sent a stale `expected_seq` still gets its 409, whichever
    // node it asks; one whose `expected_seq` is right is served by a stale node.
    let late = second
        .append(
            "pg-2",
            &json!({"events": [{"type": "customer_message", "text": "late"}], "expected_seq": after.len()}),
            &bot,
        )
        .await;
    assert_error(
        &late,
        StatusCode::CONFLICT,
        "seq_conflict",
        Some("expected_seq"),
    );
    let (status, body) = second
        .append(
            "pg-2",
            &json!({"events": [{"type": "customer_message", "text": "right"}], "expected_seq": last.len()}),
            &bot,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn two_nodes_appending_to_one_conversation_never_fork_and_never_refuse_a_fresh_client() {
    let Some(schema) = postgres_schema().await else {
        return;
    };
    let a = spawn_node(&schema.scratch).await;
    let b = spawn_node(&schema.scratch).await;
    let bot = a.key("bot", None).await;
    // Alternately: each node's memory is behind after the other's write.
    for i in 0..6 {
        let node = if i % 2 == 0 { &a } else { &b };
        let answer = node
            .append_ok(
                "pg-two",
                json!([{"id": format!("alt-{i}"), "type": "customer_message", "text": format!("alt {i}")}]),
                &bot,
            )
            .await;
        assert!(answer["seq"].as_u64().unwrap() > i, "{answer}");
    }
    // Concurrently, through both nodes at once (as many as a busy conversation queues).
    let writes = (0..12).map(|i| {
        let (node, bot) = (if i % 2 == 0 { &a } else { &b }, bot.clone());
        async move {
            let body = json!({"events": [{"id": format!("con-{i}"), "type": "customer_message", "text": format!("con {i}")}]});
            node.append("pg-two", &body, &bot).await
        }
    });
    for (status, body) in futures_util::future::join_all(writes).await {
        assert_eq!(
            status,
            StatusCode::OK,
            "no client without expected_seq sees a 409: {body}"
        );
    }
    let events = spawn_node(&schema.scratch).await.events("pg-two").await;
    assert_eq!(seqs(&events), (1..=events.len() as u64).collect::<Vec<_>>());
    let ids: std::collections::BTreeSet<&str> =
        events.iter().filter_map(|e| e["id"].as_str()).collect();
    for i in 0..6 {
        assert!(
            ids.contains(format!("alt-{i}").as_str()),
            "alt-{i} is stored"
        );
    }
    for i in 0..12 {
        assert!(
            ids.contains(format!("con-{i}").as_str()),
            "con-{i} is stored"
        );
    }
    let verified = a
        .store
        .verify(None)
        .await
        .unwrap()
        .expect("one chain verifies");
    assert_eq!(verified.events, events.len() as u64);
    drop(schema);
}

#[tokio::test]
async fn healthz_says_503_when_the_database_is_gone() {
    let Some(schema) = postgres_schema().await else {
        return;
    };
    let store = Arc::new(
        PgStore::open(schema.scratch.connect_options(), PgOptions::default())
            .await
            .unwrap(),
    );
    let app = spawn_app_on_store(store.clone(), Some(schema)).await;
    assert_eq!(app.get("/healthz", None).await.0, StatusCode::OK);
    store.close().await;
    let answer = app.get("/healthz", None).await;
    assert_error(
        &answer,
        StatusCode::SERVICE_UNAVAILABLE,
        "database_unreachable",
        None,
    );
}

/// Reads `cid` on `node` until it serves `want` events (a generous wait: catching up
/// is asynchronous), and returns what it served last.
async fn served_within(node: &TestApp, cid: &str, want: usize) -> Vec<serde_json::Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let events = node.try_events(cid).await.unwrap_or_default();
        if events.len() >= want || std::time::Instant::now() > deadline {
            return events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_node_told_over_nats_serves_another_nodes_events_on_reads_and_streams_without_gap() {
    let Some(schema) = postgres_schema().await else {
        return;
    };
    let Some(url) = nats_url() else {
        return;
    };
    let stream = nats_stream_name();
    // No store polling: what catches B up here is the notification alone.
    let a = spawn_cluster_node(&schema.scratch, "node-a", Some((&url, &stream)), None).await;
    let b = spawn_cluster_node(&schema.scratch, "node-b", Some((&url, &stream)), None).await;
    let (status, health) = b.get("/healthz", None).await;
    assert_eq!(status, StatusCode::OK, "{health}");
    assert_eq!(health["nats"], "ok");
    assert_eq!(health["node"], "node-b");

    let bot = a.key("bot", None).await;
    a.append_ok(
        "nats-1",
        json!([{"type": "customer_message", "text": "hello"}]),
        &bot,
    )
    .await;
    // B loads the conversation, so its memory has something to be stale about.
    let first = b.events("nats-1").await;
    let mut sse = b.stream("nats-1", &bot, None).await;
    for i in 0..10 {
        a.append_ok(
            "nats-1",
            json!([{"type": "customer_message", "text": format!("more {i}")}]),
            &bot,
        )
        .await;
    }
    let all = a.events("nats-1").await;
    assert!(all.len() > first.len());
    let mut streamed = Vec::new();
    while streamed.len() < all.len() {
        let frame = sse.next().await.expect("the stream stays open");
        streamed.push(frame.json());
    }
    assert_eq!(
        streamed, all,
        "B's stream: every event of A's, in order, once"
    );
    assert_eq!(
        served_within(&b, "nats-1", all.len()).await,
        all,
        "B's reads catch up"
    );
    // B writes next: on its caught-up memory, no stale retry needed, one chain.
    b.append_ok(
        "nats-1",
        json!([{"type": "customer_message", "text": "from b"}]),
        &bot,
    )
    .await;
    let after = served_within(&a, "nats-1", all.len() + 1).await;
    assert_eq!(after[..all.len()], all[..]);
    assert_eq!(seqs(&after), (1..=after.len() as u64).collect::<Vec<_>>());
    assert!(a.store.verify(None).await.unwrap().is_ok());
}

#[tokio::test]
async fn without_notifications_a_node_catches_up_from_the_store() {
    let Some(schema) = postgres_schema().await else {
        return;
    };
    let a = spawn_cluster_node(&schema.scratch, "node-a", None, None).await;
    let b = spawn_cluster_node(
        &schema.scratch,
        "node-b",
        None,
        Some(std::time::Duration::from_millis(200)),
    )
    .await;
    let (_, health) = b.get("/healthz", None).await;
    assert_eq!(health["nats"], "not_configured");
    let bot = a.key("bot", None).await;
    a.append_ok(
        "poll-1",
        json!([{"type": "customer_message", "text": "one"}]),
        &bot,
    )
    .await;
    let first = b.events("poll-1").await;
    let mut sse = b.stream("poll-1", &bot, None).await;
    a.append_ok(
        "poll-1",
        json!([{"type": "customer_message", "text": "two"}]),
        &bot,
    )
    .await;
    let all = a.events("poll-1").await;
    assert!(all.len() > first.len());
    let mut streamed = Vec::new();
    while streamed.len() < all.len() {
        streamed.push(sse.next().await.expect("the stream stays open").json());
    }
    assert_eq!(
        streamed, all,
        "a lost notification delays, never loses or repeats"
    );
    assert_eq!(served_within(&b, "poll-1", all.len()).await, all);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_on_one_node_leaves_the_key_usable_on_no_other() {
    let Some(schema) = postgres_schema().await else {
        return;
    };
    let Some(url) = nats_url() else {
        return;
    };
    let stream = nats_stream_name();
    let sealed = || baton_server::AppConfig {
        master_key: Some(crate::sealed::master(7)),
        ..baton_server::AppConfig::default()
    };
    let node = |id: &'static str| {
        crate::helpers::spawn_cluster_node_with(
            &schema.scratch,
            id,
            Some((&url, &stream)),
            None,
            sealed(),
        )
    };
    let a = node("node-a").await;
    let b = node("node-b").await;
    let bot = a.key("bot", None).await;
    a.append_ok(
        "erase-1",
        json!([{"type": "customer_message", "text": "the orchid delivery code"}]),
        &bot,
    )
    .await;
    // B reads it in clear: B now holds the unwrapped key and the folded state.
    let read = served_within(&b, "erase-1", 1).await;
    assert_eq!(read[0]["text"], "the orchid delivery code");

    let (status, body) = a
        .call(
            reqwest::Method::DELETE,
            "/v1/conversations/erase-1",
            Some(json!({"reason": "the customer asked"})),
            &a.admin_key,
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    crate::helpers::eventually("B serves the erased view", async || {
        let events = b.try_events("erase-1").await?;
        let first = events.first()?;
        (first["erased"] == true && first.get("text") != Some(&json!("the orchid delivery code")))
            .then_some(())
    })
    .await;
    let (status, state) = b.get("/v1/conversations/erase-1", Some(&b.admin_key)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !state.to_string().contains("orchid"),
        "B's state holds none of it: {state}"
    );
}
