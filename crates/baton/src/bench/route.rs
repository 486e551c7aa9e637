//! `baton bench route`: the pure router at scale. 10,000 agents with 3 skills of 20
//! and capacity 3; 100,000 queued conversations needing 1-2 skills. One assignment is
//! what happens when an agent frees a slot: `release` finds the best waiting
//! conversation for that agent and offers it. `accept` is timed too.

use std::collections::BTreeMap;
use std::time::Instant;

use baton_core::event::Priority;
use baton_core::router::{
    AgentProfile, Presence, QueuedConversation, Router, RouterConfig, RouterEffect,
};
use baton_core::{AgentId, ConversationId, Label, Timestamp};
use clap::Args;

use super::emit;
use super::harness::{percentile, progress};

/// Options for `baton bench route`.
#[derive(Debug, Args)]
pub struct RouteArgs {
    /// Agents.
    #[arg(long, default_value_t = 10_000)]
    pub agents: usize,
    /// Queued conversations.
    #[arg(long, default_value_t = 100_000)]
    pub queued: usize,
    /// Timed assignments.
    #[arg(long, default_value_t = 20_000)]
    pub n: usize,
}

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn offers(
    effects: &[RouterEffect],
    into: &mut Vec<(baton_core::OfferId, AgentId, ConversationId)>,
) {
    for effect in effects {
        if let RouterEffect::Offered {
            offer_id,
            conversation,
            agent,
            ..
        } = effect
        {
            into.push((offer_id.clone(), agent.clone(), conversation.clone()));
        }
    }
}

/// Runs the benchmark.
pub fn run(args: RouteArgs) -> anyhow::Result<()> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let skills: Vec<Label> = (0..20)
        .map(|i| Label::parse(format!("skill{i}")))
        .collect::<Result<_, _>>()?;
    let mut router = Router::new(RouterConfig {
        offer_timeout_ms: i64::MAX / 4,
        ..RouterConfig::default()
    });
    let mut now = Timestamp::from_unix_millis(1_764_000_000_000);
    let setup = progress((args.agents * 2 + args.queued) as u64, "route setup");
    let agent_ids: Vec<AgentId> = (0..args.agents)
        .map(|i| AgentId::parse(format!("a{i}")))
        .collect::<Result<_, _>>()?;
    for id in &agent_ids {
        let mut held = BTreeMap::new();
        while held.len() < 3 {
            held.insert(
                skills[rng.below(skills.len())].clone(),
                1 + rng.below(5) as u8,
            );
        }
        router.upsert_agent(
            AgentProfile {
                id: id.clone(),
                skills: held,
                capacity: 3,
            },
            now,
        )?;
        setup.inc(1);
    }
    for i in 0..args.queued {
        now = now.plus_millis(1);
        let needed = if rng.below(2) == 0 { 1 } else { 2 };
        let mut wanted: Vec<Label> = (0..needed)
            .map(|_| skills[rng.below(skills.len())].clone())
            .collect();
        wanted.dedup();
        let priority = [
            Priority::Low,
            Priority::Normal,
            Priority::Normal,
            Priority::High,
            Priority::Urgent,
        ][rng.below(5)];
        router.enqueue(
            QueuedConversation {
                conversation: ConversationId::parse(format!("c{i}"))?,
                customer: None,
                priority,
                skills: wanted,
                enqueued_at: now,
                preferred_agent: None,
            },
            now,
        )?;
        setup.inc(1);
    }
    let mut live = Vec::new();
    for id in &agent_ids {
        offers(
            &router.set_presence(id, Presence::Available, now)?,
            &mut live,
        );
        setup.inc(1);
    }
    setup.finish_and_clear();
    let bar = progress(args.n as u64, "route");
    let (mut accepts, mut assigns) = (Vec::with_capacity(args.n), Vec::with_capacity(args.n));
    for _ in 0..args.n {
        if live.is_empty() {
            break;
        }
        let (offer, agent, conversation) = live.swap_remove(rng.below(live.len()));
        now = now.plus_millis(1);
        let started = Instant::now();
        let accepted = router.accept(&offer, &agent, now)?;
        accepts.push(started.elapsed().as_secs_f64() * 1e6);
        offers(&accepted, &mut live);
        let started = Instant::now();
        let released = router.release(&agent, &conversation, now)?;
        assigns.push(started.elapsed().as_secs_f64() * 1e6);
        offers(&released, &mut live);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let n = assigns.len() as u64;
    emit(
        "route_assign_us_p50",
        n,
        percentile(&mut assigns, 50.0),
        "us",
    );
    emit(
        "route_assign_us_p99",
        n,
        percentile(&mut assigns, 99.0),
        "us",
    );
    emit(
        "route_accept_us_p99",
        n,
        percentile(&mut accepts, 99.0),
        "us",
    );
    Ok(())
}
