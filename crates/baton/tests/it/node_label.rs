//! `baton serve --node-id ID` names the node: `/healthz` says it and every series of
//! baton's on `/metrics` carries `node="ID"`, so one Prometheus can tell nodes apart.
//! The label is process-wide, set before the first metric, so only a fresh process
//! (the real binary) shows it.

use std::ffi::OsStr;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{start_with, workspace};

#[tokio::test]
async fn every_series_of_batons_carries_the_node_id() {
    let (root, data) = workspace();
    let server = start_with(
        &data,
        &root.path().join("serve.log"),
        &[OsStr::new("--node-id"), OsStr::new("edge-7")],
    )
    .await;
    assert_eq!(server.get("/healthz").await["node"], "edge-7");
    let bot = server.key("bot").await;
    server
        .call_ok(
            reqwest::Method::POST,
            "/v1/conversations/c-m/events",
            &bot,
            json!({"events": [{"type": "bot_message", "text": "counted"}]}),
        )
        .await;

    let response = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    let appended = text
        .lines()
        .find(|l| {
            l.starts_with("baton_events_appended_total{") && l.contains("type=\"bot_message\"")
        })
        .unwrap_or_else(|| panic!("no bot_message counter in\n{text}"));
    assert!(appended.contains("node=\"edge-7\""), "{appended}");
    let series: Vec<&str> = text.lines().filter(|l| l.starts_with("baton_")).collect();
    assert!(series.len() > 1, "{text}");
    for line in series {
        assert!(line.contains("node=\"edge-7\""), "unlabelled: {line}");
    }
}
