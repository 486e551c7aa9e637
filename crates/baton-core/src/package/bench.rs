//! Ad-hoc timing of the package build at a long history, as `baton bench package`
//! measures it: `cargo test --release -p baton-core package_timing -- --ignored --nocapture`.
//! Not a timed test: it prints, it never fails on speed.

use std::hint::black_box;
use std::time::Instant;

use super::{PackageInput, PackageSignals, Playbooks, build_package};
use crate::event::{EventBody, IntentScore, Message, Nlu};
use crate::facts::{FactConfig, FactExtractor, KnownFacts, ViewerRole};
use crate::id::EventId;
use crate::{Actor, Confidence, ConversationState, Event, Label, Text, Timestamp};

const CUSTOMER: [&str; 5] = [
    "Hi, I was charged twice for order 88231 and I need one of the charges refunded.",
    "I already gave you the order number, it's 88231. My email is maria.lopez@example.com",
    "The second charge of 59.90 EUR is still on my card statement from November 20.",
    "Can you please check again? This is getting really frustrating.",
    "OK thanks, but when will the refund actually arrive on my account?",
];
const BOT: [&str; 3] = [
    "I'm sorry about that. Let me look up order 88231 for you.",
    "I can see two captures of 59.90 EUR. I've started a refund for the duplicate.",
    "Refunds usually arrive within 5 business days. Is there anything else I can help with?",
];

fn event(seq: u64, actor: Actor, body: EventBody) -> Event {
    Event {
        seq,
        id: EventId::parse(format!("e{seq}")).unwrap(),
        actor,
        at: Timestamp::from_unix_millis(1_764_000_000_000 + seq as i64 * 5_000),
        meta: None,
        body,
    }
}

/// The history `baton bench package` builds from (its fixture, turn for turn).
fn history(turns: usize) -> Vec<Event> {
    let mut events = Vec::new();
    for turn in 0..turns {
        let seq = events.len() as u64 + 1;
        let text = Text::parse(CUSTOMER[turn % CUSTOMER.len()]).unwrap();
        let body = EventBody::CustomerMessage(Message { text });
        events.push(event(seq, Actor::Customer, body));
        let nlu = Nlu {
            intent: Label::parse("billing.double_charge").unwrap(),
            confidence: Confidence::new(0.82).unwrap(),
            alternatives: vec![IntentScore {
                intent: Label::parse("billing.refund").unwrap(),
                confidence: Confidence::new(0.1).unwrap(),
            }],
            entities: Vec::new(),
        };
        events.push(event(seq + 1, Actor::Bot, EventBody::Nlu(nlu)));
        let text = Text::parse(BOT[turn % BOT.len()]).unwrap();
        let body = EventBody::BotMessage(Message { text });
        events.push(event(seq + 2, Actor::Bot, body));
    }
    events
}

/// Median of `n` runs of `f`, in microseconds.
fn median_us(n: usize, mut f: impl FnMut()) -> f64 {
    let mut samples: Vec<f64> = (0..n)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[n / 2]
}

#[test]
#[ignore = "timing, run by hand in release mode"]
fn package_timing() {
    let events = history(50);
    let state = ConversationState::from_events(&events);
    let extractor = FactExtractor::new(&FactConfig::default()).unwrap();
    let signals = PackageSignals::default();
    let playbooks = Playbooks::default();
    let input = PackageInput {
        conversation_id: "bench",
        events: &events,
        state: &state,
        now: Timestamp::from_unix_millis(1_764_000_900_000),
        viewer: ViewerRole::Agent,
        signals: &signals,
        journey: &[],
        playbooks: &playbooks,
        policy_version: None,
        facts: None,
    };
    let n: usize = std::env::var("BATON_TIMING_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    // The server keeps the facts per event as it appends, and hands the package their
    // current list (cloned under the conversation's lock): that is what is timed.
    let mut known = KnownFacts::default();
    for event in &events {
        known.observe(event, &extractor);
    }
    let server = median_us(n, || {
        let facts = known.package_facts();
        let live = PackageInput {
            facts: Some(&facts),
            ..input
        };
        drop(black_box(build_package(&live, &extractor)));
    });
    // BATON_TIMING_ONLY=kept leaves the other out (for a profile of the server's path).
    let from_log = match std::env::var("BATON_TIMING_ONLY").as_deref() {
        Ok("kept") => f64::NAN,
        _ => median_us(n, || drop(black_box(build_package(&input, &extractor)))),
    };
    println!("50 turns, median of {n}:");
    println!("  build_package, facts kept     {server:7.2} µs");
    println!("  build_package, facts from log {from_log:7.2} µs");
}
