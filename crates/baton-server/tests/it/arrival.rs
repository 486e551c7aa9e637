//! Decisions over HTTP, however the bot posts its events: one per request (the
//! customer's message, then its `nlu` in the next call) or in batches. The same
//! conversation must end the same way, and a decision made at the message is revisited
//! when the reading arrives.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

fn cm(text: &str) -> Value {
    json!({"type": "customer_message", "text": text})
}

fn nlu(intent: &str, confidence: f64) -> Value {
    json!({"type": "nlu", "intent": intent, "confidence": confidence})
}

fn bot(text: &str) -> Value {
    json!({"type": "bot_message", "text": text})
}

/// Posts `batches` to `cid` either as given or one event per request; returns each
/// response's decision outcome (`null` when none) and the final owner.
async fn post(
    app: &TestApp,
    key: &str,
    cid: &str,
    batches: &[Vec<Value>],
    one_per_request: bool,
) -> (Vec<Value>, Value) {
    let calls: Vec<Vec<Value>> = if one_per_request {
        batches.iter().flatten().map(|e| vec![e.clone()]).collect()
    } else {
        batches.to_vec()
    };
    let mut outcomes = Vec::new();
    let mut owner = Value::Null;
    for call in calls {
        let answer = app.append_ok(cid, json!(call), key).await;
        outcomes.push(answer["decision"]["outcome"].clone());
        owner = answer["owner"].clone();
    }
    (outcomes, owner)
}

/// The reason codes of the conversation's decision events with `outcome`.
async fn reasons_of(app: &TestApp, cid: &str, outcome: &str) -> Vec<String> {
    app.events(cid)
        .await
        .iter()
        .filter(|e| e["type"] == "decision" && e["outcome"] == outcome)
        .flat_map(|e| e["reasons"].as_array().cloned().unwrap_or_default())
        .map(|r| r["code"].as_str().unwrap_or_default().to_owned())
        .collect()
}

const TACKED_ON: &str = "I forgot my password, can you reset it? manager";

#[tokio::test]
async fn a_keyword_on_a_question_the_bot_is_sure_of_is_offered_either_way() {
    let app = spawn_app().await;
    let key = app.key("bot", None).await;
    let batches = [vec![cm(TACKED_ON), nlu("password_reset", 0.95)]];

    let (outcomes, owner) = post(&app, &key, "single", &batches, true).await;
    assert_eq!(outcomes, [json!("offer"), json!("continue")]);
    assert_eq!(owner, "bot");
    let (outcomes, owner) = post(&app, &key, "batched", &batches, false).await;
    assert_eq!(outcomes, [json!("offer")]);
    assert_eq!(owner, "bot");
    for cid in ["single", "batched"] {
        assert!(
            reasons_of(&app, cid, "handoff").await.is_empty(),
            "{cid}: no handoff"
        );
        assert_eq!(app.state(cid).await["owner"], "bot");
    }
}

#[tokio::test]
async fn the_reading_that_arrives_in_the_next_call_upgrades_the_offer() {
    let app = spawn_app().await;
    let key = app.key("bot", None).await;
    let batches = [vec![cm(TACKED_ON), nlu("billing_dispute", 0.95)]];
    let (outcomes, owner) = post(&app, &key, "single", &batches, true).await;
    assert_eq!(outcomes, [json!("offer"), json!("handoff")]);
    assert_eq!(owner, "queued");
    let (outcomes, owner) = post(&app, &key, "batched", &batches, false).await;
    assert_eq!(outcomes, [json!("handoff")]);
    assert_eq!(owner, "queued");
    for cid in ["single", "batched"] {
        assert_eq!(
            reasons_of(&app, cid, "handoff").await,
            ["explicit_request"],
            "{cid}"
        );
    }
}

#[tokio::test]
async fn low_confidence_turns_with_rephrase_prompts_hand_off_either_way() {
    let ask = "Sorry, I didn't get that. Could you say it another way?";
    // The middle reading is not low; the bot's prompt says it did not understand.
    let batches: Vec<Vec<Value>> = [
        ("I need the thing for my account", 0.31),
        ("the form thing, for the account", 0.62),
        ("the paper you send for the account", 0.38),
    ]
    .iter()
    .flat_map(|(t, c)| [vec![cm(t), nlu("account_statement", *c)], vec![bot(ask)]])
    .collect();
    // A fresh app each way: a conversation already waiting for a human would make
    // the router report saturation, which turns a signal-driven handoff into an offer.
    for (cid, single) in [("single", true), ("batched", false)] {
        let app = spawn_app().await;
        let key = app.key("bot", None).await;
        let app_batches = &batches[..batches.len() - 1];
        let (outcomes, owner) = post(&app, &key, cid, app_batches, single).await;
        assert_eq!(owner, "queued", "{cid} {outcomes:?}");
        assert_eq!(outcomes.last(), Some(&json!("handoff")), "{cid}");
        assert!(
            reasons_of(&app, cid, "handoff")
                .await
                .contains(&"low_confidence".to_owned()),
            "{cid}"
        );
    }
}

#[tokio::test]
async fn a_growing_temper_hands_off_and_the_package_reads_it_as_worsening() {
    let batches: Vec<Vec<Value>> = [
        "well that's not ideal",
        "why is it late??",
        "it's late, which is a problem",
    ]
    .iter()
    .map(|t| vec![cm(t), nlu("track_order", 0.9)])
    .collect();
    for (cid, single) in [("single", true), ("batched", false)] {
        let app = spawn_app().await;
        let key = app.key("bot", None).await;
        let (outcomes, owner) = post(&app, &key, cid, &batches, single).await;
        assert_eq!(owner, "queued", "{cid} {outcomes:?}");
        assert_eq!(
            outcomes.iter().filter(|o| *o == "handoff").count(),
            1,
            "{cid}: only the third message hands off {outcomes:?}"
        );
        assert_eq!(reasons_of(&app, cid, "handoff").await, ["anger_rising"]);
        let (status, package) = app
            .get(
                &format!("/v1/conversations/{cid}/package"),
                Some(&app.admin_key),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{package}");
        let sentiment = &package["assessment"]["sentiment"];
        assert_eq!(sentiment["trajectory"], "worsening", "{sentiment}");
    }
}

#[tokio::test]
async fn warmer_words_with_rising_frustration_are_not_improving() {
    let app = spawn_app().await;
    let key = app.key("bot", None).await;
    for text in [
        "I have been waiting for a week",
        "thanks, any update?",
        "ok, why is it late??",
        "great, thanks... still waiting!!",
    ] {
        app.append_ok("warmer", json!([cm(text)]), &key).await;
    }
    let (_, package) = app
        .get("/v1/conversations/warmer/package", Some(&app.admin_key))
        .await;
    let sentiment = &package["assessment"]["sentiment"];
    assert!(
        sentiment["slope"].as_f64().unwrap() > 0.05,
        "the words alone read warmer: {sentiment}"
    );
    assert_eq!(sentiment["trajectory"], "worsening", "{sentiment}");
}
