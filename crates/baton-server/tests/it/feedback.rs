//! Read-back and surveys over HTTP: the agent confirms or corrects the package's
//! reading at accept or later, the bot sees it after a bounce-back, and survey answers
//! are validated per side.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, of_type, spawn_app};

/// A conversation the bot read as `reset_password` (0.62), handed off for billing and
/// offered to `ana`. Returns (bot key, ana's key, the offer id).
async fn offered_to_ana(app: &TestApp, cid: &str) -> (String, String, String) {
    let bot = app.key("bot", None).await;
    let ana = app.key("agent", Some("ana")).await;
    app.available_agent("ana", json!({"billing": 3, "accounts": 3, "general": 3}), 2)
        .await;
    app.append_ok(
        cid,
        json!([
            {"type": "customer_message", "text": "I can't log in and I was charged twice, order A-1234."},
            {"type": "nlu", "intent": "reset_password", "confidence": 0.62,
             "entities": [{"kind": "order_id", "value": "A-1234"}]},
        ]),
        &bot,
    )
    .await;
    app.hand_off(cid, &bot, &["billing"], "normal").await;
    let offer = app.wait_offer("ana", cid).await;
    (bot, ana, offer)
}

#[tokio::test]
async fn a_correction_at_accept_is_stored_and_the_bot_reads_it_after_bounce_back() {
    let app = spawn_app().await;
    let (bot, ana, offer) = offered_to_ana(&app, "c1").await;
    let (status, answer) = app
        .post(
            &format!("/v1/offers/{offer}/accept"),
            &json!({"read_back": {
                "intent": {"corrected": "billing.refund"},
                "facts": {"confirmed": ["order_id"], "corrected": [{"kind": "email", "value": "kim@example.com"}]},
                "note": "double charge, not a login problem"
            }}),
            Some(&ana),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["owner"], "agent");
    let events = app.events("c1").await;
    let read_backs = of_type(&events, "read_back");
    assert_eq!(read_backs.len(), 1, "{events:?}");
    let read_back = read_backs[0];
    assert_eq!(answer["read_back_seq"], read_back["seq"]);
    assert_eq!(read_back["actor"], "agent:ana");
    assert_eq!(read_back["intent"], json!({"corrected": "billing.refund"}));
    assert_eq!(read_back["bot_intent"], "reset_password");
    assert_eq!(read_back["bot_confidence"], 0.62);
    assert_eq!(read_back["facts"]["confirmed"], json!(["order_id"]));
    let assigned = of_type(&events, "assigned");
    assert!(
        assigned[0]["seq"].as_u64() < read_back["seq"].as_u64(),
        "after the assignment"
    );

    let (status, _) = app
        .post(
            "/v1/conversations/c1/bounce-back",
            &json!({"instructions": "Refund approved, tell them it takes 5 days."}),
            Some(&ana),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, state) = app.get("/v1/conversations/c1", Some(&bot)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(state["owner"], "bot");
    assert_eq!(
        state["read_back"]["intent"],
        json!({"corrected": "billing.refund"})
    );
    assert_eq!(state["read_back"]["agent_id"], "ana");
    assert_eq!(state["read_back"]["bot_intent"], "reset_password");
}

#[tokio::test]
async fn a_bad_read_back_refuses_the_accept_before_the_offer_is_touched() {
    let app = spawn_app().await;
    let (_, ana, offer) = offered_to_ana(&app, "c1").await;
    let before = app.events("c1").await.len();
    for bad in [
        json!({"read_back": {"intent": "maybe"}}),
        json!({"read_back": {"intent": {"corrected": ""}}}),
        json!({"read_back": {"facts": {"confirmed": []}}}),
        json!({"read_back": {"intent": "confirmed", "mood": "good"}}),
    ] {
        let (status, body) = app
            .post(&format!("/v1/offers/{offer}/accept"), &bad, Some(&ana))
            .await;
        assert!(status.is_client_error(), "{bad}: {status} {body}");
        assert!(body["error"]["code"].is_string(), "{body}");
    }
    assert_eq!(app.events("c1").await.len(), before, "nothing written");
    assert_eq!(app.state("c1").await["owner"], "offered");
    // An accept without a body still works, and writes no read-back.
    let response = app
        .client
        .post(app.url(&format!("/v1/offers/{offer}/accept")))
        .bearer_auth(&ana)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(of_type(&app.events("c1").await, "read_back").is_empty());
}

#[tokio::test]
async fn only_the_owning_agent_reads_back_later() {
    let app = spawn_app().await;
    let (bot, ana, _) = offered_to_ana(&app, "c1").await;
    let path = "/v1/conversations/c1/read-back";
    let body = json!({"intent": "confirmed"});
    // Offered, not yet accepted: refused.
    let (status, answer) = app.post(path, &body, Some(&ana)).await;
    assert_error(&(status, answer), StatusCode::CONFLICT, "not_owner", None);
    app.assign("c1", "ana", &ana).await;
    let (status, answer) = app.post(path, &body, Some(&ana)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let event = app.events("c1").await.pop().unwrap();
    assert_eq!(event["type"], "read_back");
    assert_eq!(event["intent"], "confirmed");
    assert_eq!(event["bot_intent"], "reset_password");

    let bob = app.key("agent", Some("bob")).await;
    let (status, _) = app.post(path, &body, Some(&bob)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another agent cannot see it");
    let (status, _) = app.post(path, &body, Some(&bot)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the bot does not read back");
    // Nor can anyone send one through the events call.
    let (status, answer) = app
        .append(
            "c1",
            &json!({"events": [{"type": "read_back", "intent": "confirmed"}]}),
            &ana,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
}

#[tokio::test]
async fn a_read_back_note_and_corrected_facts_are_redacted_by_role() {
    let app = spawn_app().await;
    let (_, ana, offer) = offered_to_ana(&app, "c1").await;
    let (status, _) = app
        .post(
            &format!("/v1/offers/{offer}/accept"),
            &json!({"read_back": {"intent": "confirmed",
                "facts": {"corrected": [{"kind": "email", "value": "kim.lee@example.com"}]},
                "note": "reach them at kim.lee@example.com"}}),
            Some(&ana),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // An admin key sees no e-mail addresses (the bot's does).
    let admin = app.admin_key.clone();
    let (_, events) = app.get("/v1/conversations/c1/events", Some(&admin)).await;
    let read_back = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "read_back")
        .unwrap()
        .clone();
    let shown = read_back.to_string();
    assert!(!shown.contains("kim.lee@example.com"), "{shown}");
    assert_eq!(read_back["redacted"], true);
    let (_, state) = app.get("/v1/conversations/c1", Some(&admin)).await;
    assert!(
        !state["read_back"]
            .to_string()
            .contains("kim.lee@example.com"),
        "{state}"
    );
}

#[tokio::test]
async fn surveys_take_each_sides_answers_on_their_scales() {
    let app = spawn_app().await;
    let (bot, ana, _) = offered_to_ana(&app, "c1").await;
    app.assign("c1", "ana", &ana).await;
    let path = "/v1/conversations/c1/survey";

    let (status, answer) = app
        .post(
            path,
            &json!({"lsat": 4, "comment": "facts were right"}),
            Some(&ana),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, _) = app
        .post(
            "/v1/conversations/c1/resolve",
            &json!({"resolution": "refunded"}),
            Some(&ana),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // After the close: the customer's answers through the bot, the agent's still.
    let (status, answer) = app
        .post(path, &json!({"csat": 5, "ces": 2}), Some(&bot))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) = app.post(path, &json!({"lsat": 5}), Some(&ana)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    let events = app.events("c1").await;
    let surveys: Vec<&Value> = of_type(&events, "survey");
    assert_eq!(surveys.len(), 3);
    assert_eq!(surveys[0]["actor"], "agent:ana");
    assert_eq!(surveys[0]["lsat"], 4);
    assert_eq!(surveys[1]["actor"], "bot");
    assert_eq!(
        (surveys[1]["csat"].clone(), surveys[1]["ces"].clone()),
        (json!(5), json!(2))
    );

    let before = events.len();
    for (body, key, field) in [
        (json!({"csat": 6}), &bot, Some("csat")),
        (json!({"csat": 0}), &bot, Some("csat")),
        (json!({"ces": 8}), &bot, Some("ces")),
        (json!({"lsat": 9}), &ana, Some("lsat")),
        (json!({"csat": "5"}), &bot, Some("csat")),
        (json!({}), &bot, None),
        (json!({"nps": 10}), &bot, Some("nps")),
        (json!({"lsat": 3}), &bot, Some("lsat")),
        (json!({"comment": "great"}), &bot, Some("comment")),
        (json!({"csat": 5}), &ana, Some("csat")),
    ] {
        let (status, answer) = app.post(path, &body, Some(key)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        if let Some(field) = field {
            assert_eq!(answer["error"]["field"], field, "{answer}");
        }
    }
    let bob = app.key("agent", Some("bob")).await;
    let (status, _) = app.post(path, &json!({"lsat": 1}), Some(&bob)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "bob never handled it");
    let (status, _) = app
        .post(
            "/v1/conversations/nobody/survey",
            &json!({"csat": 3}),
            Some(&bot),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.events("c1").await.len(),
        before,
        "refusals write nothing"
    );
}
