//! The console session: server-side, expiring, ended at logout; accepted only on the
//! routes the console calls, with its CSRF token on anything that changes something;
//! the sign-in form has its own token; security headers on every page.

use std::time::Duration;

use baton_server::AppConfig;
use baton_server::clock::Clock;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, assert_error, spawn_app, spawn_app_in_with, spawn_app_with};

fn no_redirects() -> reqwest::Client {
    baton_server::http_client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The console page `path` as the browser holding `cookie` gets it: status, Location.
async fn page(app: &TestApp, path: &str, cookie: &str) -> (StatusCode, Option<String>) {
    let response = no_redirects()
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    (response.status(), location)
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server_not_just_in_the_browser() {
    let app = spawn_app().await;
    let ana = app.key("agent", Some("ana")).await;
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
    assert_eq!(
        page(&app, "/console/agent", &session.cookie).await.0,
        StatusCode::OK
    );

    // Another site cannot sign the agent out: no token, no logout.
    let forged = no_redirects()
        .post(app.url("/console/logout"))
        .header("cookie", &session.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.with_session(Method::GET, offers, &session, None, None)
            .await
            .0,
        StatusCode::OK
    );

    let logout = no_redirects()
        .post(app.url("/console/logout"))
        .header("cookie", &session.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={}", session.csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    let cleared = logout.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cleared.starts_with("baton_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );

    // A copy of the old cookie is worthless now.
    assert_error(
        &app.with_session(Method::GET, offers, &session, None, None)
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        None,
    );
    assert_eq!(
        page(&app, "/console/agent", &session.cookie).await,
        (StatusCode::SEE_OTHER, Some("/".to_owned()))
    );
}

#[tokio::test]
async fn the_session_cookie_is_refused_on_routes_the_console_does_not_use() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    app.append_ok(
        "conv-s",
        json!([{"type": "bot_message", "text": "hi"}]),
        &bot,
    )
    .await;
    let supervisor = app.key("supervisor", None).await;
    let session = app.sign_in(&supervisor).await;
    // What the supervisor page reads works with the cookie...
    for path in ["/v1/queues", "/v1/agents"] {
        let (status, body) = app
            .with_session(Method::GET, path, &session, None, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    // ...nothing else does, not even reads the same key may make with a bearer header.
    for path in [
        "/v1/conversations/conv-s",
        "/v1/conversations/conv-s/events",
        "/v1/conversations/conv-s/package",
        "/v1/stats",
        "/v1/keys",
    ] {
        assert_ne!(
            app.get(path, Some(&supervisor)).await.0,
            StatusCode::UNAUTHORIZED,
            "{path} with the bearer key"
        );
        assert_error(
            &app.with_session(Method::GET, path, &session, Some(&session.csrf), None)
                .await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            None,
        );
    }
    assert_error(
        &app.with_session(
            Method::PUT,
            "/v1/agents/ana",
            &session,
            Some(&session.csrf),
            Some(json!({"skills": {"billing": 3}, "capacity": 2})),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        None,
    );
}

#[tokio::test]
async fn console_posts_without_the_csrf_token_are_refused() {
    let app = spawn_app().await;
    let ana = app.key("agent", Some("ana")).await;
    app.put_agent("ana", json!({"billing": 3}), 2).await;
    let session = app.sign_in(&ana).await;
    let presence = "/v1/agents/ana/presence";
    let body = json!({"status": "available"});
    for token in [None, Some("0".repeat(64)), Some(String::new())] {
        assert_error(
            &app.with_session(
                Method::POST,
                presence,
                &session,
                token.as_deref(),
                Some(body.clone()),
            )
            .await,
            StatusCode::FORBIDDEN,
            "csrf_failed",
            None,
        );
    }
    let check = json!({"conversation": "conv-x", "text": "hi"});
    assert_error(
        &app.with_session(
            Method::POST,
            "/console/check-reply",
            &session,
            None,
            Some(check),
        )
        .await,
        StatusCode::FORBIDDEN,
        "csrf_failed",
        None,
    );
    assert_eq!(
        app.agent("ana").await["presence"],
        "offline",
        "nothing changed"
    );
    let (status, view) = app
        .with_session(
            Method::POST,
            presence,
            &session,
            Some(&session.csrf),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(app.agent("ana").await["presence"], "available");
    // Another session's token is not this one's.
    let other = app.sign_in(&ana).await;
    assert_ne!(other.csrf, session.csrf);
    assert_error(
        &app.with_session(
            Method::POST,
            presence,
            &session,
            Some(&other.csrf),
            Some(json!({"status": "away"})),
        )
        .await,
        StatusCode::FORBIDDEN,
        "csrf_failed",
        None,
    );
}

/// The sign-in page's form token and the cookie set with it.
async fn sign_in_form(app: &TestApp) -> (String, String) {
    let response = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.starts_with("baton_signin=")
            && cookie.contains("HttpOnly; SameSite=Strict; Path=/console/session; Max-Age=1800"),
        "{cookie}"
    );
    let html = response.text().await.unwrap();
    let token = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    (cookie.split(';').next().unwrap().to_owned(), token)
}

#[tokio::test]
async fn the_sign_in_form_needs_its_own_token_and_sets_a_strict_expiring_cookie() {
    let app = spawn_app().await;
    let ana = app.key("agent", Some("ana")).await;
    let url = app.url("/console/session");
    let form = "application/x-www-form-urlencoded";
    let (signin_cookie, token) = sign_in_form(&app).await;
    for (cookie, body) in [
        (None, format!("key={ana}")),
        (None, format!("key={ana}&csrf={token}")),
        (Some(signin_cookie.clone()), format!("key={ana}")),
        (
            Some(signin_cookie.clone()),
            format!("key={ana}&csrf={}", "f".repeat(64)),
        ),
    ] {
        let mut request = no_redirects()
            .post(&url)
            .header("content-type", form)
            .body(body);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let refused = request.send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let cookies: Vec<_> = refused.headers().get_all("set-cookie").iter().collect();
        assert!(
            cookies
                .iter()
                .all(|c| !c.to_str().unwrap().starts_with("baton_session")),
            "no session: {cookies:?}"
        );
    }
    let good = no_redirects()
        .post(&url)
        .header("content-type", form)
        .header("cookie", &signin_cookie)
        .body(format!("key={ana}&csrf={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), StatusCode::SEE_OTHER);
    assert_eq!(good.headers()["location"], "/console/agent");
    let session = good
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("baton_session="))
        .unwrap();
    let (pair, attributes) = session.split_once(';').unwrap();
    let id = pair.strip_prefix("baton_session=").unwrap();
    assert!(
        id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    assert!(!session.contains(&ana), "the cookie does not hold the key");
    assert_eq!(
        attributes, " HttpOnly; SameSite=Strict; Path=/; Max-Age=43200",
        "12 h by default, not Secure over plain HTTP"
    );
}

#[tokio::test]
async fn the_cookie_is_secure_only_when_a_trusted_proxy_says_https() {
    let ttl = Duration::from_secs(600);
    for (trust, secure) in [(false, false), (true, true)] {
        let app = spawn_app_with(AppConfig {
            trust_proxy_headers: trust,
            session_ttl: ttl,
            ..AppConfig::default()
        })
        .await;
        let ana = app.key("agent", Some("ana")).await;
        let response = app
            .client
            .post(app.url("/console/session"))
            .header("x-forwarded-proto", "https")
            .json(&json!({"key": ana}))
            .send()
            .await
            .unwrap();
        let cookie = response.headers()["set-cookie"].to_str().unwrap();
        assert!(cookie.contains("Max-Age=600"), "{cookie}");
        assert_eq!(
            cookie.ends_with("; Secure"),
            secure,
            "trust {trust}: {cookie}"
        );
    }
}

#[tokio::test]
async fn sessions_expire_and_survive_a_restart_until_then() {
    let clock = Clock::manual_from_now();
    let app = spawn_app_with(AppConfig {
        session_ttl: Duration::from_secs(3),
        clock: clock.clone(),
        ..AppConfig::default()
    })
    .await;
    let ana = app.key("agent", Some("ana")).await;
    let long = app.sign_in(&ana).await;
    let dir = app.stop().await;
    let app = spawn_app_in_with(
        dir,
        AppConfig {
            clock: clock.clone(),
            ..AppConfig::default()
        },
    )
    .await;
    // Restarted with the default (12 h) lifetime: sessions keep the expiry they got.
    assert_eq!(
        page(&app, "/console/agent", &long.cookie).await.0,
        StatusCode::OK
    );
    clock.advance(Duration::from_millis(2_999));
    assert_eq!(
        page(&app, "/console/agent", &long.cookie).await.0,
        StatusCode::OK
    );
    clock.advance(Duration::from_millis(1));
    let (expired, _) = page(&app, "/console/agent", &long.cookie).await;
    assert_eq!(expired, StatusCode::SEE_OTHER);
    assert_error(
        &app.with_session(Method::GET, "/v1/agents/ana/offers", &long, None, None)
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        None,
    );
}

#[tokio::test]
async fn console_pages_and_api_answers_carry_security_headers() {
    let app = spawn_app().await;
    let supervisor = app.key("supervisor", None).await;
    let session = app.sign_in(&supervisor).await;
    let pages = [
        app.client.get(app.url("/")).send().await.unwrap(),
        app.client
            .get(app.url("/console/supervisor"))
            .header("cookie", &session.cookie)
            .send()
            .await
            .unwrap(),
        app.client.get(app.url("/v1/queues")).send().await.unwrap(),
    ];
    for response in pages {
        let headers = response.headers().clone();
        let csp = headers["content-security-policy"].to_str().unwrap();
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        let html = response.text().await.unwrap();
        // No inline script for the policy to block: every <script> has a src.
        for script in html.split("<script").skip(1) {
            assert!(
                script.trim_start().starts_with("src="),
                "inline script: {script}"
            );
        }
        assert!(
            !html.contains(" style=") && !html.contains("<style"),
            "inline style"
        );
    }
}
