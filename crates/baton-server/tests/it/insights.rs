//! `GET /v1/insights/...` over HTTP, on conversations seeded with known outcomes whose
//! figures are counted by hand in each test.

use baton_core::{Actor, AgentId};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{body, spawn_app};

/// Seeds are written at 2026-01-01T00:00:00Z.
const WINDOW: &str = "since=2025-12-01T00:00:00Z&until=2026-02-01T00:00:00Z";

fn ana() -> Actor {
    Actor::Agent(AgentId::parse("ana").unwrap())
}

#[tokio::test]
async fn the_intent_matrix_and_reliability_match_the_hand_count() {
    let app = spawn_app().await;
    let nlu = |intent: &str, confidence: f64| {
        (
            Actor::Bot,
            body(json!({"type": "nlu", "intent": intent, "confidence": confidence})),
        )
    };
    let read_back = |bot: &str, confidence: f64, intent: serde_json::Value| {
        (
            ana(),
            body(
                json!({"type": "read_back", "intent": intent, "bot_intent": bot, "bot_confidence": confidence}),
            ),
        )
    };
    let resolved = |truth: &str| {
        (
            Actor::System,
            body(json!({"type": "resolved", "resolution": "done", "true_intent": truth})),
        )
    };
    // a: reset_password 0.92 confirmed (right, bin 9); b: reset_password 0.81 corrected
    // to billing (wrong, bin 8); c: billing 0.35, resolved true billing (right, bin 3);
    // d: billing 0.97 resolved true fraud (wrong, bin 9); e: nothing labelled.
    app.seed(
        "a",
        vec![
            nlu("reset_password", 0.92),
            read_back("reset_password", 0.92, json!("confirmed")),
        ],
    )
    .await;
    app.seed(
        "b",
        vec![
            nlu("reset_password", 0.81),
            read_back("reset_password", 0.81, json!({"corrected": "billing"})),
        ],
    )
    .await;
    app.seed("c", vec![nlu("billing", 0.35), resolved("billing")])
        .await;
    app.seed("d", vec![nlu("billing", 0.97), resolved("fraud")])
        .await;
    app.seed("e", vec![nlu("billing", 0.5)]).await;

    let supervisor = app.key("supervisor", None).await;
    let (status, got) = app
        .get(&format!("/v1/insights/intents?{WINDOW}"), Some(&supervisor))
        .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["labelled"], 4);
    assert_eq!(got["correct"], 2);
    let matrix = got["matrix"].as_array().unwrap();
    assert_eq!(matrix.len(), 2);
    assert_eq!(matrix[0]["bot_intent"], "billing");
    assert_eq!(matrix[0]["true_intents"], json!({"billing": 1, "fraud": 1}));
    assert_eq!(matrix[0]["accuracy"], 0.5);
    assert_eq!(matrix[1]["bot_intent"], "reset_password");
    assert_eq!(
        matrix[1]["true_intents"],
        json!({"billing": 1, "reset_password": 1})
    );
    let bins = got["reliability"]["bins"].as_array().unwrap();
    let counts: Vec<u64> = bins.iter().map(|b| b["count"].as_u64().unwrap()).collect();
    assert_eq!(counts, [0, 0, 0, 1, 0, 0, 0, 0, 1, 2]);
    assert_eq!(bins[9]["accuracy"], 0.5);
    // ECE = 1/4 |1 - 0.35| + 1/4 |0 - 0.81| + 2/4 |0.5 - 0.945| = 0.1625 + 0.2025 + 0.2225
    let ece = got["reliability"]["ece"].as_f64().unwrap();
    assert!((ece - 0.5875).abs() < 1e-9, "{ece}");

    // Outside the window: nothing.
    let (_, later) = app
        .get(
            "/v1/insights/intents?since=2026-06-01T00:00:00Z&until=2026-07-01T00:00:00Z",
            Some(&supervisor),
        )
        .await;
    assert_eq!(later["labelled"], 0);
    // Agents and bots do not read insights; a bad window is a 400 naming the field.
    let agent = app.key("agent", Some("ana")).await;
    let (status, _) = app.get("/v1/insights/intents", Some(&agent)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, bad) = app
        .get("/v1/insights/intents?since=yesterday", Some(&supervisor))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["error"]["field"], "since");
}
