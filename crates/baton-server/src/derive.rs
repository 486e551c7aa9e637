//! baton's own reactions to a client batch: the events it derives before the batch is
//! written (so they commit in the same transaction), and what it sets in motion after.
//!
//! This is the seam between the append path and the domain engines in baton-core.

use baton_core::decide::decide;
use baton_core::event::{EventBody, Outcome};
use baton_core::policy::Policy;
use baton_core::signals::SignalState;
use baton_core::{ConversationId, ConversationState, Event, Owner, Timestamp};

use crate::app::AppState;

/// The engines consulted on every append.
#[derive(Default)]
pub struct Derive {}

/// Facts the conversation already holds (now kept by baton-core, next to the fold that
/// gives the package its facts).
pub use baton_core::facts::KnownFacts;

/// Whether an event can change the decision: the customer spoke, the bot's NLU read
/// it, or the bot asked for a human.
fn bears_signal(event: &Event) -> bool {
    matches!(
        event.body,
        EventBody::CustomerMessage(_) | EventBody::Nlu(_) | EventBody::HandoffRequested(_)
    )
}

impl Derive {
    /// Events baton adds after a client batch, given the state and signals after it:
    /// a decision when the batch bore a signal and the bot holds the conversation.
    pub fn after_batch(
        &self,
        app: &AppState,
        policy: &Policy,
        state: &ConversationState,
        signals: &SignalState,
        batch: &[Event],
    ) -> Vec<EventBody> {
        let Some(trigger) = batch.iter().rev().find(|e| bears_signal(e)) else {
            return Vec::new();
        };
        if state.owner != Owner::Bot {
            return Vec::new();
        }
        let started = std::time::Instant::now();
        let skills = state
            .intent
            .as_ref()
            .and_then(|i| policy.skills_for(i.intent.as_str()))
            .unwrap_or(&policy.default_skills);
        let capacity = app.routing.capacity_for(skills);
        let decision = decide(state, signals, policy, trigger.seq, capacity.as_ref());
        metrics::histogram!("baton_decide_seconds").record(started.elapsed().as_secs_f64());
        metrics::counter!("baton_decisions_total", "outcome" => outcome_name(&decision.outcome))
            .increment(1);
        vec![EventBody::Decision(decision)]
    }

    /// Work started once a batch is durable.
    /// A handoff puts the conversation in line; the router runs after this
    /// conversation's lock is released (see `routing`'s lock order).
    pub fn after_commit(
        &self,
        app: &AppState,
        conversation: &ConversationId,
        state: &ConversationState,
        written: &[Event],
        _now: Timestamp,
    ) {
        let handed_off = written
            .iter()
            .any(|e| matches!(&e.body, EventBody::Decision(d) if d.outcome == Outcome::Handoff));
        if handed_off && state.owner == Owner::Queued {
            tokio::spawn(crate::routing::enqueue(app.clone(), conversation.clone()));
        }
    }
}

fn outcome_name(outcome: &baton_core::event::Outcome) -> &'static str {
    match outcome {
        baton_core::event::Outcome::Continue => "continue",
        baton_core::event::Outcome::Offer => "offer",
        baton_core::event::Outcome::Handoff => "handoff",
    }
}
