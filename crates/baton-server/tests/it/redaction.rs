//! One redaction policy on every read path: the same conversation read as each role
//! through `GET .../events`, `GET .../stream` (replay and live) and the package masks
//! the same values, as the table in baton-core's `facts::redact` says; the auditor
//! reads the stored events byte for byte and can recompute the chain from them.

use baton_core::Actor;
use baton_core::ledger::{Digest, GENESIS, chain_hash};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, body, spawn_app};
use crate::ownership::assigned_to;

const CARD: &str = "4242 4242 4242 4242";
const NATIONAL_ID: &str = "AB123456C";
const EMAIL: &str = "ana.lopez@example.com";
const POSTCODE: &str = "SW1A 1AA";

fn said() -> String {
    format!("My card is {CARD}, NI number {NATIONAL_ID}, email {EMAIL}, post code {POSTCODE}")
}

/// Which of card, national id, email, postcode each role sees in clear.
const TABLE: &[(&str, [bool; 4])] = &[
    ("bot", [false, false, true, false]),
    ("agent", [false, false, true, true]),
    ("supervisor", [false, false, true, true]),
    ("admin", [false, false, false, false]),
    ("auditor", [true, true, true, true]),
];

#[track_caller]
fn assert_masked_per_table(role: &str, seen: [bool; 4], text: &str, path: &str) {
    for (value, visible) in [CARD, NATIONAL_ID, EMAIL, POSTCODE].into_iter().zip(seen) {
        assert_eq!(
            text.contains(value),
            visible,
            "{role} via {path}: {value} in clear? {text}"
        );
    }
}

async fn key_for(app: &TestApp, role: &str) -> String {
    match role {
        "agent" => app.key("agent", Some("ana")).await,
        "admin" => app.admin_key.clone(),
        other => app.key(other, None).await,
    }
}

/// A conversation owned by ana whose customer gave all four kinds, plus a promise and
/// a document that repeat the card.
async fn conversation(app: &TestApp, cid: &str) {
    let mut events = assigned_to("ana");
    events.push((
        Actor::Customer,
        body(json!({"type": "customer_message", "text": said()})),
    ));
    events.push((
        Actor::Bot,
        body(
            json!({"type": "document_retrieved", "doc_id": "kb-9", "title": "Card disputes",
            "snippet": format!("Dispute filed for card {CARD}")}),
        ),
    ));
    app.seed(cid, events).await;
}

fn customer_text(events: &[Value]) -> String {
    let message = events
        .iter()
        .find(|e| {
            e["type"] == "customer_message" && e["text"].as_str().unwrap().starts_with("My card")
        })
        .expect("the customer's message");
    message["text"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_read_path_masks_what_the_package_masks_for_each_role() {
    let app = spawn_app().await;
    conversation(&app, "pii").await;
    let auditor_key = key_for(&app, "auditor").await;
    let (_, stored) = app
        .get("/v1/conversations/pii/events", Some(&auditor_key))
        .await;
    let stored = stored["events"].as_array().unwrap().clone();
    for &(role, seen) in TABLE {
        let key = key_for(&app, role).await;
        let (status, page) = app.get("/v1/conversations/pii/events", Some(&key)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let events = page["events"].as_array().unwrap().clone();
        let via_events = customer_text(&events);
        assert_masked_per_table(role, seen, &via_events, "events");

        let mut reader = app.stream("pii", &key, None).await;
        let frames: Vec<Value> = reader
            .take(events.len())
            .await
            .iter()
            .map(|f| f.json())
            .collect();
        assert_eq!(frames, events, "{role}: the stream replays what GET serves");

        let (status, package) = app.get("/v1/conversations/pii/package", Some(&key)).await;
        assert_eq!(status, StatusCode::OK, "{package}");
        let line = package["transcript"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["text"].as_str().unwrap().starts_with("My card"))
            .unwrap();
        assert_eq!(
            line["text"],
            via_events.as_str(),
            "{role}: package = events"
        );
        let snippet = package["assessment"]["documents"][0]["snippet"]
            .as_str()
            .unwrap();
        assert_eq!(snippet.contains(CARD), seen[0], "{role}: {snippet}");

        // Masked events keep their seq and the stored hash, and say so.
        for (shown, original) in events.iter().zip(&stored) {
            assert_eq!(shown["seq"], original["seq"]);
            assert_eq!(shown["hash"], original["hash"]);
            assert_eq!(
                shown.get("redacted").is_some(),
                shown != original,
                "{role}: exactly the masked events are marked: {shown}"
            );
        }

        // Live events are masked per subscriber too.
        let more = format!("again: {CARD}");
        app.append_ok(
            "pii",
            json!([{"type": "customer_message", "text": more}]),
            &app.admin_key,
        )
        .await;
        let live = reader.next().await.expect("the stream stays open").json();
        let text = live["text"].as_str().unwrap();
        assert_eq!(text.contains(CARD), seen[0], "{role} live: {text}");
        let (_, after) = app.get("/v1/conversations/pii/events", Some(&key)).await;
        let same = after["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["seq"] == live["seq"]);
        assert_eq!(same, Some(&live), "{role}: live = GET");
    }
}

#[tokio::test]
async fn the_auditor_recomputes_the_chain_from_the_api() {
    let app = spawn_app().await;
    conversation(&app, "chain").await;
    let auditor = app.key("auditor", None).await;
    let url = app.url("/v1/conversations/chain/events");
    let raw = app
        .client
        .get(url)
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(raw.contains(CARD), "the auditor reads in clear");
    assert!(!raw.contains("\"redacted\""), "{raw}");
    let page: Value = serde_json::from_str(&raw).unwrap();
    let mut prev: Digest = GENESIS;
    for event in page["events"].as_array().unwrap() {
        let mut event = event.clone();
        let hash = event.as_object_mut().unwrap().remove("hash").unwrap();
        let canonical = baton_core::canonical::to_canonical_string(&event).unwrap();
        prev = chain_hash(&prev, canonical.as_bytes());
        assert_eq!(hash, prev.to_hex());
    }
}

#[tokio::test]
async fn the_state_masks_what_its_events_mask() {
    let app = spawn_app().await;
    let mut events = assigned_to("ana");
    events.push((
        Actor::Bot,
        body(json!({"type": "commitment", "text": format!("refund to card {CARD}")})),
    ));
    app.seed("st", events).await;
    let ana = app.key("agent", Some("ana")).await;
    let (status, state) = app.get("/v1/conversations/st", Some(&ana)).await;
    assert_eq!(status, StatusCode::OK, "{state}");
    let promise = state["commitments"][0]["text"].as_str().unwrap();
    assert!(
        !promise.contains(CARD) && promise.contains("••••4242"),
        "{promise}"
    );
    let auditor = app.key("auditor", None).await;
    let (_, state) = app.get("/v1/conversations/st", Some(&auditor)).await;
    assert!(
        state["commitments"][0]["text"]
            .as_str()
            .unwrap()
            .contains(CARD)
    );
}
