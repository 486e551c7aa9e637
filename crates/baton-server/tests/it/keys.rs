//! Key lifecycle: list without secrets, revoke at once (cache included), expiry, and
//! the last working admin key that cannot be revoked.

use std::time::Duration;

use baton_server::AppConfig;
use baton_server::clock::Clock;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, spawn_app, spawn_app_with};

/// The listed key with public id `id`.
async fn listed(app: &TestApp, id: &str) -> Value {
    let (status, list) = app.get("/v1/keys", Some(&app.admin_key)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} is not listed: {list}"))
}

async fn revoke(app: &TestApp, id: &str, key: &str) -> (StatusCode, Value) {
    app.call(Method::DELETE, &format!("/v1/keys/{id}"), None, key)
        .await
}

#[tokio::test]
async fn keys_are_listed_without_secrets_and_revoked_at_once() {
    let app = spawn_app().await;
    let (status, created) = app
        .post(
            "/v1/keys",
            &json!({"role": "bot", "name": "zendesk bot"}),
            Some(&app.admin_key),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let bot = created["key"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("key_") && id.len() == 20, "{id}");
    assert!(!bot.contains(&id[4..]), "the id is not part of the secret");
    assert_eq!(created["role"], "bot");
    assert_eq!(created["name"], "zendesk bot");
    assert_eq!(created["expires_at"], Value::Null);

    let (_, list) = app.get("/v1/keys", Some(&app.admin_key)).await;
    let text = list.to_string();
    assert!(!text.contains(&bot), "no secret in the list: {text}");
    assert!(
        !text.contains(&app.admin_key),
        "no secret in the list: {text}"
    );
    let row = listed(&app, &id).await;
    assert_eq!(row["role"], "bot");
    assert_eq!(row["name"], "zendesk bot");
    assert_eq!(row["revoked_at"], Value::Null);
    assert!(row["created_at"].as_str().unwrap().ends_with('Z'), "{row}");
    let admin_row = list["keys"][0].clone();
    assert_eq!(admin_row["role"], "admin", "{list}");
    assert_eq!(admin_row["name"], "BATON_ADMIN_KEY", "{list}");

    // The key works (and is now cached)...
    app.append_ok(
        "conv-k",
        json!([{"type": "bot_message", "text": "hi"}]),
        &bot,
    )
    .await;
    // ...only admins list or revoke...
    for (method, path) in [
        (Method::GET, "/v1/keys".to_owned()),
        (Method::DELETE, format!("/v1/keys/{id}")),
    ] {
        assert_error(
            &app.call(method, &path, None, &bot).await,
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        );
    }
    // ...and once revoked it is refused at once, saying why.
    let (status, revoked) = revoke(&app, &id, &app.admin_key).await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    let revoked_at = revoked["revoked_at"].as_str().unwrap().to_owned();
    let append = json!({"events": [{"type": "bot_message", "text": "again"}]});
    assert_error(
        &app.append("conv-k", &append, &bot).await,
        StatusCode::UNAUTHORIZED,
        "key_revoked",
        None,
    );
    assert_eq!(listed(&app, &id).await["revoked_at"], revoked_at.as_str());
    // Revoking twice changes nothing; unknown ids are 404.
    let (status, again) = revoke(&app, &id, &app.admin_key).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["revoked_at"], revoked_at.as_str());
    for unknown in ["key_0000000000000000", "nope", ".."] {
        assert_error(
            &revoke(&app, unknown, &app.admin_key).await,
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        );
    }
    // An unknown key is just unknown: nothing says whether it ever existed.
    assert_error(
        &app.append("conv-k", &append, "baton_0000").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        None,
    );
}

#[tokio::test]
async fn the_last_working_admin_key_cannot_be_revoked() {
    let app = spawn_app().await;
    let (_, list) = app.get("/v1/keys", Some(&app.admin_key)).await;
    let first = list["keys"][0]["id"].as_str().unwrap().to_owned();
    assert_error(
        &revoke(&app, &first, &app.admin_key).await,
        StatusCode::CONFLICT,
        "last_admin_key",
        None,
    );
    let (_, second) = app
        .post("/v1/keys", &json!({"role": "admin"}), Some(&app.admin_key))
        .await;
    let second_key = second["key"].as_str().unwrap().to_owned();
    let second_id = second["id"].as_str().unwrap().to_owned();
    assert_eq!(revoke(&app, &first, &second_key).await.0, StatusCode::OK);
    assert_error(
        &app.get("/v1/keys", Some(&app.admin_key)).await,
        StatusCode::UNAUTHORIZED,
        "key_revoked",
        None,
    );
    assert_error(
        &revoke(&app, &second_id, &second_key).await,
        StatusCode::CONFLICT,
        "last_admin_key",
        None,
    );
    // An admin key that expires does not count as the one that keeps the door open.
    let (_, expiring) = app
        .post(
            "/v1/keys",
            &json!({"role": "admin", "ttl_secs": 3600}),
            Some(&second_key),
        )
        .await;
    assert_eq!(
        revoke(&app, &second_id, &second_key).await.0,
        StatusCode::OK,
        "another admin key works for an hour: {expiring}"
    );
}

#[tokio::test]
async fn keys_expire_even_while_cached() {
    let clock = Clock::manual_from_now();
    let app = spawn_app_with(AppConfig {
        clock: clock.clone(),
        ..AppConfig::default()
    })
    .await;
    let admin = Some(app.admin_key.as_str());
    for (body, field) in [
        (
            json!({"role": "bot", "expires_at": "2020-01-01T00:00:00Z"}),
            "expires_at",
        ),
        (
            json!({"role": "bot", "expires_at": "tomorrow"}),
            "expires_at",
        ),
        (json!({"role": "bot", "ttl_secs": 0}), "ttl_secs"),
        (
            json!({"role": "bot", "ttl_secs": 60, "expires_at": "2999-01-01T00:00:00Z"}),
            "ttl_secs",
        ),
        (json!({"role": "bot", "name": "line\nbreak"}), "name"),
    ] {
        assert_error(
            &app.post("/v1/keys", &body, admin).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some(field),
        );
    }
    let (status, later) = app
        .post(
            "/v1/keys",
            &json!({"role": "bot", "expires_at": "2999-01-01T00:00:00+02:00"}),
            admin,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{later}");
    assert_eq!(later["expires_at"], "2998-12-31T22:00:00.000Z");

    let (status, brief) = app
        .post("/v1/keys", &json!({"role": "bot", "ttl_secs": 2}), admin)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{brief}");
    let key = brief["key"].as_str().unwrap().to_owned();
    assert!(brief["expires_at"].is_string(), "{brief}");
    // Used once, so cached; refused as soon as the expiry passes, cache or not.
    assert_eq!(app.get("/v1/queues", Some(&key)).await.0, StatusCode::OK);
    clock.advance(Duration::from_millis(1_999));
    assert_eq!(app.get("/v1/queues", Some(&key)).await.0, StatusCode::OK);
    clock.advance(Duration::from_millis(1));
    let refused = app.get("/v1/queues", Some(&key)).await;
    assert_error(&refused, StatusCode::UNAUTHORIZED, "key_expired", None);
}

#[tokio::test]
async fn revoking_a_key_ends_its_console_sessions() {
    let app = spawn_app().await;
    let (_, created) = app
        .post(
            "/v1/keys",
            &json!({"role": "agent", "agent_id": "ana"}),
            Some(&app.admin_key),
        )
        .await;
    let ana = created["key"].as_str().unwrap().to_owned();
    let session = app.sign_in(&ana).await;
    // A registered agent's offers: a read the console makes, answered 200.
    app.put_agent("ana", serde_json::json!({"billing": 3}), 2)
        .await;
    let offers = "/v1/agents/ana/offers";
    assert_eq!(
        app.with_session(Method::GET, offers, &session, None, None)
            .await
            .0,
        StatusCode::OK
    );
    let id = created["id"].as_str().unwrap();
    assert_eq!(revoke(&app, id, &app.admin_key).await.0, StatusCode::OK);
    assert_error(
        &app.with_session(Method::GET, offers, &session, None, None)
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        None,
    );
}
