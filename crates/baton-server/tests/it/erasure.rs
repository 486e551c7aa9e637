//! Erasure (issue 16): the `erased` event records who, when and why; the data key is
//! destroyed; every role then reads structure with markers; the chain and the
//! checkpoints verify unchanged; nothing readable is left on disk or in PostgreSQL.
//! Also the customer export and retention.

use std::time::Duration;

use baton_core::{Actor, Timestamp};
use baton_server::AppConfig;
use baton_server::retention::{Retention, run_once};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, body, spawn_app_with};
use crate::sealed::{
    SECRET, encrypted, events_as, found_on_disk, recompute, sealed_view, talk, verified,
};

/// What the customer said in `talk` and in the hand-off, and what the bot quoted of it:
/// none of it may be read back once the conversation is erased.
const SAID: [&str; 4] = [
    "Quinta",
    "ends 4242",
    "charge on my statement",
    "billing dispute",
];

#[track_caller]
fn assert_nothing_said(what: &str, read: &Value) {
    let text = read.to_string();
    for needle in SAID {
        assert!(!text.contains(needle), "{what} holds {needle:?}: {text}");
    }
}

/// The wrapped data key the store holds for `cid`.
async fn wrapped_key(app: &TestApp, cid: &str) -> Vec<u8> {
    let record = app.store.data_key(&cid.parse().unwrap()).await.unwrap();
    record.unwrap().wrapped.expect("a live key")
}

async fn delete(app: &TestApp, path: &str, body: Option<Value>, key: &str) -> (StatusCode, Value) {
    let mut request = app.client.delete(app.url(path)).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// An erased conversation takes no new data: an append is refused, naming why.
async fn appends_are_refused(app: &TestApp, cid: &str, bot: &str) {
    let (status, refused) = app
        .append(
            cid,
            &json!({"events": [{"type": "customer_message", "text": "hello?"}]}),
            bot,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["error"]["code"], "conversation_erased");
}

#[tokio::test]
async fn erasure_destroys_the_data_and_keeps_the_chain() {
    let app = spawn_app_with(encrypted()).await;
    let bot = app.key("bot", None).await;
    let auditor = app.key("auditor", None).await;
    talk(&app, "c-gone", &bot).await;
    talk(&app, "c-kept", &bot).await;
    // Agent ana handles c-gone, so her reads after the erasure are checked too.
    let ana = app.key("agent", Some("ana")).await;
    app.available_agent("ana", json!({"billing": 3}), 2).await;
    app.hand_off("c-gone", &bot, &["billing"], "normal").await;
    app.assign("c-gone", "ana", &ana).await;
    for key in [&auditor, &ana] {
        let (status, package) = app.get("/v1/conversations/c-gone/package", Some(key)).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "the package was read (and cached) first: {package}"
        );
    }
    let (_, before) = sealed_view(&app, "c-gone", &auditor).await;
    let checkpoints_before = verified(&app, "/v1/ledger/verify", &auditor).await["checkpoints"]
        .as_u64()
        .unwrap();
    let (gone_key, kept_key) = (
        wrapped_key(&app, "c-gone").await,
        wrapped_key(&app, "c-kept").await,
    );
    assert!(
        !found_on_disk(app.dir.path(), &gone_key).is_empty(),
        "the search finds a live key"
    );

    let reason = json!({"reason": "GDPR art. 17 request #881"});
    let (status, _) = delete(&app, "/v1/conversations/c-gone", Some(reason.clone()), &bot).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let answer = delete(
        &app,
        "/v1/conversations/c-gone",
        Some(json!({})),
        &app.admin_key,
    )
    .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_json", None);
    let (status, _) = delete(
        &app,
        "/v1/conversations/nobody",
        Some(reason.clone()),
        &app.admin_key,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A second admin key asks, so the event must name that key, not the bootstrap one.
    let (status, created) = app
        .post("/v1/keys", &json!({"role": "admin"}), Some(&app.admin_key))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (eraser, eraser_id) = (
        created["key"].as_str().unwrap().to_owned(),
        created["id"].as_str().unwrap().to_owned(),
    );
    let (status, erased) = delete(
        &app,
        "/v1/conversations/c-gone",
        Some(reason.clone()),
        &eraser,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{erased}");
    assert_eq!(erased["conversation"], "c-gone");

    // The sealed form is unchanged, with the erased event after it; all of it verifies.
    let (_, after) = sealed_view(&app, "c-gone", &auditor).await;
    let (before, after) = (
        before["events"].as_array().unwrap(),
        after["events"].as_array().unwrap(),
    );
    assert_eq!(
        &after[..before.len()],
        &before[..],
        "erasure rewrites nothing"
    );
    let last = after.last().unwrap();
    assert_eq!(last["type"], "erased");
    assert_eq!(last["reason"], "GDPR art. 17 request #881");
    assert_eq!(last["by"], "admin");
    assert_eq!(last["key"], eraser_id.as_str(), "the erasing key is named");
    assert_eq!(last["seq"], erased["seq"]);
    recompute(after);
    // The whole ledger (both chains, the checkpoint chain, the access log) and the
    // erased conversation alone (its chain and its checkpointed head) verify.
    let kept = sealed_view(&app, "c-kept", &auditor).await.1["events"]
        .as_array()
        .unwrap()
        .len();
    let all = verified(&app, "/v1/ledger/verify", &auditor).await;
    assert_eq!(all["conversations"], 2, "{all}");
    assert_eq!(all["events"], after.len() + kept, "{all}");
    assert!(
        all["checkpoints"].as_u64().unwrap() > checkpoints_before,
        "the erasure's commit was checkpointed after the earlier ones: {all}"
    );
    assert!(all["access_entries"].as_u64().unwrap() > 0, "{all}");
    let one = verified(&app, "/v1/ledger/verify?conversation=c-gone", &auditor).await;
    assert_eq!(one["conversations"], 1, "{one}");
    assert_eq!(one["events"], after.len(), "{one}");

    // No copy of the destroyed key is left in any file, log included, while the other
    // conversation's key, searched the same way, is found.
    assert_eq!(
        found_on_disk(app.dir.path(), &gone_key),
        Vec::<String>::new()
    );
    assert!(!found_on_disk(app.dir.path(), &kept_key).is_empty());

    // Every role reads structure and markers: events, state and package.
    let supervisor = app.key("supervisor", None).await;
    for (role, key) in [
        ("auditor", &auditor),
        ("admin", &app.admin_key),
        ("supervisor", &supervisor),
        ("bot", &bot),
        ("agent", &ana),
    ] {
        let events = events_as(&app, "c-gone", key).await;
        assert_nothing_said(role, &json!(events));
        assert_eq!(events[0]["type"], "customer_message", "{role}");
        assert_eq!(events[0]["erased"], true, "{role}");
        assert_eq!(events[0]["text"], "[erased]", "{role}");
        assert!(events[0].get("meta").is_none(), "{role}");
        assert_eq!(
            events[1]["customer_id"], "cust-77",
            "{role}: structure stays"
        );
        assert!(
            events[1].get("erased").is_none(),
            "{role}: nothing was sealed in it"
        );
        assert_eq!(events[2]["intent"], "billing", "{role}");
        assert!(events[2].get("entities").is_none(), "{role}");
        let handoff = events
            .iter()
            .find(|e| e["type"] == "handoff_requested")
            .unwrap();
        assert_eq!(handoff["erased"], true, "{role}: {handoff}");
        assert_eq!(handoff["skills"], json!(["billing"]), "{role}: {handoff}");
        for path in [
            "/v1/conversations/c-gone",
            "/v1/conversations/c-gone/package",
            "/v1/conversations/c-gone/package?format=markdown",
        ] {
            let (status, read) = app.get(path, Some(key)).await;
            assert_eq!(status, StatusCode::OK, "{role} {path}: {read}");
            assert_nothing_said(&format!("{role} {path}"), &read);
        }
    }
    // A stream opened after the erasure replays what a read shows: markers.
    let shown = events_as(&app, "c-gone", &ana).await;
    let mut stream = app.stream("c-gone", &ana, None).await;
    let streamed: Vec<Value> = stream
        .take(shown.len())
        .await
        .iter()
        .map(|frame| frame.json())
        .collect();
    assert_eq!(streamed, shown);
    assert_eq!(streamed[0]["erased"], true);
    assert_eq!(streamed.last().unwrap()["type"], "erased");
    drop(stream);
    // The other conversation is untouched.
    assert_eq!(events_as(&app, "c-kept", &auditor).await[0]["text"], SECRET);

    let answer = delete(
        &app,
        "/v1/conversations/c-gone",
        Some(reason),
        &app.admin_key,
    )
    .await;
    assert_error(&answer, StatusCode::CONFLICT, "already_erased", None);
    appends_are_refused(&app, "c-gone", &bot).await;

    let dir = app.stop().await;
    assert_eq!(found_on_disk(dir.path(), &gone_key), Vec::<String>::new());
    // The other conversation's data is sealed too, so nothing of either is on disk.
    assert_eq!(found_on_disk(dir.path(), b"Quinta"), Vec::<String>::new());
    // The card digits alone are too short a needle: four digits turn up by chance in
    // hex hashes and ciphertext, so look for the phrase that carries them.
    assert_eq!(
        found_on_disk(dir.path(), b"ends 4242"),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn erasing_a_customer_erases_each_of_its_conversations_and_export_shows_all() {
    let app = spawn_app_with(encrypted()).await;
    let bot = app.key("bot", None).await;
    let auditor = app.key("auditor", None).await;
    talk(&app, "c-one", &bot).await;
    talk(&app, "c-two", &bot).await;
    app.append_ok(
        "c-other",
        json!([{"type": "customer_message", "text": "unrelated"}]),
        &bot,
    )
    .await;

    let (status, _) = app.get("/v1/customers/cust-77/export", Some(&bot)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, export) = app
        .get("/v1/customers/cust-77/export", Some(&auditor))
        .await;
    assert_eq!(status, StatusCode::OK, "{export}");
    insta::assert_json_snapshot!("customer_export", export, {
        ".exported_at" => "[time]",
        ".conversations[].events[].at" => "[time]",
        ".conversations[].events[].id" => "[id]",
        ".conversations[].events[].hash" => "[hash]",
        ".conversations[].state" => "[state]",
    });
    let (status, _) = app.get("/v1/customers/nobody/export", Some(&auditor)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, erased) = delete(
        &app,
        "/v1/customers/cust-77",
        Some(json!({"reason": "account closed"})),
        &app.admin_key,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{erased}");
    let ids: Vec<&str> = erased["erased"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["conversation"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["c-one", "c-two"]);
    let (_, export) = app
        .get("/v1/customers/cust-77/export", Some(&auditor))
        .await;
    for conversation in export["conversations"].as_array().unwrap() {
        assert_eq!(conversation["erased"], true);
        assert!(!conversation.to_string().contains("Quinta"));
    }
    assert_eq!(
        events_as(&app, "c-other", &auditor).await[0]["text"],
        "unrelated"
    );
}

#[tokio::test]
async fn retention_erases_exactly_the_conversations_closed_too_long() {
    let clock = baton_server::clock::Clock::manual(Timestamp::from_unix_millis(1_800_000_000_000));
    let app = spawn_app_with(AppConfig {
        clock: clock.clone(),
        ..encrypted()
    })
    .await;
    let bot = app.key("bot", None).await;
    let resolved = || body(json!({"type": "resolved", "resolution": "refund sent to Quinta Lane"}));
    // Closed long ago, closed recently, and open long ago.
    for cid in ["c-old-closed", "c-open"] {
        talk(&app, cid, &bot).await;
    }
    app.seed("c-old-closed-seeded", vec![(Actor::System, resolved())])
        .await;
    let day = Duration::from_secs(86_400);
    // Close c-old-closed through the log, as baton would.
    app.state
        .conversations
        .snapshot(
            app.state.store.as_ref(),
            &app.state.policy(),
            &"c-old-closed".parse().unwrap(),
        )
        .await
        .unwrap();
    {
        let cid: baton_core::ConversationId = "c-old-closed".parse().unwrap();
        let mut live = app
            .state
            .conversations
            .lock(app.state.store.as_ref(), &app.state.policy(), &cid)
            .await
            .unwrap();
        baton_server::append::write_system(&app.state, &cid, &mut live, resolved())
            .await
            .unwrap();
    }
    clock.advance(31 * day);
    talk(&app, "c-new-closed", &bot).await;
    {
        let cid: baton_core::ConversationId = "c-new-closed".parse().unwrap();
        let mut live = app
            .state
            .conversations
            .lock(app.state.store.as_ref(), &app.state.policy(), &cid)
            .await
            .unwrap();
        baton_server::append::write_system(&app.state, &cid, &mut live, resolved())
            .await
            .unwrap();
    }
    let retention = Retention {
        closed_after_days: 30,
    };
    assert_eq!(run_once(&app.state, retention).await.unwrap(), 2);
    assert_eq!(
        run_once(&app.state, retention).await.unwrap(),
        0,
        "nothing twice"
    );
    let auditor = app.key("auditor", None).await;
    for (cid, erased) in [
        ("c-old-closed", true),
        ("c-old-closed-seeded", true),
        ("c-open", false),
        ("c-new-closed", false),
    ] {
        let events = events_as(&app, cid, &auditor).await;
        assert_eq!(events.last().unwrap()["type"] == "erased", erased, "{cid}");
        if erased {
            assert_eq!(events.last().unwrap()["by"], "retention");
            assert!(
                events.last().unwrap().get("key").is_none(),
                "retention has no key"
            );
        }
    }
    let (_, metrics) = (
        StatusCode::OK,
        baton_server::http_client::builder()
            .build()
            .unwrap()
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    assert!(
        metrics.contains("baton_retention_erased_total"),
        "{metrics}"
    );
}

#[tokio::test]
async fn on_postgres_no_table_holds_an_erased_conversations_plaintext() {
    let Some(schema) = crate::helpers::postgres_schema().await else {
        return;
    };
    let scratch = schema.scratch.clone();
    let store = baton_store::postgres::PgStore::open(
        scratch.connect_options(),
        baton_store::postgres::PgOptions::default(),
    )
    .await
    .unwrap();
    let app = crate::helpers::spawn_app_on_store_with(
        std::sync::Arc::new(store),
        Some(schema),
        encrypted(),
    )
    .await;
    let bot = app.key("bot", None).await;
    talk(&app, "c-pg", &bot).await;
    let (status, _) = delete(
        &app,
        "/v1/conversations/c-pg",
        Some(json!({"reason": "erase me"})),
        &app.admin_key,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let auditor = app.key("auditor", None).await;
    let (_, sealed) = sealed_view(&app, "c-pg", &auditor).await;
    let events = sealed["events"].as_array().unwrap().len();
    assert_eq!(sealed["events"][events - 1]["type"], "erased");
    let all = verified(&app, "/v1/ledger/verify", &auditor).await;
    assert_eq!(
        (&all["conversations"], &all["events"]),
        (&json!(1), &json!(events))
    );
    assert!(all["checkpoints"].as_u64().unwrap() > 0, "{all}");
    let one = verified(&app, "/v1/ledger/verify?conversation=c-pg", &auditor).await;
    assert_eq!(one["events"], events, "{one}");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(scratch.connect_options())
        .await
        .unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(tables.iter().any(|t| t == "events") && tables.iter().any(|t| t == "data_keys"));
    for table in tables {
        let hits: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM \"{table}\" t WHERE t::text LIKE '%Quinta%' OR t::text LIKE '%ends 4242%'"
        )))
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(hits, 0, "table {table} holds plaintext");
    }
    let wrapped: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT wrapped FROM data_keys WHERE conversation = 'c-pg'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(wrapped, None, "the key is gone");
}

#[tokio::test]
async fn an_erasure_whose_scrub_is_busy_is_reported_incomplete_until_a_repeat_finds_it_done() {
    let mut faulty = None;
    let app = crate::helpers::spawn_app_over(tempfile::tempdir().unwrap(), encrypted(), |store| {
        let wrapped = crate::faulty_store::FaultyStore::new(store);
        faulty = Some(std::sync::Arc::clone(&wrapped));
        wrapped
    })
    .await;
    let faulty = faulty.unwrap();
    let bot = app.key("bot", None).await;
    let auditor = app.key("auditor", None).await;
    talk(&app, "c-busy", &bot).await;
    let reason = || Some(json!({"reason": "GDPR art. 17 request #882"}));
    let erase = || delete(&app, "/v1/conversations/c-busy", reason(), &app.admin_key);

    faulty.set_scrub_busy(true);
    let answer = erase().await;
    assert_error(
        &answer,
        StatusCode::SERVICE_UNAVAILABLE,
        "erasure_incomplete",
        None,
    );
    // The erasure itself stands: recorded, the data unreadable, appends refused.
    let events = events_as(&app, "c-busy", &auditor).await;
    assert_eq!(events.last().unwrap()["type"], "erased");
    assert_eq!(events[0]["text"], "[erased]");
    assert_nothing_said("the events", &json!(events));
    appends_are_refused(&app, "c-busy", &bot).await;
    // While the scrub stays busy a repeat says so, not that all is done.
    assert_error(
        &erase().await,
        StatusCode::SERVICE_UNAVAILABLE,
        "erasure_incomplete",
        None,
    );

    faulty.set_scrub_busy(false);
    assert_error(&erase().await, StatusCode::CONFLICT, "already_erased", None);
    let events = events_as(&app, "c-busy", &auditor).await;
    assert_eq!(
        events.iter().filter(|e| e["type"] == "erased").count(),
        1,
        "one erased event however many tries"
    );
    verified(&app, "/v1/ledger/verify", &auditor).await;
}

#[tokio::test]
async fn a_retention_in_the_policy_runs_on_its_own_unless_the_server_sets_another() {
    let with_policy = |days: u32| {
        let mut policy = baton_core::policy::Policy::default();
        policy.retention.closed_after_days = Some(days);
        policy
    };
    let clock = baton_server::clock::Clock::manual(Timestamp::from_unix_millis(1_800_000_000_000));
    let app = spawn_app_with(AppConfig {
        clock: clock.clone(),
        policy: with_policy(30),
        ..encrypted()
    })
    .await;
    assert_eq!(
        baton_server::retention::in_force(&app.state),
        Some(Retention {
            closed_after_days: 30
        })
    );
    // Closed long before the clock's now: the periodic task, started with the app and
    // woken by a move of its clock, erases it without anyone calling a run.
    app.seed(
        "c-closed-long-ago",
        vec![(
            Actor::System,
            body(json!({"type": "resolved", "resolution": "answered"})),
        )],
    )
    .await;
    clock.advance(Duration::from_secs(3_600));
    let auditor = app.key("auditor", None).await;
    crate::helpers::eventually("the retention task erases it", async || {
        let events = events_as(&app, "c-closed-long-ago", &auditor).await;
        (events.last()?["type"] == "erased").then_some(())
    })
    .await;

    // The server's own setting wins over the policy's; neither: none.
    let both = spawn_app_with(AppConfig {
        policy: with_policy(30),
        retention: Some(Retention {
            closed_after_days: 7,
        }),
        ..encrypted()
    })
    .await;
    assert_eq!(
        baton_server::retention::in_force(&both.state),
        Some(Retention {
            closed_after_days: 7
        })
    );
    let neither = spawn_app_with(encrypted()).await;
    assert_eq!(baton_server::retention::in_force(&neither.state), None);
}
