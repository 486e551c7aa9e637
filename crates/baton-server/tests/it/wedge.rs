//! A client that gives up must not wedge its conversation; a slow commit must not slow
//! reads; a commit whose outcome is unknown is re-read from the store.

use std::time::Duration;

use baton_core::{ConversationId, ConversationState, Event};
use baton_server::append::AppendRequest;
use baton_server::auth::Principal;
use baton_server::flow::append_events;
use baton_store::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::faulty_store::{Mode, spawn_faulty};
use crate::helpers::{TestApp, WAIT, eventually};

fn message(id: &str, text: &str) -> Value {
    json!({"id": id, "type": "customer_message", "text": text})
}

fn bot() -> Principal {
    Principal::in_process(Role::Bot, None)
}

/// The live state as a fold of the stored log: `(last_seq, owner)`.
async fn fold_of_log(app: &TestApp, cid: &str) -> (u64, String) {
    let parsed: Vec<Event> = app
        .events(cid)
        .await
        .into_iter()
        .map(|mut e| {
            e.as_object_mut().unwrap().remove("hash");
            serde_json::from_value(e).unwrap()
        })
        .collect();
    let fold = ConversationState::from_events(&parsed);
    (fold.last_seq, fold.owner.as_str().to_owned())
}

/// A fresh append chains, and the live state equals a fold of the stored log (once
/// appends whose clients gave up, which still run to completion, have landed).
async fn assert_not_wedged(app: &TestApp, cid: &str, bot_key: &str) {
    let body = json!({"events": [message(&format!("{cid}-fresh"), "still there?")]});
    let (status, answer) = app.append(cid, &body, bot_key).await;
    assert_eq!(status, StatusCode::OK, "{cid} is wedged: {answer}");
    let last = eventually("the live state to equal the log", async || {
        let (seq, owner) = fold_of_log(app, cid).await;
        let state = app.state(cid).await;
        (state["last_seq"] == json!(seq) && state["owner"] == json!(owner)).then_some(seq)
    })
    .await;
    let body = json!({"events": [message(&format!("{cid}-next"), "and now?")],
        "expected_seq": last});
    let (status, answer) = app.append(cid, &body, bot_key).await;
    assert_eq!(status, StatusCode::OK, "{cid}: {answer}");
}

#[tokio::test]
async fn an_append_dropped_after_handing_over_its_batch_still_advances_the_conversation() {
    let (app, faulty) = spawn_faulty().await;
    let bot_key = app.key("bot", None).await;
    app.append_ok("w1", json!([message("w1-a", "hello")]), &bot_key)
        .await;
    let last = app.state("w1").await["last_seq"].as_u64().unwrap();

    faulty.set(Mode::Hold);
    let state = app.state.clone();
    let cid = ConversationId::parse("w1").unwrap();
    let request = AppendRequest {
        events: vec![message("w1-b", "are you there")],
        expected_seq: Some(last),
    };
    let caller = tokio::spawn(async move { append_events(&state, &bot(), &cid, request).await });
    tokio::time::timeout(WAIT, faulty.entered.notified())
        .await
        .expect("the batch reaches the store");
    // The client gives up while the batch is being committed.
    caller.abort();
    assert!(caller.await.unwrap_err().is_cancelled());
    faulty.release();

    // The retry of the same event is answered with the first result, not 409.
    let retry = json!({"events": [message("w1-b", "are you there")], "expected_seq": last});
    let (status, answer) = app.append("w1", &retry, &bot_key).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer["seq"].as_u64().unwrap() > last);
    assert_not_wedged(&app, "w1", &bot_key).await;
}

#[tokio::test]
async fn a_commit_whose_outcome_is_unknown_is_reloaded_from_the_store() {
    let (app, faulty) = spawn_faulty().await;
    let bot_key = app.key("bot", None).await;
    app.append_ok("u1", json!([message("u1-a", "hello")]), &bot_key)
        .await;
    faulty.set(Mode::FailAfterCommit);
    let (status, _) = app
        .append(
            "u1",
            &json!({"events": [message("u1-b", "more")]}),
            &bot_key,
        )
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    faulty.set(Mode::Normal);
    // The batch did commit: the live state must say so.
    let events = app.events("u1").await;
    assert!(events.iter().any(|e| e["id"] == "u1-b"));
    assert_not_wedged(&app, "u1", &bot_key).await;
}

#[tokio::test]
async fn a_stalled_commit_does_not_stall_reads_of_its_conversation() {
    let (app, faulty) = spawn_faulty().await;
    let bot_key = app.key("bot", None).await;
    let first = app
        .append_ok("s1", json!([message("s1-a", "hello")]), &bot_key)
        .await;
    faulty.set(Mode::Hold);
    let writer = {
        let (client, url, key) = (
            app.client.clone(),
            app.url("/v1/conversations/s1/events"),
            bot_key.clone(),
        );
        tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(key)
                .json(&json!({"events": [message("s1-b", "slow one")]}))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    tokio::time::timeout(WAIT, faulty.entered.notified())
        .await
        .expect("the batch reaches the store");
    let bound = Duration::from_secs(2);
    for path in [
        "/v1/conversations/s1",
        "/v1/conversations/s1/events",
        "/v1/conversations/s1/package",
    ] {
        let read = tokio::time::timeout(bound, app.get(path, Some(&app.admin_key))).await;
        let (status, body) = read.unwrap_or_else(|_| panic!("{path} waited for the writer"));
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    // Reads serve the last committed state.
    let (_, state) = app.get("/v1/conversations/s1", Some(&app.admin_key)).await;
    assert_eq!(state["last_seq"], first["seq"]);
    let stream = tokio::time::timeout(bound, app.open_stream("s1", &app.admin_key, None))
        .await
        .expect("a stream opens while a commit is stalled");
    assert_eq!(stream.status(), StatusCode::OK);
    faulty.release();
    assert_eq!(writer.await.unwrap(), StatusCode::OK);
    assert_not_wedged(&app, "s1", &bot_key).await;
}

/// The load test: clients with random short timeouts append concurrently to a
/// few conversations; afterwards none is wedged and each live state equals its log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_giving_up_at_random_never_wedge_a_conversation() {
    let (app, faulty) = spawn_faulty().await;
    faulty.set(Mode::Slow);
    let bot_key = app.key("bot", None).await;
    let conversations: Vec<String> = (0..8).map(|i| format!("load-{i}")).collect();
    let mut clients = Vec::new();
    for client in 0..16 {
        let (base, key, conversations) = (app.base.clone(), bot_key.clone(), conversations.clone());
        clients.push(tokio::spawn(async move {
            let mut gave_up = 0;
            for turn in 0..12 {
                let timeout = Duration::from_millis(rand::random_range(1..8));
                let http = baton_server::http_client::builder()
                    .timeout(timeout)
                    .build()
                    .unwrap();
                let cid = &conversations[(client + turn) % conversations.len()];
                let body = json!({"events": [message(&format!("c{client}-t{turn}"), "hi")]});
                let sent = http
                    .post(format!("{base}/v1/conversations/{cid}/events"))
                    .bearer_auth(&key)
                    .json(&body)
                    .send()
                    .await;
                match sent {
                    Ok(response) => assert!(
                        response.status() == StatusCode::OK,
                        "{cid}: {}",
                        response.status()
                    ),
                    Err(error) => {
                        assert!(error.is_timeout(), "{error}");
                        gave_up += 1;
                    }
                }
            }
            gave_up
        }));
    }
    let mut gave_up = 0;
    for client in clients {
        gave_up += tokio::time::timeout(WAIT, client).await.unwrap().unwrap();
    }
    assert!(gave_up > 0, "no client gave up: the test exercised nothing");
    faulty.set(Mode::Normal);
    for cid in &conversations {
        if app.try_events(cid).await.is_some() {
            assert_not_wedged(&app, cid, &bot_key).await;
        }
    }
}
