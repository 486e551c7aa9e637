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

#[tokio::test]
async fn outcomes_over_http_match_the_hand_count_and_export_as_csv() {
    let app = spawn_app().await;
    let msg = |text: &str| {
        (
            Actor::Customer,
            body(json!({"type": "customer_message", "text": text})),
        )
    };
    let resolved = (
        Actor::System,
        body(json!({"type": "resolved", "resolution": "done"})),
    );
    // a: the bot alone, resolved, csat 4. b: handed off for billing (explicit_request),
    // resolved by ana, csat 2, lsat 5. c: still open with the bot.
    app.seed(
        "a",
        vec![
            msg("hi"),
            resolved.clone(),
            (Actor::Bot, body(json!({"type": "survey", "csat": 4}))),
        ],
    )
    .await;
    app.seed("b", vec![
        msg("a human please"),
        (Actor::System, body(json!({"type": "decision", "outcome": "handoff", "skills": ["billing"], "trigger_seq": 1,
            "reasons": [{"code": "explicit_request", "signal": "explicit", "value": 1.0, "threshold": 1.0, "contribution": 1.0, "message": "asked"}]}))),
        (Actor::System, body(json!({"type": "assigned", "agent_id": "ana"}))),
        (ana(), body(json!({"type": "agent_message", "text": "hello"}))),
        resolved,
        (Actor::Bot, body(json!({"type": "survey", "csat": 2}))),
        (ana(), body(json!({"type": "survey", "lsat": 5}))),
    ]).await;
    app.seed("c", vec![msg("hello?")]).await;

    let supervisor = app.key("supervisor", None).await;
    let (status, got) = app
        .get(
            &format!("/v1/insights/outcomes?{WINDOW}"),
            Some(&supervisor),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["contacts"], 3);
    assert_eq!(
        got["containment"],
        json!({"count": 1, "of": 3, "rate": 1.0 / 3.0})
    );
    assert_eq!(got["handoff_rate"]["count"], 1);
    assert_eq!(got["handoff_reasons"], json!({"explicit_request": 1}));
    // Seeds share one timestamp: the ramp-up and handle time are 0 s.
    assert_eq!(got["ramp_up_secs"], json!({"count": 1, "mean": 0.0}));
    assert_eq!(got["csat_after_handoff"], json!({"count": 1, "mean": 2.0}));
    assert_eq!(got["csat_bot_only"], json!({"count": 1, "mean": 4.0}));
    assert_eq!(got["lsat"], json!({"count": 1, "mean": 5.0}));
    assert_eq!(got["first_contact_resolution"]["count"], 2);
    // 3 contacts x 0.20, no agent minutes.
    let (_, priced) = app
        .get(
            &format!("/v1/insights/outcomes?{WINDOW}&bot_cost=0.2"),
            Some(&supervisor),
        )
        .await;
    assert!(
        (priced["cost_per_contact"].as_f64().unwrap() - 0.2).abs() < 1e-9,
        "{priced}"
    );
    let (_, billing) = app
        .get(
            &format!("/v1/insights/outcomes?{WINDOW}&skill=billing"),
            Some(&supervisor),
        )
        .await;
    assert_eq!(billing["contacts"], 1);

    let csv = app
        .client
        .get(app.url(&format!("/v1/insights/outcomes?{WINDOW}&format=csv")))
        .bearer_auth(&supervisor)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().await.unwrap();
    assert!(text.starts_with("metric,count,of,value\n"), "{text}");
    assert!(text.contains("handoff_rate,1,3,"), "{text}");

    for bad in ["format=xml", "bot_cost=-1", "fcr_hours=soon", "skill="] {
        let (status, answer) = app
            .get(&format!("/v1/insights/outcomes?{bad}"), Some(&supervisor))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {answer}");
    }
}
