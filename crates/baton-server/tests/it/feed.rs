//! The global feed: `GET /v1/events?after=POS` in commit order across conversations,
//! redacted and authorised per conversation, and `GET /v1/events/stream` resuming with
//! `Last-Event-ID` across a restart with no gap and no duplicate.

use serde_json::{Value, json};

use crate::helpers::{SseReader, TestApp, spawn_app, spawn_app_in};

async fn feed(app: &TestApp, query: &str, key: &str) -> Value {
    let (status, body) = app.get(&format!("/v1/events{query}"), Some(key)).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    body
}

fn lines(page: &Value) -> Vec<(String, u64)> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["conversation"].as_str().unwrap().to_owned(),
                e["event"]["seq"].as_u64().unwrap(),
            )
        })
        .collect()
}

async fn open(app: &TestApp, key: &str, last_event_id: Option<u64>, query: &str) -> SseReader {
    let mut request = app
        .client
        .get(app.url(&format!("/v1/events/stream{query}")))
        .bearer_auth(key);
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id.to_string());
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    SseReader::new(response)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_pages_every_conversation_in_commit_order() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    app.append_ok(
        "c-1",
        json!([{"type": "customer_message", "text": "one"}]),
        &bot,
    )
    .await;
    app.append_ok(
        "c-2",
        json!([{"type": "customer_message", "text": "two"}]),
        &bot,
    )
    .await;
    app.append_ok(
        "c-1",
        json!([{"type": "bot_message", "text": "three"}]),
        &bot,
    )
    .await;
    // Each customer message is followed by baton's decision, in the same commit.
    let page = feed(&app, "", &bot).await;
    assert_eq!(
        lines(&page),
        [
            ("c-1".to_owned(), 1),
            ("c-1".to_owned(), 2),
            ("c-2".to_owned(), 1),
            ("c-2".to_owned(), 2),
            ("c-1".to_owned(), 3)
        ]
    );
    let positions: Vec<u64> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["position"].as_u64().unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(page["next_after"], positions[4]);
    assert_eq!(page["more"], false);
    // Each event is served as GET .../events serves it to this key.
    let served = app.get("/v1/conversations/c-1/events", Some(&bot)).await.1;
    assert_eq!(page["events"][4]["event"], served["events"][2]);

    let rest = feed(&app, &format!("?after={}", positions[0]), &bot).await;
    assert_eq!(lines(&rest).len(), 4);
    let one = feed(&app, "?limit=1", &bot).await;
    assert_eq!((lines(&one).len(), &one["more"]), (1, &json!(true)));
    let typed = feed(&app, "?types=bot_message", &bot).await;
    assert_eq!(lines(&typed), [("c-1".to_owned(), 3)]);
    let (status, _) = app.get("/v1/events?types=sold", Some(&bot)).await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    let (status, _) = app.get("/v1/events?after=-1", Some(&bot)).await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    let (status, _) = app.get("/v1/events", None).await;
    assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_read_only_their_conversations_in_the_feed_and_text_is_redacted() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    app.available_agent("ana", json!({"billing": 3}), 2).await;
    let ana = app.key("agent", Some("ana")).await;
    app.append_ok(
        "c-other",
        json!([{"type": "customer_message", "text": "not for ana"}]),
        &bot,
    )
    .await;
    app.hand_off("c-mine", &bot, &["billing"], "normal").await;
    app.assign("c-mine", "ana", &ana).await;
    let page = feed(&app, "", &ana).await;
    let conversations: std::collections::BTreeSet<String> =
        lines(&page).into_iter().map(|(c, _)| c).collect();
    assert_eq!(conversations.into_iter().collect::<Vec<_>>(), ["c-mine"]);
    assert!(
        page["next_after"].as_u64().unwrap() > 0,
        "reads on past what it may not see"
    );
    // The auditor sees everything the supervisor sees, in clear.
    let auditor = app.key("auditor", None).await;
    let all = feed(&app, "", &auditor).await;
    assert!(lines(&all).iter().any(|(c, _)| c == "c-other"));
    let served = app
        .get("/v1/conversations/c-mine/events", Some(&ana))
        .await
        .1;
    let mine: Vec<&Value> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["event"])
        .collect();
    assert_eq!(
        mine,
        served["events"]
            .as_array()
            .unwrap()
            .iter()
            .take(mine.len())
            .collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_resumes_across_a_restart_with_no_gap_and_no_duplicate() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    app.append_ok(
        "c-1",
        json!([{"type": "customer_message", "text": "before"}]),
        &bot,
    )
    .await;
    // A stream with no Last-Event-ID starts at the head: only what follows.
    let messages = "?types=customer_message,bot_message";
    let mut stream = open(&app, &bot, None, messages).await;
    app.append_ok(
        "c-2",
        json!([{"type": "customer_message", "text": "live 1"}]),
        &bot,
    )
    .await;
    app.append_ok(
        "c-1",
        json!([{"type": "bot_message", "text": "live 2"}]),
        &bot,
    )
    .await;
    let frames = stream.take(2).await;
    let got: Vec<(String, u64)> = frames
        .iter()
        .map(|f| {
            let j = f.json();
            (
                j["conversation"].as_str().unwrap().to_owned(),
                j["event"]["seq"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, [("c-2".to_owned(), 1), ("c-1".to_owned(), 3)]);
    assert_eq!(frames[1].event.as_deref(), Some("bot_message"));
    let last: u64 = frames[1].id.as_deref().unwrap().parse().unwrap();
    drop(stream);

    let dir = app.stop().await;
    let app = spawn_app_in(dir).await;
    let bot = app.key("bot", None).await;
    app.append_ok(
        "c-3",
        json!([{"type": "customer_message", "text": "after 1"}]),
        &bot,
    )
    .await;
    app.append_ok(
        "c-2",
        json!([{"type": "bot_message", "text": "after 2"}]),
        &bot,
    )
    .await;
    let mut resumed = open(&app, &bot, Some(last), messages).await;
    let frames = resumed.take(2).await;
    let ids: Vec<u64> = frames
        .iter()
        .map(|f| f.id.as_deref().unwrap().parse().unwrap())
        .collect();
    assert!(ids[0] > last && ids[1] > ids[0], "{last} then {ids:?}");
    let got: Vec<String> = frames
        .iter()
        .map(|f| f.json()["event"]["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        got,
        ["after 1", "after 2"],
        "exactly what followed, in order"
    );
    // Live events follow the replay; a type filter applies.
    let mut typed = open(&app, &bot, Some(last), "?types=bot_message").await;
    app.append_ok(
        "c-3",
        json!([{"type": "bot_message", "text": "after 3"}]),
        &bot,
    )
    .await;
    let frames = typed.take(2).await;
    let texts: Vec<String> = frames
        .iter()
        .map(|f| f.json()["event"]["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts, ["after 2", "after 3"]);
    let next = resumed.take(1).await;
    assert_eq!(next[0].json()["event"]["text"], "after 3");
}
