//! Router unit tests: one per rule, in the order `docs/routing.md` states them.

use std::collections::BTreeMap;

use super::*;
use crate::event::{OfferEnd, Priority};

pub(super) fn t(secs: i64) -> Timestamp {
    Timestamp::from_unix_millis(1_700_000_000_000 + secs * 1000)
}

pub(super) fn aid(s: &str) -> AgentId {
    AgentId::parse(s).unwrap()
}

pub(super) fn cid(s: &str) -> ConversationId {
    ConversationId::parse(s).unwrap()
}

pub(super) fn label(s: &str) -> Label {
    Label::parse(s).unwrap()
}

pub(super) fn profile(id: &str, skills: &[(&str, u8)], capacity: u32) -> AgentProfile {
    let skills: BTreeMap<Label, u8> = skills.iter().map(|(s, p)| (label(s), *p)).collect();
    AgentProfile {
        id: aid(id),
        skills,
        capacity,
    }
}

pub(super) fn conv(
    id: &str,
    skills: &[&str],
    priority: Priority,
    at: Timestamp,
) -> QueuedConversation {
    QueuedConversation {
        conversation: cid(id),
        customer: None,
        priority,
        skills: skills.iter().map(|s| label(s)).collect(),
        enqueued_at: at,
        preferred_agent: None,
    }
}

/// A router with available agents.
pub(super) fn router_with(config: RouterConfig, agents: &[AgentProfile]) -> Router {
    let mut r = Router::new(config);
    for a in agents {
        r.upsert_agent(a.clone(), t(0)).unwrap();
        r.set_presence(&a.id, Presence::Available, t(0)).unwrap();
    }
    r
}

pub(super) fn offered(effects: &[RouterEffect]) -> Vec<(String, String)> {
    effects
        .iter()
        .filter_map(|e| match e {
            RouterEffect::Offered {
                conversation,
                agent,
                ..
            } => Some((conversation.to_string(), agent.to_string())),
            _ => None,
        })
        .collect()
}

pub(super) fn offer_id(effects: &[RouterEffect], conversation: &str) -> OfferId {
    effects
        .iter()
        .find_map(|e| match e {
            RouterEffect::Offered {
                offer_id,
                conversation: c,
                ..
            } if c.as_str() == conversation => Some(offer_id.clone()),
            _ => None,
        })
        .unwrap()
}

pub(super) fn pair(c: &str, a: &str) -> (String, String) {
    (c.to_owned(), a.to_owned())
}

#[test]
fn offers_only_to_agents_with_every_required_skill() {
    let mut r = router_with(
        RouterConfig::default(),
        &[
            profile("billing-only", &[("billing", 5)], 2),
            profile("both", &[("billing", 1), ("refunds", 1)], 2),
        ],
    );
    let fx = r
        .enqueue(
            conv("c1", &["billing", "refunds"], Priority::Normal, t(1)),
            t(1),
        )
        .unwrap();
    assert_eq!(offered(&fx), vec![pair("c1", "both")]);
    let fx = r
        .enqueue(conv("c2", &["tech"], Priority::Normal, t(2)), t(2))
        .unwrap();
    assert!(fx.is_empty(), "{fx:?}");
    assert!(matches!(
        r.conversation(&cid("c2")),
        Some(ConversationRouting::Queued { .. })
    ));
}

#[test]
fn only_available_agents_are_offered() {
    let mut r = router_with(RouterConfig::default(), &[profile("a", &[("s", 3)], 1)]);
    r.set_presence(&aid("a"), Presence::Away, t(1)).unwrap();
    assert!(
        r.enqueue(conv("c1", &["s"], Priority::Normal, t(1)), t(1))
            .unwrap()
            .is_empty()
    );
    let fx = r
        .set_presence(&aid("a"), Presence::Available, t(2))
        .unwrap();
    assert_eq!(offered(&fx), vec![pair("c1", "a")]);
}

#[test]
fn live_offers_count_against_capacity() {
    let mut r = router_with(RouterConfig::default(), &[profile("a", &[("s", 3)], 2)]);
    assert_eq!(
        offered(
            &r.enqueue(conv("c1", &["s"], Priority::Normal, t(1)), t(1))
                .unwrap()
        )
        .len(),
        1
    );
    assert_eq!(
        offered(
            &r.enqueue(conv("c2", &["s"], Priority::Normal, t(2)), t(2))
                .unwrap()
        )
        .len(),
        1
    );
    assert!(
        r.enqueue(conv("c3", &["s"], Priority::Normal, t(3)), t(3))
            .unwrap()
            .is_empty()
    );
    let view = r.agent(&aid("a")).unwrap();
    assert_eq!((view.load, view.capacity, view.offers.len()), (2, 2, 2));
}

#[test]
fn sticky_agent_beats_proficiency() {
    let mut r = router_with(
        RouterConfig::default(),
        &[
            profile("expert", &[("s", 5)], 3),
            profile("novice", &[("s", 1)], 3),
        ],
    );
    let mut c = conv("c1", &["s"], Priority::Normal, t(1));
    c.customer = Some(CustomerId::parse("cust-1").unwrap());
    r.remember_customer_agent(c.customer.as_ref().unwrap(), &aid("novice"), t(0));
    assert_eq!(
        offered(&r.enqueue(c, t(1)).unwrap()),
        vec![pair("c1", "novice")]
    );
    assert_eq!(
        offered(
            &r.enqueue(conv("c2", &["s"], Priority::Normal, t(2)), t(2))
                .unwrap()
        ),
        vec![pair("c2", "expert")]
    );
}

#[test]
fn preferred_agent_from_bounce_back_is_honoured() {
    let mut r = router_with(
        RouterConfig::default(),
        &[
            profile("expert", &[("s", 5)], 3),
            profile("bouncer", &[("s", 1)], 3),
        ],
    );
    let mut c = conv("c1", &["s"], Priority::Normal, t(1));
    c.preferred_agent = Some(aid("bouncer"));
    assert_eq!(
        offered(&r.enqueue(c, t(1)).unwrap()),
        vec![pair("c1", "bouncer")]
    );
}

#[test]
fn the_agent_who_released_a_conversation_gets_it_back() {
    let mut r = router_with(
        RouterConfig::default(),
        &[
            profile("expert", &[("s", 5)], 3),
            profile("novice", &[("s", 1)], 3),
        ],
    );
    r.set_presence(&aid("expert"), Presence::Away, t(0))
        .unwrap();
    let fx = r
        .enqueue(conv("c1", &["s"], Priority::Normal, t(1)), t(1))
        .unwrap();
    r.accept(&offer_id(&fx, "c1"), &aid("novice"), t(2))
        .unwrap();
    r.release(&aid("novice"), &cid("c1"), t(3)).unwrap();
    r.set_presence(&aid("expert"), Presence::Available, t(4))
        .unwrap();
    let fx = r
        .enqueue(conv("c1", &["s"], Priority::Normal, t(5)), t(5))
        .unwrap();
    assert_eq!(offered(&fx), vec![pair("c1", "novice")]);
}

#[test]
fn sticky_expires_after_the_window() {
    let config = RouterConfig {
        sticky_window_ms: 60_000,
        ..RouterConfig::default()
    };
    let mut r = router_with(
        config,
        &[
            profile("expert", &[("s", 5)], 3),
            profile("novice", &[("s", 1)], 3),
        ],
    );
    let customer = CustomerId::parse("cust").unwrap();
    r.remember_customer_agent(&customer, &aid("novice"), t(0));
    let mut c = conv("c1", &["s"], Priority::Normal, t(61));
    c.customer = Some(customer.clone());
    assert_eq!(
        offered(&r.enqueue(c, t(61)).unwrap()),
        vec![pair("c1", "expert")]
    );
    let mut c = conv("c2", &["s"], Priority::Normal, t(30));
    c.customer = Some(customer);
    r.remember_customer_agent(c.customer.as_ref().unwrap(), &aid("novice"), t(20));
    assert_eq!(
        offered(&r.enqueue(c, t(70)).unwrap()),
        vec![pair("c2", "novice")]
    );
}

#[test]
fn higher_proficiency_on_the_required_skills_wins() {
    let agents = [
        profile("a", &[("x", 2), ("y", 2), ("z", 5)], 3),
        profile("b", &[("x", 3), ("y", 2)], 3),
    ];
    let mut r = router_with(RouterConfig::default(), &agents);
    // `z` is not required, so a's 5 there does not count: b has 5 on x+y against a's 4.
    assert_eq!(
        offered(
            &r.enqueue(conv("c1", &["x", "y"], Priority::Normal, t(1)), t(1))
                .unwrap()
        ),
        vec![pair("c1", "b")]
    );
}

#[test]
fn equal_proficiency_prefers_lower_occupancy() {
    let mut r = router_with(
        RouterConfig::default(),
        &[profile("a", &[("s", 3)], 4), profile("b", &[("s", 3)], 2)],
    );
    // Both empty: registration order picks a; from then on occupancy decides.
    let fx = r
        .enqueue(conv("c1", &["s"], Priority::Normal, t(1)), t(1))
        .unwrap();
    assert_eq!(offered(&fx), vec![pair("c1", "a")]);
    // a at 1/4 = 25 % versus b at 0 %: b.
    assert_eq!(
        offered(
            &r.enqueue(conv("c2", &["s"], Priority::Normal, t(2)), t(2))
                .unwrap()
        ),
        vec![pair("c2", "b")]
    );
    // a 25 % versus b 50 %: a.
    assert_eq!(
        offered(
            &r.enqueue(conv("c3", &["s"], Priority::Normal, t(3)), t(3))
                .unwrap()
        ),
        vec![pair("c3", "a")]
    );
}

#[test]
fn equal_occupancy_prefers_longest_idle() {
    let mut r = router_with(
        RouterConfig::default(),
        &[profile("a", &[("s", 3)], 1), profile("b", &[("s", 3)], 1)],
    );
    // a takes and finishes a conversation, so b has been idle longer.
    let fx = r
        .enqueue(conv("c1", &["s"], Priority::Normal, t(1)), t(1))
        .unwrap();
    assert_eq!(offered(&fx), vec![pair("c1", "a")]);
    r.accept(&offer_id(&fx, "c1"), &aid("a"), t(2)).unwrap();
    r.release(&aid("a"), &cid("c1"), t(3)).unwrap();
    assert_eq!(
        offered(
            &r.enqueue(conv("c2", &["s"], Priority::Normal, t(4)), t(4))
                .unwrap()
        ),
        vec![pair("c2", "b")]
    );
}

#[test]
fn all_else_equal_the_earliest_registered_agent_wins() {
    let mut r = router_with(
        RouterConfig::default(),
        &[
            profile("zed", &[("s", 3)], 1),
            profile("amy", &[("s", 3)], 1),
        ],
    );
    assert_eq!(
        offered(
            &r.enqueue(conv("c1", &["s"], Priority::Normal, t(1)), t(1))
                .unwrap()
        ),
        vec![pair("c1", "zed")]
    );
}

#[test]
fn priority_first_then_age() {
    let mut r = router_with(RouterConfig::default(), &[profile("a", &[("s", 3)], 1)]);
    r.set_presence(&aid("a"), Presence::Away, t(0)).unwrap();
    r.enqueue(conv("old-normal", &["s"], Priority::Normal, t(0)), t(0))
        .unwrap();
    r.enqueue(conv("new-normal", &["s"], Priority::Normal, t(5)), t(5))
        .unwrap();
    r.enqueue(conv("new-urgent", &["s"], Priority::Urgent, t(10)), t(10))
        .unwrap();
    let fx = r
        .set_presence(&aid("a"), Presence::Available, t(11))
        .unwrap();
    assert_eq!(offered(&fx), vec![pair("new-urgent", "a")]);
    let fx = r.withdraw(&cid("new-urgent"), t(12));
    assert_eq!(offered(&fx), vec![pair("old-normal", "a")]);
}

#[test]
fn ageing_lets_a_long_wait_beat_a_higher_priority() {
    // W = 60 s: urgent (3) is worth 180 s of waiting over low (0).
    let config = RouterConfig {
        ageing_ms_per_rank: 60_000,
        ..RouterConfig::default()
    };
    let mut r = router_with(config, &[profile("a", &[("s", 3)], 1)]);
    r.set_presence(&aid("a"), Presence::Away, t(0)).unwrap();
    r.enqueue(conv("low", &["s"], Priority::Low, t(0)), t(0))
        .unwrap();
    r.enqueue(conv("urgent-170", &["s"], Priority::Urgent, t(170)), t(170))
        .unwrap();
    r.enqueue(conv("urgent-190", &["s"], Priority::Urgent, t(190)), t(190))
        .unwrap();
    let fx = r
        .set_presence(&aid("a"), Presence::Available, t(200))
        .unwrap();
    assert_eq!(offered(&fx), vec![pair("urgent-170", "a")]);
    let fx = r
        .reject(&offer_id(&fx, "urgent-170"), &aid("a"), t(201))
        .unwrap();
    // The rejected one is cooling down for a; `low` (waited 201 s) beats `urgent-190`
    // (waited 11 s + 180 s of rank).
    assert_eq!(offered(&fx), vec![pair("low", "a")]);
}

/// The turn at which a `low` conversation is first offered while two `urgent` ones
/// arrive for every one the single agent handles.
fn turn_low_is_served(ageing_ms_per_rank: i64) -> Option<i64> {
    let config = RouterConfig {
        ageing_ms_per_rank,
        ..RouterConfig::default()
    };
    let mut r = router_with(config, &[profile("a", &[("s", 3)], 1)]);
    r.set_presence(&aid("a"), Presence::Away, t(0)).unwrap();
    r.enqueue(conv("low", &["s"], Priority::Low, t(0)), t(0))
        .unwrap();
    r.enqueue(conv("first", &["s"], Priority::Urgent, t(0)), t(0))
        .unwrap();
    r.set_presence(&aid("a"), Presence::Available, t(1))
        .unwrap();
    for i in 0..100 {
        let now = t(10 + i * 20);
        r.enqueue(conv(&format!("u{i}a"), &["s"], Priority::Urgent, now), now)
            .unwrap();
        r.enqueue(conv(&format!("u{i}b"), &["s"], Priority::Urgent, now), now)
            .unwrap();
        let offer = r.offers_for(&aid("a")).pop().unwrap();
        if offer.conversation.as_str() == "low" {
            return Some(i);
        }
        r.accept(&offer.offer_id, &aid("a"), now).unwrap();
        r.release(&aid("a"), &offer.conversation, now.plus_millis(1))
            .unwrap();
    }
    None
}

#[test]
fn a_stream_of_urgent_work_cannot_starve_a_low_conversation() {
    // W = 60 s: urgent work that arrived more than 180 s after `low` queues behind it.
    let turn = turn_low_is_served(60_000).expect("the low conversation was never offered");
    assert!(turn < 30, "served only at turn {turn}");
    // Control: without ageing the same stream starves it.
    assert_eq!(turn_low_is_served(i64::MAX / 8), None);
}

#[test]
fn an_offer_expires_after_the_timeout_and_moves_on() {
    let mut r = router_with(
        RouterConfig::default(),
        &[profile("a", &[("s", 5)], 1), profile("b", &[("s", 1)], 1)],
    );
    let fx = r
        .enqueue(conv("c1", &["s"], Priority::Normal, t(0)), t(0))
        .unwrap();
    let first = offer_id(&fx, "c1");
    assert!(matches!(&fx[0], RouterEffect::Offered { expires_at, .. } if *expires_at == t(30)));
    assert!(r.tick(t(29)).is_empty());
    assert_eq!(
        r.accept(&first, &aid("a"), t(30)),
        Err(RouterError::OfferExpired(first.clone()))
    );
    let fx = r.tick(t(30));
    assert_eq!(
        fx[0],
        RouterEffect::OfferClosed {
            offer_id: first.clone(),
            conversation: cid("c1"),
            agent: aid("a"),
            reason: OfferEnd::Expired
        }
    );
    assert_eq!(offered(&fx), vec![pair("c1", "b")]);
    assert_eq!(
        r.accept(&first, &aid("a"), t(31)),
        Err(RouterError::UnknownOffer(first))
    );
}

#[test]
fn reject_moves_on_and_the_rejecter_is_skipped_until_the_cooldown() {
    let config = RouterConfig {
        reoffer_cooldown_ms: 60_000,
        ..RouterConfig::default()
    };
    let mut r = router_with(
        config,
        &[profile("a", &[("s", 5)], 1), profile("b", &[("s", 1)], 1)],
    );
    let fx = r
        .enqueue(conv("c1", &["s"], Priority::Normal, t(0)), t(0))
        .unwrap();
    let fx = r.reject(&offer_id(&fx, "c1"), &aid("a"), t(1)).unwrap();
    assert!(matches!(
        &fx[0],
        RouterEffect::OfferClosed {
            reason: OfferEnd::Rejected,
            ..
        }
    ));
    assert_eq!(offered(&fx), vec![pair("c1", "b")]);
    // b rejects too: nobody else is eligible and a is still cooling down.
    let fx = r.reject(&offer_id(&fx, "c1"), &aid("b"), t(2)).unwrap();
    assert_eq!(offered(&fx), vec![]);
    assert!(offered(&r.tick(t(60))).is_empty());
    // a's cool-down ends first: a gets it again.
    assert_eq!(offered(&r.tick(t(61))), vec![pair("c1", "a")]);
}

#[test]
fn repeated_expiries_set_the_agent_away() {
    let config = RouterConfig {
        reoffer_cooldown_ms: 1_000,
        ..RouterConfig::default()
    };
    let mut r = router_with(config, &[profile("a", &[("s", 3)], 1)]);
    r.enqueue(conv("c1", &["s"], Priority::Normal, t(0)), t(0))
        .unwrap();
    let mut now = 0;
    for round in 1..=3 {
        now += 30;
        let fx = r.tick(t(now));
        let away = fx
            .iter()
            .any(|e| matches!(e, RouterEffect::AgentAway { .. }));
        assert_eq!(away, round == 3, "round {round}: {fx:?}");
        now += 1;
        let fx = r.tick(t(now));
        assert_eq!(
            offered(&fx).len(),
            usize::from(round < 3),
            "round {round}: {fx:?}"
        );
    }
    assert_eq!(r.agent(&aid("a")).unwrap().presence, Presence::Away);
}

#[test]
fn an_answer_resets_the_expiry_streak() {
    let config = RouterConfig {
        reoffer_cooldown_ms: 1_000,
        max_expiries_in_row: 2,
        ..RouterConfig::default()
    };
    let mut r = router_with(config, &[profile("a", &[("s", 3)], 1)]);
    r.enqueue(conv("c1", &["s"], Priority::Normal, t(0)), t(0))
        .unwrap();
    r.tick(t(30));
    let fx = r.tick(t(31));
    r.reject(&offer_id(&fx, "c1"), &aid("a"), t(32)).unwrap();
    assert_eq!(r.agent(&aid("a")).unwrap().expiries_in_row, 0);
    let fx = r.tick(t(33));
    let fx = r.tick(t(33 + 30)).into_iter().chain(fx).collect::<Vec<_>>();
    assert!(
        !fx.iter()
            .any(|e| matches!(e, RouterEffect::AgentAway { .. })),
        "{fx:?}"
    );
    assert_eq!(r.agent(&aid("a")).unwrap().presence, Presence::Available);
}

#[test]
fn overflow_relaxes_to_fallback_skills_after_the_wait() {
    let overflow = Overflow {
        after_ms: 120_000,
        skills: vec![label("general")],
    };
    let config = RouterConfig {
        overflow: Some(overflow),
        ..RouterConfig::default()
    };
    let mut r = router_with(config, &[profile("generalist", &[("general", 3)], 1)]);
    assert!(
        r.enqueue(conv("c1", &["billing"], Priority::Normal, t(0)), t(0))
            .unwrap()
            .is_empty()
    );
    assert!(r.tick(t(119)).is_empty());
    let fx = r.tick(t(120));
    assert!(
        matches!(&fx[0], RouterEffect::Overflowed { skills, .. } if skills == &vec![label("general")])
    );
    assert_eq!(offered(&fx), vec![pair("c1", "generalist")]);
}

#[test]
fn after_overflow_agents_with_the_original_skills_stay_preferred() {
    let overflow = Overflow {
        after_ms: 10_000,
        skills: vec![],
    };
    let config = RouterConfig {
        overflow: Some(overflow),
        ..RouterConfig::default()
    };
    let mut r = router_with(
        config,
        &[
            profile("other", &[("tech", 5)], 1),
            profile("biller", &[("billing", 1)], 1),
        ],
    );
    // Both enqueued long ago, so both overflow at once: anyone may take them.
    let fx = r
        .enqueue(conv("c1", &["billing"], Priority::Normal, t(-60)), t(0))
        .unwrap();
    assert!(
        fx.iter()
            .any(|e| matches!(e, RouterEffect::Overflowed { .. }))
    );
    assert_eq!(offered(&fx), vec![pair("c1", "biller")]);
    let fx = r
        .enqueue(conv("c2", &["billing"], Priority::Normal, t(-60)), t(0))
        .unwrap();
    assert_eq!(offered(&fx), vec![pair("c2", "other")]);
}

#[test]
fn an_overflowed_conversation_is_offered_once_a_fallback_agent_frees_up() {
    let overflow = Overflow {
        after_ms: 10_000,
        skills: vec![label("general")],
    };
    let config = RouterConfig {
        overflow: Some(overflow),
        ..RouterConfig::default()
    };
    let mut r = router_with(config, &[profile("g", &[("general", 1)], 1)]);
    let fx = r
        .enqueue(conv("busy", &["general"], Priority::Normal, t(0)), t(0))
        .unwrap();
    r.accept(&offer_id(&fx, "busy"), &aid("g"), t(1)).unwrap();
    r.enqueue(conv("c1", &["billing"], Priority::Normal, t(0)), t(1))
        .unwrap();
    assert!(offered(&r.tick(t(11))).is_empty());
    assert_eq!(
        offered(&r.release(&aid("g"), &cid("busy"), t(12)).unwrap()),
        vec![pair("c1", "g")]
    );
}

#[test]
fn release_frees_the_slot_for_the_next_conversation() {
    let mut r = router_with(RouterConfig::default(), &[profile("a", &[("s", 3)], 1)]);
    let fx = r
        .enqueue(conv("c1", &["s"], Priority::Normal, t(0)), t(0))
        .unwrap();
    let fx = r.accept(&offer_id(&fx, "c1"), &aid("a"), t(1)).unwrap();
    assert_eq!(
        fx,
        vec![RouterEffect::Assigned {
            conversation: cid("c1"),
            agent: aid("a"),
            offer_id: OfferId::parse("of-1").unwrap()
        }]
    );
    assert!(
        r.enqueue(conv("c2", &["s"], Priority::Normal, t(2)), t(2))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        r.release(&aid("a"), &cid("c2"), t(3)),
        Err(RouterError::NotOwner {
            agent: aid("a"),
            conversation: cid("c2")
        })
    );
    assert_eq!(
        offered(&r.release(&aid("a"), &cid("c1"), t(3)).unwrap()),
        vec![pair("c2", "a")]
    );
    assert_eq!(r.conversation(&cid("c1")), None);
}

#[test]
fn answers_from_the_wrong_agent_are_refused_without_effect() {
    let mut r = router_with(
        RouterConfig::default(),
        &[profile("a", &[("s", 3)], 1), profile("b", &[("s", 1)], 1)],
    );
    let fx = r
        .enqueue(conv("c1", &["s"], Priority::Normal, t(0)), t(0))
        .unwrap();
    let offer = offer_id(&fx, "c1");
    assert!(matches!(
        r.accept(&offer, &aid("b"), t(1)),
        Err(RouterError::NotYourOffer { .. })
    ));
    assert!(matches!(
        r.reject(&offer, &aid("b"), t(1)),
        Err(RouterError::NotYourOffer { .. })
    ));
    assert!(matches!(
        r.accept(&offer, &aid("ghost"), t(1)),
        Err(RouterError::UnknownAgent(_))
    ));
    assert_eq!(r.offers_for(&aid("a")).len(), 1);
    assert!(r.accept(&offer, &aid("a"), t(1)).is_ok());
    assert!(matches!(
        r.enqueue(conv("c1", &["s"], Priority::Normal, t(2)), t(2)),
        Err(RouterError::AlreadyRouted(_))
    ));
}

#[test]
fn withdraw_closes_the_offer_and_serves_the_agent_again() {
    let mut r = router_with(RouterConfig::default(), &[profile("a", &[("s", 3)], 1)]);
    r.enqueue(conv("c1", &["s"], Priority::Normal, t(0)), t(0))
        .unwrap();
    r.enqueue(conv("c2", &["s"], Priority::Normal, t(1)), t(1))
        .unwrap();
    let fx = r.withdraw(&cid("c1"), t(2));
    assert!(matches!(
        &fx[0],
        RouterEffect::OfferClosed {
            reason: OfferEnd::Withdrawn,
            ..
        }
    ));
    assert_eq!(offered(&fx), vec![pair("c2", "a")]);
    assert_eq!(r.conversation(&cid("c1")), None);
    assert!(r.withdraw(&cid("nope"), t(3)).is_empty());
}

#[test]
fn going_away_withdraws_live_offers_to_the_next_agent() {
    let mut r = router_with(
        RouterConfig::default(),
        &[profile("a", &[("s", 5)], 1), profile("b", &[("s", 1)], 1)],
    );
    r.enqueue(conv("c1", &["s"], Priority::Normal, t(0)), t(0))
        .unwrap();
    let fx = r.set_presence(&aid("a"), Presence::Offline, t(1)).unwrap();
    assert!(matches!(
        &fx[0],
        RouterEffect::OfferClosed {
            reason: OfferEnd::Withdrawn,
            ..
        }
    ));
    assert_eq!(offered(&fx), vec![pair("c1", "b")]);
}

#[test]
fn offer_ids_are_deterministic_and_seedable() {
    assert!(Router::with_offer_ids(RouterConfig::default(), "bad prefix", 1).is_err());
    let mut r = Router::with_offer_ids(RouterConfig::default(), "boot7-", 41).unwrap();
    r.upsert_agent(profile("a", &[("s", 1)], 5), t(0)).unwrap();
    r.set_presence(&aid("a"), Presence::Available, t(0))
        .unwrap();
    let fx = r
        .enqueue(conv("c1", &["s"], Priority::Normal, t(0)), t(0))
        .unwrap();
    assert_eq!(offer_id(&fx, "c1").as_str(), "boot7-41");
    assert_eq!(r.next_offer_number(), 42);
}

#[test]
fn restore_then_rebalance_serves_in_priority_order() {
    let mut r = Router::new(RouterConfig::default());
    r.upsert_agent(profile("a", &[("s", 3)], 3), t(0)).unwrap();
    r.upsert_agent(profile("b", &[("s", 3)], 1), t(0)).unwrap();
    r.set_presence(&aid("a"), Presence::Available, t(0))
        .unwrap();
    r.set_presence(&aid("b"), Presence::Available, t(0))
        .unwrap();
    r.restore_assignment(&aid("a"), &cid("owned"), None, t(0))
        .unwrap();
    let offer = OfferId::parse("of-9").unwrap();
    r.restore_offer(
        conv("offered", &["s"], Priority::Normal, t(0)),
        offer.clone(),
        &aid("a"),
        t(20),
        t(0),
    )
    .unwrap();
    r.restore_queued(conv("normal", &["s"], Priority::Normal, t(0)), t(0))
        .unwrap();
    r.restore_queued(conv("urgent", &["s"], Priority::Urgent, t(5)), t(5))
        .unwrap();
    r.restore_queued(conv("low", &["s"], Priority::Low, t(1)), t(5))
        .unwrap();
    assert!(matches!(
        r.restore_queued(conv("owned", &["s"], Priority::Low, t(1)), t(5)),
        Err(RouterError::AlreadyRouted(_))
    ));
    let fx = r.rebalance(t(10));
    // a holds one owned + one offer of 3: one slot; b one slot. Urgent first, then normal.
    assert_eq!(offered(&fx), vec![pair("urgent", "b"), pair("normal", "a")]);
    assert_eq!(offer_id(&fx, "urgent").as_str(), "of-10");
    let fx = r.tick(t(20));
    assert!(matches!(
        &fx[0],
        RouterEffect::OfferClosed {
            reason: OfferEnd::Expired,
            ..
        }
    ));
    assert!(r.release(&aid("a"), &cid("owned"), t(21)).is_ok());
}

#[test]
fn upsert_validates_and_updates_skills() {
    let mut r = router_with(RouterConfig::default(), &[profile("a", &[("s", 3)], 1)]);
    assert!(matches!(
        r.upsert_agent(profile("a", &[("s", 6)], 1), t(1)),
        Err(RouterError::BadProficiency { .. })
    ));
    assert!(
        r.enqueue(conv("c1", &["t"], Priority::Normal, t(1)), t(1))
            .unwrap()
            .is_empty()
    );
    let fx = r.upsert_agent(profile("a", &[("t", 2)], 1), t(2)).unwrap();
    assert_eq!(offered(&fx), vec![pair("c1", "a")]);
    assert!(
        r.enqueue(conv("c2", &["s"], Priority::Normal, t(3)), t(3))
            .unwrap()
            .is_empty()
    );
    // More capacity: the new slot is used at once.
    r.upsert_agent(profile("a", &[("t", 2), ("s", 1)], 2), t(4))
        .unwrap();
    assert_eq!(r.agent(&aid("a")).unwrap().load, 2);
}

#[test]
fn queue_and_staffing_views() {
    let mut r = router_with(
        RouterConfig::default(),
        &[profile("a", &[("billing", 3), ("tech", 1)], 2)],
    );
    r.upsert_agent(profile("b", &[("billing", 3)], 4), t(0))
        .unwrap();
    r.set_presence(&aid("a"), Presence::Away, t(0)).unwrap();
    r.enqueue(conv("c1", &["billing"], Priority::Normal, t(0)), t(0))
        .unwrap();
    r.enqueue(
        conv("c2", &["billing", "tech"], Priority::Normal, t(10)),
        t(10),
    )
    .unwrap();
    r.enqueue(conv("c3", &[], Priority::Normal, t(20)), t(20))
        .unwrap();
    let queues = r.queues(t(30));
    let got: Vec<(String, u32, i64)> = queues
        .iter()
        .map(|q| (q.skill.to_string(), q.waiting, q.longest_wait_ms))
        .collect();
    assert_eq!(
        got,
        vec![
            ("*".into(), 1, 10_000),
            ("billing".into(), 2, 30_000),
            ("tech".into(), 1, 20_000)
        ]
    );
    assert_eq!(r.staffing(&label("billing")), Staffing::default());
    r.set_presence(&aid("a"), Presence::Available, t(31))
        .unwrap();
    r.set_presence(&aid("b"), Presence::Available, t(31))
        .unwrap();
    assert_eq!(
        r.staffing(&label("billing")),
        Staffing {
            agents: 2,
            slots: 6
        }
    );
    assert_eq!(
        r.staffing(&label("tech")),
        Staffing {
            agents: 1,
            slots: 2
        }
    );
    assert_eq!(
        r.staffing(&crate::forecast::any_skill()),
        Staffing {
            agents: 2,
            slots: 6
        }
    );
    assert_eq!(r.waiting_len(), 3);
}

#[test]
fn a_queue_entry_comes_from_the_handoff_in_the_state_and_prefers_the_last_agent() {
    let mut state = crate::state::ConversationState::default();
    assert_eq!(QueuedConversation::from_state(&cid("q"), &state), None);
    state.handoff = Some(crate::state::HandoffState {
        queued_at: t(5),
        decision_seq: 3,
        priority: Priority::High,
        skills: vec![label("billing")],
    });
    state.last_agent = Some(aid("ana"));
    let entry = QueuedConversation::from_state(&cid("q"), &state).unwrap();
    assert_eq!(
        entry,
        QueuedConversation {
            conversation: cid("q"),
            customer: None,
            priority: Priority::High,
            skills: vec![label("billing")],
            enqueued_at: t(5),
            preferred_agent: Some(aid("ana")),
        }
    );
}
