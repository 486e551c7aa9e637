//! Routing over HTTP: agent registration and presence, who is offered a handoff
//! (skills, presence, capacity, proficiency, occupancy, priority, stickiness), offers
//! answered, rejected or left to expire, overflow, and what an agent key may read.

use std::time::Duration;

use baton_core::Timestamp;
use baton_core::router::RouterConfig;
use baton_server::AppConfig;
use baton_server::clock::Clock;
use baton_server::routing::tick;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, of_type, spawn_app, spawn_app_with};

fn at(event: &Value) -> Timestamp {
    serde_json::from_value(event["at"].clone()).unwrap()
}

/// The agent ids of a conversation's `offered` events, in order.
async fn offered_to(app: &TestApp, cid: &str) -> Vec<String> {
    of_type(&app.events(cid).await, "offered")
        .iter()
        .map(|e| e["agent_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn agent_registration_is_validated_and_reserved_to_supervisors_and_admins() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let ana = app.key("agent", Some("ana")).await;
    let supervisor = app.key("supervisor", None).await;
    let good = json!({"skills": {"billing": 3}, "capacity": 2});

    for key in [&bot, &ana] {
        assert_error(
            &app.try_put_agent("ana", &good, key).await,
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        );
    }
    for level in [0, 6] {
        let body = json!({"skills": {"general": 2, "billing": level}, "capacity": 2});
        let refused = app.try_put_agent("ana", &body, &supervisor).await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("skills.billing"),
        );
    }
    for capacity in [0, 101] {
        let body = json!({"skills": {"billing": 3}, "capacity": capacity});
        let refused = app.try_put_agent("ana", &body, &supervisor).await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("capacity"),
        );
    }
    let (status, _) = app.get("/v1/agents/ana", Some(&app.admin_key)).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "no refused request registered the agent"
    );

    let (status, view) = app.try_put_agent("ana", &good, &supervisor).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["id"], "ana");
    assert_eq!(view["skills"], json!({"billing": 3}));
    assert_eq!(view["capacity"], 2);
    assert_eq!(view["presence"], "offline", "a new agent starts offline");
    assert_eq!(view["load"], 0);

    // An update replaces skills and capacity and keeps presence.
    app.set_presence("ana", "available").await;
    let view = app
        .put_agent("ana", json!({"billing": 5, "refunds": 1}), 4)
        .await;
    assert_eq!(view["skills"], json!({"billing": 5, "refunds": 1}));
    assert_eq!(view["capacity"], 4);
    assert_eq!(view["presence"], "available");
    assert_eq!(app.agent("ana").await, view);
}

#[tokio::test]
async fn presence_is_set_by_the_agent_or_a_manager_and_validated() {
    let app = spawn_app().await;
    let ana = app.key("agent", Some("ana")).await;
    let bo = app.key("agent", Some("bo")).await;
    let bot = app.key("bot", None).await;
    app.put_agent("ana", json!({"billing": 3}), 1).await;
    app.put_agent("bo", json!({"billing": 3}), 1).await;

    let (status, view) = app
        .post(
            "/v1/agents/ana/presence",
            &json!({"status": "available"}),
            Some(&ana),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["presence"], "available");
    assert_eq!(app.agent("ana").await["presence"], "available");

    for key in [&bo, &bot] {
        let refused = app
            .post(
                "/v1/agents/ana/presence",
                &json!({"status": "away"}),
                Some(key),
            )
            .await;
        assert_error(&refused, StatusCode::FORBIDDEN, "forbidden", None);
    }
    let refused = app
        .post(
            "/v1/agents/ana/presence",
            &json!({"status": "busy"}),
            Some(&ana),
        )
        .await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("status"),
    );
    assert_eq!(
        app.agent("ana").await["presence"],
        "available",
        "refusals changed nothing"
    );

    let (status, _) = app
        .post(
            "/v1/agents/nobody/presence",
            &json!({"status": "away"}),
            Some(&app.admin_key),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // An agent's own key reads the agent; another agent's key does not.
    let (status, _) = app.get("/v1/agents/ana", Some(&ana)).await;
    assert_eq!(status, StatusCode::OK);
    let refused = app.get("/v1/agents/ana", Some(&bo)).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "forbidden", None);

    for status in ["away", "offline", "available"] {
        assert_eq!(app.set_presence("ana", status).await["presence"], status);
        assert_eq!(app.agent("ana").await["presence"], status);
    }
}

#[tokio::test]
async fn a_handoff_is_offered_only_to_an_available_agent_with_every_required_skill() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    // Each of these would win on proficiency if eligibility were ignored.
    app.put_agent("away", json!({"billing": 5, "refunds": 5}), 3)
        .await;
    app.set_presence("away", "away").await;
    app.put_agent("offline", json!({"billing": 5, "refunds": 5}), 3)
        .await;
    app.available_agent("half", json!({"billing": 5}), 3).await;
    app.available_agent("ana", json!({"billing": 1, "refunds": 1}), 3)
        .await;

    app.hand_off("c1", &bot, &["billing", "refunds"], "normal")
        .await;
    let offer = app.wait_offer("ana", "c1").await;

    assert_eq!(offered_to(&app, "c1").await, ["ana"]);
    let state = app.state("c1").await;
    assert_eq!(state["owner"], "offered");
    assert_eq!(state["offer"]["agent_id"], "ana");
    assert_eq!(state["offer"]["offer_id"], offer.as_str());
    for other in ["away", "offline", "half"] {
        assert!(
            app.offers_of(other).await.is_empty(),
            "{other} was offered a conversation"
        );
        assert_eq!(app.agent(other).await["load"], 0);
    }
    let ana = app.agent("ana").await;
    assert_eq!(
        ana["load"], 1,
        "a live offer counts against capacity: {ana}"
    );
    assert_eq!(ana["offers"][0]["offer_id"], offer.as_str());

    // The offer card carries what the agent needs to decide.
    let card = &app.offers_of("ana").await[0];
    assert_eq!(card["skills"], json!(["billing", "refunds"]));
    assert_eq!(card["priority"], "normal");
    assert!(!card["situation"].as_str().unwrap().is_empty(), "{card}");
}

#[tokio::test]
async fn an_explicit_request_for_a_human_is_offered_to_a_general_agent() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    app.available_agent("gus", json!({"general": 2}), 2).await;

    let answer = app
        .append_ok(
            "c1",
            json!([{"type": "customer_message", "text": "I want to talk to a human agent now"}]),
            &bot,
        )
        .await;
    assert_eq!(answer["decision"]["outcome"], "handoff", "{answer}");
    assert_eq!(answer["decision"]["skills"], json!(["general"]));

    app.wait_offer("gus", "c1").await;
    assert_eq!(offered_to(&app, "c1").await, ["gus"]);
}

#[tokio::test]
async fn higher_proficiency_wins_then_lower_occupancy() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let dan = app.key("agent", Some("dan")).await;

    // Registered first and idle longest, but less proficient.
    app.available_agent("bea", json!({"billing": 2, "general": 5}), 2)
        .await;
    app.available_agent("cai", json!({"billing": 4}), 2).await;
    app.hand_off("p1", &bot, &["billing"], "normal").await;
    app.wait_offer("cai", "p1").await;
    assert_eq!(
        offered_to(&app, "p1").await,
        ["cai"],
        "proficiency in the required skill decides, not other skills"
    );

    // Equal proficiency: dan holds one of four slots (25 %), eve none of one (0 %). dan was
    // registered first and has been idle longer, so only occupancy can pick eve.
    app.available_agent("dan", json!({"orders": 3}), 4).await;
    app.hand_off("o1", &bot, &["orders"], "normal").await;
    app.assign("o1", "dan", &dan).await;
    app.available_agent("eve", json!({"orders": 3}), 1).await;
    app.hand_off("o2", &bot, &["orders"], "normal").await;
    app.wait_offer("eve", "o2").await;
    assert_eq!(offered_to(&app, "o2").await, ["eve"]);
    assert_eq!(app.agent("dan").await["load"], 1);
}

#[tokio::test]
async fn an_urgent_handoff_takes_a_freed_slot_before_an_earlier_normal_one() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let ana = app.key("agent", Some("ana")).await;
    app.available_agent("ana", json!({"billing": 3}), 1).await;

    app.hand_off("busy", &bot, &["billing"], "normal").await;
    app.assign("busy", "ana", &ana).await;
    app.hand_off("normal", &bot, &["billing"], "normal").await;
    app.hand_off("urgent", &bot, &["billing"], "urgent").await;
    app.wait_waiting("billing", 2).await;
    assert!(
        app.events("normal").await[0]["at"].as_str()
            <= app.events("urgent").await[0]["at"].as_str()
    );
    assert_eq!(app.state("normal").await["owner"], "queued");
    assert_eq!(app.state("urgent").await["owner"], "queued");

    let (status, body) = app
        .post(
            "/v1/conversations/busy/resolve",
            &json!({"resolution": "refunded"}),
            Some(&ana),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    app.wait_offer("ana", "urgent").await;
    assert_eq!(offered_to(&app, "urgent").await, ["ana"]);
    assert!(offered_to(&app, "normal").await.is_empty());
    assert_eq!(app.state("normal").await["owner"], "queued");
    assert_eq!(app.agent("ana").await["load"], 1);
}

#[tokio::test]
async fn a_rejected_offer_moves_to_the_next_agent() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let ana = app.key("agent", Some("ana")).await;
    app.available_agent("ana", json!({"billing": 5}), 2).await;
    app.available_agent("bo", json!({"billing": 1}), 2).await;

    app.hand_off("c1", &bot, &["billing"], "normal").await;
    let first = app.wait_offer("ana", "c1").await;
    let (status, body) = app.get("/v1/conversations/c1", Some(&ana)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the offered agent reads the conversation: {body}"
    );

    let (status, body) = app
        .post(
            &format!("/v1/offers/{first}/reject"),
            &json!({}),
            Some(&ana),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "rejected");

    app.wait_offer("bo", "c1").await;
    let events = app.events("c1").await;
    let closed = of_type(&events, "offer_closed");
    assert_eq!(closed.len(), 1, "{closed:?}");
    assert_eq!(closed[0]["reason"], "rejected");
    assert_eq!(closed[0]["agent_id"], "ana");
    assert_eq!(closed[0]["offer_id"], first.as_str());
    assert_eq!(offered_to(&app, "c1").await, ["ana", "bo"]);
    assert!(app.offers_of("ana").await.is_empty());
    assert_eq!(app.agent("ana").await["load"], 0);
    assert_eq!(app.state("c1").await["offer"]["agent_id"], "bo");

    // The offer is gone: answering it again is refused and writes nothing.
    let before = app.events("c1").await;
    let (status, _) = app
        .post(
            &format!("/v1/offers/{first}/reject"),
            &json!({}),
            Some(&ana),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .post(
            &format!("/v1/offers/{first}/accept"),
            &json!({}),
            Some(&ana),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.events("c1").await, before);
    // Once moved on, the first agent no longer reads it.
    let (status, _) = app.get("/v1/conversations/c1", Some(&ana)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// How long an offer stands in the tests that let offers expire: long enough that no
/// offer expires unless the test moves the clock past it.
const OFFER_TIMEOUT: Duration = Duration::from_secs(30);

/// A config whose clock stands still until the test moves it.
fn quick_offers(max_expiries_in_row: u32) -> (AppConfig, Clock) {
    let clock = Clock::manual_from_now();
    let config = AppConfig {
        router: RouterConfig {
            offer_timeout_ms: OFFER_TIMEOUT.as_millis() as i64,
            max_expiries_in_row,
            ..RouterConfig::default()
        },
        clock: clock.clone(),
        ..AppConfig::default()
    };
    (config, clock)
}

#[tokio::test]
async fn an_expired_offer_moves_on_and_is_recorded() {
    let (config, clock) = quick_offers(3);
    let app = spawn_app_with(config).await;
    let bot = app.key("bot", None).await;
    app.available_agent("ana", json!({"billing": 5}), 2).await;
    app.available_agent("bo", json!({"billing": 1}), 2).await;

    app.hand_off("c1", &bot, &["billing"], "normal").await;
    let first = app.wait_offer("ana", "c1").await;
    // A moment short of the timeout, the offer stands.
    clock.advance(OFFER_TIMEOUT - Duration::from_millis(1));
    tick(&app.state).await;
    assert!(app.offers_of("bo").await.is_empty());
    assert_eq!(app.offers_of("ana").await.len(), 1);
    clock.advance(Duration::from_millis(1));
    tick(&app.state).await;
    assert!(app.offers_of("ana").await.is_empty());
    app.wait_offer("bo", "c1").await;

    let events = app.events("c1").await;
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .filter(|k| k.starts_with("offer"))
        .collect();
    // The clock stands still after the first expiry, so bo's offer stands too.
    assert_eq!(kinds, ["offered", "offer_closed", "offered"], "{kinds:?}");
    assert_eq!(of_type(&events, "offered")[1]["agent_id"], "bo");
    let closed = of_type(&events, "offer_closed")[0];
    assert_eq!(closed["reason"], "expired");
    assert_eq!(closed["agent_id"], "ana");
    assert_eq!(closed["offer_id"], first.as_str());
    assert_eq!(closed["actor"], "system");
    let offered = of_type(&events, "offered")[0];
    let expires_at: Timestamp = serde_json::from_value(offered["expires_at"].clone()).unwrap();
    assert_eq!(
        at(closed),
        expires_at,
        "closed at {}, not when it expired",
        closed["at"]
    );

    let ana = app.agent("ana").await;
    assert_eq!(ana["expiries_in_row"], 1);
    assert_eq!(
        ana["presence"], "available",
        "one expiry is not enough to go away"
    );
    assert_eq!(ana["load"], 0);
}

#[tokio::test]
async fn repeated_expiries_set_the_agent_away() {
    let (config, clock) = quick_offers(2);
    let app = spawn_app_with(config).await;
    let bot = app.key("bot", None).await;
    app.available_agent("ana", json!({"billing": 3}), 1).await;

    app.hand_off("c1", &bot, &["billing"], "normal").await;
    app.wait_offer("ana", "c1").await;
    app.hand_off("c2", &bot, &["billing"], "normal").await;
    app.wait_waiting("billing", 2).await;

    clock.advance(OFFER_TIMEOUT);
    tick(&app.state).await;
    app.wait_offer("ana", "c2").await;
    assert_eq!(app.agent("ana").await["presence"], "available");
    clock.advance(OFFER_TIMEOUT);
    tick(&app.state).await;
    assert_eq!(app.agent("ana").await["presence"], "away");

    for cid in ["c1", "c2"] {
        let events = app.events(cid).await;
        let closed = of_type(&events, "offer_closed");
        assert_eq!(closed.len(), 1, "{cid}: {closed:?}");
        assert_eq!(closed[0]["reason"], "expired");
        assert_eq!(closed[0]["agent_id"], "ana");
        assert_eq!(app.state(cid).await["owner"], "queued");
    }
    let ana = app.agent("ana").await;
    assert_eq!(ana["load"], 0, "{ana}");
    assert!(app.offers_of("ana").await.is_empty());
}

#[tokio::test]
async fn capacity_is_never_exceeded() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let ana = app.key("agent", Some("ana")).await;
    app.available_agent("ana", json!({"billing": 3}), 1).await;

    app.hand_off("c1", &bot, &["billing"], "normal").await;
    let offer = app.wait_offer("ana", "c1").await;
    app.hand_off("c2", &bot, &["billing"], "normal").await;
    app.wait_waiting("billing", 2).await;
    assert_eq!(
        app.state("c2").await["owner"],
        "queued",
        "a live offer fills the only slot"
    );
    assert_eq!(app.agent("ana").await["load"], 1);

    let (status, body) = app
        .post(
            &format!("/v1/offers/{offer}/accept"),
            &json!({}),
            Some(&ana),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.wait_waiting("billing", 1).await;
    assert_eq!(app.state("c2").await["owner"], "queued");
    assert!(offered_to(&app, "c2").await.is_empty());
    assert_eq!(app.agent("ana").await["load"], 1);

    let (status, body) = app
        .post(
            "/v1/conversations/c1/resolve",
            &json!({"resolution": "done"}),
            Some(&ana),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.wait_offer("ana", "c2").await;
    let view = app.agent("ana").await;
    assert_eq!(view["load"], 1, "{view}");
    assert_eq!(view["conversations"], json!([]));
}

#[tokio::test]
async fn accept_makes_the_agent_the_owner_and_only_the_offered_agent_may_accept() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let ana = app.key("agent", Some("ana")).await;
    let bo = app.key("agent", Some("bo")).await;
    app.available_agent("ana", json!({"billing": 5}), 2).await;
    app.put_agent("bo", json!({"billing": 1}), 2).await;

    app.hand_off("c1", &bot, &["billing"], "normal").await;
    let offer = app.wait_offer("ana", "c1").await;

    // Someone else's offer does not exist for them; nothing changes.
    let before = app.events("c1").await;
    let refused = app
        .post(&format!("/v1/offers/{offer}/accept"), &json!({}), Some(&bo))
        .await;
    assert_error(&refused, StatusCode::NOT_FOUND, "not_found", None);
    let refused = app
        .post(&format!("/v1/offers/{offer}/reject"), &json!({}), Some(&bo))
        .await;
    assert_error(&refused, StatusCode::NOT_FOUND, "not_found", None);
    assert_eq!(app.events("c1").await, before);
    assert_eq!(
        app.offers_of("ana").await.len(),
        1,
        "ana's offer is still live"
    );
    // Only agent keys answer offers.
    let refused = app
        .post(
            &format!("/v1/offers/{offer}/accept"),
            &json!({}),
            Some(&bot),
        )
        .await;
    assert_error(&refused, StatusCode::FORBIDDEN, "forbidden", None);

    let (status, body) = app
        .post(
            &format!("/v1/offers/{offer}/accept"),
            &json!({}),
            Some(&ana),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["owner"], "agent");
    assert_eq!(body["agent_id"], "ana");
    assert_eq!(body["conversation"], "c1");

    let state = app.state("c1").await;
    assert_eq!(state["owner"], "agent");
    assert_eq!(state["assigned_agent"], "ana");
    let events = app.events("c1").await;
    let assigned = of_type(&events, "assigned");
    assert_eq!(assigned.len(), 1);
    assert_eq!(assigned[0]["agent_id"], "ana");
    assert_eq!(assigned[0]["offer_id"], offer.as_str());
    assert_eq!(assigned[0]["seq"], state["last_seq"]);
    let view = app.agent("ana").await;
    assert_eq!(view["conversations"], json!(["c1"]));
    assert_eq!(view["offers"], json!([]));
    assert_eq!(view["load"], 1);

    // The owner speaks now.
    app.append_ok(
        "c1",
        json!([{"type": "agent_message", "text": "Hi, I'm Ana, I'll sort out the charge."}]),
        &ana,
    )
    .await;

    // An agent key reads only conversations offered or assigned to it.
    for path in [
        "/v1/conversations/c1",
        "/v1/conversations/c1/events",
        "/v1/conversations/c1/package",
    ] {
        let (status, body) = app.get(path, Some(&ana)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_error(
            &app.get(path, Some(&bo)).await,
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        );
    }
    app.append_ok(
        "other",
        json!([{"type": "customer_message", "text": "hello"}]),
        &bot,
    )
    .await;
    assert_error(
        &app.get("/v1/conversations/other", Some(&ana)).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
}

#[tokio::test]
async fn queues_show_waiting_counts() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let ana = app.key("agent", Some("ana")).await;

    app.hand_off("b1", &bot, &["billing"], "normal").await;
    app.hand_off("b2", &bot, &["billing"], "high").await;
    app.hand_off("r1", &bot, &["refunds"], "normal").await;
    app.wait_waiting("billing", 2).await;
    app.wait_waiting("refunds", 1).await;

    let (status, body) = app.get("/v1/queues", Some(&bot)).await;
    assert_eq!(status, StatusCode::OK, "a bot may read the queues: {body}");
    let queues = body["queues"].as_array().unwrap();
    let billing = queues.iter().find(|q| q["skill"] == "billing").unwrap();
    assert_eq!(billing["waiting"], 2);
    assert!(
        billing["longest_wait_ms"].as_i64().unwrap() >= 0,
        "{billing}"
    );
    assert_error(
        &app.get("/v1/queues", Some(&ana)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    );

    // An agent who takes one leaves one waiting.
    app.available_agent("ana", json!({"billing": 3}), 1).await;
    app.assign("b2", "ana", &ana).await;
    app.wait_waiting("billing", 1).await;
}

#[tokio::test]
async fn after_the_overflow_wait_a_fallback_agent_is_offered_the_conversation() {
    let clock = Clock::manual_from_now();
    let config = AppConfig {
        overflow_after_ms: 60_000,
        clock: clock.clone(),
        ..AppConfig::default()
    };
    let app = spawn_app_with(config).await;
    let bot = app.key("bot", None).await;
    app.available_agent("gus", json!({"general": 2}), 2).await;
    app.available_agent("ana", json!({"billing": 5}), 2).await;

    app.hand_off("c1", &bot, &["probate"], "normal").await;
    app.wait_waiting("probate", 1).await;
    clock.advance(Duration::from_millis(59_999));
    tick(&app.state).await;
    assert!(
        app.offers_of("gus").await.is_empty(),
        "offered before the overflow wait"
    );
    clock.advance(Duration::from_millis(1));
    tick(&app.state).await;
    app.wait_offer("gus", "c1").await;

    let events = app.events("c1").await;
    assert_eq!(
        offered_to(&app, "c1").await,
        ["gus"],
        "only the policy's fallback skill (general) qualifies"
    );
    let decision = events
        .iter()
        .rev()
        .find(|e| e["type"] == "decision" && e["outcome"] == "handoff")
        .unwrap();
    let offered = of_type(&events, "offered")[0];
    let waited = at(offered).millis_since(at(decision));
    assert_eq!(waited, 60_000, "offered when the overflow wait ran out");
    assert!(app.offers_of("ana").await.is_empty());
}

#[tokio::test]
async fn a_later_handoff_prefers_the_agent_who_bounced_it_back() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let ana = app.key("agent", Some("ana")).await;
    app.available_agent("ana", json!({"billing": 1}), 2).await;
    app.put_agent("bo", json!({"billing": 5}), 2).await;

    app.hand_off("c1", &bot, &["billing"], "normal").await;
    app.assign("c1", "ana", &ana).await;
    let body = json!({"instructions": "Confirm the refund reached the card, then close."});
    let (status, answer) = app
        .post("/v1/conversations/c1/bounce-back", &body, Some(&ana))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    app.set_presence("bo", "available").await;

    // bo is more proficient and idle; without stickiness bo would be offered both.
    app.append_ok(
        "c1",
        json!([{"type": "customer_message", "text": "The refund is not there."}]),
        &bot,
    )
    .await;
    let answer =
        app.append_ok("c1", json!([{"type": "handoff_requested", "reason": "refund missing", "skills": ["billing"]}]), &bot).await;
    assert_eq!(answer["decision"]["outcome"], "handoff", "{answer}");
    app.wait_offer("ana", "c1").await;
    assert_eq!(offered_to(&app, "c1").await, ["ana", "ana"]);

    app.hand_off("c2", &bot, &["billing"], "normal").await;
    app.wait_offer("bo", "c2").await;
    assert_eq!(
        offered_to(&app, "c2").await,
        ["bo"],
        "a fresh conversation goes to the most proficient agent"
    );
}
