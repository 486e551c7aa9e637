//! `baton bench decide`: the decision engine's cost per customer message, in process,
//! against a conversation that already has a long history. What is timed is what the
//! append path does per message: copy the signals, fold the message in, decide.

use std::time::Instant;

use baton_core::ConversationState;
use baton_core::decide::decide;
use baton_core::policy::Policy;
use baton_core::signals::SignalState;
use clap::Args;

use super::harness::progress;
use super::{emit_p50_p99, fixture};

/// Options for `baton bench decide`.
#[derive(Debug, Args)]
pub struct DecideArgs {
    /// Turns of history before the timed message.
    #[arg(long, default_value_t = 50)]
    pub turns: usize,
    /// Timed decisions.
    #[arg(long, default_value_t = 20_000)]
    pub n: usize,
}

/// Runs the benchmark.
pub fn run(args: DecideArgs) -> anyhow::Result<()> {
    let policy = Policy::default();
    let history = fixture::history(args.turns);
    let state = ConversationState::from_events(&history);
    let signals = SignalState::from_events(&history, &policy);
    let bar = progress(args.n as u64, "decide");
    let mut samples = Vec::with_capacity(args.n);
    let mut outcomes = 0usize;
    for i in 0..args.n {
        let message = fixture::customer(state.last_seq + 1, i);
        let started = Instant::now();
        let mut next_state = state.clone();
        let mut next_signals = signals.clone();
        next_state.apply(&message);
        next_signals.apply(&message, &policy);
        let decision = decide(&next_state, &next_signals, &policy, message.seq, None);
        samples.push(started.elapsed().as_secs_f64() * 1e6);
        outcomes += decision.reasons.len();
        if i % 1000 == 0 {
            bar.inc(1000);
        }
    }
    bar.finish_and_clear();
    std::hint::black_box(outcomes);
    let n = samples.len() as u64;
    emit_p50_p99("decide_us", n, &mut samples, "us");
    Ok(())
}
