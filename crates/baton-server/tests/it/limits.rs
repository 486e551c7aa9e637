//! Failed authentication is limited per client address: after a burst of unknown keys
//! or wrong sign-ins, that address gets 429 with Retry-After for a while; other
//! addresses, and requests that succeed, are not affected.

use std::net::IpAddr;

use baton_server::AppConfig;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, assert_error, spawn_app, spawn_app_with};

/// A client whose requests leave from `addr` (any 127.x.y.z reaches the server).
fn client_from(addr: &str) -> reqwest::Client {
    baton_server::http_client::builder()
        .local_address(addr.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn queues(
    app: &TestApp,
    client: &reqwest::Client,
    key: &str,
    forwarded: Option<&str>,
) -> reqwest::Response {
    let mut request = client.get(app.url("/v1/queues")).bearer_auth(key);
    if let Some(addr) = forwarded {
        request = request.header("x-forwarded-for", addr);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn unknown_keys_from_one_address_are_refused_for_a_while_and_others_are_not() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let here = client_from("127.0.0.1");
    // Successes never count.
    for _ in 0..30 {
        assert_eq!(
            queues(&app, &here, &bot, None).await.status(),
            StatusCode::OK
        );
    }
    for n in 0..10 {
        let response = queues(&app, &here, &format!("baton_guess{n}"), None).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "failure {n}");
    }
    let limited = queues(&app, &here, "baton_guess10", None).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    let body = limited.json().await.unwrap();
    assert_error(
        &(StatusCode::TOO_MANY_REQUESTS, body),
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_failures",
        None,
    );
    // While refused, this address gets no answer about any key, good ones included:
    // otherwise a guesser would still learn which guess is right.
    assert_eq!(
        queues(&app, &here, &bot, None).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another address is not punished for it, and its own failures are its own.
    let there = client_from("127.0.0.2");
    assert_eq!(
        queues(&app, &there, &bot, None).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        queues(&app, &there, "baton_other", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn wrong_keys_at_sign_in_count_too() {
    let app = spawn_app().await;
    let ana = app.key("agent", Some("ana")).await;
    let url = app.url("/console/session");
    for n in 0..10 {
        let response = app
            .client
            .post(&url)
            .json(&json!({"key": format!("baton_wrong{n}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {n}");
    }
    let limited = app
        .client
        .post(&url)
        .json(&json!({"key": ana}))
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    assert!(limited.headers().get("set-cookie").is_none(), "no session");
}

#[tokio::test]
async fn forwarded_addresses_are_believed_only_from_a_trusted_proxy() {
    // Untrusted: rotating X-Forwarded-For does not escape the limit.
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let client = baton_server::http_client::builder().build().unwrap();
    for n in 0..10 {
        let forged = format!("198.51.100.{n}");
        let response = queues(&app, &client, "baton_nope", Some(&forged)).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = queues(&app, &client, "baton_nope", Some("198.51.100.99")).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);

    // Trusted: the proxy's last entry is the client, and clients are told apart.
    let app = spawn_app_with(AppConfig {
        trust_proxy_headers: true,
        ..AppConfig::default()
    })
    .await;
    let bot2 = app.key("bot", None).await;
    for _ in 0..10 {
        let response = queues(&app, &client, "baton_nope", Some("1.1.1.1, 203.0.113.5")).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = queues(&app, &client, "baton_nope", Some("9.9.9.9, 203.0.113.5")).await;
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the client cannot choose the first entry"
    );
    let response = queues(&app, &client, &bot2, Some("203.0.113.6")).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "another client behind the proxy"
    );
    let _ = bot;
}
