//! Memory stays bounded under hostile input: ghost ids allocate nothing, idle
//! conversations leave memory and come back intact, stream channels go with their last
//! subscriber, metrics labels come from a closed set, and reads are paged by bytes.

use std::time::Duration;

use baton_server::AppConfig;
use baton_server::clock::Clock;
use baton_server::live::LiveLimits;
use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{eventually, spawn_app, spawn_app_with};

fn message(id: &str, text: &str) -> Value {
    json!({"id": id, "type": "customer_message", "text": text})
}

async fn health(app: &crate::helpers::TestApp) -> Value {
    app.get("/healthz", None).await.1
}

#[tokio::test]
async fn reads_of_ghost_ids_leave_nothing_in_memory() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    app.append_ok("real", json!([message("r1", "hello")]), &bot)
        .await;
    let before = health(&app).await["conversations_in_memory"].clone();
    for chunk in 0..40 {
        let reads = (0..50).map(|i| {
            let n = chunk * 50 + i;
            let path = match n % 4 {
                0 => format!("/v1/conversations/ghost-{n}"),
                1 => format!("/v1/conversations/ghost-{n}/events"),
                2 => format!("/v1/conversations/ghost-{n}/package"),
                _ => format!("/v1/conversations/ghost-{n}/stream"),
            };
            let (app, bot) = (&app, &bot);
            async move {
                let (status, body) = app.get(&path, Some(bot)).await;
                assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
            }
        });
        join_all(reads).await;
    }
    let after = health(&app).await;
    assert_eq!(after["conversations_in_memory"], before, "{after}");
    assert_eq!(after["stream_channels"], 0, "{after}");
}

#[tokio::test]
async fn stream_channels_go_with_their_last_subscriber() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    for cid in ["watched-1", "watched-2"] {
        app.append_ok(cid, json!([message(&format!("{cid}-a"), "hello")]), &bot)
            .await;
    }
    let mut streams = Vec::new();
    for i in 0..20 {
        let cid = if i % 2 == 0 { "watched-1" } else { "watched-2" };
        streams.push(app.stream(cid, &bot, None).await);
    }
    // Each stream has replayed its first event, so all are subscribed.
    for stream in &mut streams {
        assert!(stream.next().await.is_some());
    }
    assert_eq!(health(&app).await["stream_channels"], 2);
    drop(streams);
    eventually("the channels to be dropped", async || {
        (health(&app).await["stream_channels"] == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn beyond_the_cap_conversations_leave_memory_and_reload_intact() {
    let app = spawn_app_with(AppConfig {
        live: LiveLimits {
            max_conversations: 10,
            idle_after: Duration::from_secs(3600),
        },
        ..AppConfig::default()
    })
    .await;
    let bot = app.key("bot", None).await;
    for i in 0..30 {
        let cid = format!("cap-{i}");
        app.append_ok(&cid, json!([message(&format!("{cid}-a"), "hello")]), &bot)
            .await;
    }
    let held = health(&app).await["conversations_in_memory"]
        .as_u64()
        .unwrap();
    assert!(held <= 10, "{held} conversations held with a cap of 10");
    // The first one was evicted: it reloads and chains on from the store.
    let before = app.state("cap-0").await;
    let seq = before["last_seq"].as_u64().unwrap();
    let body = json!({"events": [message("cap-0-b", "back again")], "expected_seq": seq});
    let (status, answer) = app.append("cap-0", &body, &bot).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer["seq"].as_u64().unwrap() > seq);
    let (status, verified) = app
        .get("/v1/ledger/verify?conversation=cap-0", Some(&app.admin_key))
        .await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    assert_eq!(verified["ok"], true, "{verified}");
}

#[tokio::test]
async fn idle_conversations_leave_memory() {
    let clock = Clock::manual_from_now();
    let app = spawn_app_with(AppConfig {
        live: LiveLimits {
            max_conversations: 1000,
            idle_after: Duration::from_secs(60),
        },
        clock: clock.clone(),
        ..AppConfig::default()
    })
    .await;
    let bot = app.key("bot", None).await;
    for i in 0..5 {
        let cid = format!("idle-{i}");
        app.append_ok(&cid, json!([message(&format!("{cid}-a"), "hello")]), &bot)
            .await;
    }
    clock.advance(Duration::from_secs(60));
    app.state.conversations.sweep();
    assert_eq!(health(&app).await["conversations_in_memory"], 5);
    clock.advance(Duration::from_millis(1));
    app.state.conversations.sweep();
    assert_eq!(health(&app).await["conversations_in_memory"], 0);
    let state = app.state("idle-3").await;
    assert_eq!(state["last_seq"], app.events("idle-3").await.len());
}

#[tokio::test]
async fn random_methods_do_not_mint_metric_series() {
    let app = spawn_app().await;
    let client = baton_server::http_client::builder().build().unwrap();
    for i in 0..50 {
        let name = format!("ZZMETHOD{i}");
        let method = reqwest::Method::from_bytes(name.as_bytes()).unwrap();
        let _ = client
            .request(method, app.url(&format!("/v1/no/such/path/{i}")))
            .send()
            .await
            .unwrap();
    }
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !metrics.contains("ZZMETHOD"),
        "a method name became a label"
    );
    assert!(
        !metrics.contains("/v1/no/such/path"),
        "a raw path became a label"
    );
    assert!(
        metrics.contains("method=\"other\""),
        "unknown methods count as other"
    );
}

#[tokio::test]
async fn event_pages_are_capped_in_bytes_and_say_where_to_go_on() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let big = "x".repeat(15 * 1024);
    let mut ids = Vec::new();
    for batch in 0..3 {
        let events: Vec<Value> = (0..40)
            .map(|i| {
                let id = format!("big-{batch}-{i}");
                ids.push(id.clone());
                json!({"id": id, "type": "bot_message", "text": big})
            })
            .collect();
        app.append_ok("big", json!(events), &bot).await;
    }
    let mut after = 0;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let response = app
            .client
            .get(app.url(&format!(
                "/v1/conversations/big/events?after={after}&limit=10000"
            )))
            .bearer_auth(&app.admin_key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let text = response.text().await.unwrap();
        assert!(
            text.len() <= 1024 * 1024 + 20 * 1024,
            "a page of {} bytes",
            text.len()
        );
        let page: Value = serde_json::from_str(&text).unwrap();
        let events = page["events"].as_array().unwrap();
        assert!(!events.is_empty());
        seen.extend(events.iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        pages += 1;
        match page.get("next_after") {
            Some(next) => after = next.as_u64().unwrap(),
            None => break,
        }
    }
    assert!(pages >= 2, "120 events of 15 KiB fit one page");
    assert_eq!(seen, ids);
    let (status, package) = app
        .get("/v1/conversations/big/package", Some(&app.admin_key))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(package["transcript"].as_array().unwrap().len(), 120);
}
