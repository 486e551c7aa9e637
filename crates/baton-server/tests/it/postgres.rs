//! The real app on PostgreSQL, end to end: append, read, hand off, package, verify;
//! a restart and other nodes read what was acknowledged, and a node with a stale
//! view is refused rather than forking the chain; `/healthz` tells when the
//! database is gone. Each test has a schema of its own in `BATON_TEST_POSTGRES_URL`.

use std::sync::Arc;

use baton_store::postgres::{PgOptions, PgStore};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    assert_error, postgres_schema, seqs, spawn_app_on_postgres, spawn_app_on_schema,
    spawn_app_on_store, spawn_node,
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
    // node's append (nothing tells it yet: cross-node notification is the next step).
    // Its stale seq must be refused by the store, never fork the chain.
    let (status, body) = restarted
        .append(
            "pg-2",
            &json!({"events": [{"type": "customer_message", "text": "stale"}]}),
            &bot,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        third.events("pg-2").await,
        after,
        "the refused append wrote nothing"
    );
    assert!(second.store.verify(None).await.unwrap().is_ok());
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
