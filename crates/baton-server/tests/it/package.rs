//! The context package over HTTP: its JSON contract, the facts the customer gave, every
//! rendered format, personal data redacted by role, and repeat detection.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, by_id, of_type, spawn_app};

const ORDER_AND_EMAIL: &str = "My order number is 88231 and my email is maria@example.com";

/// GETs a package as raw text with its content type.
async fn raw_package(
    app: &TestApp,
    cid: &str,
    format: &str,
    key: &str,
) -> (StatusCode, String, String) {
    let url = app.url(&format!("/v1/conversations/{cid}/package?format={format}"));
    let response = app.client.get(url).bearer_auth(key).send().await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

async fn package(app: &TestApp, cid: &str, key: &str) -> Value {
    let (status, body) = app
        .get(&format!("/v1/conversations/{cid}/package"), Some(key))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The facts of `kind` in a package.
fn facts<'a>(package: &'a Value, kind: &str) -> Vec<&'a Value> {
    package["assessment"]["facts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .collect()
}

/// The seq of the event with idempotency key `id`.
async fn seq_of(app: &TestApp, cid: &str, id: &str) -> u64 {
    by_id(&app.events(cid).await, id)["seq"].as_u64().unwrap()
}

#[tokio::test]
async fn the_json_package_has_the_sbar_keys_and_the_facts_the_customer_gave() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    app.append_ok(
        "c1",
        json!([
            {"id": "hello", "type": "customer_message", "text": "Hi, my parcel never arrived."},
            {"id": "ask", "type": "bot_message", "text": "Sorry to hear that. Which order is it?"},
            {"id": "given", "type": "customer_message", "text": ORDER_AND_EMAIL},
        ]),
        &bot,
    )
    .await;
    let given = seq_of(&app, "c1", "given").await;

    let package = package(&app, "c1", &bot).await;
    let keys: BTreeSet<&str> = package
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let expected: BTreeSet<&str> = [
        "situation",
        "background",
        "assessment",
        "recommendation",
        "transcript",
        "version",
    ]
    .into_iter()
    .collect();
    assert_eq!(keys, expected);
    assert!(package["version"].is_string(), "{}", package["version"]);

    let order = facts(&package, "order_id");
    assert_eq!(order.len(), 1, "{}", package["assessment"]["facts"]);
    assert_eq!(order[0]["value"], "88231");
    assert_eq!(order[0]["seq"], given);
    let email = facts(&package, "email");
    assert_eq!(email.len(), 1, "{}", package["assessment"]["facts"]);
    assert_eq!(email[0]["value"], "maria@example.com");
    assert_eq!(email[0]["seq"], given);

    // The transcript holds every message, in order, with its seq.
    let transcript = package["transcript"].as_array().unwrap();
    let seqs: Vec<u64> = transcript
        .iter()
        .map(|l| l["seq"].as_u64().unwrap())
        .collect();
    let messages: Vec<u64> = app
        .events("c1")
        .await
        .iter()
        .filter(|e| e["type"].as_str().unwrap().ends_with("_message"))
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, messages);
    assert_eq!(transcript.last().unwrap()["text"], ORDER_AND_EMAIL);

    // What was given is on the do-not-ask list.
    let do_not_ask: Vec<&str> = package["recommendation"]["do_not_ask"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert!(
        do_not_ask.contains(&"order_id") && do_not_ask.contains(&"email"),
        "{do_not_ask:?}"
    );

    let (status, _) = app.get("/v1/conversations/nope/package", Some(&bot)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_nlu_entity_overrides_batons_own_reading_of_the_same_kind() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    app.append_ok(
        "c1",
        json!([
            {"id": "given", "type": "customer_message", "text": "My order number is 88231"},
            {"type": "nlu", "intent": "order_status", "confidence": 0.93,
             "entities": [{"kind": "order_id", "value": "A-88231"}]},
        ]),
        &bot,
    )
    .await;
    let given = seq_of(&app, "c1", "given").await;

    let package = package(&app, "c1", &bot).await;
    let order = facts(&package, "order_id");
    assert_eq!(order.len(), 1, "{}", package["assessment"]["facts"]);
    assert_eq!(order[0]["value"], "A-88231");
    assert_eq!(order[0]["source"], "nlu");
    assert_eq!(
        order[0]["seq"], given,
        "attributed to the customer message the NLU read"
    );
}

#[tokio::test]
async fn every_format_has_its_content_type_and_shape() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    app.append_ok(
        "c-42",
        json!([
            {"type": "customer_message", "text": ORDER_AND_EMAIL},
            {"type": "nlu", "intent": "order_status", "confidence": 0.81},
            {"type": "bot_message", "text": "Let me get someone who can trace it."},
            {"type": "handoff_requested", "reason": "trace needed", "skills": ["orders"]},
        ]),
        &bot,
    )
    .await;

    let (status, content_type, markdown) = raw_package(&app, "c-42", "markdown", &bot).await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/markdown"), "{content_type}");
    assert!(
        markdown.contains("88231") && markdown.contains('#'),
        "{markdown}"
    );
    assert!(
        serde_json::from_str::<Value>(&markdown).is_err(),
        "markdown is not JSON"
    );

    let (status, content_type, html) = raw_package(&app, "c-42", "html", &bot).await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(
        html.trim_start().starts_with('<') && html.contains("88231"),
        "{html}"
    );

    let (status, content_type, json_text) = raw_package(&app, "c-42", "json", &bot).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let default_format = package(&app, "c-42", &bot).await;
    let explicit: Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(
        explicit["assessment"]["facts"],
        default_format["assessment"]["facts"]
    );

    let (status, content_type, text) = raw_package(&app, "c-42", "botframework", &bot).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let activity: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(activity["type"], "event");
    assert_eq!(activity["name"], "handoff.initiate");
    assert_eq!(activity["conversation"]["id"], "c-42");
    let attachments = activity["attachments"].as_array().unwrap();
    let transcript = attachments
        .iter()
        .find(|a| a["name"] == "Transcript")
        .unwrap_or_else(|| panic!("{activity}"));
    assert_eq!(transcript["contentType"], "application/json");
    let lines = transcript["content"]["activities"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["type"], "message");
    assert_eq!(lines[0]["text"], ORDER_AND_EMAIL);
    assert_eq!(lines[0]["from"]["role"], "user");
    assert_eq!(activity["value"]["skills"], json!(["orders"]));

    let (status, content_type, text) = raw_package(&app, "c-42", "zendesk", &bot).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let ticket: Value = serde_json::from_str(&text).unwrap();
    let subject = ticket["ticket"]["subject"].as_str().unwrap();
    assert!(!subject.is_empty());
    let html_body = ticket["ticket"]["comment"]["html_body"].as_str().unwrap();
    assert!(
        html_body.contains('<') && html_body.contains("88231"),
        "{html_body}"
    );
    assert_eq!(
        ticket["ticket"]["comment"]["public"], false,
        "the package is an internal note"
    );
    assert_eq!(ticket["ticket"]["external_id"], "c-42");
    assert_eq!(ticket["ticket"]["requester"]["email"], "maria@example.com");

    let (status, content_type, text) = raw_package(&app, "c-42", "taskrouter", &bot).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let task: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(task["task_channel"], "chat");
    assert!(task["priority"].is_u64(), "{task}");
    assert_eq!(task["attributes"]["skills"], json!(["orders"]));
    assert_eq!(
        task["attributes"]["conversations"]["conversation_label_1"],
        "c-42"
    );

    for bad in ["pdf", "JSON", ""] {
        let refused = app
            .get(
                &format!("/v1/conversations/c-42/package?format={bad}"),
                Some(&bot),
            )
            .await;
        assert_error(
            &refused,
            StatusCode::BAD_REQUEST,
            "invalid_query",
            Some("format"),
        );
    }
}

#[tokio::test]
async fn a_card_number_is_masked_for_the_agent_and_clear_for_the_auditor() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let ana = app.key("agent", Some("ana")).await;
    let auditor = app.key("auditor", None).await;
    let card = "4111 1111 1111 1111";
    let not_a_card = "4111 1111 1111 1112"; // fails the Luhn check
    app.append_ok(
        "c1",
        json!([
            {"id": "card", "type": "customer_message", "text": format!("Charge my card {card} please.")},
            {"id": "other", "type": "customer_message", "text": format!("Not the old one, {not_a_card}.")},
        ]),
        &bot,
    )
    .await;
    let card_seq = seq_of(&app, "c1", "card").await;
    app.available_agent("ana", json!({"billing": 3}), 1).await;
    app.hand_off("c1", &bot, &["billing"], "normal").await;
    app.assign("c1", "ana", &ana).await;

    let agent_view = package(&app, "c1", &ana).await;
    let cards = facts(&agent_view, "card_number");
    assert_eq!(
        cards.len(),
        1,
        "only the Luhn-valid number is a card: {}",
        agent_view["assessment"]["facts"]
    );
    let masked = cards[0]["value"].as_str().unwrap();
    assert!(
        masked.ends_with("1111]") && !masked.contains("4111"),
        "{masked}"
    );
    assert_eq!(cards[0]["redacted"], true);
    assert_eq!(cards[0]["seq"], card_seq);
    let text = agent_view.to_string();
    assert!(
        !text.contains(card) && !text.contains("4111111111111111"),
        "the clear number leaks: {text}"
    );
    let line = agent_view["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["seq"] == card_seq)
        .unwrap();
    assert!(
        line["text"].as_str().unwrap().contains("1111"),
        "the last four stay: {line}"
    );
    for format in ["markdown", "html", "botframework", "zendesk", "taskrouter"] {
        let (status, _, rendered) = raw_package(&app, "c1", format, &ana).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            !rendered.contains(card),
            "{format} leaks the card: {rendered}"
        );
    }

    let audit_view = package(&app, "c1", &auditor).await;
    let cards = facts(&audit_view, "card_number");
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0]["value"], card);
    assert!(
        cards[0].get("redacted").is_none_or(|r| r == false),
        "{}",
        cards[0]
    );
    let line = audit_view["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["seq"] == card_seq)
        .unwrap();
    assert!(line["text"].as_str().unwrap().contains(card), "{line}");
}

/// A conversation where the customer gave an order number, accepted by agent `ana`.
/// Returns (bot key, ana's key, seq of the message that gave it).
async fn order_given_and_assigned(app: &TestApp) -> (String, String, u64) {
    let bot = app.key("bot", None).await;
    let ana = app.key("agent", Some("ana")).await;
    app.append_ok(
        "c1",
        json!([{"id": "given", "type": "customer_message", "text": ORDER_AND_EMAIL}]),
        &bot,
    )
    .await;
    let given = seq_of(app, "c1", "given").await;
    app.available_agent("ana", json!({"orders": 3}), 1).await;
    app.hand_off("c1", &bot, &["orders"], "normal").await;
    app.assign("c1", "ana", &ana).await;
    (bot, ana, given)
}

#[tokio::test]
async fn an_agent_asking_again_for_the_order_number_is_recorded_as_a_repeat_ask() {
    let app = spawn_app().await;
    let (_bot, ana, given) = order_given_and_assigned(&app).await;

    // Confirming the known value is not asking again.
    app.append_ok("c1", json!([{"id": "confirm", "type": "agent_message", "text": "Is 88231 the right order number?"}]), &ana).await;
    assert!(of_type(&app.events("c1").await, "repeat_ask").is_empty());

    app.append_ok("c1", json!([{"id": "ask", "type": "agent_message", "text": "Could you give me your order number?"}]), &ana).await;
    let asked = seq_of(&app, "c1", "ask").await;
    let events = app.events("c1").await;
    let repeats = of_type(&events, "repeat_ask");
    assert_eq!(repeats.len(), 1, "{repeats:?}");
    assert_eq!(repeats[0]["fact_kind"], "order_id");
    assert_eq!(repeats[0]["asked_seq"], asked);
    assert_eq!(repeats[0]["fact_seq"], given);
    assert_eq!(repeats[0]["actor"], "system");
    assert_eq!(app.state("c1").await["counts"]["repeat_asks"], 1);
}

#[tokio::test]
async fn a_customer_restating_a_fact_is_recorded() {
    let app = spawn_app().await;
    let (bot, _ana, given) = order_given_and_assigned(&app).await;

    app.append_ok("c1", json!([{"id": "again", "type": "customer_message", "text": "As I said, the order is 88231."}]), &bot).await;
    let again = seq_of(&app, "c1", "again").await;
    let events = app.events("c1").await;
    let repeats = of_type(&events, "customer_repeated");
    assert_eq!(repeats.len(), 1, "{repeats:?}");
    assert_eq!(repeats[0]["fact_kind"], "order_id");
    assert_eq!(repeats[0]["repeated_seq"], again);
    assert_eq!(repeats[0]["fact_seq"], given);
    assert_eq!(app.state("c1").await["counts"]["customer_repeats"], 1);
}

#[tokio::test]
async fn the_policys_id_patterns_are_what_the_server_extracts() {
    const TICKET: &str = "It's about TCK-204518 again, nobody answered.";
    let policy = baton_core::policy::Policy::from_toml_str(
        "[[facts.ids]]\nkind = \"case_id\"\npattern = '\\bTCK-\\d{6}\\b'\n",
    )
    .unwrap();
    let app = crate::helpers::spawn_app_with(baton_server::AppConfig {
        policy,
        ..baton_server::AppConfig::default()
    })
    .await;
    let bot = app.key("bot", None).await;
    app.append_ok(
        "c1",
        json!([{"id": "ticket", "type": "customer_message", "text": TICKET}]),
        &bot,
    )
    .await;
    let given = seq_of(&app, "c1", "ticket").await;
    let custom = package(&app, "c1", &bot).await;
    let cases = facts(&custom, "case_id");
    assert_eq!(cases.len(), 1, "{:#}", custom["assessment"]["facts"]);
    assert_eq!(cases[0]["value"], "TCK-204518");
    assert_eq!(cases[0]["seq"], given);
    assert_eq!(cases[0]["source"], "customer");

    // The built-in patterns want a cue word ("ticket TCK-...") and find none here.
    let default = spawn_app().await;
    let bot = default.key("bot", None).await;
    default
        .append_ok(
            "c1",
            json!([{"id": "ticket", "type": "customer_message", "text": TICKET}]),
            &bot,
        )
        .await;
    let built_in = package(&default, "c1", &bot).await;
    assert!(facts(&built_in, "case_id").is_empty(), "{built_in:#}");
}

/// A policy that reads the bot's confidence through a learned map, as `baton train`
/// writes one: 0.2 has meant right 10 % of the time, 0.9 only 40 %.
const LEARNED: &str = r#"
[confidence]
calibration = "learned"

[confidence.learned.pooled]
raw = [0.2, 0.9]
calibrated = [0.1, 0.4]
samples = 100
"#;

#[tokio::test]
async fn under_learned_calibration_the_package_shows_both_confidences() {
    let policy = baton_core::policy::Policy::from_toml_str(LEARNED).unwrap();
    assert!(policy.confidence.is_learned());
    let app = crate::helpers::spawn_app_with(baton_server::AppConfig {
        policy,
        ..baton_server::AppConfig::default()
    })
    .await;
    let reading = json!([
        {"type": "customer_message", "text": "I want my money back for the jacket"},
        {"type": "nlu", "intent": "billing.refund", "confidence": 0.9},
    ]);
    let bot = app.key("bot", None).await;
    app.append_ok("c1", reading.clone(), &bot).await;
    let learned = package(&app, "c1", &bot).await;
    let intent = &learned["assessment"]["intent"];
    assert_eq!(intent["name"], "billing.refund", "{intent}");
    assert_eq!(intent["confidence"], 0.9, "the bot's own figure: {intent}");
    let calibrated = intent["calibrated_confidence"].as_f64().unwrap();
    assert!(
        (calibrated - 0.4).abs() < 1e-12,
        "0.9 read through the map: {intent}"
    );

    // Interpolated between the knots: 0.55 is halfway, so 0.25.
    app.append_ok(
        "c1",
        json!([
            {"type": "customer_message", "text": "it came with a torn sleeve"},
            {"type": "nlu", "intent": "billing.refund", "confidence": 0.55},
        ]),
        &bot,
    )
    .await;
    let intent = package(&app, "c1", &bot).await["assessment"]["intent"].clone();
    assert_eq!(intent["confidence"], 0.55, "{intent}");
    let calibrated = intent["calibrated_confidence"].as_f64().unwrap();
    assert!((calibrated - 0.25).abs() < 1e-12, "{intent}");

    // With the bot's confidence read as sent there is nothing calibrated to show.
    let raw = spawn_app().await;
    let bot = raw.key("bot", None).await;
    raw.append_ok("c1", reading, &bot).await;
    let intent = package(&raw, "c1", &bot).await["assessment"]["intent"].clone();
    assert_eq!(intent["confidence"], 0.9, "{intent}");
    assert!(intent.get("calibrated_confidence").is_none(), "{intent}");
}
