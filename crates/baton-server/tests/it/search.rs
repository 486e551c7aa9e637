//! `GET /v1/conversations`: every filter, cursor paging that neither skips nor repeats
//! while conversations keep changing, and who may search what.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, spawn_app};

/// A conversation that starts at `at` with one NLU read of `intent`.
async fn start(app: &TestApp, bot: &str, cid: &str, at: &str, intent: &str) {
    app.append_ok(
        cid,
        json!([
            {"type": "customer_message", "text": "hello", "at": at},
            {"type": "nlu", "intent": intent, "confidence": 0.9, "at": at},
        ]),
        bot,
    )
    .await;
}

async fn search(app: &TestApp, query: &str, key: &str) -> Value {
    let (status, body) = app
        .get(&format!("/v1/conversations{query}"), Some(key))
        .await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    body
}

fn ids(page: &Value) -> Vec<String> {
    page["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversations_are_found_by_every_filter_and_paged_without_gaps() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let supervisor = app.key("supervisor", None).await;
    app.available_agent("ana", json!({"billing": 3}), 2).await;
    let ana = app.key("agent", Some("ana")).await;
    start(&app, &bot, "c-1", "2026-11-01T09:00:00Z", "billing").await;
    start(&app, &bot, "c-2", "2026-11-02T09:00:00Z", "refund").await;
    start(&app, &bot, "c-3", "2026-11-03T09:00:00Z", "billing").await;
    start(&app, &bot, "c-4", "2026-11-04T09:00:00Z", "cancel").await;
    start(&app, &bot, "c-5", "2026-11-05T09:00:00Z", "billing").await;
    app.append_ok(
        "c-3",
        json!([{"type": "identity_verified", "customer_id": "cust-9", "method": "otp"}]),
        &bot,
    )
    .await;
    app.hand_off("c-3", &bot, &["billing"], "normal").await;
    app.assign("c-3", "ana", &ana).await;

    let all = search(&app, "", &supervisor).await;
    assert_eq!(ids(&all), ["c-5", "c-4", "c-3", "c-2", "c-1"]);
    assert!(
        all.get("next_cursor").is_none(),
        "one page holds all: {all}"
    );
    assert_eq!(
        ids(&search(&app, "?intent=billing", &supervisor).await),
        ["c-5", "c-3", "c-1"]
    );
    assert_eq!(
        ids(&search(&app, "?owner=agent", &supervisor).await),
        ["c-3"]
    );
    assert_eq!(
        ids(&search(&app, "?owner=bot,queued&intent=billing", &supervisor).await),
        ["c-5", "c-1"]
    );
    assert_eq!(ids(&search(&app, "?agent=ana", &supervisor).await), ["c-3"]);
    assert_eq!(
        ids(&search(&app, "?customer=cust-9", &supervisor).await),
        ["c-3"]
    );
    assert_eq!(
        ids(&search(
            &app,
            "?since=2026-11-02T09:00:00Z&until=2026-11-04T09:00:00Z",
            &supervisor
        )
        .await),
        ["c-3", "c-2"],
        "since inclusive, until exclusive"
    );

    // Page by two; between pages the conversations change (their update order flips),
    // and the pages still join up to the whole list exactly once.
    let mut seen = Vec::new();
    let mut query = "?limit=2".to_owned();
    loop {
        let page = search(&app, &query, &supervisor).await;
        seen.extend(ids(&page));
        for cid in ["c-1", "c-2", "c-4", "c-5"] {
            app.append_ok(
                cid,
                json!([{"type": "customer_message", "text": "still there?"}]),
                &bot,
            )
            .await;
        }
        match page.get("next_cursor").and_then(Value::as_str) {
            Some(cursor) => query = format!("?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["c-5", "c-4", "c-3", "c-2", "c-1"]);

    let line = &search(&app, "?agent=ana", &supervisor).await["conversations"][0];
    insta::assert_json_snapshot!("conversation_search_line", line, {
        ".updated_at" => "[updated_at]",
        ".last_seq" => "[last_seq]",
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_searches_only_its_own_and_a_bot_not_at_all() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    app.available_agent("ana", json!({"billing": 3}), 1).await;
    let ana = app.key("agent", Some("ana")).await;
    let bo = app.key("agent", Some("bo")).await;
    start(&app, &bot, "mine", "2026-11-01T09:00:00Z", "billing").await;
    start(&app, &bot, "queued", "2026-11-02T09:00:00Z", "billing").await;
    app.hand_off("mine", &bot, &["billing"], "normal").await;
    app.assign("mine", "ana", &ana).await;

    assert_eq!(ids(&search(&app, "", &ana).await), ["mine"]);
    assert_eq!(ids(&search(&app, "?agent=ana", &ana).await), ["mine"]);
    assert!(ids(&search(&app, "", &bo).await).is_empty());
    let other = app.get("/v1/conversations?agent=ana", Some(&bo)).await;
    assert_error(&other, StatusCode::FORBIDDEN, "forbidden", Some("agent"));
    let as_bot = app.get("/v1/conversations", Some(&bot)).await;
    assert_eq!(as_bot.0, StatusCode::FORBIDDEN, "{}", as_bot.1);
    let anonymous = app.get("/v1/conversations", None).await;
    assert_eq!(anonymous.0, StatusCode::UNAUTHORIZED);
    let auditor = app.key("auditor", None).await;
    assert_eq!(ids(&search(&app, "", &auditor).await), ["queued", "mine"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_name_their_field_and_unknown_ones_are_refused() {
    let app = spawn_app().await;
    let supervisor = app.key("supervisor", None).await;
    for (query, field) in [
        ("owner=nobody", "owner"),
        ("intent=%0A", "intent"),
        ("since=monday", "since"),
        ("limit=0", "limit"),
        ("limit=100000", "limit"),
        ("cursor=not-hex", "cursor"),
        ("cursor=00", "cursor"),
    ] {
        let answer = app
            .get(&format!("/v1/conversations?{query}"), Some(&supervisor))
            .await;
        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "invalid_query",
            Some(field),
        );
    }
    let unknown = app
        .get("/v1/conversations?color=red", Some(&supervisor))
        .await;
    assert_eq!(unknown.0, StatusCode::BAD_REQUEST, "{}", unknown.1);
}
