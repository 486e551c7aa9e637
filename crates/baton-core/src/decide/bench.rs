//! Ad-hoc timing of the append path at a long history, as `baton bench decide` measures
//! it: `cargo test --release -p baton-core decide_timing -- --ignored --nocapture`.
//! Not a timed test: it prints, it never fails on speed.

use std::hint::black_box;
use std::time::Instant;

use super::decide;
use crate::fixture::{CUSTOMER, customer, history};
use crate::policy::Policy;
use crate::signals::{SignalState, sentiment};
use crate::{ConversationState, Event};

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
