//! A reused event id must carry the same event: the same body is answered with the
//! first result, a different one with 409 `idempotency_conflict` naming the id.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn a_reused_id_with_another_body_is_refused_and_the_same_body_answered() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let first = json!({"events": [{"id": "i-1", "type": "customer_message", "text": "hello",
        "meta": {"channel": "web", "n": 1.0}}]});
    let answer = app.append_ok("idem", first["events"].clone(), &bot).await;

    // Same body; `at` and actor were defaulted by the server both times.
    let (status, again) = app.append("idem", &first, &bot).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["seq"], answer["seq"]);
    assert_eq!(again["hash"], answer["hash"]);
    // The actor given explicitly as the default it got is the same event.
    let explicit = json!({"events": [{"id": "i-1", "type": "customer_message", "text": "hello",
        "actor": "customer", "meta": {"channel": "web", "n": 1}}]});
    let (status, again) = app.append("idem", &explicit, &bot).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["seq"], answer["seq"]);

    for changed in [
        json!({"id": "i-1", "type": "customer_message", "text": "hello there",
            "meta": {"channel": "web", "n": 1}}),
        json!({"id": "i-1", "type": "customer_message", "text": "hello"}),
        json!({"id": "i-1", "type": "bot_message", "text": "hello",
            "meta": {"channel": "web", "n": 1}}),
        json!({"id": "i-1", "type": "customer_message", "text": "hello",
            "meta": {"channel": "web", "n": 1}, "at": "2020-01-01T00:00:00.000Z"}),
    ] {
        let answer = app
            .append("idem", &json!({"events": [changed]}), &bot)
            .await;
        assert_error(
            &answer,
            StatusCode::CONFLICT,
            "idempotency_conflict",
            Some("events[0].id"),
        );
        assert!(
            answer.1["error"]["message"]
                .as_str()
                .unwrap()
                .contains("i-1")
        );
    }
    assert_eq!(
        app.events("idem").await.len(),
        answer["seq"].as_u64().unwrap() as usize
    );
}

#[tokio::test]
async fn a_batch_reusing_ids_is_checked_event_by_event() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let batch = json!([
        {"id": "b-1", "type": "customer_message", "text": "my card is blocked",
            "at": "2026-01-05T10:00:00.000Z"},
        {"id": "b-2", "type": "bot_message", "text": "let me look"},
    ]);
    let answer = app.append_ok("idem-batch", batch.clone(), &bot).await;
    let (status, again) = app
        .append(
            "idem-batch",
            &json!({"events": batch, "expected_seq": 0}),
            &bot,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["seq"], answer["seq"]);

    let changed = json!({"events": [
        {"id": "b-1", "type": "customer_message", "text": "my card is blocked",
            "at": "2026-01-05T10:00:00.000Z"},
        {"id": "b-2", "type": "bot_message", "text": "let me look again"},
    ]});
    let refused = app.append("idem-batch", &changed, &bot).await;
    assert_error(
        &refused,
        StatusCode::CONFLICT,
        "idempotency_conflict",
        Some("events[1].id"),
    );
    let refused = app
        .append(
            "idem-batch",
            &json!({"events": changed["events"], "expected_seq": 0}),
            &bot,
        )
        .await;
    assert_error(
        &refused,
        StatusCode::CONFLICT,
        "idempotency_conflict",
        Some("events[1].id"),
    );
}

#[tokio::test]
async fn a_retry_the_ownership_rules_would_refuse_now_is_answered_with_its_first_result() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let reply = json!({"events": [{"id": "r-1", "type": "bot_message", "text": "Let me check."}]});
    let first = app
        .append_ok("retry-owner", reply["events"].clone(), &bot)
        .await;
    // The conversation goes to a human before the bot's retry arrives.
    let ana = app.key("agent", Some("ana")).await;
    app.available_agent("ana", json!({"billing": 3}), 2).await;
    app.hand_off("retry-owner", &bot, &["billing"], "normal")
        .await;
    app.assign("retry-owner", "ana", &ana).await;
    assert_eq!(app.state("retry-owner").await["owner"], "agent");

    let (status, again) = app.append("retry-owner", &reply, &bot).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a retry is answered, not refused: {again}"
    );
    assert_eq!(again["seq"], first["seq"]);
    assert_eq!(again["hash"], first["hash"]);
    // A new bot message is still refused while the bot does not own the conversation.
    let fresh = json!({"events": [{"id": "r-2", "type": "bot_message", "text": "Anything else?"}]});
    assert_error(
        &app.append("retry-owner", &fresh, &bot).await,
        StatusCode::CONFLICT,
        "not_owner",
        Some("events[0]"),
    );
    // And a changed body under the old id is a conflict, not an answer.
    let changed = json!({"events": [{"id": "r-1", "type": "bot_message", "text": "Changed."}]});
    assert_error(
        &app.append("retry-owner", &changed, &bot).await,
        StatusCode::CONFLICT,
        "idempotency_conflict",
        Some("events[0].id"),
    );
}
