//! Health, metrics, the OpenAPI document, and JSON errors for unknown routes.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use baton_server::AppConfig;
use baton_server::cluster::ClusterConfig;
use baton_server::cluster::notify::NatsConfig;
use reqwest::StatusCode;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::{
    assert_error, eventually, nats_stream_name, nats_url, spawn_app, spawn_app_with,
};

#[tokio::test]
async fn healthz_answers_without_a_key() {
    let app = spawn_app().await;
    let (status, body) = app.get("/healthz", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
}

/// A TCP relay to `upstream` that a test can cut: every relayed connection closes and
/// the port stops listening, as when the NATS server goes away.
struct Relay {
    addr: SocketAddr,
    accept: JoinHandle<()>,
    relays: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let relays = Arc::new(Mutex::new(Vec::new()));
        let held = Arc::clone(&relays);
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let relay = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                held.lock().unwrap().push(relay);
            }
        });
        Self {
            addr,
            accept,
            relays,
        }
    }

    /// Dropping the tasks drops their sockets (and the listener) when they next run;
    /// on this single-threaded test runtime none is running meanwhile.
    fn cut(self) {
        self.accept.abort();
        for relay in self.relays.lock().unwrap().drain(..) {
            relay.abort();
        }
    }
}

#[tokio::test]
async fn healthz_answers_nats_unreachable_once_nats_stops_answering() {
    let Some(url) = nats_url() else {
        return;
    };
    let relay = Relay::start(url.trim_start_matches("nats://").to_owned()).await;
    let app = spawn_app_with(AppConfig {
        cluster: ClusterConfig {
            node_id: "node-h".to_owned(),
            nats: Some(NatsConfig {
                url: format!("nats://{}", relay.addr),
                stream: nats_stream_name(),
            }),
            poll: None,
        },
        ..AppConfig::default()
    })
    .await;
    let (status, health) = app.get("/healthz", None).await;
    assert_eq!(status, StatusCode::OK, "{health}");
    assert_eq!(health["nats"], "ok", "{health}");
    assert_eq!(health["node"], "node-h", "{health}");

    relay.cut();
    let answer = eventually("/healthz to notice NATS is gone", async || {
        let answer = app.get("/healthz", None).await;
        (answer.0 != StatusCode::OK).then_some(answer)
    })
    .await;
    assert_error(
        &answer,
        StatusCode::SERVICE_UNAVAILABLE,
        "nats_unreachable",
        None,
    );
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
