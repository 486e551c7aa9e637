//! The supervisor's intents and outcomes pages: who may open them, what a refused
//! filter shows, and (in Chromium) the figures they show on fixtures whose counts are
//! worked out by hand below.

use std::time::Duration;

use baton_server::clock::Clock;

use super::*;

/// Labelled conversations for the intents page, counted by hand:
/// - `a`: reset_password at 0.95, resolved as reset_password (right, bin 0.9-1.0);
/// - `b`: reset_password at 0.85, resolved as billing (wrong, bin 0.8-0.9);
/// - `c`: billing at 0.35, resolved as billing (right, bin 0.3-0.4);
/// - `d`: billing at 0.95, resolved as fraud (wrong, bin 0.9-1.0);
/// - `e`: billing at 0.65, handed off; agent ana confirms it in the read-back of her
///   accept (right, bin 0.6-0.7);
/// - `f`: billing at 0.5, never labelled.
///
/// Five labelled, three right. Matrix: billing -> {billing 2, fraud 1} (2 of 3
/// confirmed), reset_password -> {billing 1, reset_password 1} (1 of 2). ECE = 1/5
/// (|1 - 0.35| + |1 - 0.65| + |0 - 0.85| + 2 |0.5 - 0.95|) = 2.75 / 5 = 0.55.
async fn intents_fixture(app: &TestApp) {
    let bot = app.key("bot", None).await;
    let reading = |text: &str, intent: &str, confidence: f64| {
        json!({"events": [
            {"type": "customer_message", "text": text},
            {"type": "nlu", "intent": intent, "confidence": confidence},
        ]})
    };
    for (cid, text, intent, confidence, truth) in [
        (
            "a",
            "I forgot my password",
            "reset_password",
            0.95,
            "reset_password",
        ),
        (
            "b",
            "I cannot get into my account",
            "reset_password",
            0.85,
            "billing",
        ),
        (
            "c",
            "Something about my invoice",
            "billing",
            0.35,
            "billing",
        ),
        (
            "d",
            "There is a charge I do not know",
            "billing",
            0.95,
            "fraud",
        ),
    ] {
        let path = format!("/v1/conversations/{cid}/events");
        app.post(&path, reading(text, intent, confidence), &bot)
            .await;
        app.post(
            &format!("/v1/conversations/{cid}/resolve"),
            json!({"resolution": "done", "true_intent": truth}),
            &app.admin_key,
        )
        .await;
    }
    app.post(
        "/v1/conversations/f/events",
        reading("hello", "billing", 0.5),
        &bot,
    )
    .await;
    // Only now an agent: every conversation above is closed, or was never handed off.
    let ana = available_agent(app, "ana").await;
    app.post(
        "/v1/conversations/e/events",
        reading("Please look at my bill", "billing", 0.65),
        &bot,
    )
    .await;
    hand_off(app, &bot, "e").await;
    let offer = offer_of(app, &ana, "e").await;
    app.post(
        &format!("/v1/offers/{offer}/accept"),
        json!({"read_back": {"intent": "confirmed"}}),
        &ana,
    )
    .await;
}

/// The bot asks for a human (the policy's own reading aside, so the count of handoffs
/// is the fixture's).
async fn hand_off(app: &TestApp, bot: &str, cid: &str) {
    app.post(
        &format!("/v1/conversations/{cid}/events"),
        json!({"events": [{"type": "handoff_requested", "reason": "needs a person", "skills": ["billing"]}]}),
        bot,
    )
    .await;
}

async fn available_agent(app: &TestApp, id: &str) -> String {
    let key = app.agent(id).await;
    app.post(
        &format!("/v1/agents/{id}/presence"),
        json!({"status": "available"}),
        &key,
    )
    .await;
    key
}

/// Contacts for the outcomes page on a clock that moves only by hand, counted by hand:
/// - `o1`: the bot alone, resolved; the customer's survey: CSAT 5, CES 2;
/// - `o2`: the bot alone, resolved; CSAT 3;
/// - `o3`: the bot hands off (billing); ana accepts, replies 30 s later, resolves
///   90 s after that with CSAT 2 (ramp-up 30 s, handle time 120 s) and rates the
///   package 4;
/// - `o4`: still with the bot.
///
/// Four contacts; containment 2 of 4; handoff rate 1 of 4; no repeated information;
/// CSAT bot-only 4.0 (2 answers), after a handoff 2.0 (1); first-contact resolution 3
/// of 3; CES 2.0; LSAT 4.0. At 0.10 per conversation and 1.00 per agent minute, cost per
/// contact = (4 x 0.10 + 2 x 1.00) / 4 = 0.60.
async fn outcomes_fixture(app: &TestApp, clock: &Clock) {
    let bot = app.key("bot", None).await;
    let ana = available_agent(app, "ana").await;
    let said = |text: &str, intent: &str| {
        json!({"events": [
            {"type": "customer_message", "text": text},
            {"type": "nlu", "intent": intent, "confidence": 0.95},
        ]})
    };
    for (cid, survey) in [
        ("o1", json!({"csat": 5, "ces": 2})),
        ("o2", json!({"csat": 3})),
    ] {
        app.post(
            &format!("/v1/conversations/{cid}/events"),
            said("Where is my parcel?", "order.status"),
            &bot,
        )
        .await;
        app.post(
            &format!("/v1/conversations/{cid}/resolve"),
            json!({"resolution": "told the customer it arrives tomorrow"}),
            &bot,
        )
        .await;
        app.post(&format!("/v1/conversations/{cid}/survey"), survey, &bot)
            .await;
    }
    app.post("/v1/conversations/o4/events", said("hello", "greet"), &bot)
        .await;
    app.post(
        "/v1/conversations/o3/events",
        said(
            "Could you help me with a refund for my kettle?",
            "billing.refund",
        ),
        &bot,
    )
    .await;
    hand_off(app, &bot, "o3").await;
    let offer = offer_of(app, &ana, "o3").await;
    app.post(&format!("/v1/offers/{offer}/accept"), json!({}), &ana)
        .await;
    clock.advance(Duration::from_secs(30));
    app.post(
        "/v1/conversations/o3/events",
        json!({"events": [{"type": "agent_message", "text": "Hello, I am refunding the kettle now."}]}),
        &ana,
    )
    .await;
    clock.advance(Duration::from_secs(90));
    app.post(
        "/v1/conversations/o3/resolve",
        json!({"resolution": "refunded", "csat": 2}),
        &ana,
    )
    .await;
    app.post("/v1/conversations/o3/survey", json!({"lsat": 4}), &ana)
        .await;
}

#[tokio::test]
async fn insights_pages_are_for_supervisors_and_admins_and_name_a_refused_filter() {
    let app = spawn_app().await;
    let supervisor = app.key("supervisor", None).await;
    let (cookie, _) = console_session(&app, &supervisor).await;
    let ana = app.key("agent", Some("ana")).await;
    let (agent_cookie, _) = console_session(&app, &ana).await;
    let (admin_cookie, _) = console_session(&app, &app.admin_key).await;

    for path in [
        "/console/supervisor",
        "/console/supervisor/conversations",
        "/console/supervisor/intents",
        "/console/supervisor/outcomes",
    ] {
        let (status, location, _) = page(&app, path, None).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path} without a session");
        assert_eq!(location, "/", "{path}");
        let (status, _, html) = page(&app, path, Some(&agent_cookie)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path} as an agent: {html}");
        assert!(
            html.contains(r#"id="refused""#) && html.contains("supervisors and admins"),
            "{path}: {html}"
        );
        for who in [&cookie, &admin_cookie] {
            let (status, _, html) = page(&app, path, Some(who)).await;
            assert_eq!(status, StatusCode::OK, "{path}: {html}");
            for link in [
                "/console/supervisor/intents",
                "/console/supervisor/outcomes",
            ] {
                assert!(
                    html.contains(&format!("href=\"{link}\"")),
                    "{path} links {link}"
                );
            }
        }
    }

    let (status, _, html) = page(
        &app,
        "/console/supervisor/intents?since=2026-12-01&until=2026-11-01",
        Some(&cookie),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("since must be before until") && html.contains(r#"id="filter-problem""#),
        "{html}"
    );
    assert!(
        html.contains(r#"value="2026-12-01""#),
        "the filter is kept: {html}"
    );
    let (status, _, html) = page(
        &app,
        "/console/supervisor/outcomes?bot_cost=-1&skill=",
        Some(&cookie),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("bot_cost must be a number"), "{html}");
    assert!(html.contains(r#"value="-1""#), "the cost as typed: {html}");

    // The CSV link is the API's, and the console's session opens it.
    let (_, _, html) = page(
        &app,
        "/console/supervisor/outcomes?skill=billing",
        Some(&cookie),
    )
    .await;
    let href = html
        .split(r#"id="csv-link" href=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSV link")
        .replace("&#38;", "&");
    assert!(
        href.starts_with("/v1/insights/outcomes?format=csv&since=")
            && href.contains("skill=billing"),
        "{href}"
    );
    let (status, _, csv) = page(&app, &href, Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    assert!(
        csv.starts_with("metric,count,of,value\ncontainment,0,0,\n"),
        "{csv}"
    );
    let (status, _, _) = page(&app, &href, Some(&agent_cookie)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an agent's session");
}

const INSIGHTS_BROWSER_TEST: &str =
    "insights::the_supervisor_reads_intents_and_outcomes_in_the_browser";

#[tokio::test]
async fn the_supervisor_reads_intents_and_outcomes_in_the_browser() {
    let Some(mut driver) = chromedriver().await else {
        return;
    };
    let labelled = spawn_app().await;
    intents_fixture(&labelled).await;
    let clock = Clock::manual_from_now();
    let outcomes = spawn_app_with(AppConfig {
        clock: clock.clone(),
        ..AppConfig::default()
    })
    .await;
    outcomes_fixture(&outcomes, &clock).await;
    let b = browser(&driver).await;
    let outcome = AssertUnwindSafe(async {
        intents_in_the_browser(&labelled, &b).await;
        outcomes_in_the_browser(&outcomes, &b).await;
    })
    .catch_unwind()
    .await;
    if let Err(e) = b.close().await {
        eprintln!("closing the browser: {e}");
    }
    driver.child.kill().await.ok();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn sign_in_as_supervisor(app: &TestApp, b: &Client) {
    let supervisor = app.key("supervisor", None).await;
    b.goto(&format!("{}/", app.base)).await.unwrap();
    if b.find(Locator::Css("form.logout button")).await.is_ok() {
        b.find(Locator::Css("form.logout button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    b.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("key"))
        .await
        .unwrap()
        .send_keys(&supervisor)
        .await
        .unwrap();
    b.find(Locator::Id("signin"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("nav-intents"))
        .await
        .expect("the supervisor page with its navigation");
}

async fn texts(b: &Client, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for element in b.find_all(Locator::Css(css)).await.unwrap() {
        out.push(element.text().await.unwrap());
    }
    out
}

/// The `<title>` texts under `css` (SVG titles are not rendered text).
async fn titles(b: &Client, css: &str) -> Vec<String> {
    let script = format!(
        "return Array.from(document.querySelectorAll({:?})).map(t => t.textContent);",
        format!("{css} title")
    );
    let got = b.execute(&script, vec![]).await.unwrap();
    serde_json::from_value(got).unwrap()
}

/// Scrolls `css` to the top and saves a screenshot as `name`, for a person to look at.
async fn shoot(b: &Client, css: &str, name: &str) {
    b.execute(
        &format!("document.querySelector({css:?}).scrollIntoView();"),
        vec![],
    )
    .await
    .unwrap();
    let shot = screenshot_path(name);
    std::fs::write(&shot, b.screenshot().await.unwrap()).unwrap();
    eprintln!("screenshot: {}", shot.display());
}

async fn intents_in_the_browser(app: &TestApp, b: &Client) {
    sign_in_as_supervisor(app, b).await;
    b.find(Locator::Id("nav-intents"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("matrix"))
        .await
        .expect("the intents page with its matrix");
    assert_eq!(text_of(b, "#labelled").await, "5");
    assert_eq!(text_of(b, "#correct").await, "3");
    assert_eq!(
        texts(b, "#matrix thead th").await,
        [
            "Bot read ↓ / human found →",
            "billing",
            "fraud",
            "reset_password",
            "Total",
            "Confirmed"
        ]
    );
    assert_eq!(
        texts(b, "#matrix tr[data-intent=billing] td").await,
        ["2", "1", "0", "3", "2 (67 %)"]
    );
    assert_eq!(
        texts(b, "#matrix tr[data-intent=reset_password] td").await,
        ["1", "0", "1", "2", "1 (50 %)"]
    );
    let diagonal = texts(b, "#matrix td.diag").await;
    assert_eq!(diagonal, ["2", "1"], "the agreeing cells are marked");
    assert_eq!(text_of(b, "#ece").await, "0.550");
    assert_eq!(
        texts(b, "#bins td.count").await,
        ["0", "0", "0", "1", "0", "0", "1", "0", "1", "2"]
    );
    let points = titles(b, "svg.reliability circle").await;
    assert_eq!(points.len(), 4, "one point per filled bin: {points:?}");
    assert!(
        points.contains(
            &"confidence 0.9-1.0: 2 cases, 50 % confirmed, mean confidence 0.95".to_owned()
        ),
        "{points:?}"
    );
    assert!(
        points.contains(
            &"confidence 0.3-0.4: 1 case, 100 % confirmed, mean confidence 0.35".to_owned()
        ),
        "{points:?}"
    );
    let counts = titles(b, "svg.reliability rect.count").await;
    assert_eq!(counts.len(), 4, "{counts:?}");
    shoot(b, "#matrix-h", "console-intents.png").await;
    shoot(b, "#reliability-h", "console-intents-reliability.png").await;

    // The window: a span that ends before today holds none of them.
    b.goto(&format!(
        "{}/console/supervisor/intents?since=2020-01-01&until=2020-02-01",
        app.base
    ))
    .await
    .unwrap();
    wait_text(b, "#labelled", "0").await;
    wait_text(b, "#matrix-none", "No labelled conversations").await;
    assert_eq!(
        b.find(Locator::Id("f-since"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("2020-01-01"),
        "the filter shows what was asked"
    );
}

async fn outcomes_in_the_browser(app: &TestApp, b: &Client) {
    sign_in_as_supervisor(app, b).await;
    b.find(Locator::Id("nav-outcomes"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let cost = b
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Id("f-agent-cost"))
        .await
        .expect("the outcomes page with its filters");
    cost.send_keys("1").await.unwrap();
    b.find(Locator::Css("#filters button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(b, "#cost-model", "1.00 per minute").await;
    let value = async |id: &str| text_of(b, &format!("#m-{id} .value")).await;
    let basis = async |id: &str| text_of(b, &format!("#m-{id} .basis")).await;
    assert_eq!(value("contacts").await, "4");
    assert_eq!(value("containment").await, "50 %");
    assert_eq!(basis("containment").await, "2 of 4 contacts");
    assert_eq!(value("handoff_rate").await, "25 %");
    assert_eq!(value("ramp_up_secs").await, "30 s");
    assert_eq!(basis("ramp_up_secs").await, "over 1 first reply");
    assert_eq!(value("repeat_information").await, "0 %");
    assert_eq!(
        basis("repeat_information").await,
        "0 of 1 handed-off contacts"
    );
    assert_eq!(value("handle_secs").await, "120 s");
    assert_eq!(value("csat_after_handoff").await, "2.0 of 5");
    assert_eq!(value("csat_bot_only").await, "4.0 of 5");
    assert_eq!(basis("csat_bot_only").await, "over 2 answers");
    assert_eq!(value("first_contact_resolution").await, "100 %");
    assert_eq!(
        basis("first_contact_resolution").await,
        "3 of 3 resolved contacts"
    );
    assert_eq!(value("ces").await, "2.0 of 7");
    assert_eq!(value("lsat").await, "4.0 of 5");
    assert_eq!(value("cost_per_contact").await, "0.60");

    // Reasons: the bot's request, once; whatever else the policy named with it, the
    // page shows what the API counts.
    let supervisor = app.key("supervisor", None).await;
    let api = app.get("/v1/insights/outcomes", &supervisor).await;
    assert_eq!(api["handoff_reasons"]["bot_request"], 1, "{api}");
    let codes = texts(b, "#reasons tbody th").await;
    let counts = texts(b, "#reasons tbody td").await;
    let shown: Vec<String> = codes
        .iter()
        .zip(&counts)
        .map(|(code, n)| format!("{code} {n}"))
        .collect();
    let want: Vec<String> = api["handoff_reasons"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(code, n)| format!("{code} {n}"))
        .collect();
    let mut sorted = shown.clone();
    sorted.sort();
    assert_eq!(sorted, want, "{shown:?}");

    let csat = titles(b, "section[aria-labelledby=csat-h] svg").await;
    assert!(
        csat.contains(&"bot only: 4.0 of 5 (n=2)".to_owned()),
        "{csat:?}"
    );
    assert!(
        csat.contains(&"after a handoff: 2.0 of 5 (n=1)".to_owned()),
        "{csat:?}"
    );
    let times = titles(b, "section[aria-labelledby=times-h] svg").await;
    assert!(
        times.contains(&"ramp-up: 30 s (n=1)".to_owned()),
        "{times:?}"
    );
    assert!(
        times.contains(&"handle time: 120 s (n=1)".to_owned()),
        "{times:?}"
    );
    let costs = titles(b, "section[aria-labelledby=cost-h] svg").await;
    assert!(costs.contains(&"agents: 0.50".to_owned()), "{costs:?}");
    shoot(b, "#outcomes-h", "console-outcomes.png").await;
    shoot(b, "#rates-h", "console-outcomes-charts.png").await;

    // The CSV the page links to holds the page's figures, with the same cost model.
    let csv = b
        .execute(
            "return fetch(document.getElementById('csv-link').href).then(r => r.text());",
            vec![],
        )
        .await
        .unwrap();
    let csv = csv.as_str().unwrap();
    assert!(csv.contains("\ncontainment,2,4,0.5\n"), "{csv}");
    assert!(csv.contains("\ncost_per_contact,4,,0.6\n"), "{csv}");

    // Filters: only the contacts whose handoff asked for billing.
    b.find(Locator::Id("f-skill"))
        .await
        .unwrap()
        .send_keys("billing")
        .await
        .unwrap();
    b.find(Locator::Css("#filters button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(b, "#m-handoff_rate .value", "100 %").await;
    assert_eq!(value("contacts").await, "1");
    assert_eq!(value("csat_bot_only").await, "no data");
}

/// The insights browser test, like the agent's, fails under CI without a driver.
#[test]
fn without_a_driver_the_insights_browser_test_fails_in_ci() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([INSIGHTS_BROWSER_TEST, "--exact", "--nocapture"])
        .env_remove("BATON_TEST_CHROMEDRIVER")
        .env("CI", "true")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("CI is set but the browser test cannot run"),
        "{text}"
    );
}
