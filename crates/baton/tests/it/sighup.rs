//! `baton serve --policy FILE` re-reads FILE on SIGHUP: decisions made after the reload
//! name the new `name@version` and follow its thresholds, appends in flight while it
//! happens all succeed and are stored, and a file that does not validate leaves the
//! running policy in force.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Server, WAIT, start_with, workspace};

/// Frustration 0.5 (one insult) on a first message: below 0.9, at or above 0.4.
/// Capacity is off so that, with no agents, a handoff stays a handoff.
fn policy(version: &str, frustration_handoff: &str) -> String {
    format!(
        "name = \"test\"\nversion = \"{version}\"\n\n[frustration]\nhandoff_level = {frustration_handoff}\n\n[capacity]\nenabled = false\n"
    )
}
const MESSAGE: &str = "you are useless";
/// What the concurrent clients send: never a handoff under either policy.
const CALM: &str = "hello, where is my parcel?";
const CLIENTS: usize = 8;

async fn append(server: &Server, bot: &str, cid: &str, id: &str, text: &str) -> Value {
    let response = server
        .client
        .post(server.url(&format!("/v1/conversations/{cid}/events")))
        .bearer_auth(bot)
        .json(&json!({"events": [{"id": id, "type": "customer_message", "text": text}]}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{cid}/{id}: {body}");
    body
}

fn hangup(server: &Server) {
    let status = std::process::Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -HUP: {status:?}");
}

/// Waits until the server's log holds `needle` `times` times.
async fn logged(log: &Path, needle: &str, times: usize) {
    tokio::time::timeout(WAIT, async {
        loop {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            if text.matches(needle).count() >= times {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the log shows {needle:?} {times} times"));
}

/// Appends calm messages to its own conversation until told to stop and one append has
/// been decided by the reloaded policy; returns the policy each acknowledged append's
/// decision named, in order.
async fn client(server: Arc<Server>, bot: String, me: usize, stop: Arc<AtomicBool>) -> Vec<String> {
    let cid = format!("steady-{me}");
    let mut policies = Vec::new();
    for n in 0.. {
        if stop.load(Ordering::SeqCst) && policies.last().is_some_and(|p| p == "test@2") {
            break;
        }
        let body = append(&server, &bot, &cid, &format!("s{me}-{n}"), CALM).await;
        assert_eq!(body["decision"]["outcome"], "continue", "{body}");
        policies.push(body["decision"]["policy"].as_str().unwrap().to_owned());
    }
    policies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sighup_reloads_the_policy_without_dropping_appends() {
    let (root, data) = workspace();
    let file = root.path().join("policy.toml");
    let log = root.path().join("serve.log");
    std::fs::write(&file, policy("1", "0.9")).unwrap();
    let server = start_with(&data, &log, &["--policy".as_ref(), file.as_os_str()]).await;
    let server = Arc::new(server);
    let bot = server.key("bot").await;

    let before = append(&server, &bot, "before", "b1", MESSAGE).await;
    assert_eq!(before["decision"]["policy"], "test@1", "{before}");
    assert_eq!(before["decision"]["outcome"], "continue", "{before}");
    let stored = server.events("before").await;
    let decision = stored.iter().find(|e| e["type"] == "decision").unwrap();
    assert_eq!(
        decision["policy"], "test@1",
        "the stored event names it too"
    );

    // Clients keep appending across the reload.
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|me| tokio::spawn(client(server.clone(), bot.clone(), me, stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    std::fs::write(&file, policy("2", "0.4")).unwrap();
    hangup(&server);
    logged(&log, "policy reloaded", 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);

    let after = append(&server, &bot, "after", "a1", MESSAGE).await;
    assert_eq!(after["decision"]["policy"], "test@2", "{after}");
    assert_eq!(after["decision"]["outcome"], "handoff", "{after}");
    assert_eq!(
        after["decision"]["reasons"][0]["code"], "frustration",
        "{after}"
    );

    let (mut acknowledged, mut before_reload) = (0, 0);
    for (me, task) in clients.into_iter().enumerate() {
        let policies = tokio::time::timeout(WAIT, task)
            .await
            .expect("clients stop")
            .unwrap();
        // The clients stop only after an append under test@2, so there is a switch.
        let switch = policies.iter().position(|p| p == "test@2").unwrap();
        let (old, new) = policies.split_at(switch);
        assert!(
            old.iter().all(|p| p == "test@1") && new.iter().all(|p| p == "test@2"),
            "client {me} sees test@1, then only test@2: {policies:?}"
        );
        let log = server.events(&format!("steady-{me}")).await;
        let messages = log
            .iter()
            .filter(|e| e["type"] == "customer_message")
            .count();
        assert_eq!(
            messages,
            policies.len(),
            "client {me}: every acknowledged append is stored"
        );
        acknowledged += policies.len();
        before_reload += switch;
    }
    assert!(
        before_reload > 0,
        "the clients were appending when the reload came"
    );
    eprintln!("{acknowledged} appends acknowledged across the reload, {before_reload} before it");

    // A file that does not validate is refused; test@2 stays in force.
    std::fs::write(&file, policy("3", "7.0")).unwrap();
    hangup(&server);
    logged(&log, "policy reload refused", 1).await;
    let kept = append(&server, &bot, "kept", "k1", MESSAGE).await;
    assert_eq!(kept["decision"]["policy"], "test@2", "{kept}");
    assert_eq!(kept["decision"]["outcome"], "handoff", "{kept}");

    // And a good file after a bad one is picked up again.
    std::fs::write(&file, policy("4", "0.9")).unwrap();
    hangup(&server);
    logged(&log, "policy reloaded", 2).await;
    let last = append(&server, &bot, "last", "l1", MESSAGE).await;
    assert_eq!(last["decision"]["policy"], "test@4", "{last}");
    assert_eq!(last["decision"]["outcome"], "continue", "{last}");
}
