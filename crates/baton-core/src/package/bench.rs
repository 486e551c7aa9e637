//! Ad-hoc timing of the package build at a long history, as `baton bench package`
//! measures it: `cargo test --release -p baton-core package_timing -- --ignored --nocapture`.
//! Not a timed test: it prints, it never fails on speed.

use std::hint::black_box;
use std::time::Instant;

use super::{PackageInput, PackageSignals, Playbooks, build_package};
use crate::facts::{FactConfig, FactExtractor, KnownFacts, ViewerRole};
use crate::fixture::history;
use crate::{ConversationState, Timestamp};

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
