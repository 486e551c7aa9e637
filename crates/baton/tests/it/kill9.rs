//! Acknowledged means durable: 32 clients append to the real `baton serve` while it is
//! killed with SIGKILL mid-load; after a restart every acknowledged event is there with
//! the seq and hash it was acknowledged with, and the ledger verifies.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{run, start, workspace};

const CLIENTS: usize = 32;
/// Clients 0..16 own a conversation each; the rest share four, to contend on them.
fn conversation(client: usize) -> String {
    if client < 16 {
        format!("solo-{client}")
    } else {
        format!("shared-{}", client % 4)
    }
}

/// One acknowledged append.
#[derive(Debug, Clone)]
struct Ack {
    cid: String,
    ids: Vec<String>,
    seq: u64,
    hash: String,
}

async fn client(
    http: reqwest::Client,
    base: String,
    bot: String,
    me: usize,
    killing: Arc<AtomicBool>,
) -> Vec<Ack> {
    let cid = conversation(me);
    let url = format!("{base}/v1/conversations/{cid}/events");
    let mut acks = Vec::new();
    for n in 0.. {
        if killing.load(Ordering::SeqCst) {
            break;
        }
        let size = if n % 3 == 0 { 2 + n % 3 } else { 1 };
        let ids: Vec<String> = (0..size).map(|k| format!("c{me}-{n}-{k}")).collect();
        let events: Vec<Value> = ids
            .iter()
            .enumerate()
            .map(|(k, id)| {
                let kind = if k % 2 == 0 { "customer_message" } else { "bot_message" };
                json!({"id": id, "type": kind, "text": format!("client {me} request {n} event {k}")})
            })
            .collect();
        match http
            .post(&url)
            .bearer_auth(&bot)
            .json(&json!({"events": events}))
            .send()
            .await
        {
            Ok(response) => {
                let status = response.status();
                let body: Result<Value, _> = response.json().await;
                match (status, body) {
                    (StatusCode::OK, Ok(body)) => acks.push(Ack {
                        cid: cid.clone(),
                        ids,
                        seq: body["seq"].as_u64().unwrap(),
                        hash: body["hash"].as_str().unwrap().to_owned(),
                    }),
                    // The answer was cut off by the kill: not acknowledged.
                    (_, Err(_)) if killing.load(Ordering::SeqCst) => break,
                    (status, body) => panic!("client {me}: unexpected answer {status} {body:?}"),
                }
            }
            Err(_) if killing.load(Ordering::SeqCst) => break,
            Err(error) => panic!("client {me}: request failed before the kill: {error}"),
        }
    }
    acks
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_event_survives_kill_9() {
    let (root, data) = workspace();
    let server = start(&data, &root.path().join("serve-1.log")).await;
    let bot = server.key("bot").await;
    let killing = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|me| {
            tokio::spawn(client(
                server.client.clone(),
                server.base.clone(),
                bot.clone(),
                me,
                killing.clone(),
            ))
        })
        .collect();

    // Let the load run, then kill the server under it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    killing.store(true, Ordering::SeqCst);
    server.kill9().await;
    let mut acks: Vec<Ack> = Vec::new();
    for task in clients {
        acks.extend(
            tokio::time::timeout(crate::helpers::WAIT, task)
                .await
                .expect("clients stop")
                .unwrap(),
        );
    }
    let acknowledged_events: usize = acks.iter().map(|a| a.ids.len()).sum();
    assert!(
        acks.len() >= CLIENTS,
        "the load got going: {} acknowledged requests",
        acks.len()
    );
    eprintln!(
        "{} requests ({acknowledged_events} events) acknowledged before SIGKILL",
        acks.len()
    );

    // Restart on the same directory and find every acknowledged event.
    let server = start(&data, &root.path().join("serve-2.log")).await;
    let mut logs: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for me in 0..CLIENTS {
        let cid = conversation(me);
        if !logs.contains_key(&cid) {
            logs.insert(cid.clone(), server.events(&cid).await);
        }
    }
    for ack in &acks {
        let log = &logs[&ack.cid];
        let find = |id: &str| {
            log.iter()
                .find(|e| e["id"] == id)
                .unwrap_or_else(|| panic!("acknowledged {id} is lost"))
        };
        let seqs: Vec<u64> = ack
            .ids
            .iter()
            .map(|id| find(id)["seq"].as_u64().unwrap())
            .collect();
        assert!(
            seqs.windows(2).all(|w| w[1] == w[0] + 1),
            "a batch is stored contiguously, in order: {seqs:?}"
        );
        let at_ack = &log[usize::try_from(ack.seq).unwrap() - 1];
        assert_eq!(at_ack["seq"], ack.seq);
        assert_eq!(
            at_ack["hash"],
            ack.hash.as_str(),
            "the acknowledged hash is the stored one"
        );
        let last = *seqs.last().unwrap();
        assert!(ack.seq >= last);
        for derived in &log[usize::try_from(last).unwrap()..usize::try_from(ack.seq).unwrap()] {
            assert_eq!(
                derived["actor"], "system",
                "only baton's own events follow a batch in its answer"
            );
        }
    }
    let stored: usize = logs.values().map(Vec::len).sum();
    assert!(stored >= acknowledged_events);

    let report = server.get("/v1/ledger/verify").await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["verified"]["events"], stored as u64, "{report}");
    server.kill9().await;

    let output = run(&["ledger", "verify"], &data).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout {stdout} stderr {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.starts_with("ok: "), "{stdout}");
}
