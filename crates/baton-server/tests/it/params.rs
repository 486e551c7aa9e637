//! Numeric query parameters and headers are range-checked: 400 naming the field,
//! never a 500 from the engine.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Answer, TestApp, assert_error, spawn_app};

const TWO_TO_63: &str = "9223372036854775808";
const TWO_TO_64: &str = "18446744073709551616";

async fn get_with_header(app: &TestApp, path: &str, header: (&str, &str)) -> Answer {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(&app.admin_key)
        .header(header.0, header.1)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or_default())
}

#[tokio::test]
async fn every_numeric_parameter_out_of_range_is_a_400_naming_it() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    app.append_ok(
        "p1",
        json!([{"type": "customer_message", "text": "hello"}]),
        &bot,
    )
    .await;
    let cases = [
        ("/v1/conversations/p1/events?after=", TWO_TO_63, "after"),
        ("/v1/conversations/p1/events?after=", TWO_TO_64, "after"),
        ("/v1/conversations/p1/events?after=", "-1", "after"),
        ("/v1/conversations/p1/events?after=", "one", "after"),
        ("/v1/conversations/p1/events?limit=", "0", "limit"),
        ("/v1/conversations/p1/events?limit=", "10001", "limit"),
        ("/v1/conversations/p1/events?limit=", TWO_TO_64, "limit"),
        ("/v1/conversations/p1/stream?after=", TWO_TO_63, "after"),
        ("/v1/conversations/p1/stream?after=", "-5", "after"),
        ("/v1/stats?hours=", "0", "hours"),
        ("/v1/stats?hours=", "169", "hours"),
        ("/v1/stats?hours=", "99999999999", "hours"),
    ];
    for (path, value, field) in cases {
        let answer = app
            .get(&format!("{path}{value}"), Some(&app.admin_key))
            .await;
        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "invalid_query",
            Some(field),
        );
    }
    for value in [TWO_TO_63, TWO_TO_64, "-1", "seven"] {
        let answer = get_with_header(
            &app,
            "/v1/conversations/p1/stream",
            ("Last-Event-ID", value),
        )
        .await;
        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "invalid_header",
            Some("Last-Event-ID"),
        );
    }
    // The largest seq is a valid, empty read.
    let max = i64::MAX.to_string();
    let (status, page) = app
        .get(
            &format!("/v1/conversations/p1/events?after={max}"),
            Some(&app.admin_key),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["events"], json!([]));
}
