//! Webhooks against a real HTTP receiver on loopback: signatures that an independent
//! implementation verifies, the payload shape, per-conversation order through an
//! outage, dead letters and replay, redirects not followed, rotation, and the API's
//! refusals.

use std::collections::BTreeMap;
use std::time::Duration;

use baton_core::webhook::RetryPolicy;
use baton_server::AppConfig;
use baton_server::webhooks::WebhookConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, eventually, spawn_app_with};
use crate::receiver::{self, Received, python_verifies, signed_by};

/// Retries in tens of milliseconds, given up after `horizon`.
fn fast(horizon: Duration) -> AppConfig {
    AppConfig {
        webhooks: WebhookConfig {
            timeout: Duration::from_secs(2),
            lease: Duration::from_secs(3),
            retry: RetryPolicy {
                first_delay_ms: 30,
                max_delay_ms: 200,
                horizon_ms: horizon.as_millis() as i64,
                jitter: 0.2,
            },
            poll: Duration::from_millis(20),
            public_url: Some("https://baton.example.com".into()),
            ..WebhookConfig::default()
        },
        ..AppConfig::default()
    }
}

/// Subscribes `url` to `events` (admin); returns (id, secret).
async fn subscribe(
    app: &TestApp,
    url: &str,
    events: Value,
    role: Option<&str>,
) -> (String, String) {
    let mut body = json!({"url": url, "events": events, "description": "test desk"});
    if let Some(role) = role {
        body["role"] = json!(role);
    }
    let (status, created) = app.post("/v1/webhooks", &body, Some(&app.admin_key)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    (
        created["id"].as_str().unwrap().to_owned(),
        created["secret"].as_str().unwrap().to_owned(),
    )
}

/// One customer message in `cid`, appended by a bot: the event most tests deliver.
async fn customer_says(app: &TestApp, cid: &str, text: &str) {
    let bot = app.key("bot", None).await;
    app.append_ok(
        cid,
        json!([{"type": "customer_message", "text": text}]),
        &bot,
    )
    .await;
}

async fn deliveries(app: &TestApp, id: &str, status: Option<&str>) -> Vec<Value> {
    let query = status.map(|s| format!("?status={s}")).unwrap_or_default();
    let (code, body) = app
        .get(
            &format!("/v1/webhooks/{id}/deliveries{query}"),
            Some(&app.admin_key),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    body["deliveries"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_are_signed_so_that_an_independent_implementation_verifies_them() {
    let app = spawn_app_with(fast(Duration::from_secs(60))).await;
    let mut receiver = receiver::start().await;
    let (id, secret) = subscribe(
        &app,
        &receiver.url,
        json!(["customer_message", "bot_message"]),
        None,
    )
    .await;
    assert!(secret.starts_with("whsec_"));
    let bot = app.key("bot", None).await;
    app.append_ok(
        "c-sig",
        json!([
            {"id": "m1", "type": "customer_message", "text": "My card ending 4242 was charged twice."},
            {"id": "m2", "type": "bot_message", "text": "Let me look."},
        ]),
        &bot,
    )
    .await;
    let first = receiver.next().await;
    let second = receiver.next().await;
    for delivery in [&first, &second] {
        assert!(signed_by(delivery, &secret), "HMAC from its definition");
        assert!(
            !signed_by(delivery, "whsec_QUFBQUFBQUFBQUFBQUFBQQ=="),
            "not any secret"
        );
        if let Some(verified) = python_verifies(delivery, &secret) {
            assert!(verified, "the Python standardwebhooks library verifies it");
        }
        let ts: i64 = delivery.header("webhook-timestamp").parse().unwrap();
        let now = baton_server::clock::Clock::System.now().unix_millis() / 1000;
        assert!((now - ts).abs() < 60, "timestamp in Unix seconds");
        assert_eq!(delivery.header("content-type"), "application/json");
    }
    // In order, each as GET .../events serves it to the subscription's role (bot);
    // baton's decision after the batch (seq 3) is not a subscribed type.
    assert_eq!(
        (first.line(), second.line()),
        (("c-sig".into(), 1), ("c-sig".into(), 2))
    );
    let served = app
        .get("/v1/conversations/c-sig/events", Some(&bot))
        .await
        .1;
    assert_eq!(first.json()["data"]["event"], served["events"][0]);
    assert_eq!(second.json()["data"]["event"], served["events"][1]);
    let listed = deliveries(&app, &id, Some("delivered")).await;
    assert_eq!(listed.len(), 2);
    let ids: Vec<&str> = listed
        .iter()
        .map(|d| d["message_id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&first.header("webhook-id").as_str()),
        "{ids:?}"
    );
    assert_eq!(listed[0]["attempts"][0]["status"], 200);

    let mut body = first.json();
    for pointer in ["/timestamp", "/data/event/at", "/data/event/hash"] {
        *body.pointer_mut(pointer).unwrap() = json!("[redacted]");
    }
    insta::assert_json_snapshot!("webhook_payload", body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handoff_delivery_carries_state_and_package_url() {
    let app = spawn_app_with(fast(Duration::from_secs(60))).await;
    let mut receiver = receiver::start().await;
    subscribe(&app, &receiver.url, json!(["decision"]), Some("supervisor")).await;
    let bot = app.key("bot", None).await;
    app.hand_off("c-hand", &bot, &["billing"], "high").await;
    let delivery = receiver.next().await;
    let body = delivery.json();
    assert_eq!(body["type"], "decision", "only the subscribed type: {body}");
    assert_eq!(body["data"]["event"]["type"], "decision");
    assert_eq!(body["data"]["state"]["owner"], "queued");
    assert_eq!(body["data"]["state"]["priority"], "high");
    assert_eq!(body["data"]["state"]["skills"], json!(["billing"]));
    assert_eq!(
        body["data"]["package_url"],
        "https://baton.example.com/v1/conversations/c-hand/package"
    );
    assert!(
        receiver
            .next_within(Duration::from_millis(300))
            .await
            .is_none(),
        "no other type is delivered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_down_then_back_gets_everything_in_order_per_conversation() {
    let app = spawn_app_with(fast(Duration::from_secs(120))).await;
    let mut receiver = receiver::start().await;
    receiver.answer(503);
    let (id, _) = subscribe(&app, &receiver.url, json!(["customer_message"]), None).await;
    let bot = app.key("bot", None).await;
    for n in 0..5 {
        for cid in ["c-a", "c-b", "c-c"] {
            app.append_ok(
                cid,
                json!([{"id": format!("{cid}-{n}"), "type": "customer_message", "text": format!("message {n}")}]),
                &bot,
            )
            .await;
        }
    }
    // While it is down, each conversation's first delivery is tried again and again,
    // and nothing behind it is sent.
    let while_down: Vec<(String, u64)> = receiver
        .during(Duration::from_millis(1500))
        .await
        .iter()
        .map(Received::line)
        .collect();
    assert!(while_down.len() >= 6, "retried: {while_down:?}");
    assert!(
        while_down.iter().all(|(_, seq)| *seq == 1),
        "later deliveries wait for the first: {while_down:?}"
    );
    let failing = deliveries(&app, &id, Some("pending")).await;
    assert_eq!(failing.len(), 15);
    let tried: Vec<&Value> = failing.iter().filter(|d| d["seq"] == 1).collect();
    assert!(
        tried.iter().all(|d| d["attempts"][0]["status"] == 503),
        "{tried:?}"
    );

    receiver.answer(200);
    let mut firsts: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut seen = std::collections::BTreeSet::new();
    while seen.len() < 15 {
        let r = receiver.next().await;
        let (cid, seq) = r.line();
        if seen.insert(r.header("webhook-id")) {
            firsts.entry(cid).or_default().push(seq);
        }
    }
    // Each customer message is followed by baton's decision: seqs 1, 3, 5...
    for (cid, seqs) in &firsts {
        assert_eq!(seqs, &[1, 3, 5, 7, 9], "{cid} in order");
    }
    eventually("all delivered", async || {
        (deliveries(&app, &id, Some("delivered")).await.len() == 15).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_past_its_horizon_is_dead_lettered_and_a_replay_resends_it() {
    let app = spawn_app_with(fast(Duration::from_millis(300))).await;
    let mut receiver = receiver::start().await;
    receiver.answer(500);
    let (id, secret) = subscribe(&app, &receiver.url, json!(["customer_message"]), None).await;
    customer_says(&app, "c-dead", "hello").await;
    let failed = receiver.next().await;
    let dead = eventually("a dead letter", async || {
        let dead = deliveries(&app, &id, Some("dead")).await;
        (!dead.is_empty()).then_some(dead)
    })
    .await;
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0]["attempts"].as_array().unwrap().len() >= 2,
        "{dead:?}"
    );
    assert_eq!(dead[0]["message_id"], failed.header("webhook-id"));
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("baton_webhook_deliveries_total{outcome=\"dead\"}"),
        "dead letters are counted"
    );
    while receiver
        .next_within(Duration::from_millis(200))
        .await
        .is_some()
    {}

    receiver.answer(200);
    let (status, replayed) = app
        .post(
            &format!("/v1/webhooks/{id}/replay"),
            &json!({"since": "2020-01-01T00:00:00Z"}),
            Some(&app.admin_key),
        )
        .await;
    assert_eq!(
        (status, replayed["replayed"].as_u64()),
        (StatusCode::OK, Some(1))
    );
    let again = receiver.next().await;
    assert_eq!(
        again.header("webhook-id"),
        failed.header("webhook-id"),
        "same message"
    );
    assert_eq!(again.body, failed.body);
    assert!(signed_by(&again, &secret));
    eventually("delivered after the replay", async || {
        (deliveries(&app, &id, Some("delivered")).await.len() == 1).then_some(())
    })
    .await;
    let (status, _) = app
        .post(
            &format!("/v1/webhooks/{id}/replay"),
            &json!({"since": "yesterday"}),
            Some(&app.admin_key),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_receivers_get_signed_deliveries_from_a_trusted_certificate_authority() {
    let mut config = fast(Duration::from_secs(60));
    config.webhooks.extra_roots = reqwest::Certificate::from_pem_bundle(receiver::TEST_CA).unwrap();
    let app = spawn_app_with(config).await;
    let mut receiver = receiver::start_https().await;
    assert!(receiver.url.starts_with("https://"));
    let (id, secret) = subscribe(&app, &receiver.url, json!(["customer_message"]), None).await;
    customer_says(&app, "c-tls", "over TLS").await;
    let delivery = receiver.next().await;
    assert!(signed_by(&delivery, &secret));
    assert_eq!(delivery.line(), ("c-tls".into(), 1));
    let delivered = eventually("the delivery is marked delivered", async || {
        let listed = deliveries(&app, &id, Some("delivered")).await;
        (!listed.is_empty()).then_some(listed)
    })
    .await;
    assert_eq!(delivered[0]["attempts"][0]["status"], 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_receiver_whose_certificate_nobody_vouches_for_is_refused_and_told_why() {
    let app = spawn_app_with(fast(Duration::from_secs(60))).await;
    let mut receiver = receiver::start_https().await;
    let (id, _) = subscribe(&app, &receiver.url, json!(["customer_message"]), None).await;
    customer_says(&app, "c-untrusted", "hello").await;
    let pending = eventually("a failed try is recorded", async || {
        let pending = deliveries(&app, &id, Some("pending")).await;
        pending
            .first()
            .filter(|d| !d["attempts"].as_array().unwrap().is_empty())
            .cloned()
    })
    .await;
    let attempt = &pending["attempts"][0];
    assert_eq!(attempt["status"], Value::Null);
    let error = attempt["error"].as_str().unwrap();
    assert!(
        error.starts_with("cannot connect: ") && error.contains("certificate"),
        "{error}"
    );
    assert!(
        receiver
            .next_within(Duration::from_millis(300))
            .await
            .is_none(),
        "the request never reaches a receiver it does not trust"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_not_followed() {
    let app = spawn_app_with(fast(Duration::from_secs(60))).await;
    let mut receiver = receiver::start().await;
    receiver.answer(307);
    let (id, _) = subscribe(&app, &receiver.url, json!(["customer_message"]), None).await;
    customer_says(&app, "c-r", "hi").await;
    let paths: Vec<String> = receiver
        .during(Duration::from_millis(1000))
        .await
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert!(!paths.is_empty());
    assert!(
        paths.iter().all(|p| p == "/hook"),
        "never /elsewhere: {paths:?}"
    );
    let pending = deliveries(&app, &id, Some("pending")).await;
    assert_eq!(pending[0]["attempts"][0]["status"], 307);
    assert_eq!(pending[0]["attempts"][0]["error"], "redirect not followed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_signs_with_both_secrets_for_the_grace_period() {
    let app = spawn_app_with(fast(Duration::from_secs(60))).await;
    let mut receiver = receiver::start().await;
    let (id, old) = subscribe(&app, &receiver.url, json!(["customer_message"]), None).await;
    let (status, rotated) = app
        .post(
            &format!("/v1/webhooks/{id}/rotate-secret"),
            &json!({"grace_secs": 600}),
            Some(&app.admin_key),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(rotated["previous_secret_until"].is_string());
    customer_says(&app, "c-rot", "hi").await;
    let delivery: Received = receiver.next().await;
    assert_eq!(delivery.header("webhook-signature").split(' ').count(), 2);
    assert!(signed_by(&delivery, &new) && signed_by(&delivery, &old));
    if let Some(verified) = python_verifies(&delivery, &old) {
        assert!(verified, "a receiver still on the old secret verifies");
    }
    // Without a grace period the old secret stops at once.
    let (_, rotated) = app
        .post(
            &format!("/v1/webhooks/{id}/rotate-secret"),
            &json!({"grace_secs": 0}),
            Some(&app.admin_key),
        )
        .await;
    let newest = rotated["secret"].as_str().unwrap().to_owned();
    customer_says(&app, "c-rot", "again").await;
    let delivery = receiver.next().await;
    assert!(signed_by(&delivery, &newest) && !signed_by(&delivery, &new));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_are_admin_only_checked_listed_without_secrets_and_deleted() {
    let app = spawn_app_with(fast(Duration::from_secs(60))).await;
    let bot = app.key("bot", None).await;
    let body = json!({"url": "http://127.0.0.1:9/hook", "events": ["*"]});
    let refused = app.post("/v1/webhooks", &body, Some(&bot)).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "forbidden", None);
    for (bad, field) in [
        (json!({"url": "ftp://example.com/", "events": ["*"]}), "url"),
        (
            json!({"url": "http://u:p@example.com/", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "http://example.com/", "events": ["assigned", "sold"]}),
            "events[1]",
        ),
        (
            json!({"url": "http://example.com/", "events": []}),
            "events",
        ),
        (
            json!({"url": "http://example.com/", "events": ["*"], "role": "agent"}),
            "role",
        ),
    ] {
        let answer = app.post("/v1/webhooks", &bad, Some(&app.admin_key)).await;
        assert_error(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some(field),
        );
    }
    let (id, secret) = subscribe(&app, "http://127.0.0.1:9/hook", json!(["assigned"]), None).await;
    let (status, list) = app.get("/v1/webhooks", Some(&app.admin_key)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["webhooks"][0]["id"], id.as_str());
    assert_eq!(list["webhooks"][0]["events"], json!(["assigned"]));
    assert_eq!(list["webhooks"][0]["role"], "bot");
    assert!(
        !list.to_string().contains(&secret),
        "never listed with its secret"
    );
    let (status, one) = app
        .get(&format!("/v1/webhooks/{id}"), Some(&app.admin_key))
        .await;
    assert_eq!(
        (status, one["url"].as_str()),
        (StatusCode::OK, Some("http://127.0.0.1:9/hook"))
    );
    let client = &app.client;
    let deleted = client
        .delete(app.url(&format!("/v1/webhooks/{id}")))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    let gone = app
        .get(&format!("/v1/webhooks/{id}"), Some(&app.admin_key))
        .await;
    assert_error(&gone, StatusCode::NOT_FOUND, "not_found", None);
    let malformed = app.get("/v1/webhooks/nope", Some(&app.admin_key)).await;
    assert_error(&malformed, StatusCode::NOT_FOUND, "not_found", None);
}
