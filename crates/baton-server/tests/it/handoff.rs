//! Handing back over HTTP: bounce-back by the owning agent, resolve, and reopening a
//! closed conversation; refusals write nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, of_type, spawn_app};

/// A conversation handed off for `billing` and accepted by agent `ana` (capacity 2).
/// Returns (bot key, ana's key).
async fn owned_by_ana(app: &TestApp, cid: &str) -> (String, String) {
    let bot = app.key("bot", None).await;
    let ana = app.key("agent", Some("ana")).await;
    app.available_agent("ana", json!({"billing": 3}), 2).await;
    app.hand_off(cid, &bot, &["billing"], "normal").await;
    app.assign(cid, "ana", &ana).await;
    assert_eq!(app.state(cid).await["owner"], "agent");
    (bot, ana)
}

fn bounce(instructions: &str) -> Value {
    json!({"instructions": instructions})
}

#[tokio::test]
async fn the_owning_agent_bounces_back_to_the_bot_with_instructions() {
    let app = spawn_app().await;
    let (bot, ana) = owned_by_ana(&app, "c1").await;
    assert_eq!(app.agent("ana").await["load"], 1);
    let head = app.state("c1").await["last_seq"].as_u64().unwrap();
    let mut stream = app.stream("c1", &bot, Some(head)).await;

    let instructions = "Refund issued; confirm it shows on the card within 5 days.";
    let (status, answer) = app
        .post(
            "/v1/conversations/c1/bounce-back",
            &bounce(instructions),
            Some(&ana),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["owner"], "bot");
    assert_eq!(answer["seq"], head + 1);

    let frame = stream.next().await.expect("the stream stays open");
    assert_eq!(frame.seq(), head + 1);
    let event = frame.json();
    assert_eq!(event["type"], "bounced_back");
    assert_eq!(event["instructions"], instructions);
    assert_eq!(event["agent_id"], "ana");

    let events = app.events("c1").await;
    assert_eq!(
        events.last().unwrap(),
        &event,
        "the stream and the log agree"
    );
    let state = app.state("c1").await;
    assert_eq!(state["owner"], "bot");
    assert_eq!(state["assigned_agent"], Value::Null);
    assert_eq!(state["bot_instructions"], instructions);
    assert_eq!(state["counts"]["bounce_backs"], 1);
    let view = app.agent("ana").await;
    assert_eq!(view["load"], 0, "{view}");
    assert_eq!(view["conversations"], json!([]));

    // The bot speaks again; the agent no longer does.
    app.append_ok(
        "c1",
        json!([{"type": "bot_message", "text": "Your refund is on its way."}]),
        &bot,
    )
    .await;
    let (status, _) = app
        .append(
            "c1",
            &json!({"events": [{"type": "agent_message", "text": "hi"}]}),
            &ana,
        )
        .await;
    assert_ne!(status, StatusCode::OK);
}

#[tokio::test]
async fn only_the_owning_agent_may_bounce_back() {
    let app = spawn_app().await;
    let (bot, ana) = owned_by_ana(&app, "c1").await;
    let bo = app.key("agent", Some("bo")).await;
    app.available_agent("bo", json!({"billing": 3}), 2).await;
    let before = app.events("c1").await;

    // To another agent the conversation does not exist.
    let refused = app
        .post(
            "/v1/conversations/c1/bounce-back",
            &bounce("take over"),
            Some(&bo),
        )
        .await;
    assert_error(&refused, StatusCode::NOT_FOUND, "not_found", None);
    // Only agents bounce back.
    let refused = app
        .post(
            "/v1/conversations/c1/bounce-back",
            &bounce("take over"),
            Some(&bot),
        )
        .await;
    assert_error(&refused, StatusCode::FORBIDDEN, "forbidden", None);
    // Empty instructions are refused too.
    let refused = app
        .post("/v1/conversations/c1/bounce-back", &bounce(""), Some(&ana))
        .await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("instructions"),
    );

    assert_eq!(app.events("c1").await, before, "nothing written");
    assert_eq!(app.state("c1").await["assigned_agent"], "ana");
    assert_eq!(app.agent("ana").await["load"], 1);

    // A conversation bo holds (offered, not yet accepted) is readable, but not his to bounce.
    app.hand_off("c2", &bot, &["billing"], "normal").await;
    let offer = app.wait_offer("bo", "c2").await;
    assert!(!offer.is_empty());
    let before = app.events("c2").await;
    let refused = app
        .post(
            "/v1/conversations/c2/bounce-back",
            &bounce("not yet"),
            Some(&bo),
        )
        .await;
    assert_error(&refused, StatusCode::CONFLICT, "not_owner", None);
    assert_eq!(app.events("c2").await, before, "nothing written");
}

#[tokio::test]
async fn the_bot_may_not_talk_over_the_agent_until_it_is_bounced_back() {
    let app = spawn_app().await;
    let (bot, ana) = owned_by_ana(&app, "c1").await;
    let before = app.events("c1").await;

    let reply =
        json!({"events": [{"type": "bot_message", "text": "Can I help with anything else?"}]});
    assert_error(
        &app.append("c1", &reply, &bot).await,
        StatusCode::CONFLICT,
        "not_owner",
        Some("events[0]"),
    );
    assert_eq!(app.events("c1").await, before, "nothing written");

    let (status, answer) = app
        .post(
            "/v1/conversations/c1/bounce-back",
            &bounce("Offer the survey."),
            Some(&ana),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) = app.append("c1", &reply, &bot).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["owner"], "bot");
}

#[tokio::test]
async fn resolve_closes_the_conversation_and_frees_the_agent() {
    let app = spawn_app().await;
    let (_bot, ana) = owned_by_ana(&app, "c1").await;
    let before = app.events("c1").await;

    for (body, field) in [
        (json!({"resolution": "refunded", "csat": 6}), "csat"),
        (json!({"resolution": "refunded", "csat": 0}), "csat"),
        (json!({"resolution": ""}), "resolution"),
        (
            json!({"resolution": "refunded", "true_intent": " "}),
            "true_intent",
        ),
    ] {
        let refused = app
            .post("/v1/conversations/c1/resolve", &body, Some(&ana))
            .await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some(field),
        );
    }
    assert_eq!(app.events("c1").await, before, "nothing written");
    assert_eq!(app.state("c1").await["owner"], "agent");

    let body = json!({"resolution": "Refunded the duplicate charge", "true_intent": "billing.dispute", "csat": 4});
    let (status, answer) = app
        .post("/v1/conversations/c1/resolve", &body, Some(&ana))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["owner"], "closed");

    let events = app.events("c1").await;
    let resolved = of_type(&events, "resolved");
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0]["resolution"], "Refunded the duplicate charge");
    assert_eq!(resolved[0]["true_intent"], "billing.dispute");
    assert_eq!(resolved[0]["csat"], 4);
    assert_eq!(resolved[0]["seq"], answer["seq"]);
    let state = app.state("c1").await;
    assert_eq!(state["owner"], "closed");
    assert_eq!(state["assigned_agent"], Value::Null);
    assert_eq!(state["resolution"], "Refunded the duplicate charge");
    assert_eq!(state["true_intent"], "billing.dispute");
    assert_eq!(state["csat"], 4);
    let view = app.agent("ana").await;
    assert_eq!(view["load"], 0, "{view}");

    // Resolving twice is refused.
    let before = app.events("c1").await;
    let (status, _) = app
        .post(
            "/v1/conversations/c1/resolve",
            &json!({"resolution": "again"}),
            Some(&app.admin_key),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(app.events("c1").await, before);
}

#[tokio::test]
async fn a_customer_message_reopens_a_closed_conversation_to_the_bot() {
    let app = spawn_app().await;
    let (bot, ana) = owned_by_ana(&app, "c1").await;
    let (status, answer) = app
        .post(
            "/v1/conversations/c1/resolve",
            &json!({"resolution": "done"}),
            Some(&ana),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(app.state("c1").await["counts"]["reopens"], 0);

    let answer = app.append_ok("c1", json!([{"type": "customer_message", "text": "Sorry, one more question about my invoice."}]), &bot).await;
    assert_eq!(answer["owner"], "bot", "{answer}");
    let state = app.state("c1").await;
    assert_eq!(state["owner"], "bot");
    assert_eq!(state["counts"]["reopens"], 1);
    assert_eq!(state["resolution"], Value::Null);
    // The bot owns it again, so it may answer.
    app.append_ok(
        "c1",
        json!([{"type": "bot_message", "text": "Of course, what is it?"}]),
        &bot,
    )
    .await;
}
