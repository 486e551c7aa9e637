//! Every way an append can be refused before anything is written: each asserts the
//! status, the error code and field, the error shape, and that the log is unchanged.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp, assert_error, spawn_app};

const CID: &str = "conv-v";

/// A server whose `conv-v` already holds one event, and a bot key.
async fn setup() -> (TestApp, String, Vec<Value>) {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    app.append_ok(
        CID,
        json!([{"id": "seed", "type": "customer_message", "text": "hello"}]),
        &bot,
    )
    .await;
    let before = app.events(CID).await;
    (app, bot, before)
}

/// Sends one batch, checks the refusal, and checks nothing was written, both to an
/// existing conversation and to a new one (which must still not exist afterwards).
async fn refused(
    app: &TestApp,
    key: &str,
    before: &[Value],
    body: Value,
    status: StatusCode,
    code: &str,
    field: Option<&str>,
) {
    let answer = app.append(CID, &body, key).await;
    assert_error(&answer, status, code, field);
    assert_eq!(app.events(CID).await, before, "nothing written for {body}");
    let answer = app.append("conv-new", &body, key).await;
    assert_error(&answer, status, code, field);
    assert_eq!(
        app.try_events("conv-new").await,
        None,
        "no conversation created for {body}"
    );
}

fn one(event: Value) -> Value {
    json!({"events": [event]})
}

#[tokio::test]
async fn event_types_are_checked() {
    let (app, bot, before) = setup().await;
    let unknown = one(json!({"type": "telepathy", "text": "x"}));
    refused(
        &app,
        &bot,
        &before,
        unknown,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_type",
        Some("events[0].type"),
    )
    .await;
    for reserved in [
        "assigned",
        "decision",
        "offered",
        "resolved",
        "bounced_back",
    ] {
        let body = one(json!({"type": reserved, "agent_id": "ana"}));
        refused(
            &app,
            &bot,
            &before,
            body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "reserved_type",
            Some("events[0].type"),
        )
        .await;
    }
    let admin = app.admin_key.clone();
    let body = one(json!({"type": "assigned", "agent_id": "ana", "actor": "system"}));
    refused(
        &app,
        &admin,
        &before,
        body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "reserved_type",
        Some("events[0].type"),
    )
    .await;
    let no_type = one(json!({"text": "x"}));
    refused(
        &app,
        &bot,
        &before,
        no_type,
        StatusCode::UNPROCESSABLE_ENTITY,
        "missing_field",
        Some("events[0].type"),
    )
    .await;
    let numeric = one(json!({"type": 7, "text": "x"}));
    refused(
        &app,
        &bot,
        &before,
        numeric,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("events[0].type"),
    )
    .await;
    let not_object = json!({"events": ["customer_message"]});
    refused(
        &app,
        &bot,
        &before,
        not_object,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("events[0]"),
    )
    .await;
}

#[tokio::test]
async fn fields_are_checked() {
    let (app, bot, before) = setup().await;
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"type": "customer_message"}),
            "missing_field",
            "events[0].text",
        ),
        (
            json!({"type": "nlu", "intent": "refund"}),
            "missing_field",
            "events[0].confidence",
        ),
        (
            json!({"type": "identity_verified", "customer_id": "c-1"}),
            "missing_field",
            "events[0].method",
        ),
        (
            json!({"type": "action", "name": "refund.issue"}),
            "missing_field",
            "events[0].status",
        ),
        (
            json!({"type": "customer_message", "text": "hi", "colour": "red"}),
            "unknown_field",
            "events[0].colour",
        ),
        (
            json!({"type": "customer_message", "text": "hi", "seq": 9}),
            "unknown_field",
            "events[0].seq",
        ),
        (
            json!({"type": "customer_message", "text": "hi", "hash": "00"}),
            "unknown_field",
            "events[0].hash",
        ),
        (
            json!({"type": "action", "name": "refund.issue", "status": "maybe"}),
            "invalid_field",
            "events[0].status",
        ),
        (
            json!({"type": "customer_message", "text": 42}),
            "invalid_field",
            "events[0].text",
        ),
        (
            json!({"type": "customer_message", "text": "hi", "at": "yesterday"}),
            "invalid_field",
            "events[0].at",
        ),
        (
            json!({"type": "customer_message", "text": "hi", "meta": "not an object"}),
            "invalid_field",
            "events[0].meta",
        ),
        (
            json!({"type": "customer_message", "text": "nul \u{0000} inside"}),
            "invalid_field",
            "events[0].text",
        ),
    ];
    for (event, code, field) in cases {
        refused(
            &app,
            &bot,
            &before,
            one(event),
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            Some(field),
        )
        .await;
    }
}

#[tokio::test]
async fn text_must_be_non_empty_and_at_most_16_kib() {
    let (app, bot, before) = setup().await;
    for empty in ["", "   ", "\n\t"] {
        let body = one(json!({"type": "customer_message", "text": empty}));
        refused(
            &app,
            &bot,
            &before,
            body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("events[0].text"),
        )
        .await;
    }
    let over = "x".repeat(16 * 1024 + 1);
    let body = one(json!({"type": "bot_message", "text": over}));
    refused(
        &app,
        &bot,
        &before,
        body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("events[0].text"),
    )
    .await;
    // Multi-byte text is measured in bytes: 5462 three-byte characters are 16386 bytes.
    let over_in_bytes = "€".repeat(5462);
    let body = one(json!({"type": "bot_message", "text": over_in_bytes}));
    refused(
        &app,
        &bot,
        &before,
        body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("events[0].text"),
    )
    .await;
    let nested = one(
        json!({"type": "document_retrieved", "doc_id": "kb-1", "title": "t", "snippet": "y".repeat(16 * 1024 + 1)}),
    );
    refused(
        &app,
        &bot,
        &before,
        nested,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("events[0].snippet"),
    )
    .await;

    // The limit itself is accepted.
    let at_limit = "x".repeat(16 * 1024);
    app.append_ok(
        CID,
        json!([{"id": "big", "type": "bot_message", "text": at_limit}]),
        &bot,
    )
    .await;
    assert_eq!(
        crate::helpers::by_id(&app.events(CID).await, "big")["text"]
            .as_str()
            .unwrap()
            .len(),
        16 * 1024
    );
}

#[tokio::test]
async fn confidence_must_be_between_0_and_1() {
    let (app, bot, before) = setup().await;
    for bad in [json!(1.5), json!(-0.1), json!("high"), json!(null)] {
        let body = one(json!({"type": "nlu", "intent": "refund", "confidence": bad}));
        refused(
            &app,
            &bot,
            &before,
            body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("events[0].confidence"),
        )
        .await;
    }
    let nested = one(json!({"type": "nlu", "intent": "refund", "confidence": 0.5,
        "alternatives": [{"intent": "billing", "confidence": 0.2}, {"intent": "other", "confidence": 3}]}));
    refused(
        &app,
        &bot,
        &before,
        nested,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("events[0].alternatives[1].confidence"),
    )
    .await;
    let bad_label = one(json!({"type": "nlu", "intent": "", "confidence": 0.5}));
    let answer = app.append(CID, &bad_label, &bot).await;
    assert_eq!(answer.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.1);
    assert_eq!(app.events(CID).await, before);
}

#[tokio::test]
async fn ids_are_checked_in_the_path_and_the_body() {
    let (app, bot, before) = setup().await;
    let too_long = "x".repeat(129);
    for bad in ["a%20b", "caf%C3%A9", "a%2Fb", too_long.as_str()] {
        let answer = app
            .append(
                bad,
                &one(json!({"type": "bot_message", "text": "hi"})),
                &bot,
            )
            .await;
        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "invalid_id",
            Some("conversation_id"),
        );
        let answer = app
            .get(&format!("/v1/conversations/{bad}/events"), Some(&bot))
            .await;
        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "invalid_id",
            Some("conversation_id"),
        );
        let answer = app
            .get(&format!("/v1/conversations/{bad}"), Some(&bot))
            .await;
        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "invalid_id",
            Some("conversation_id"),
        );
    }
    // 128 characters is the longest valid id.
    let longest = "y".repeat(128);
    app.append_ok(
        &longest,
        json!([{"type": "bot_message", "text": "hi"}]),
        &bot,
    )
    .await;

    for bad_id in [
        json!("a b"),
        json!(""),
        json!("x".repeat(129)),
        json!("a/b"),
        json!(5),
    ] {
        let body = one(json!({"id": bad_id, "type": "bot_message", "text": "hi"}));
        refused(
            &app,
            &bot,
            &before,
            body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("events[0].id"),
        )
        .await;
    }
    let bad_customer =
        one(json!({"type": "identity_verified", "customer_id": "c 1", "method": "otp"}));
    refused(
        &app,
        &bot,
        &before,
        bad_customer,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("events[0].customer_id"),
    )
    .await;
}

#[tokio::test]
async fn actors_are_checked() {
    let (app, bot, before) = setup().await;
    for bad in ["boss", "agent:", "agent:a b", "Customer"] {
        let body = one(json!({"type": "bot_message", "text": "hi", "actor": bad}));
        refused(
            &app,
            &bot,
            &before,
            body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("events[0].actor"),
        )
        .await;
    }
    // A bot key may not write as an agent or as baton itself.
    for actor in ["agent:ana", "system"] {
        let body = one(json!({"type": "note", "text": "hi", "actor": actor}));
        refused(
            &app,
            &bot,
            &before,
            body,
            StatusCode::FORBIDDEN,
            "forbidden",
            Some("events[0].actor"),
        )
        .await;
    }
    // The actor must fit the type.
    let body = one(json!({"type": "bot_message", "text": "hi", "actor": "customer"}));
    refused(
        &app,
        &bot,
        &before,
        body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "actor_mismatch",
        Some("events[0]"),
    )
    .await;
    // An admin writing an agent message must say which agent.
    let admin = app.admin_key.clone();
    let body = one(json!({"type": "agent_message", "text": "hi"}));
    refused(
        &app,
        &admin,
        &before,
        body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "missing_field",
        Some("events[0].actor"),
    )
    .await;
}

#[tokio::test]
async fn batch_size_is_bounded() {
    let (app, bot, before) = setup().await;
    refused(
        &app,
        &bot,
        &before,
        json!({"events": []}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "empty_batch",
        Some("events"),
    )
    .await;
    let events = |n: usize| -> Value {
        (0..n)
            .map(|i| json!({"type": "bot_message", "text": format!("n{i}")}))
            .collect()
    };
    refused(
        &app,
        &bot,
        &before,
        json!({"events": events(501)}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "batch_too_large",
        Some("events"),
    )
    .await;
    let answer = app.append_ok(CID, events(500), &bot).await;
    let after = app.events(CID).await;
    assert!(after.len() >= before.len() + 500);
    assert_eq!(
        after.iter().filter(|e| e["type"] == "bot_message").count(),
        500
    );
    assert_eq!(answer["seq"], after.last().unwrap()["seq"]);
}

#[tokio::test]
async fn bodies_over_one_mib_get_413() {
    let (app, bot, before) = setup().await;
    // 70 valid events of 16,000 bytes each: 1.1 MB.
    let events: Vec<Value> = (0..70)
        .map(|_| json!({"type": "bot_message", "text": "z".repeat(16_000)}))
        .collect();
    let body = serde_json::to_vec(&json!({"events": events})).unwrap();
    assert!(body.len() > 1024 * 1024);
    let answer = app
        .post_raw(
            &format!("/v1/conversations/{CID}/events"),
            body,
            Some("application/json"),
            &bot,
        )
        .await;
    assert_error(
        &answer,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        None,
    );
    assert_eq!(app.events(CID).await, before);
}

#[tokio::test]
async fn malformed_json_gets_400() {
    let (app, bot, before) = setup().await;
    let path = format!("/v1/conversations/{CID}/events");
    let cases: Vec<&[u8]> = vec![
        b"{\"events\": [",
        b"not json",
        b"",
        b"{\"events\": [{\"type\": \"bot_message\", \"text\": \"a\"},]}",
    ];
    for raw in cases {
        let answer = app
            .post_raw(&path, raw.to_vec(), Some("application/json"), &bot)
            .await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_json", None);
    }
    // Well-formed JSON of the wrong shape is refused by the same extractor.
    for shape in [json!({"events": "x"}), json!({"evnts": []}), json!([1, 2])] {
        let answer: Answer = app.append(CID, &shape, &bot).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_json", None);
    }
    let unknown = app
        .append(CID, &json!({"events": [], "colour": "red"}), &bot)
        .await;
    assert_error(&unknown, StatusCode::BAD_REQUEST, "invalid_json", None);
    assert!(
        unknown.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("colour"),
        "{}",
        unknown.1
    );
    let answer = app
        .post_raw(&path, b"{\"events\": []}".to_vec(), None, &bot)
        .await;
    assert_error(
        &answer,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        None,
    );
    assert_eq!(app.events(CID).await, before);
}

#[tokio::test]
async fn one_bad_event_refuses_the_whole_batch() {
    let (app, bot, before) = setup().await;
    let decode = json!({"events": [
        {"id": "ok1", "type": "customer_message", "text": "first"},
        {"id": "ok2", "type": "bot_message", "text": "second"},
        {"id": "bad", "type": "bot_message", "text": ""},
    ]});
    refused(
        &app,
        &bot,
        &before,
        decode,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("events[2].text"),
    )
    .await;

    // Refused by the ownership rules only after the first two were checked and folded.
    let admin = app.admin_key.clone();
    let rules = json!({"events": [
        {"id": "ok1", "type": "customer_message", "text": "first"},
        {"id": "ok2", "type": "bot_message", "text": "second"},
        {"id": "bad", "type": "agent_message", "text": "I am not the owner", "actor": "agent:ana"},
    ]});
    refused(
        &app,
        &admin,
        &before,
        rules,
        StatusCode::CONFLICT,
        "not_owner",
        Some("events[2]"),
    )
    .await;

    let duplicate = json!({"events": [
        {"id": "d1", "type": "customer_message", "text": "first"},
        {"id": "d1", "type": "bot_message", "text": "second"},
    ]});
    refused(
        &app,
        &bot,
        &before,
        duplicate,
        StatusCode::UNPROCESSABLE_ENTITY,
        "duplicate_id",
        Some("events[1].id"),
    )
    .await;

    // The same batch, fixed, goes through whole.
    let fixed = json!([
        {"id": "ok1", "type": "customer_message", "text": "first"},
        {"id": "ok2", "type": "bot_message", "text": "second"},
        {"id": "ok3", "type": "bot_message", "text": "third"},
    ]);
    app.append_ok(CID, fixed, &bot).await;
    let after = app.events(CID).await;
    let ids: Vec<&str> = after
        .iter()
        .filter_map(|e| e["id"].as_str())
        .filter(|id| id.starts_with("ok"))
        .collect();
    assert_eq!(ids, ["ok1", "ok2", "ok3"]);
}
