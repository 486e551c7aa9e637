//! Server-Sent Events: one SSE event per appended event, `id:` = seq, `event:` = type,
//! `data:` = the event exactly as `GET .../events` serves it; `Last-Event-ID` resumes
//! with exactly the missing events, then live ones, with no gap and no duplicate.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{SseFrame, SseReader, TestApp, assert_error, spawn_app};

/// Asserts that `frames` are exactly `events`, in order.
#[track_caller]
fn assert_frames_are(frames: &[SseFrame], events: &[Value]) {
    let got: Vec<u64> = frames.iter().map(SseFrame::seq).collect();
    let want: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(got, want, "SSE ids are the seqs, in order");
    for (frame, event) in frames.iter().zip(events) {
        assert_eq!(
            frame.event.as_deref(),
            event["type"].as_str(),
            "SSE event name is the type"
        );
        assert_eq!(
            frame.json(),
            *event,
            "SSE data is the event as GET .../events serves it"
        );
    }
}

async fn events_after(app: &TestApp, cid: &str, after: u64) -> Vec<Value> {
    app.events(cid)
        .await
        .into_iter()
        .filter(|e| e["seq"].as_u64().unwrap() > after)
        .collect()
}

/// Appends a sentinel and asserts it is the very next frame: proof that nothing
/// (no duplicate, no stray event) was sent in between.
async fn assert_next_is_sentinel(
    app: &TestApp,
    reader: &mut SseReader,
    cid: &str,
    key: &str,
    tag: &str,
) {
    let last = app
        .events(cid)
        .await
        .last()
        .map_or(0, |e| e["seq"].as_u64().unwrap());
    app.append_ok(
        cid,
        json!([{"id": tag, "type": "note", "text": "sentinel"}]),
        key,
    )
    .await;
    let expected = events_after(app, cid, last).await;
    let frames = reader.take(expected.len()).await;
    assert_frames_are(&frames, &expected);
    assert_eq!(frames[0].json()["id"], tag);
}

#[tokio::test]
async fn subscribers_receive_appended_events_live() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    // A conversation without events does not exist, for bots too (issue 11): a stream
    // on it would hold a channel for nothing.
    let early = app.open_stream("live", &bot, None).await;
    assert_eq!(early.status(), StatusCode::NOT_FOUND);
    app.append_ok(
        "live",
        json!([{"type": "customer_message", "text": "hello?"}]),
        &bot,
    )
    .await;
    let mut reader = app.stream("live", &bot, None).await;
    let first = app.events("live").await;
    assert_frames_are(&reader.take(first.len()).await, &first);

    let last = first.last().unwrap()["seq"].as_u64().unwrap();
    app.append_ok(
        "live",
        json!([{"type": "bot_message", "text": "Hi!"}, {"type": "nlu", "intent": "greeting", "confidence": 0.9}]),
        &bot,
    )
    .await;
    let batch = events_after(&app, "live", last).await;
    assert!(batch.len() >= 2);
    assert_frames_are(&reader.take(batch.len()).await, &batch);
    assert_next_is_sentinel(&app, &mut reader, "live", &bot, "s1").await;

    // A second subscriber from the start gets the same history.
    let all = app.events("live").await;
    let mut late = app.stream("live", &bot, None).await;
    assert_frames_are(&late.take(all.len()).await, &all);
}

#[tokio::test]
async fn last_event_id_resumes_with_exactly_the_missing_events_then_live_ones() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    for n in 0..5 {
        app.append_ok(
            "resume",
            json!([{"id": format!("h{n}"), "type": "bot_message", "text": format!("history {n}")}]),
            &bot,
        )
        .await;
    }
    let history = app.events("resume").await;
    let seen = history[1]["seq"].as_u64().unwrap();
    let mut reader = app.stream("resume", &bot, Some(seen)).await;
    let missing = events_after(&app, "resume", seen).await;
    assert_frames_are(&reader.take(missing.len()).await, &missing);

    let caught_up = history.last().unwrap()["seq"].as_u64().unwrap();
    for n in 0..3 {
        app.append_ok(
            "resume",
            json!([{"id": format!("l{n}"), "type": "bot_message", "text": format!("live {n}")}]),
            &bot,
        )
        .await;
    }
    let live = events_after(&app, "resume", caught_up).await;
    assert_frames_are(&reader.take(live.len()).await, &live);
    assert_next_is_sentinel(&app, &mut reader, "resume", &bot, "s2").await;

    // Resuming at the head sends nothing old.
    let head = app.events("resume").await.last().unwrap()["seq"]
        .as_u64()
        .unwrap();
    let mut at_head = app.stream("resume", &bot, Some(head)).await;
    assert_next_is_sentinel(&app, &mut at_head, "resume", &bot, "s3").await;
    // `?after=` is the same without the header.
    let head = app.events("resume").await.last().unwrap()["seq"]
        .as_u64()
        .unwrap();
    let response = app
        .client
        .get(app.url(&format!("/v1/conversations/resume/stream?after={head}")))
        .bearer_auth(&bot)
        .send()
        .await
        .unwrap();
    let mut after = SseReader::new(response);
    assert_next_is_sentinel(&app, &mut after, "resume", &bot, "s4").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_while_appends_race_leaves_no_gap_and_no_duplicate() {
    let app = Arc::new(spawn_app().await);
    let bot = app.key("bot", None).await;
    for n in 0..20 {
        app.append_ok(
            "race",
            json!([{"type": "bot_message", "text": format!("before {n}")}]),
            &bot,
        )
        .await;
    }
    let writer = {
        let (app, bot) = (app.clone(), bot.clone());
        tokio::spawn(async move {
            for n in 0..150 {
                let events: Vec<Value> = (0..(n % 3 + 1))
                    .map(|k| json!({"type": "bot_message", "text": format!("during {n}.{k}")}))
                    .collect();
                app.append_ok("race", Value::Array(events), &bot).await;
            }
        })
    };
    // Subscribe (and resubscribe) at various points while the writer runs.
    let mut readers = Vec::new();
    for resume in [None, Some(7), Some(20)] {
        readers.push((resume.unwrap_or(0), app.stream("race", &bot, resume).await));
        tokio::task::yield_now().await;
    }
    tokio::time::timeout(crate::helpers::WAIT, writer)
        .await
        .expect("writer finishes")
        .unwrap();
    let all = app.events("race").await;
    for (after, reader) in &mut readers {
        let expected: Vec<Value> = all
            .iter()
            .filter(|e| e["seq"].as_u64().unwrap() > *after)
            .cloned()
            .collect();
        assert_frames_are(&reader.take(expected.len()).await, &expected);
    }
    let head = all.last().unwrap()["seq"].as_u64().unwrap();
    app.append_ok(
        "race",
        json!([{"id": "end", "type": "note", "text": "sentinel"}]),
        &bot,
    )
    .await;
    let tail = events_after(&app, "race", head).await;
    for (_, reader) in &mut readers {
        let frames = reader.take(tail.len()).await;
        assert_frames_are(&frames, &tail);
        assert_eq!(
            frames[0].json()["id"],
            "end",
            "nothing between the history and the sentinel"
        );
    }
}

#[tokio::test]
async fn stream_errors_are_json() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    app.append_ok("s", json!([{"type": "bot_message", "text": "hi"}]), &bot)
        .await;
    let response = app
        .client
        .get(app.url("/v1/conversations/s/stream"))
        .bearer_auth(&bot)
        .header("Last-Event-ID", "not-a-number")
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_error(
        &(status, body),
        StatusCode::BAD_REQUEST,
        "invalid_header",
        Some("Last-Event-ID"),
    );
    let response = app.open_stream("bad%20id", &bot, None).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}
