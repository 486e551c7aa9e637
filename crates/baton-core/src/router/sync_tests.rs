//! The passive mode and [`Router::sync`]: what a follower mirrors and what a leader
//! does when the log moved behind its back.

use super::tests::{aid, cid, conv, offer_id, offered, pair, profile, router_with, t};
use super::*;
use crate::event::Priority;

fn entry(c: &str) -> QueuedConversation {
    conv(c, &["s"], Priority::Normal, t(0))
}

fn passive(agents: &[AgentProfile]) -> Router {
    let mut r = router_with(RouterConfig::default(), agents);
    r.set_active(false);
    r
}

#[test]
fn a_passive_router_never_offers_nor_expires() {
    let mut r = passive(&[profile("a", &[("s", 3)], 2)]);
    assert!(r.enqueue(entry("c1"), t(1)).unwrap().is_empty());
    assert!(
        r.set_presence(&aid("a"), Presence::Available, t(2))
            .unwrap()
            .is_empty()
    );
    // The leader's offer, mirrored, is never expired here.
    let fx = r
        .sync(
            &cid("c1"),
            Routed::Offered {
                entry: entry("c1"),
                offer_id: OfferId::parse("of-9-1").unwrap(),
                agent: aid("a"),
                expires_at: t(5),
            },
            t(3),
        )
        .unwrap();
    assert!(fx.is_empty());
    assert!(r.tick(t(60)).is_empty());
    assert_eq!(r.offers_for(&aid("a")).len(), 1);
    assert_eq!(r.agent(&aid("a")).unwrap().load, 1);
}

#[test]
fn made_active_it_offers_what_waits() {
    let mut r = passive(&[profile("a", &[("s", 3)], 1)]);
    r.enqueue(entry("c1"), t(1)).unwrap();
    r.set_active(true);
    assert_eq!(offered(&r.rebalance(t(2))), vec![pair("c1", "a")]);
}

#[test]
fn an_accept_on_another_node_makes_the_owner_without_effects() {
    let mut r = router_with(RouterConfig::default(), &[profile("a", &[("s", 3)], 1)]);
    let fx = r.enqueue(entry("c1"), t(1)).unwrap();
    let offer = offer_id(&fx, "c1");
    let owned = Routed::Owned {
        agent: aid("a"),
        customer: None,
    };
    assert!(r.sync(&cid("c1"), owned.clone(), t(2)).unwrap().is_empty());
    let view = r.agent(&aid("a")).unwrap();
    assert_eq!(view.conversations, vec![cid("c1")]);
    assert!(view.offers.is_empty());
    assert_eq!(
        view.load, 1,
        "the offer became the conversation: no slot freed"
    );
    // The accepted offer does not expire later.
    assert!(r.tick(t(600)).is_empty());
    assert!(r.offer(&offer).is_none());
    // Told again, nothing changes.
    assert!(r.sync(&cid("c1"), owned, t(3)).unwrap().is_empty());
}

#[test]
fn a_conversation_queued_on_another_node_is_offered_by_the_leader() {
    let mut r = router_with(RouterConfig::default(), &[profile("a", &[("s", 3)], 1)]);
    let fx = r
        .sync(&cid("c1"), Routed::Queued(entry("c1")), t(1))
        .unwrap();
    assert_eq!(offered(&fx), vec![pair("c1", "a")]);
}

#[test]
fn an_offer_closed_elsewhere_moves_on_and_skips_its_agent() {
    let mut r = router_with(
        RouterConfig::default(),
        &[profile("a", &[("s", 5)], 1), profile("b", &[("s", 1)], 1)],
    );
    let fx = r.enqueue(entry("c1"), t(1)).unwrap();
    assert_eq!(offered(&fx), vec![pair("c1", "a")]);
    // Agent a declined on another node: the log says queued again.
    let fx = r
        .sync(&cid("c1"), Routed::Queued(entry("c1")), t(2))
        .unwrap();
    assert_eq!(offered(&fx), vec![pair("c1", "b")], "a is cooling down");
    assert!(
        !fx.iter()
            .any(|e| matches!(e, RouterEffect::OfferClosed { .. })),
        "the close is the other node's, already written: {fx:?}"
    );
}

#[test]
fn a_conversation_resolved_elsewhere_frees_its_agent_for_the_next() {
    let mut r = router_with(RouterConfig::default(), &[profile("a", &[("s", 3)], 1)]);
    let fx = r.enqueue(entry("c1"), t(1)).unwrap();
    r.accept(&offer_id(&fx, "c1"), &aid("a"), t(2)).unwrap();
    assert!(
        r.enqueue(entry("c2"), t(3)).unwrap().is_empty(),
        "a is full"
    );
    let fx = r.sync(&cid("c1"), Routed::Unrouted, t(4)).unwrap();
    assert_eq!(offered(&fx), vec![pair("c2", "a")]);
    assert_eq!(r.agent(&aid("a")).unwrap().load, 1);
}

#[test]
fn a_stale_offer_is_replaced_by_the_logged_one() {
    let mut r = router_with(
        RouterConfig::default(),
        &[profile("a", &[("s", 3)], 1), profile("b", &[("s", 3)], 1)],
    );
    let fx = r.enqueue(entry("c1"), t(1)).unwrap();
    let mine = offer_id(&fx, "c1");
    let theirs = OfferId::parse("of-7-3").unwrap();
    let to = if offered(&fx)[0].1 == "a" { "b" } else { "a" };
    r.sync(
        &cid("c1"),
        Routed::Offered {
            entry: entry("c1"),
            offer_id: theirs.clone(),
            agent: aid(to),
            expires_at: t(30),
        },
        t(2),
    )
    .unwrap();
    assert!(r.offer(&mine).is_none());
    assert_eq!(r.offer(&theirs).unwrap().agent, aid(to));
    let loads: u32 = ["a", "b"]
        .iter()
        .map(|a| r.agent(&aid(a)).unwrap().load)
        .sum();
    assert_eq!(loads, 1, "one offer held, by the agent the log names");
}

#[test]
fn an_offer_accepted_here_or_elsewhere_is_told_accepted_to_its_agent_only() {
    let mut r = router_with(
        RouterConfig::default(),
        &[profile("a", &[("s", 3)], 2), profile("b", &[("s", 1)], 2)],
    );
    let fx = r.enqueue(entry("c1"), t(1)).unwrap();
    let here = offer_id(&fx, "c1");
    r.accept(&here, &aid("a"), t(2)).unwrap();
    assert_eq!(
        r.accept(&here, &aid("a"), t(3)),
        Err(RouterError::AlreadyAccepted(here.clone()))
    );
    assert_eq!(
        r.accept(&here, &aid("b"), t(3)),
        Err(RouterError::UnknownOffer(here.clone())),
        "to anyone else it does not exist"
    );
    // Accepted on another node: the log says a owns c2.
    let fx = r.enqueue(entry("c2"), t(4)).unwrap();
    let elsewhere = offer_id(&fx, "c2");
    let owned = Routed::Owned {
        agent: aid("a"),
        customer: None,
    };
    r.sync(&cid("c2"), owned, t(5)).unwrap();
    assert_eq!(
        r.accept(&elsewhere, &aid("a"), t(6)),
        Err(RouterError::AlreadyAccepted(elsewhere.clone()))
    );
    // Remembered for a while, not for ever.
    r.tick(t(4_000));
    assert_eq!(
        r.accept(&elsewhere, &aid("a"), t(4_001)),
        Err(RouterError::UnknownOffer(elsewhere))
    );
}
