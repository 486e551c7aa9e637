//! Ad-hoc timing of the append path at a long history, as `baton bench decide` measures
//! it: `cargo test --release -p baton-core decide_timing -- --ignored --nocapture`.
//! Not a timed test: it prints, it never fails on speed.

use std::hint::black_box;
use std::time::Instant;

use super::decide;
use crate::event::{EventBody, IntentScore, Message, Nlu};
use crate::id::EventId;
use crate::policy::Policy;
use crate::signals::{SignalState, sentiment};
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

fn customer(seq: u64, turn: usize) -> Event {
    let text = Text::parse(CUSTOMER[turn % CUSTOMER.len()]).unwrap();
    event(
        seq,
        Actor::Customer,
        EventBody::CustomerMessage(Message { text }),
    )
}

fn history(turns: usize) -> Vec<Event> {
    let mut events = Vec::new();
    for turn in 0..turns {
        let seq = events.len() as u64 + 1;
        events.push(customer(seq, turn));
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

/// `n` runs of `f`, in microseconds, sorted.
fn samples_us(n: usize, mut f: impl FnMut(usize)) -> Vec<f64> {
    let mut samples: Vec<f64> = (0..n)
        .map(|i| {
            let started = Instant::now();
            f(i);
            started.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples
}

/// Median of `n` runs of `f`, in microseconds.
fn median_us(n: usize, f: impl FnMut(usize)) -> f64 {
    samples_us(n, f)[n / 2]
}

struct Fixture {
    policy: Policy,
    state: ConversationState,
    signals: SignalState,
    messages: Vec<Event>,
}

fn fixture(turns: usize) -> Fixture {
    let policy = Policy::default();
    let events = history(turns);
    let state = ConversationState::from_events(&events);
    let signals = SignalState::from_events(&events, &policy);
    let messages: Vec<Event> = (0..CUSTOMER.len())
        .map(|i| customer(state.last_seq + 1, i))
        .collect();
    Fixture {
        policy,
        state,
        signals,
        messages,
    }
}

/// What the append path does per customer message.
fn append_path(f: &Fixture, i: usize) {
    let m = &f.messages[i % f.messages.len()];
    let mut st = f.state.clone();
    let mut sg = f.signals.clone();
    st.apply(m);
    sg.apply(m, &f.policy);
    black_box(decide(&st, &sg, &f.policy, m.seq, None));
}

/// Only the append path, for an instruction profiler:
/// `valgrind --tool=callgrind --toggle-collect='*append_path*' <test binary>
/// decide_profile --ignored`.
#[test]
#[ignore = "profiling, run by hand in release mode"]
fn decide_profile() {
    let f = fixture(50);
    for i in 0..1_000 {
        append_path(&f, i);
    }
}

#[test]
#[ignore = "timing, run by hand in release mode"]
fn decide_timing() {
    let f = fixture(50);
    let Fixture {
        policy,
        state,
        signals,
        messages,
    } = &f;
    let n = 20_000;
    let full = samples_us(n, |i| append_path(&f, i));
    let (p50, p99) = (full[n / 2], full[n * 99 / 100]);
    let clone_state = median_us(n, |_| drop(black_box(state.clone())));
    let clone_signals = median_us(n, |_| drop(black_box(signals.clone())));
    let apply = median_us(n, |i| {
        let mut sg = signals.clone();
        sg.apply(&messages[i % messages.len()], policy);
        black_box(sg);
    }) - clone_signals;
    let decide_only = median_us(n, |i| {
        let m = &messages[i % messages.len()];
        black_box(decide(state, signals, policy, m.seq, None));
    });
    let score = median_us(n, |i| {
        black_box(sentiment::score(black_box(CUSTOMER[i % CUSTOMER.len()])));
    });
    println!("50 turns, {n} runs:");
    println!("  clone + apply + decide  {p50:6.2} µs p50, {p99:6.2} µs p99");
    println!("  ConversationState clone {clone_state:6.2} µs");
    println!("  SignalState clone       {clone_signals:6.2} µs");
    println!("  SignalState apply       {apply:6.2} µs (of which VADER {score:.2} µs)");
    println!("  decide                  {decide_only:6.2} µs");
}
