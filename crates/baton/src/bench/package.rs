//! `baton bench package`: building the context package of a long conversation, in
//! process (the log, fold, signals and facts in hand, as the server has them: it keeps
//! a conversation's facts per event as it appends, and clones them for each package).

use std::time::Instant;

use baton_core::ConversationState;
use baton_core::Timestamp;
use baton_core::facts::{FactExtractor, KnownFacts, ViewerRole};
use baton_core::package::{
    PackageInput, PackageSignals, Playbooks, SentimentSignal, build_package,
};
use baton_core::policy::Policy;
use baton_core::signals::SignalState;
use clap::Args;

use super::harness::progress;
use super::{emit_p50_p99, fixture};

/// Options for `baton bench package`.
#[derive(Debug, Args)]
pub struct PackageArgs {
    /// Turns in the conversation.
    #[arg(long, default_value_t = 50)]
    pub turns: usize,
    /// Packages to build.
    #[arg(long, default_value_t = 5_000)]
    pub n: usize,
}

/// Runs the benchmark.
pub fn run(args: PackageArgs) -> anyhow::Result<()> {
    let policy = Policy::default();
    let events = fixture::history(args.turns);
    let state = ConversationState::from_events(&events);
    let snapshot = SignalState::from_events(&events, &policy).snapshot();
    let extractor = FactExtractor::new(&policy.facts)?;
    let mut known = KnownFacts::default();
    for event in &events {
        known.observe(event, &extractor);
    }
    // As the server builds it (crates/baton-server/src/package.rs).
    let signals = PackageSignals {
        sentiment: SentimentSignal::from_snapshot(&snapshot),
        confidence_history: Vec::new(),
        calibrated_confidence: None,
    };
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
    let bar = progress(args.n as u64, "package");
    let mut samples = Vec::with_capacity(args.n);
    for _ in 0..args.n {
        let started = Instant::now();
        let facts = known.package_facts();
        let live = PackageInput {
            facts: Some(&facts),
            ..input
        };
        let package = build_package(&live, &extractor);
        samples.push(started.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(package);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let n = samples.len() as u64;
    emit_p50_p99("package_build_us", n, &mut samples, "us");
    Ok(())
}
