//! Bad input, refused cleanly: keys repeated in a JSON body, ids made only of dots.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{assert_error, spawn_app};

/// Sends one HTTP/1.1 request as written, so the path reaches the server unnormalized
/// (`reqwest` resolves `..` and `%2e%2e` segments as browsers do).
async fn raw(base: &str, method: &str, path: &str, key: &str, body: Option<&str>) -> (u16, Value) {
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {key}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(crate::helpers::WAIT, stream.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let status = answer[9..12].parse().unwrap();
    let json = answer
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, json)
}

#[tokio::test]
async fn ids_made_only_of_dots_are_refused_in_paths_and_bodies() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let agent = app.key("agent", Some("ana")).await;
    let event = r#"{"events": [{"type": "bot_message", "text": "hi"}]}"#;
    for dots in ["..", ".", "...", "%2E%2E"] {
        let path = format!("/v1/conversations/{dots}/events");
        let (status, body) = raw(&app.base, "POST", &path, &bot, Some(event)).await;
        assert_eq!(status, 400, "POST {path}: {body}");
        assert_eq!(body["error"]["code"], "invalid_id", "{body}");
        assert_eq!(body["error"]["field"], "conversation_id", "{body}");
        let (status, body) = raw(&app.base, "GET", &path, &bot, None).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (400, &json!("invalid_id"))
        );
        let path = format!("/v1/agents/{dots}");
        let skills = r#"{"skills": {"billing": 3}, "capacity": 1}"#;
        let (status, body) = raw(&app.base, "PUT", &path, &app.admin_key, Some(skills)).await;
        assert_eq!(status, 400, "PUT {path}: {body}");
        assert_eq!(body["error"]["field"], "agent_id", "{body}");
        let path = format!("/v1/offers/{dots}/accept");
        let (status, body) = raw(&app.base, "POST", &path, &agent, None).await;
        assert_eq!(status, 400, "POST {path}: {body}");
        assert_eq!(body["error"]["field"], "offer_id", "{body}");
    }
    let answer = app
        .post(
            "/v1/keys",
            &json!({"role": "agent", "agent_id": ".."}),
            Some(&app.admin_key),
        )
        .await;
    assert_error(
        &answer,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("agent_id"),
    );
    let answer = app
        .append(
            "c-dots",
            &json!({"events": [{"type": "identity_verified", "customer_id": "..", "method": "otp"}]}),
            &bot,
        )
        .await;
    assert_eq!(answer.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.1);
    assert_eq!(app.try_events("c-dots").await, None, "nothing written");
}

#[tokio::test]
async fn a_key_repeated_in_one_object_is_refused_with_its_path() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    for (body, field) in [
        (
            r#"{"events": [{"type": "customer_message", "text": "refund me", "text": "ignore that"}]}"#,
            "events[0].text",
        ),
        (
            r#"{"events": [{"type": "bot_message", "text": "hi"}, {"type": "nlu", "intent": "a", "confidence": 0.9, "entities": [{"kind": "order_id", "value": "1", "value": "2"}]}]}"#,
            "events[1].entities[0].value",
        ),
        (
            r#"{"events": [], "events": [{"type": "bot_message", "text": "hi"}]}"#,
            "events",
        ),
        (
            r#"{"events": [{"type": "bot_message", "\u0074ext": "hi", "text": "ho"}]}"#,
            "events[0].text",
        ),
    ] {
        let answer = app
            .post_raw(
                "/v1/conversations/c-dup/events",
                body.as_bytes().to_vec(),
                Some("application/json"),
                &bot,
            )
            .await;
        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "duplicate_key",
            Some(field),
        );
    }
    assert_eq!(
        app.try_events("c-dup").await,
        None,
        "a refused batch writes nothing"
    );

    // Every JSON body the API takes goes through the same check.
    for (path, body, field) in [
        ("/v1/keys", r#"{"role": "bot", "role": "admin"}"#, "role"),
        (
            "/v1/agents/ana",
            r#"{"skills": {"billing": 1, "billing": 5}, "capacity": 1}"#,
            "skills.billing",
        ),
    ] {
        let request = if path.starts_with("/v1/agents") {
            app.client.put(app.url(path))
        } else {
            app.client.post(app.url(path))
        };
        let response = request
            .bearer_auth(&app.admin_key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let json: Value = response.json().await.unwrap();
        assert_error(
            &(status, json),
            StatusCode::BAD_REQUEST,
            "duplicate_key",
            Some(field),
        );
    }

    // Equal keys in different objects are fine; broken JSON is still invalid_json.
    let answer = app
        .post_raw(
            "/v1/conversations/c-ok/events",
            br#"{"events": [{"type": "bot_message", "text": "a"}, {"type": "bot_message", "text": "b"}]}"#.to_vec(),
            Some("application/json"),
            &bot,
        )
        .await;
    assert_eq!(answer.0, StatusCode::OK, "{}", answer.1);
    let answer = app
        .post_raw(
            "/v1/conversations/c-ok/events",
            br#"{"events": [{"text": "a", "text": "b""#.to_vec(),
            Some("application/json"),
            &bot,
        )
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_json", None);
}
