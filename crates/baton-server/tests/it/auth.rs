//! Keys and roles: 401 without a known key, 403 for a role that may not make the call,
//! and agents see only the conversations assigned or offered to them (404 otherwise).

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, body, spawn_app};
use baton_core::Actor;

#[tokio::test]
async fn v1_calls_need_a_known_key() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    app.append_ok(
        "conv-a",
        json!([{"type": "bot_message", "text": "hi"}]),
        &bot,
    )
    .await;
    let calls = [
        "/v1/conversations/conv-a",
        "/v1/conversations/conv-a/events",
        "/v1/conversations/conv-a/stream",
        "/v1/ledger/verify",
    ];
    for path in calls {
        assert_error(
            &app.get(path, None).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            None,
        );
        assert_error(
            &app.get(path, Some("baton_0000")).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            None,
        );
    }
    let append = json!({"events": [{"type": "bot_message", "text": "hi"}]});
    assert_error(
        &app.post("/v1/conversations/conv-a/events", &append, None)
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        None,
    );
    let wrong = app
        .post(
            "/v1/conversations/conv-a/events",
            &append,
            Some(&format!("{bot}x")),
        )
        .await;
    assert_error(&wrong, StatusCode::UNAUTHORIZED, "unauthorized", None);
    assert_error(
        &app.post("/v1/keys", &json!({"role": "bot"}), None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        None,
    );

    // A scheme other than Bearer is refused too.
    let basic = app
        .client
        .get(app.url("/v1/conversations/conv-a"))
        .header("authorization", format!("Basic {bot}"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.events("conv-a").await.len(),
        1,
        "nothing written by refused calls"
    );
}

#[tokio::test]
async fn roles_limit_what_a_key_may_do() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let auditor = app.key("auditor", None).await;
    let supervisor = app.key("supervisor", None).await;
    app.append_ok(
        "conv-r",
        json!([{"type": "bot_message", "text": "hi"}]),
        &bot,
    )
    .await;
    let before = app.events("conv-r").await;

    let append = json!({"events": [{"type": "note", "text": "an auditor's note"}]});
    for key in [&auditor, &supervisor] {
        assert_error(
            &app.append("conv-r", &append, key).await,
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        );
    }
    assert_eq!(app.events("conv-r").await, before);

    for key in [&bot, &auditor, &supervisor] {
        assert_error(
            &app.post("/v1/keys", &json!({"role": "admin"}), Some(key))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        );
    }
    for key in [&bot, &supervisor] {
        assert_error(
            &app.get("/v1/ledger/verify", Some(key)).await,
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        );
    }
    for key in [&auditor, &app.admin_key] {
        let (status, report) = app.get("/v1/ledger/verify", Some(key)).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["ok"], true);
    }
    // Readers may read.
    for key in [&bot, &auditor, &supervisor] {
        assert_eq!(
            app.get("/v1/conversations/conv-r", Some(key)).await.0,
            StatusCode::OK
        );
        assert_eq!(
            app.get("/v1/conversations/conv-r/events", Some(key))
                .await
                .0,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn keys_are_issued_by_admins_with_valid_roles() {
    let app = spawn_app().await;
    let admin = app.admin_key.clone();
    let missing = app
        .post("/v1/keys", &json!({"role": "agent"}), Some(&admin))
        .await;
    assert_error(
        &missing,
        StatusCode::UNPROCESSABLE_ENTITY,
        "missing_field",
        Some("agent_id"),
    );
    let stray = app
        .post(
            "/v1/keys",
            &json!({"role": "bot", "agent_id": "ana"}),
            Some(&admin),
        )
        .await;
    assert_error(
        &stray,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("agent_id"),
    );
    let bad_agent = app
        .post(
            "/v1/keys",
            &json!({"role": "agent", "agent_id": "a b"}),
            Some(&admin),
        )
        .await;
    assert_error(
        &bad_agent,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("agent_id"),
    );
    let bad_role = app
        .post("/v1/keys", &json!({"role": "overlord"}), Some(&admin))
        .await;
    assert_error(
        &bad_role,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("role"),
    );

    let (status, created) = app
        .post(
            "/v1/keys",
            &json!({"role": "agent", "agent_id": "ana"}),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["agent_id"], "ana");
    let key = created["key"].as_str().unwrap();
    assert!(key.starts_with("baton_") && key.len() == 6 + 64, "{key}");
    let other = app.key("agent", Some("ana")).await;
    assert_ne!(key, other, "every key is fresh");
    // A newly issued admin key can issue keys itself.
    let admin2 = app.key("admin", None).await;
    assert_eq!(
        app.post("/v1/keys", &json!({"role": "bot"}), Some(&admin2))
            .await
            .0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn agents_see_only_conversations_assigned_to_them() {
    let app = spawn_app().await;
    let ana = app.key("agent", Some("ana")).await;
    let bob = app.key("agent", Some("bob")).await;
    let bot = app.key("bot", None).await;
    app.seed(
        "conv-ana",
        vec![
            (
                Actor::Customer,
                body(json!({"type": "customer_message", "text": "I need a human"})),
            ),
            (
                Actor::System,
                body(json!({"type": "assigned", "agent_id": "ana"})),
            ),
        ],
    )
    .await;
    app.append_ok(
        "conv-bot",
        json!([{"type": "bot_message", "text": "hi"}]),
        &bot,
    )
    .await;

    for path in [
        "/v1/conversations/conv-ana",
        "/v1/conversations/conv-ana/events",
    ] {
        let (status, answer) = app.get(path, Some(&ana)).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_error(
            &app.get(path, Some(&bob)).await,
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        );
    }
    for path in [
        "/v1/conversations/conv-bot",
        "/v1/conversations/conv-bot/events",
        "/v1/conversations/nowhere",
    ] {
        assert_error(
            &app.get(path, Some(&ana)).await,
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        );
    }
    assert_eq!(
        app.open_stream("conv-ana", &bob, None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.open_stream("conv-bot", &ana, None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.open_stream("conv-ana", &ana, None).await.status(),
        StatusCode::OK
    );

    // Writing to a conversation one cannot see looks the same as reading it.
    let before = app.events("conv-ana").await;
    let reply = json!({"events": [{"type": "agent_message", "text": "Hello, Bob here"}]});
    assert_error(
        &app.append("conv-ana", &reply, &bob).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    assert_error(
        &app.append("conv-bot", &reply, &ana).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    assert_eq!(app.events("conv-ana").await, before);

    // An agent key writes only as its own agent.
    let spoof = json!({"events": [{"type": "agent_message", "text": "hi", "actor": "agent:bob"}]});
    assert_error(
        &app.append("conv-ana", &spoof, &ana).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        Some("events[0].actor"),
    );
    let as_bot = json!({"events": [{"type": "bot_message", "text": "hi", "actor": "bot"}]});
    assert_error(
        &app.append("conv-ana", &as_bot, &ana).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        Some("events[0].actor"),
    );
    assert_eq!(app.events("conv-ana").await, before);
}
