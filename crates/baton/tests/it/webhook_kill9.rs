//! A webhook delivery survives `kill -9` of `baton serve` mid-delivery: the receiver
//! holds every request while the server is killed; after a restart every event's
//! delivery arrives (duplicates allowed, with the same `webhook-id`), in order per
//! conversation.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::HeaderMap;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::helpers::{ADMIN_KEY, WAIT, start_with_env, workspace};

/// (webhook-id, conversation, seq) of each request, as it arrives.
type Arrival = (String, String, u64);

/// A receiver that answers 200 after `hold_ms`.
async fn receiver(hold_ms: Arc<AtomicU64>) -> (String, mpsc::UnboundedReceiver<Arrival>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: String| {
        let (tx, hold) = (tx.clone(), Arc::clone(&hold_ms));
        async move {
            let body: Value = serde_json::from_str(&body).unwrap();
            let id = headers["webhook-id"].to_str().unwrap().to_owned();
            let cid = body["data"]["conversation"].as_str().unwrap().to_owned();
            let _ = tx.send((id, cid, body["data"]["seq"].as_u64().unwrap()));
            tokio::time::sleep(Duration::from_millis(hold.load(Ordering::SeqCst))).await;
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_in_flight_at_a_kill_9_arrive_after_the_restart() {
    let (root, data) = workspace();
    let log = root.path().join("serve.log");
    let env = [("BATON_WEBHOOK_TIMEOUT_SECS", "1")];
    let hold = Arc::new(AtomicU64::new(5_000));
    let (url, mut arrivals) = receiver(Arc::clone(&hold)).await;
    let server = start_with_env(&data, &log, &[], &env).await;
    let created = server
        .client
        .post(server.url("/v1/webhooks"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"url": url, "events": ["customer_message"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let bot = server.key("bot").await;
    let conversations = ["k-1", "k-2", "k-3"];
    for n in 0..3 {
        for cid in conversations {
            let answer = server
                .client
                .post(server.url(&format!("/v1/conversations/{cid}/events")))
                .bearer_auth(&bot)
                .json(&json!({"events": [{"type": "customer_message", "text": format!("m{n}")}]}))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::OK);
        }
    }
    // Each conversation's first delivery is in flight, held by the receiver: kill now.
    let mut before = Vec::new();
    for _ in 0..conversations.len() {
        before.push(
            tokio::time::timeout(WAIT, arrivals.recv())
                .await
                .expect("deliveries start")
                .unwrap(),
        );
    }
    server.kill9().await;
    hold.store(0, Ordering::SeqCst);

    let server = start_with_env(&data, &log, &[], &env).await;
    let mut ids: BTreeMap<String, (String, u64)> = BTreeMap::new();
    let mut order: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (id, cid, seq) in &before {
        ids.insert(id.clone(), (cid.clone(), *seq));
    }
    while ids.len() < 9 {
        let (id, cid, seq) = tokio::time::timeout(WAIT, arrivals.recv())
            .await
            .expect("every delivery arrives after the restart")
            .unwrap();
        if let Some(known) = ids.get(&id) {
            assert_eq!(
                known,
                &(cid.clone(), seq),
                "a duplicate keeps its webhook-id"
            );
        } else {
            ids.insert(id, (cid.clone(), seq));
        }
        order.entry(cid).or_default().push(seq);
    }
    for cid in conversations {
        let seqs: BTreeSet<u64> = ids
            .values()
            .filter(|(c, _)| c == cid)
            .map(|(_, s)| *s)
            .collect();
        assert_eq!(seqs.len(), 3, "{cid}: every event delivered");
        let arrived = &order[cid];
        let mut sorted = arrived.clone();
        sorted.sort_unstable();
        assert_eq!(arrived, &sorted, "{cid} in order after the restart");
    }
    drop(server);
}
