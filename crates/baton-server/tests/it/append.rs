//! Append, read back, fold: seq and hash on each event, the hash chain recomputed from
//! the API alone, idempotent retries and optimistic concurrency.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{assert_error, by_id, seqs, spawn_app};

/// DESIGN.md's Ledger: `hash = SHA-256(prev_hash || JCS(event without hash))`,
/// `prev_hash` of seq 1 = 32 zero bytes, hex in the API; "the event" is the object
/// exactly as `GET .../events` returns it minus `hash`.
fn recompute_chain(events: &[Value]) {
    let mut prev = [0u8; 32];
    for event in events {
        let mut object = event.as_object().unwrap().clone();
        let stored = object.remove("hash").expect("every event carries its hash");
        let canonical = serde_json_canonicalizer::to_string(&Value::Object(object)).unwrap();
        let mut hasher = Sha256::new();
        hasher.update(prev);
        hasher.update(canonical.as_bytes());
        let hash: [u8; 32] = hasher.finalize().into();
        assert_eq!(
            stored.as_str().unwrap(),
            hex::encode(hash),
            "hash of seq {}",
            event["seq"]
        );
        prev = hash;
    }
}

#[tokio::test]
async fn append_read_and_fold_round_trip() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let answer = app
        .append_ok(
            "conv-1",
            json!([
                {"id": "m1", "type": "customer_message", "text": "Hi, my order 1234 never arrived"},
                {"id": "m2", "type": "nlu", "intent": "order_status", "confidence": 0.82,
                 "alternatives": [{"intent": "refund", "confidence": 0.1}]},
                {"id": "m3", "type": "document_retrieved", "doc_id": "kb-17", "title": "Late deliveries"},
                {"id": "m4", "type": "action", "name": "order.lookup", "status": "pending"},
                {"id": "m5", "type": "bot_message", "text": "Let me check that for you.", "meta": {"channel": "web"}},
            ]),
            &bot,
        )
        .await;
    let events = app.events("conv-1").await;
    assert!(events.len() >= 5, "{events:?}");
    assert_eq!(
        seqs(&events),
        (1..=events.len() as u64).collect::<Vec<_>>(),
        "seqs are 1, 2, 3... without gaps"
    );
    let last = events.last().unwrap();
    assert_eq!(
        answer["seq"], last["seq"],
        "the answer names the last event written"
    );
    assert_eq!(answer["hash"], last["hash"]);
    assert_eq!(answer["owner"], "bot");
    for event in &events {
        let hash = event["hash"].as_str().unwrap();
        assert_eq!(hash.len(), 64);
        assert!(
            hash.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
            "lower-case hex: {hash}"
        );
        assert!(event["at"].as_str().unwrap().ends_with('Z'));
    }
    // Client events are stored in order, as sent, with actors defaulted from the bot key.
    let ids: Vec<&str> = events
        .iter()
        .filter_map(|e| e["id"].as_str())
        .filter(|id| id.starts_with('m'))
        .collect();
    assert_eq!(ids, ["m1", "m2", "m3", "m4", "m5"]);
    assert_eq!(by_id(&events, "m1")["actor"], "customer");
    assert_eq!(by_id(&events, "m1")["type"], "customer_message");
    assert_eq!(
        by_id(&events, "m1")["text"],
        "Hi, my order 1234 never arrived"
    );
    assert_eq!(by_id(&events, "m2")["actor"], "bot");
    assert_eq!(by_id(&events, "m2")["confidence"], 0.82);
    assert_eq!(by_id(&events, "m5")["meta"], json!({"channel": "web"}));
    recompute_chain(&events);

    let state = app.state("conv-1").await;
    assert_eq!(state["conversation"], "conv-1");
    assert_eq!(state["last_seq"], last["seq"]);
    assert_eq!(state["owner"], "bot");
    assert_eq!(
        state["intent"],
        json!({"intent": "order_status", "confidence": 0.82})
    );
    assert_eq!(state["counts"]["customer_messages"], 1);
    assert_eq!(state["counts"]["bot_messages"], 1);
    assert_eq!(state["pending_actions"][0]["name"], "order.lookup");
    assert_eq!(
        state["pending_actions"][0]["seq"],
        by_id(&events, "m4")["seq"]
    );
}

#[tokio::test]
async fn the_chain_continues_across_appends_and_after_pages() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    for n in 0..6 {
        let answer = app.append_ok("conv-2", json!([{"id": format!("b{n}"), "type": "bot_message", "text": format!("line {n}")}]), &bot).await;
        let events = app.events("conv-2").await;
        assert_eq!(answer["seq"], events.last().unwrap()["seq"]);
        assert_eq!(answer["hash"], events.last().unwrap()["hash"]);
    }
    let events = app.events("conv-2").await;
    recompute_chain(&events);
    let (status, page) = app
        .get(
            "/v1/conversations/conv-2/events?after=3&limit=2",
            Some(&app.admin_key),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["events"].as_array().unwrap(), &events[3..5]);
    let (status, rest) = app
        .get("/v1/conversations/conv-2/events?after=5", Some(&bot))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rest["events"].as_array().unwrap(), &events[5..]);
    assert_error(
        &app.get("/v1/conversations/conv-2/events?limit=0", Some(&bot))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
        Some("limit"),
    );
}

#[tokio::test]
async fn a_retried_batch_is_answered_with_the_first_result_and_stored_once() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let batch = json!({"events": [
        {"id": "r1", "type": "customer_message", "text": "where is my parcel?"},
        {"id": "r2", "type": "bot_message", "text": "Looking into it."},
    ]});
    let (status, first) = app.append("conv-r", &batch, &bot).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let stored = app.events("conv-r").await;

    let (status, again) = app.append("conv-r", &batch, &bot).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again, first, "the retry gets the first answer");
    assert_eq!(app.events("conv-r").await, stored, "and writes nothing");

    // Still recognised once the log has moved on.
    app.append_ok(
        "conv-r",
        json!([{"id": "r3", "type": "bot_message", "text": "Found it."}]),
        &bot,
    )
    .await;
    let (status, late) = app.append("conv-r", &batch, &bot).await;
    assert_eq!(status, StatusCode::OK, "{late}");
    assert_eq!(late["seq"], first["seq"]);
    assert_eq!(late["hash"], first["hash"]);
    let after = app.events("conv-r").await;
    for id in ["r1", "r2", "r3"] {
        assert_eq!(
            after.iter().filter(|e| e["id"] == id).count(),
            1,
            "{id} stored once"
        );
    }

    // A retry that mixes stored ids with new ones is refused whole.
    let before = app.events("conv-r").await;
    let mixed = json!({"events": [
        {"id": "r2", "type": "bot_message", "text": "Looking into it."},
        {"id": "r9", "type": "bot_message", "text": "new"},
    ]});
    assert_error(
        &app.append("conv-r", &mixed, &bot).await,
        StatusCode::CONFLICT,
        "idempotency_conflict",
        None,
    );
    assert_eq!(app.events("conv-r").await, before);

    // Ids are per conversation: the same id elsewhere is a new event.
    app.append_ok(
        "conv-r2",
        json!([{"id": "r1", "type": "customer_message", "text": "hello"}]),
        &bot,
    )
    .await;
    assert_eq!(app.events("conv-r2").await[0]["id"], "r1");
}

#[tokio::test]
async fn expected_seq_gives_optimistic_concurrency() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let answer = app
        .append_ok(
            "conv-e",
            json!([{"type": "bot_message", "text": "one"}]),
            &bot,
        )
        .await;
    let head = answer["seq"].as_u64().unwrap();

    let stale =
        json!({"expected_seq": head - 1, "events": [{"type": "bot_message", "text": "two"}]});
    let before = app.events("conv-e").await;
    assert_error(
        &app.append("conv-e", &stale, &bot).await,
        StatusCode::CONFLICT,
        "seq_conflict",
        Some("expected_seq"),
    );
    let ahead =
        json!({"expected_seq": head + 5, "events": [{"type": "bot_message", "text": "two"}]});
    assert_error(
        &app.append("conv-e", &ahead, &bot).await,
        StatusCode::CONFLICT,
        "seq_conflict",
        Some("expected_seq"),
    );
    assert_eq!(
        app.events("conv-e").await,
        before,
        "a conflict writes nothing"
    );

    let fresh = json!({"expected_seq": head, "events": [{"id": "x2", "type": "bot_message", "text": "two"}]});
    let (status, second) = app.append("conv-e", &fresh, &bot).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(by_id(&app.events("conv-e").await, "x2")["seq"], head + 1);

    // Retrying that request, whose expected_seq is now stale, is an idempotent retry.
    let (status, retried) = app.append("conv-e", &fresh, &bot).await;
    assert_eq!(status, StatusCode::OK, "{retried}");
    assert_eq!(retried, second);

    // A brand-new conversation is at seq 0.
    let first = json!({"expected_seq": 0, "events": [{"type": "bot_message", "text": "hi"}]});
    assert_eq!(app.append("conv-e0", &first, &bot).await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_to_one_conversation_form_one_chain() {
    let app = std::sync::Arc::new(spawn_app().await);
    let bot = app.key("bot", None).await;
    let mut tasks = Vec::new();
    for writer in 0..8 {
        let (app, bot) = (app.clone(), bot.clone());
        tasks.push(tokio::spawn(async move {
            for n in 0..10 {
                let event = json!([{"id": format!("w{writer}-{n}"), "type": "bot_message", "text": format!("{writer}/{n}")}]);
                app.append_ok("conv-c", event, &bot).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let events = app.events("conv-c").await;
    assert_eq!(seqs(&events), (1..=events.len() as u64).collect::<Vec<_>>());
    for writer in 0..8 {
        let mine: Vec<u64> = (0..10)
            .map(|n| {
                by_id(&events, &format!("w{writer}-{n}"))["seq"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert!(
            mine.windows(2).all(|w| w[0] < w[1]),
            "each writer's events keep its order: {mine:?}"
        );
    }
    recompute_chain(&events);
}
