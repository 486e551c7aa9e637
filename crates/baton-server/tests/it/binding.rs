//! Who may bind a conversation to a customer, and what the journey then shows: only the
//! bot (or baton) writes `identity_verified`, an agent notes only what it owns, and the
//! journey lists a customer's earlier conversations, never later ones.

use baton_core::Actor;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, body, spawn_app};
use crate::ownership::{assigned_to, offered_to};

fn one(event: Value) -> Value {
    json!({"events": [event]})
}

fn identity(customer: &str) -> Value {
    json!({"type": "identity_verified", "customer_id": customer, "method": "otp"})
}

async fn journey(app: &TestApp, cid: &str, key: &str) -> Vec<String> {
    let (status, package) = app
        .get(&format!("/v1/conversations/{cid}/package"), Some(key))
        .await;
    assert_eq!(status, StatusCode::OK, "{package}");
    package["background"]["journey"]["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["conversation_id"].as_str().unwrap().to_owned())
        .collect()
}

/// A resolved conversation of `customer`, with a CSAT: what an attacker would read.
async fn earlier_conversation_of(app: &TestApp, cid: &str, customer: &str) {
    app.seed(
        cid,
        vec![
            (
                Actor::Customer,
                body(json!({"type": "customer_message", "text": "my refund?"})),
            ),
            (Actor::Bot, body(identity(customer))),
            (
                Actor::System,
                body(json!({"type": "resolved", "resolution": "refunded to card", "csat": 2})),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn an_agent_cannot_bind_its_conversation_to_another_customer() {
    let app = spawn_app().await;
    let ana = app.key("agent", Some("ana")).await;
    earlier_conversation_of(&app, "alices-old", "alice").await;
    app.seed("anas", assigned_to("ana")).await;

    let (status, answer) = app.append("anas", &one(identity("alice")), &ana).await;
    assert_error(
        &(status, answer),
        StatusCode::UNPROCESSABLE_ENTITY,
        "actor_mismatch",
        Some("events[0]"),
    );
    assert_eq!(app.state("anas").await["customer_id"], Value::Null);
    assert!(journey(&app, "anas", &ana).await.is_empty());
    // The owner's own notes are still welcome.
    app.append_ok(
        "anas",
        json!([{"type": "note", "text": "asked for a callback"}]),
        &ana,
    )
    .await;
}

#[tokio::test]
async fn an_offered_agent_may_neither_note_nor_bind_before_accepting() {
    let app = spawn_app().await;
    let bob = app.key("agent", Some("bob")).await;
    app.seed("offered", offered_to("bob")).await;
    let before = app.events("offered").await;
    assert_error(
        &app.append(
            "offered",
            &one(json!({"type": "note", "text": "peeking"})),
            &bob,
        )
        .await,
        StatusCode::CONFLICT,
        "not_owner",
        Some("events[0]"),
    );
    assert_error(
        &app.append("offered", &one(identity("alice")), &bob).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "actor_mismatch",
        Some("events[0]"),
    );
    assert_eq!(app.events("offered").await, before, "nothing written");
}

#[tokio::test]
async fn the_journey_lists_earlier_conversations_only() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    earlier_conversation_of(&app, "first", "alice").await;
    // Written now, a year after the seeded one.
    app.append_ok(
        "second",
        json!([{"type": "customer_message", "text": "hello again"}, identity("alice")]),
        &bot,
    )
    .await;
    assert_eq!(journey(&app, "second", &bot).await, ["first"]);
    assert!(
        journey(&app, "first", &bot).await.is_empty(),
        "a later conversation is not an earlier one's history"
    );
}
