//! An open stream holds no more permission than a plain GET: when an event takes the
//! conversation away from an agent, that event is the last the agent's stream sends,
//! and the stream ends.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{SseFrame, SseReader, TestApp, spawn_app};

/// Every frame until the stream ends (panics if it stays open past the wait).
async fn until_end(reader: &mut SseReader) -> Vec<SseFrame> {
    let mut frames = Vec::new();
    while let Some(frame) = reader.next().await {
        frames.push(frame);
    }
    frames
}

async fn head(app: &TestApp, cid: &str) -> u64 {
    app.state(cid).await["last_seq"].as_u64().unwrap()
}

#[tokio::test]
async fn a_bounce_back_ends_the_agents_stream() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let ana = app.key("agent", Some("ana")).await;
    app.available_agent("ana", json!({"billing": 3}), 2).await;
    app.hand_off("bb", &bot, &["billing"], "normal").await;
    app.assign("bb", "ana", &ana).await;
    let mut reader = app.stream("bb", &ana, Some(head(&app, "bb").await)).await;

    let (status, body) = app
        .post(
            "/v1/conversations/bb/bounce-back",
            &json!({"instructions": "confirm the refund"}),
            Some(&ana),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.append_ok(
        "bb",
        json!([{"type": "customer_message", "text": "my secret follow-up"}]),
        &bot,
    )
    .await;
    let frames = until_end(&mut reader).await;
    let kinds: Vec<_> = frames.iter().map(|f| f.event.clone().unwrap()).collect();
    assert_eq!(kinds, ["bounced_back"], "nothing after the bounce-back");
    let (status, _) = app.get("/v1/conversations/bb/events", Some(&ana)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "as a plain GET answers");
}

#[tokio::test]
async fn a_rejected_offer_ends_the_agents_stream() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let bob = app.key("agent", Some("bob")).await;
    app.available_agent("bob", json!({"billing": 3}), 2).await;
    app.hand_off("rj", &bot, &["billing"], "normal").await;
    let offer = app.wait_offer("bob", "rj").await;
    let mut reader = app.stream("rj", &bob, Some(head(&app, "rj").await)).await;

    let (status, body) = app
        .post(
            &format!("/v1/offers/{offer}/reject"),
            &json!({}),
            Some(&bob),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.append_ok(
        "rj",
        json!([{"type": "customer_message", "text": "is anyone there?"}]),
        &bot,
    )
    .await;
    let frames = until_end(&mut reader).await;
    let last = frames.last().expect("the offer_closed event").json();
    assert_eq!(last["type"], "offer_closed", "{frames:?}");
    assert_eq!(last["agent_id"], "bob");
    assert!(
        frames
            .iter()
            .all(|f| f.event.as_deref() != Some("customer_message")),
        "{frames:?}"
    );
}
