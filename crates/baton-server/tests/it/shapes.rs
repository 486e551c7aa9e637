//! Snapshots of every JSON shape users build on: one error body per code family, the
//! state view, the append answer, the package (JSON, Zendesk, Bot Framework), stats, an
//! agent, the queues and the key list. Ids, times and hashes are redacted, so a snapshot
//! changes only when a shape (a key, a type, a wire name) does. A changed snapshot is a
//! change to a contract: review it as one.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp, spawn_app};

/// The error body of `answer`, asserting its status first.
#[track_caller]
fn error_body(answer: Answer, status: StatusCode) -> Value {
    assert_eq!(answer.0, status, "{}", answer.1);
    answer.1
}

#[tokio::test]
async fn error_bodies_per_code_family() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let ana = app.key("agent", Some("ana")).await;
    let bo = app.key("agent", Some("bo")).await;
    app.available_agent("ana", json!({"billing": 3}), 2).await;
    let events = |events: Value| json!({ "events": events });

    let invalid_json = app
        .post_raw(
            "/v1/conversations/c1/events",
            br#"{"events": [{"text": "a""#.to_vec(),
            Some("application/json"),
            &bot,
        )
        .await;
    insta::assert_json_snapshot!(
        "error_invalid_json",
        error_body(invalid_json, StatusCode::BAD_REQUEST)
    );

    let duplicate_key = app
        .post_raw(
            "/v1/conversations/c1/events",
            br#"{"events": [{"type": "bot_message", "text": "hi", "text": "ho"}]}"#.to_vec(),
            Some("application/json"),
            &bot,
        )
        .await;
    insta::assert_json_snapshot!(
        "error_duplicate_key",
        error_body(duplicate_key, StatusCode::BAD_REQUEST)
    );

    let unsupported = app
        .post_raw(
            "/v1/conversations/c1/events",
            b"{}".to_vec(),
            Some("text/plain"),
            &bot,
        )
        .await;
    insta::assert_json_snapshot!(
        "error_unsupported_media_type",
        error_body(unsupported, StatusCode::UNSUPPORTED_MEDIA_TYPE)
    );

    let missing_field = app
        .append("c1", &events(json!([{"type": "customer_message"}])), &bot)
        .await;
    insta::assert_json_snapshot!(
        "error_missing_field",
        error_body(missing_field, StatusCode::UNPROCESSABLE_ENTITY)
    );

    let unknown_type = app
        .append("c1", &events(json!([{"type": "telepathy"}])), &bot)
        .await;
    insta::assert_json_snapshot!(
        "error_unknown_type",
        error_body(unknown_type, StatusCode::UNPROCESSABLE_ENTITY)
    );

    let invalid_id = app
        .get("/v1/conversations/bad%20id", Some(&app.admin_key))
        .await;
    insta::assert_json_snapshot!(
        "error_invalid_id",
        error_body(invalid_id, StatusCode::BAD_REQUEST)
    );

    let invalid_query = app
        .get(
            "/v1/conversations/c1/events?after=minus-one",
            Some(&app.admin_key),
        )
        .await;
    insta::assert_json_snapshot!(
        "error_invalid_query",
        error_body(invalid_query, StatusCode::BAD_REQUEST)
    );

    let head = app
        .append_ok(
            "c1",
            json!([{"type": "bot_message", "text": "Hello, how can I help?"}]),
            &bot,
        )
        .await["seq"]
        .as_u64()
        .unwrap();
    let stale =
        json!({"expected_seq": head + 3, "events": [{"type": "bot_message", "text": "again"}]});
    let seq_conflict = app.append("c1", &stale, &bot).await;
    insta::assert_json_snapshot!(
        "error_seq_conflict",
        error_body(seq_conflict, StatusCode::CONFLICT)
    );

    app.hand_off("c2", &bot, &["billing"], "normal").await;
    app.wait_offer("ana", "c2").await;
    let not_owner = app
        .post(
            "/v1/conversations/c2/bounce-back",
            &json!({"instructions": "not yet"}),
            Some(&ana),
        )
        .await;
    insta::assert_json_snapshot!(
        "error_not_owner",
        error_body(not_owner, StatusCode::CONFLICT)
    );

    let actor_mismatch = app
        .append(
            "c1",
            &events(json!([{"type": "agent_message", "text": "hi"}])),
            &bot,
        )
        .await;
    insta::assert_json_snapshot!(
        "error_actor_mismatch",
        error_body(actor_mismatch, StatusCode::UNPROCESSABLE_ENTITY)
    );

    let forbidden = app
        .post("/v1/keys", &json!({"role": "bot"}), Some(&bot))
        .await;
    insta::assert_json_snapshot!(
        "error_forbidden",
        error_body(forbidden, StatusCode::FORBIDDEN)
    );

    let not_found = app.get("/v1/conversations/c1", Some(&bo)).await;
    insta::assert_json_snapshot!(
        "error_not_found",
        error_body(not_found, StatusCode::NOT_FOUND)
    );

    let no_route = app.get("/v1/nowhere", Some(&app.admin_key)).await;
    insta::assert_json_snapshot!(
        "error_no_route",
        error_body(no_route, StatusCode::NOT_FOUND)
    );

    let response = app
        .client
        .patch(app.url("/v1/keys"))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let method = (status, response.json().await.unwrap());
    insta::assert_json_snapshot!(
        "error_method_not_allowed",
        error_body(method, StatusCode::METHOD_NOT_ALLOWED)
    );

    let unauthorized = app.get("/v1/queues", None).await;
    insta::assert_json_snapshot!(
        "error_unauthorized",
        error_body(unauthorized, StatusCode::UNAUTHORIZED)
    );

    // Last: it leaves this address refused for a while.
    for n in 0..10 {
        let guess = app
            .get("/v1/queues", Some(&format!("baton_guess{n}")))
            .await;
        assert_eq!(guess.0, StatusCode::UNAUTHORIZED, "failure {n}");
    }
    let limited = app.get("/v1/queues", Some("baton_guess10")).await;
    insta::assert_json_snapshot!(
        "error_too_many_failures",
        error_body(limited, StatusCode::TOO_MANY_REQUESTS),
        // The wait left is counted down in the message.
        {".error.message" => "[message with seconds left]"}
    );
}

/// A conversation handed off for billing, accepted by `ana` and answered by her; returns
/// the bot's key and the append answers (a turn, the handoff).
async fn handed_to_ana(app: &TestApp) -> (String, Value, Value) {
    let bot = app.key("bot", None).await;
    let ana = app.key("agent", Some("ana")).await;
    app.available_agent("ana", json!({"billing": 3, "refunds": 1}), 2)
        .await;
    let turn = app
        .append_ok(
            "c-42",
            json!([
                {"id": "m1", "type": "customer_message", "text": "My order 88231 was charged twice."},
                {"id": "n1", "type": "nlu", "intent": "billing_dispute", "confidence": 0.82},
                {"id": "b1", "type": "bot_message", "text": "Sorry about that. Let me look."},
            ]),
            &bot,
        )
        .await;
    let handoff = app.hand_off("c-42", &bot, &["billing"], "high").await;
    app.assign("c-42", "ana", &ana).await;
    app.append_ok(
        "c-42",
        json!([{"id": "a1", "type": "agent_message", "text": "Hi, I'm Ana; I see the double charge."}]),
        &ana,
    )
    .await;
    (bot, turn, handoff)
}

/// `value` with every `datetime="..."` inside a string (the HTML of the Zendesk
/// comment) replaced by a placeholder: a time inside text that a redaction cannot reach.
fn without_times(value: Value) -> Value {
    match value {
        Value::String(text) => {
            let times = regex::Regex::new(r#"datetime="[^"]*""#).unwrap();
            Value::String(times.replace_all(&text, r#"datetime="[at]""#).into_owned())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(without_times).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k, without_times(v)))
                .collect(),
        ),
        other => other,
    }
}

#[tokio::test]
async fn success_shapes() {
    let app = spawn_app().await;
    let (_bot, turn, handoff) = handed_to_ana(&app).await;
    let admin = Some(app.admin_key.as_str());

    insta::assert_json_snapshot!("append_answer", turn, {".hash" => "[hash]"});
    insta::assert_json_snapshot!("append_answer_with_decision", handoff, {".hash" => "[hash]"});

    insta::assert_json_snapshot!("state", app.state("c-42").await, {
        ".**.at" => "[at]",
        ".**.started_at" => "[at]",
        ".**.updated_at" => "[at]",
        ".**.queued_at" => "[at]",
        ".last_event_at" => "[at]",
    });

    for format in ["json", "zendesk", "botframework", "taskrouter"] {
        let (status, package) = app
            .get(
                &format!("/v1/conversations/c-42/package?format={format}"),
                admin,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{package}");
        // Ids here are the conversation's and its seqs: stable, so not redacted.
        insta::assert_json_snapshot!(format!("package_{format}"), without_times(package), {
            ".**.at" => "[at]",
            ".**.timestamp" => "[at]",
            ".background.started_at" => "[at]",
        });
    }

    let (status, mut stats) = app.get("/v1/stats", admin).await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    // The one handoff lands in the current hour's bucket, which is the last one unless
    // the hour turned between the handoff and the read: keep the bucket that holds it,
    // and how many buckets there were, so the snapshot does not depend on the clock.
    let buckets = stats["handoff_reasons"].as_array().unwrap().clone();
    let busy: Vec<Value> = buckets
        .iter()
        .filter(|b| b["handoffs"].as_u64() != Some(0))
        .cloned()
        .collect();
    assert_eq!(
        busy.len(),
        1,
        "one bucket holds the one handoff: {buckets:?}"
    );
    stats["handoff_reasons"] = json!({"buckets": buckets.len(), "busy": busy});
    insta::assert_json_snapshot!("stats", stats, {
        ".since" => "[at]",
        ".handoff_reasons.busy[].hour" => "[hour]",
        ".ramp_up.mean_secs" => "[secs]",
        ".ramp_up.p50_secs" => "[secs]",
        ".ramp_up.p90_secs" => "[secs]",
        ".ramp_up.samples[].secs" => "[secs]",
        ".ramp_up.samples[].accepted_at" => "[at]",
    });

    insta::assert_json_snapshot!("agent", app.agent("ana").await, {
        ".**.at" => "[at]",
        ".idle_since" => "[at]",
    });

    let (status, queues) = app.get("/v1/queues", admin).await;
    assert_eq!(status, StatusCode::OK, "{queues}");
    // The arrival rate is measured over wall-clock time, and what follows from it too.
    insta::assert_json_snapshot!("queues", queues, {
        ".queues[].forecast.arrival_rate_per_min" => "[rate]",
        ".queues[].forecast.traffic_erlangs" => "[rate]",
        ".queues[].forecast.agents_needed" => "[rate]",
        ".queues[].forecast.service_level" => "[rate]",
        ".queues[].forecast.expected_wait_secs" => "[rate]",
    });

    let (status, mut keys) = app.get("/v1/keys", admin).await;
    assert_eq!(status, StatusCode::OK, "{keys}");
    // Keys made in the same millisecond list in the order of their random ids; the
    // snapshot pins the shape, so it reads them by role.
    if let Some(list) = keys["keys"].as_array_mut() {
        list.sort_by(|a, b| a["role"].as_str().cmp(&b["role"].as_str()));
    }
    insta::assert_json_snapshot!("keys", keys, {
        ".keys[].id" => "[key id]",
        ".keys[].created_at" => "[at]",
        ".keys[].last_used_at" => "[at]",
    });
}
