//! Health, metrics, the OpenAPI document, and JSON errors for unknown routes.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn healthz_answers_without_a_key() {
    let app = spawn_app().await;
    let (status, body) = app.get("/healthz", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn metrics_count_appended_events() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    app.append_ok(
        "m",
        json!([{"type": "bot_message", "text": "counted"}]),
        &bot,
    )
    .await;
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("baton_events_appended_total") && l.contains("type=\"bot_message\"")
        })
        .unwrap_or_else(|| panic!("no bot_message counter in\n{text}"));
    let value: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(value >= 1.0, "{line}");
    assert!(text.contains("baton_http_requests_total"), "{text}");
}

#[tokio::test]
async fn openapi_documents_the_api() {
    let app = spawn_app().await;
    let (status, doc) = app.get("/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with('3'), "{doc}");
    let paths = doc["paths"].as_object().unwrap();
    let events = &paths["/v1/conversations/{cid}/events"];
    assert!(
        events.get("post").is_some() && events.get("get").is_some(),
        "{events}"
    );
    for path in [
        "/v1/keys",
        "/v1/conversations/{cid}",
        "/v1/conversations/{cid}/stream",
        "/v1/ledger/verify",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from {:?}",
            paths.keys().collect::<Vec<_>>()
        );
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let app = spawn_app().await;
    assert_error(
        &app.get("/nope", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    assert_error(
        &app.get("/v1/conversations/a/b/c/d", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    let response = app
        .client
        .delete(app.url("/v1/conversations/a/events"))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body = response.json().await.unwrap();
    assert_error(
        &(status, body),
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        None,
    );
}
