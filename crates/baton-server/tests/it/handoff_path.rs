//! The handoff path under concurrency: many handoffs at once are each offered and
//! accepted exactly once, an accept that overtakes its offer's write still follows it
//! in the log, and a slow commit of a routing event does not hold the routing gate.

use baton_core::router::{ConversationRouting, Presence};
use baton_core::{AgentId, ConversationId, OfferId};
use baton_server::AppState;
use serde_json::{Value, json};

use crate::faulty_store::{Mode, spawn_faulty};
use crate::helpers::{TestApp, WAIT, of_type, spawn_app};

/// The seqs of `kind` events in a conversation's log.
async fn seqs_of(app: &TestApp, cid: &str, kind: &str) -> Vec<u64> {
    of_type(&app.events(cid).await, kind)
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect()
}

/// The live offer of `cid` as the router holds it, polled without the HTTP view
/// (which waits for the offer to be durable).
async fn routed_offer(state: &AppState, cid: &ConversationId) -> OfferId {
    tokio::time::timeout(WAIT, async {
        loop {
            if let Some(ConversationRouting::Offered(offer)) =
                state.routing.lock().await.router.conversation(cid)
            {
                return offer.offer_id;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the router offers the conversation")
}

#[tokio::test]
async fn sixty_four_simultaneous_handoffs_are_each_offered_and_accepted_once() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    let ana = app.key("agent", Some("ana")).await;
    app.available_agent("ana", json!({"billing": 3}), 64).await;

    let cids: Vec<String> = (0..64).map(|n| format!("burst-{n}")).collect();
    futures_util::future::join_all(
        cids.iter()
            .map(|cid| app.hand_off(cid, &bot, &["billing"], "normal")),
    )
    .await;
    futures_util::future::join_all(cids.iter().map(|cid| app.assign(cid, "ana", &ana))).await;

    for cid in &cids {
        let offered = seqs_of(&app, cid, "offered").await;
        let assigned = seqs_of(&app, cid, "assigned").await;
        assert_eq!(offered.len(), 1, "{cid} offered once: {offered:?}");
        assert_eq!(assigned.len(), 1, "{cid} assigned once: {assigned:?}");
        assert!(offered[0] < assigned[0], "{cid}: offered before assigned");
        assert_eq!(app.state(cid).await["owner"], "agent");
    }
    let view: Value = app.agent("ana").await;
    assert_eq!(view["load"], 64, "{view}");
}

#[tokio::test]
async fn an_accept_right_after_the_offer_never_precedes_it_in_the_log() {
    let (app, faulty) = spawn_faulty().await;
    let bot = app.key("bot", None).await;
    app.available_agent("ana", json!({"billing": 3}), 32).await;
    let ana = AgentId::parse("ana").unwrap();
    // Every commit's answer comes a few milliseconds late: the router's `offered` is
    // still being written when the accept arrives.
    faulty.set(Mode::Slow);

    let cids: Vec<String> = (0..16).map(|n| format!("race-{n}")).collect();
    futures_util::future::join_all(cids.iter().map(|cid| {
        let (app, bot, ana) = (&app, &bot, &ana);
        async move {
            app.hand_off(cid, bot, &["billing"], "normal").await;
            let id = ConversationId::parse(cid.as_str()).unwrap();
            let offer = routed_offer(&app.state, &id).await;
            baton_server::routing::accept_offer(&app.state, ana, &offer)
                .await
                .unwrap();
        }
    }))
    .await;

    for cid in &cids {
        let offered = seqs_of(&app, cid, "offered").await;
        let assigned = seqs_of(&app, cid, "assigned").await;
        assert_eq!((offered.len(), assigned.len()), (1, 1), "{cid}");
        assert!(
            offered[0] < assigned[0],
            "{cid}: assigned at {} before offered at {}",
            assigned[0],
            offered[0]
        );
    }
}

#[tokio::test]
async fn a_slow_routing_commit_does_not_hold_the_routing_gate() {
    let (app, faulty) = spawn_faulty().await;
    let bot = app.key("bot", None).await;
    app.put_agent("ana", json!({"billing": 3}), 2).await;
    app.put_agent("bob", json!({"orders": 3}), 2).await;
    // Queued with nobody available: no offer yet.
    app.hand_off("slow-1", &bot, &["billing"], "normal").await;
    app.wait_waiting("billing", 1).await;

    // ana comes online: the router offers slow-1 to her, and that `offered` commit
    // does not answer until released.
    faulty.set(Mode::Hold);
    let state = app.state.clone();
    let ana_online = tokio::spawn(async move {
        let ana = AgentId::parse("ana").unwrap();
        baton_server::routing::set_presence(&state, &ana, Presence::Available).await
    });
    tokio::time::timeout(WAIT, faulty.entered.notified())
        .await
        .expect("the offer reaches the store");

    // Meanwhile another agent's presence change goes through: it only needs the gate.
    let bob = AgentId::parse("bob").unwrap();
    let bob_online = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        baton_server::routing::set_presence(&app.state, &bob, Presence::Available),
    )
    .await;
    faulty.release();
    assert!(
        matches!(bob_online, Ok(Ok(()))),
        "a presence change waited for another conversation's commit"
    );
    tokio::time::timeout(WAIT, ana_online)
        .await
        .expect("ana's presence change finishes once the commit answers")
        .unwrap()
        .unwrap();
    assert_eq!(seqs_of(&app, "slow-1", "offered").await.len(), 1);
    assert_eq!(app.agent("bob").await["presence"], "available");
}

#[tokio::test]
async fn what_the_agent_views_show_of_the_router_is_already_in_the_log() {
    let app = spawn_app().await;
    let bot = app.key("bot", None).await;
    app.put_agent("ana", json!({"billing": 3}), 1).await;
    let cid = ConversationId::parse("durable-1").unwrap();
    app.hand_off("durable-1", &bot, &["billing"], "normal")
        .await;
    // Hold the queued conversation's writer lock, then let ana go available: the
    // router decides the offer at once, but cannot write its `offered` event until
    // the lock is released.
    let state = &app.state;
    let held = state
        .conversations
        .lock(state.store.as_ref(), &state.policy(), &cid)
        .await
        .unwrap();
    let presence = {
        let (client, url, key) = (
            app.client.clone(),
            app.url("/v1/agents/ana/presence"),
            app.admin_key.clone(),
        );
        tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(key)
                .json(&json!({"status": "available"}))
                .send()
                .await
        })
    };
    routed_offer(&app.state, &cid).await;

    let admin = app.admin_key.clone();
    for path in ["/v1/agents/ana", "/v1/agents", "/v1/queues"] {
        let read = app.get(path, Some(&admin));
        tokio::pin!(read);
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(300), &mut read)
                .await
                .is_err(),
            "{path} answered with router state its log does not hold yet"
        );
        if path == "/v1/queues" {
            drop(held);
            let (status, _) = tokio::time::timeout(WAIT, read).await.expect("answers");
            assert_eq!(status, reqwest::StatusCode::OK);
            break;
        }
    }
    presence.await.unwrap().unwrap();
    assert_eq!(seqs_of(&app, "durable-1", "offered").await.len(), 1);
}

#[tokio::test]
async fn a_slow_bounce_back_or_resolve_commit_does_not_hold_the_routing_gate() {
    let (app, faulty) = spawn_faulty().await;
    let bot = app.key("bot", None).await;
    let ana = app.key("agent", Some("ana")).await;
    app.available_agent("ana", json!({"billing": 3}), 2).await;
    app.put_agent("bob", json!({"orders": 3}), 2).await;
    for cid in ["held-1", "held-2"] {
        app.hand_off(cid, &bot, &["billing"], "normal").await;
        app.assign(cid, "ana", &ana).await;
    }

    for (cid, path, body) in [
        (
            "held-1",
            "bounce-back",
            json!({"instructions": "Check the refund."}),
        ),
        ("held-2", "resolve", json!({"resolution": "Refunded."})),
    ] {
        // The bounce-back's (the resolution's) commit does not answer until released.
        faulty.set(Mode::Hold);
        let client = app.client.clone();
        let url = app.url(&format!("/v1/conversations/{cid}/{path}"));
        let key = ana.clone();
        let request =
            tokio::spawn(async move { client.post(url).bearer_auth(key).json(&body).send().await });
        tokio::time::timeout(WAIT, faulty.entered.notified())
            .await
            .expect("the event reaches the store");

        // Meanwhile a presence change, which needs only the gate, goes through.
        let bob = AgentId::parse("bob").unwrap();
        let bob_away = tokio::time::timeout(
            std::time::Duration::from_secs(2),
            baton_server::routing::set_presence(&app.state, &bob, Presence::Away),
        )
        .await;
        faulty.release();
        assert!(
            matches!(bob_away, Ok(Ok(()))),
            "a presence change waited for the {path} commit of {cid}"
        );
        let answer = tokio::time::timeout(WAIT, request)
            .await
            .expect("the request finishes once the commit answers")
            .unwrap()
            .unwrap();
        assert_eq!(answer.status(), reqwest::StatusCode::OK, "{path}");
    }
    assert_eq!(seqs_of(&app, "held-1", "bounced_back").await.len(), 1);
    assert_eq!(seqs_of(&app, "held-2", "resolved").await.len(), 1);
    assert_eq!(app.agent("ana").await["load"], 0);
}
