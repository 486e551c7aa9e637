//! Properties of the state fold and the ownership machine over random conversations.
//!
//! Conversations are generated step by step: each step proposes an event; client events
//! are kept only if `rules::check_append` accepts them, and baton's own events
//! (decision, offered, assigned...) only in the states where the server emits them.
// Test helpers unwrap on values the generators make valid by construction.
#![allow(clippy::unwrap_used)]

use baton_core::event::EventBody;
use baton_core::ledger::{GENESIS, seal};
use baton_core::rules::{Refusal, check_append};
use baton_core::state::{ConversationState, Owner};
use baton_core::{Actor, AgentId, Event, EventId, Timestamp};
use proptest::prelude::*;
use serde_json::json;

const AGENTS: [&str; 3] = ["ana", "bob", "chen"];

#[derive(Debug, Clone)]
enum Step {
    Customer(String),
    Bot(u8, String, f64),
    Agent(usize, u8, String),
    /// Any actor, any client type: most are refused.
    Stray(u8, u8, String),
    Decision(u8, u8),
    Offer(usize),
    OfferClose,
    Assign(usize),
    /// The owning agent bounces back (the index only varies the generated sequence).
    #[allow(dead_code)]
    BounceBack(usize),
    Resolve(String),
}

fn text() -> impl Strategy<Value = String> {
    "[a-z]{1,10}( [a-zA-Z0-9é€😀\"\\\\]{1,8}){0,3}"
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => text().prop_map(Step::Customer),
        4 => (0u8..8, text(), 0.0f64..=1.0).prop_map(|(k, t, c)| Step::Bot(k, t, c)),
        3 => (0usize..AGENTS.len(), 0u8..4, text()).prop_map(|(a, k, t)| Step::Agent(a, k, t)),
        2 => (0u8..4, 0u8..10, text()).prop_map(|(a, k, t)| Step::Stray(a, k, t)),
        2 => (0u8..3, 0u8..4).prop_map(|(o, p)| Step::Decision(o, p)),
        2 => (0usize..AGENTS.len()).prop_map(Step::Offer),
        1 => Just(Step::OfferClose),
        2 => (0usize..AGENTS.len()).prop_map(Step::Assign),
        1 => (0usize..AGENTS.len()).prop_map(Step::BounceBack),
        1 => text().prop_map(Step::Resolve),
    ]
}

fn body(value: serde_json::Value) -> EventBody {
    serde_json::from_value(value).unwrap()
}

fn agent(i: usize) -> AgentId {
    AgentId::parse(AGENTS[i]).unwrap()
}

fn client_body(kind: u8, text: &str, confidence: f64) -> EventBody {
    match kind % 10 {
        0 => body(json!({"type": "customer_message", "text": text})),
        1 => body(json!({"type": "bot_message", "text": text})),
        2 => body(
            json!({"type": "nlu", "intent": "refund", "confidence": confidence,
                          "alternatives": [{"intent": "billing", "confidence": 1.0 - confidence}]}),
        ),
        3 => body(
            json!({"type": "document_retrieved", "doc_id": "kb-1", "title": text, "score": confidence}),
        ),
        4 => {
            let status = ["done", "pending", "failed"][text.len() % 3];
            body(json!({"type": "action", "name": "refund.issue", "status": status}))
        }
        5 => body(json!({"type": "commitment", "text": text})),
        6 => body(json!({"type": "handoff_requested", "reason": text})),
        7 => body(json!({"type": "note", "text": text})),
        8 => body(json!({"type": "identity_verified", "customer_id": "cust-1", "method": "otp"})),
        _ => body(json!({"type": "agent_message", "text": text})),
    }
}

/// The (actor, body) a step proposes in `state`, or None when the server would never
/// write it there (baton's own events have preconditions the server enforces).
fn propose(state: &ConversationState, step: &Step) -> Option<(Actor, EventBody)> {
    Some(match step {
        Step::Customer(t) => (Actor::Customer, client_body(0, t, 0.5)),
        Step::Bot(k, t, c) => (
            Actor::Bot,
            client_body([1, 2, 3, 4, 5, 6, 7, 8][*k as usize % 8], t, *c),
        ),
        Step::Agent(a, k, t) => (
            Actor::Agent(agent(*a)),
            client_body([9, 4, 5, 7][*k as usize % 4], t, 0.5),
        ),
        Step::Stray(a, k, t) => {
            let actor = [
                Actor::Customer,
                Actor::Bot,
                Actor::Agent(agent(0)),
                Actor::System,
            ][*a as usize % 4]
                .clone();
            (actor, client_body(*k, t, 0.5))
        }
        Step::Decision(o, p) => {
            let outcome = ["continue", "offer", "handoff"][*o as usize % 3];
            let priority = ["low", "normal", "high", "urgent"][*p as usize % 4];
            (
                Actor::System,
                body(
                    json!({"type": "decision", "outcome": outcome, "priority": priority, "trigger_seq": state.last_seq}),
                ),
            )
        }
        Step::Offer(a) if state.owner == Owner::Queued => (
            Actor::System,
            body(
                json!({"type": "offered", "offer_id": format!("of-{}", state.last_seq), "agent_id": AGENTS[*a],
                        "expires_at": "2030-01-01T00:00:00Z"}),
            ),
        ),
        Step::OfferClose if state.owner == Owner::Offered => {
            let offer = state.offer.as_ref()?;
            (
                Actor::System,
                body(
                    json!({"type": "offer_closed", "offer_id": offer.offer_id, "agent_id": offer.agent_id, "reason": "rejected"}),
                ),
            )
        }
        Step::Assign(a) if matches!(state.owner, Owner::Queued | Owner::Offered) => {
            let to = state
                .offer
                .as_ref()
                .map_or(agent(*a), |o| o.agent_id.clone());
            (
                Actor::System,
                body(json!({"type": "assigned", "agent_id": to})),
            )
        }
        Step::BounceBack(_) if state.owner == Owner::Agent => (
            Actor::System,
            body(
                json!({"type": "bounced_back", "agent_id": state.assigned_agent, "instructions": "verify the address"}),
            ),
        ),
        Step::Resolve(t) if state.owner != Owner::Closed => (
            Actor::System,
            body(json!({"type": "resolved", "resolution": t, "csat": 4})),
        ),
        _ => return None,
    })
}

/// Builds the accepted log from steps, checking the machine's invariants at each step.
fn run(steps: &[Step]) -> Result<(Vec<Event>, ConversationState), TestCaseError> {
    let mut state = ConversationState::default();
    let mut events = Vec::new();
    let mut customer_messages = 0;
    let mut reopens = 0;
    for (i, step) in steps.iter().enumerate() {
        check_who_may_speak(&state)?;
        let Some((actor, body)) = propose(&state, step) else {
            continue;
        };
        let verdict = check_append(&state, &actor, &body);
        let is_customer_message = matches!(body, EventBody::CustomerMessage(_));
        if is_customer_message && actor == Actor::Customer {
            prop_assert_eq!(&verdict, &Ok(()), "a customer message is always accepted");
        }
        if state.owner == Owner::Closed && !is_customer_message && !body.is_server_only() {
            prop_assert!(
                matches!(
                    verdict,
                    Err(Refusal::Closed | Refusal::ActorMismatch { .. })
                ),
                "a closed conversation takes nothing but customer messages: {:?}",
                verdict
            );
        }
        if verdict.is_err() {
            continue;
        }
        let was_closed = state.owner == Owner::Closed;
        let event = Event {
            erased: false,
            seq: state.last_seq + 1,
            id: EventId::parse(format!("e{i}")).unwrap(),
            actor,
            at: Timestamp::from_unix_millis(1_767_225_600_000 + 1_000 * i as i64),
            meta: None,
            body,
        };
        state.apply(&event);
        if is_customer_message {
            customer_messages += 1;
            prop_assert_ne!(state.owner, Owner::Closed);
            if was_closed {
                reopens += 1;
                prop_assert_eq!(
                    state.owner,
                    Owner::Bot,
                    "a customer message reopens to the bot"
                );
                prop_assert_eq!(&state.resolution, &None);
            }
        }
        if let EventBody::Assigned(assigned) = &event.body {
            prop_assert_eq!(state.last_agent.as_ref(), Some(&assigned.agent_id));
        }
        events.push(event);
        check_invariants(&state, events.len())?;
        prop_assert_eq!(state.counts.customer_messages, customer_messages);
        prop_assert_eq!(state.counts.reopens, reopens);
    }
    Ok((events, state))
}

fn check_invariants(state: &ConversationState, applied: usize) -> Result<(), TestCaseError> {
    prop_assert_eq!(state.last_seq, applied as u64);
    prop_assert_eq!(
        state.owner == Owner::Agent,
        state.assigned_agent.is_some(),
        "owner agent iff assigned: {:?}",
        state
    );
    prop_assert_eq!(
        state.owner == Owner::Offered,
        state.offer.is_some(),
        "owner offered iff an offer: {:?}",
        state
    );
    prop_assert_eq!(
        matches!(state.owner, Owner::Queued | Owner::Offered | Owner::Agent),
        state.handoff.is_some(),
        "a handoff is under way exactly while queued, offered or with an agent: {:?}",
        state
    );
    Ok(())
}

/// Who may speak in `state`, asked of the rules for every kind of speaker.
fn check_who_may_speak(state: &ConversationState) -> Result<(), TestCaseError> {
    let say = |t: &str| body(json!({"type": "agent_message", "text": t}));
    for (i, _) in AGENTS.iter().enumerate() {
        let allowed = check_append(state, &Actor::Agent(agent(i)), &say("hello")).is_ok();
        let owns = state.owner == Owner::Agent && state.assigned_agent.as_ref() == Some(&agent(i));
        prop_assert_eq!(
            allowed,
            owns,
            "agent_message from {} in {:?}",
            AGENTS[i],
            state.owner
        );
    }
    let bot = check_append(
        state,
        &Actor::Bot,
        &body(json!({"type": "bot_message", "text": "hi"})),
    );
    prop_assert_eq!(
        bot.is_ok(),
        matches!(state.owner, Owner::Bot | Owner::Queued | Owner::Offered)
    );
    if state.owner == Owner::Agent {
        prop_assert!(matches!(bot, Err(Refusal::NotOwner { .. })), "{:?}", bot);
    }
    let customer = body(json!({"type": "customer_message", "text": "hi"}));
    prop_assert_eq!(check_append(state, &Actor::Customer, &customer), Ok(()));
    for wrong in [Actor::Bot, Actor::System, Actor::Agent(agent(0))] {
        let refused = check_append(state, &wrong, &customer);
        prop_assert!(
            matches!(refused, Err(Refusal::ActorMismatch { .. })),
            "{:?}",
            refused
        );
    }
    let handoff = check_append(
        state,
        &Actor::Bot,
        &body(json!({"type": "handoff_requested"})),
    );
    prop_assert_eq!(handoff.is_ok(), state.owner == Owner::Bot);
    Ok(())
}

fn canonical_round_trip(events: &[Event]) -> Vec<Event> {
    let mut prev = GENESIS;
    events
        .iter()
        .map(|event| {
            let sealed = seal(&prev, event).unwrap();
            prev = sealed.hash;
            serde_json::from_str(&sealed.canonical).unwrap()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_ownership_machine_keeps_its_invariants(steps in prop::collection::vec(step(), 0..80)) {
        run(&steps)?;
    }

    #[test]
    fn the_fold_is_deterministic_and_splits_anywhere(steps in prop::collection::vec(step(), 0..80), cut in 0.0f64..=1.0) {
        let (events, incremental) = run(&steps)?;
        let whole = ConversationState::from_events(&events);
        prop_assert_eq!(&whole, &incremental);
        prop_assert_eq!(&ConversationState::from_events(&events), &whole, "folding twice gives the same state");
        let k = ((events.len() as f64) * cut) as usize;
        let mut split = ConversationState::from_events(&events[..k]);
        for event in &events[k..] {
            split.apply(event);
        }
        prop_assert_eq!(&split, &whole, "prefix then suffix at {}", k);
        if let Some((first, rest)) = events.split_first() {
            let mut one_by_one = ConversationState::default();
            one_by_one.apply(first);
            for event in rest {
                one_by_one.apply(event);
            }
            prop_assert_eq!(&one_by_one, &whole);
        }
    }

    #[test]
    fn folding_the_stored_canonical_form_gives_the_same_state(steps in prop::collection::vec(step(), 0..60)) {
        let (events, state) = run(&steps)?;
        let stored = canonical_round_trip(&events);
        prop_assert_eq!(&stored, &events, "events survive canonical JSON unchanged");
        prop_assert_eq!(ConversationState::from_events(&stored), state);
    }
}
