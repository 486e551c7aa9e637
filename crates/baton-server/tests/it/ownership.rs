//! "Only the owner speaks", as baton-core's rules implement it, through the HTTP API.
//! States no endpoint reaches yet (queued, offered, assigned, closed) are seeded
//! straight into the store, sealed and chained as baton writes them.

use baton_core::Actor;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, body, spawn_app};

fn one(event: Value) -> Value {
    json!({"events": [event]})
}

fn queued() -> Vec<(Actor, baton_core::EventBody)> {
    vec![
        (
            Actor::Customer,
            body(json!({"type": "customer_message", "text": "I want to talk to a person"})),
        ),
        (
            Actor::System,
            body(
                json!({"type": "decision", "outcome": "handoff", "trigger_seq": 1, "priority": "high"}),
            ),
        ),
    ]
}

pub(crate) fn offered_to(agent: &str) -> Vec<(Actor, baton_core::EventBody)> {
    let mut events = queued();
    events.push((
        Actor::System,
        body(json!({"type": "offered", "offer_id": "of-1", "agent_id": agent, "expires_at": "2030-01-01T00:00:00Z"})),
    ));
    events
}

pub(crate) fn assigned_to(agent: &str) -> Vec<(Actor, baton_core::EventBody)> {
    let mut events = offered_to(agent);
    events.push((
        Actor::System,
        body(json!({"type": "assigned", "agent_id": agent, "offer_id": "of-1"})),
    ));
    events
}

/// Asserts a refusal and that nothing was written.
async fn refused(
    app: &TestApp,
    cid: &str,
    request: Value,
    key: &str,
    status: StatusCode,
    code: &str,
) {
    let before = app.events(cid).await;
    assert_error(
        &app.append(cid, &request, key).await,
        status,
        code,
        Some("events[0]"),
    );
    assert_eq!(
        app.events(cid).await,
        before,
        "nothing written by {request}"
    );
}

#[tokio::test]
async fn the_bot_speaks_while_it_owns_the_conversation() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let answer = app
        .append_ok(
            "c",
            json!([{"type": "customer_message", "text": "hi"}]),
            &bot,
        )
        .await;
    assert_eq!(answer["owner"], "bot");
    for event in [
        json!({"type": "bot_message", "text": "Hello! How can I help?"}),
        json!({"type": "action", "name": "crm.lookup", "status": "done"}),
        json!({"type": "commitment", "text": "I will email you a receipt"}),
        json!({"type": "note", "text": "returning customer"}),
        json!({"type": "identity_verified", "customer_id": "cust-9", "method": "otp"}),
    ] {
        let (status, answer) = app.append("c", &one(event.clone()), &bot).await;
        assert_eq!(status, StatusCode::OK, "{event}: {answer}");
    }
    assert_eq!(app.state("c").await["customer_id"], "cust-9");
}

#[tokio::test]
async fn the_actor_must_fit_the_event_type() {
    let app = spawn_app().await;
    let admin = app.admin_key.clone();
    app.append_ok(
        "c",
        json!([{"type": "customer_message", "text": "hi"}]),
        &admin,
    )
    .await;
    for (kind, extra, actor) in [
        ("customer_message", json!({"text": "x"}), "bot"),
        ("bot_message", json!({"text": "x"}), "customer"),
        ("bot_message", json!({"text": "x"}), "agent:ana"),
        ("agent_message", json!({"text": "x"}), "bot"),
        (
            "nlu",
            json!({"intent": "refund", "confidence": 0.5}),
            "customer",
        ),
        ("handoff_requested", json!({}), "customer"),
        ("note", json!({"text": "x"}), "customer"),
        ("bot_message", json!({"text": "x"}), "system"),
    ] {
        let mut event = extra;
        event["type"] = json!(kind);
        event["actor"] = json!(actor);
        refused(
            &app,
            "c",
            one(event),
            &admin,
            StatusCode::UNPROCESSABLE_ENTITY,
            "actor_mismatch",
        )
        .await;
    }
}

#[tokio::test]
async fn while_queued_or_offered_the_bot_keeps_the_customer_company() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let ana = app.key("agent", Some("ana")).await;
    app.seed("q", queued()).await;
    app.seed("o", offered_to("ana")).await;
    assert_eq!(app.state("q").await["owner"], "queued");
    assert_eq!(app.state("o").await["owner"], "offered");
    for cid in ["q", "o"] {
        let answer = app
            .append_ok(
                cid,
                json!([{"type": "bot_message", "text": "An agent will be with you shortly."}]),
                &bot,
            )
            .await;
        assert_ne!(
            answer["owner"], "bot",
            "a bot message does not take the conversation back"
        );
        app.append_ok(
            cid,
            json!([{"type": "customer_message", "text": "ok, thanks"}]),
            &bot,
        )
        .await;
        refused(
            &app,
            cid,
            one(json!({"type": "handoff_requested", "reason": "again"})),
            &bot,
            StatusCode::CONFLICT,
            "already_handed_off",
        )
        .await;
        let reply = one(json!({"type": "agent_message", "text": "hi", "actor": "agent:ana"}));
        refused(
            &app,
            cid,
            reply,
            &app.admin_key,
            StatusCode::CONFLICT,
            "not_owner",
        )
        .await;
    }
    // The agent an offer is reserved for sees it, but may not speak before accepting.
    assert_eq!(
        app.get("/v1/conversations/o", Some(&ana)).await.0,
        StatusCode::OK
    );
    refused(
        &app,
        "o",
        one(json!({"type": "agent_message", "text": "hi"})),
        &ana,
        StatusCode::CONFLICT,
        "not_owner",
    )
    .await;
}

#[tokio::test]
async fn only_the_assigned_agent_speaks_once_an_agent_owns_it() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let ana = app.key("agent", Some("ana")).await;
    app.seed("a", assigned_to("ana")).await;
    let state = app.state("a").await;
    assert_eq!(state["owner"], "agent");
    assert_eq!(state["assigned_agent"], "ana");

    // No contradictory actions: the bot may not talk over the agent.
    for event in [
        json!({"type": "bot_message", "text": "I can help with that!"}),
        json!({"type": "action", "name": "refund.issue", "status": "done"}),
        json!({"type": "commitment", "text": "refund within 3 days"}),
    ] {
        refused(
            &app,
            "a",
            one(event),
            &bot,
            StatusCode::CONFLICT,
            "not_owner",
        )
        .await;
    }
    let before = app.events("a").await;
    let answer = app
        .append(
            "a",
            &one(json!({"type": "bot_message", "text": "hi"})),
            &bot,
        )
        .await;
    assert!(
        answer.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("agent:ana"),
        "{}",
        answer.1
    );
    assert_eq!(app.events("a").await, before);
    refused(
        &app,
        "a",
        one(json!({"type": "handoff_requested"})),
        &bot,
        StatusCode::CONFLICT,
        "already_handed_off",
    )
    .await;

    // Another agent may not speak (written through an admin key, which may name any agent).
    let bob = one(json!({"type": "agent_message", "text": "Bob here", "actor": "agent:bob"}));
    refused(
        &app,
        "a",
        bob,
        &app.admin_key,
        StatusCode::CONFLICT,
        "not_owner",
    )
    .await;

    // The owner may, and customers always may.
    let answer = app
        .append_ok(
            "a",
            json!([{"id": "ana-1", "type": "agent_message", "text": "Hi, Ana here."}]),
            &ana,
        )
        .await;
    assert_eq!(answer["owner"], "agent");
    let events = app.events("a").await;
    assert_eq!(
        crate::helpers::by_id(&events, "ana-1")["actor"],
        "agent:ana"
    );
    app.append_ok(
        "a",
        json!([{"type": "action", "name": "refund.issue", "status": "pending"}]),
        &ana,
    )
    .await;
    app.append_ok(
        "a",
        json!([{"type": "customer_message", "text": "thank you"}]),
        &bot,
    )
    .await;
    let state = app.state("a").await;
    assert_eq!(state["owner"], "agent");
    assert_eq!(state["counts"]["agent_messages"], 1);
    // Internal notes are not speech: anyone but the customer may add one.
    app.append_ok(
        "a",
        json!([{"type": "note", "text": "customer sounded calm"}]),
        &bot,
    )
    .await;
}

#[tokio::test]
async fn a_customer_message_reopens_a_closed_conversation() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let mut events = assigned_to("ana");
    events.push((
        Actor::System,
        body(json!({"type": "resolved", "resolution": "refund issued", "csat": 5})),
    ));
    app.seed("z", events).await;
    let state = app.state("z").await;
    assert_eq!(state["owner"], "closed");
    assert_eq!(state["resolution"], "refund issued");

    for event in [
        json!({"type": "bot_message", "text": "anything else?"}),
        json!({"type": "note", "text": "late note"}),
        json!({"type": "handoff_requested"}),
    ] {
        refused(
            &app,
            "z",
            one(event),
            &bot,
            StatusCode::CONFLICT,
            "conversation_closed",
        )
        .await;
    }
    let reply =
        one(json!({"type": "agent_message", "text": "one more thing", "actor": "agent:ana"}));
    refused(
        &app,
        "z",
        reply,
        &app.admin_key,
        StatusCode::CONFLICT,
        "conversation_closed",
    )
    .await;

    app.append_ok(
        "z",
        json!([{"type": "customer_message", "text": "Actually, one more question"}]),
        &bot,
    )
    .await;
    let state = app.state("z").await;
    assert_ne!(state["owner"], "closed");
    assert_eq!(state["counts"]["reopens"], 1);
    assert_eq!(state["resolution"], Value::Null);
    assert_eq!(state["assigned_agent"], Value::Null);
    app.append_ok(
        "z",
        json!([{"type": "bot_message", "text": "Sure, go ahead."}]),
        &bot,
    )
    .await;
}
