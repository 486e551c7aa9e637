//! baton's own reactions to a client batch: the events it derives before the batch is
//! written (so they commit in the same transaction), and what must happen once it is
//! durable, returned as data ([`AfterCommit`]) for the router to consume.
//!
//! This is the seam between the append path and the domain engines in baton-core. It
//! depends on neither the router nor the writer: the capacity the decision reads comes
//! from [`ForecastCache`], which routing fills.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use baton_core::decide::{CapacityView, decide};
use baton_core::event::{EventBody, Outcome};
use baton_core::facts::FactExtractor;
use baton_core::forecast::SkillForecast;
use baton_core::policy::Policy;
use baton_core::router::QueuedConversation;
use baton_core::signals::SignalState;
use baton_core::{ConversationId, ConversationState, Event, Label, Owner};

use crate::error::ApiError;

/// The engines consulted on every append.
#[derive(Default)]
pub struct Derive {
    /// The latest forecasts per skill, refreshed by routing, read without waiting.
    pub forecasts: ForecastCache,
}

/// The fact extractor compiled from the policy in force (its `[facts]` table), shared
/// by the app and its conversation cache and swapped with the policy on reload.
#[derive(Debug, Default)]
pub struct ExtractorSlot(RwLock<Option<Arc<FactExtractor>>>);

impl ExtractorSlot {
    /// A slot holding `policy`'s extractor.
    pub fn for_policy(policy: &Policy) -> Result<Self, ApiError> {
        let slot = Self::default();
        slot.set_from(policy)?;
        Ok(slot)
    }

    /// The extractor in force.
    pub fn get(&self) -> Result<Arc<FactExtractor>, ApiError> {
        let slot = self
            .0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        slot.clone()
            .ok_or_else(|| ApiError::internal("no fact extractor is configured"))
    }

    /// Compiles `policy`'s `[facts]` and puts it in force; on error the old one stays.
    pub fn set_from(&self, policy: &Policy) -> Result<(), ApiError> {
        let extractor = FactExtractor::new(&policy.facts)
            .map_err(|e| ApiError::internal(format!("policy [facts]: {e}")))?;
        let mut slot = self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *slot = Some(Arc::new(extractor));
        Ok(())
    }
}

/// What a committed batch leaves to do, as data: the caller hands it to the router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterCommit {
    /// The batch handed the conversation off: put it in line.
    Enqueue(QueuedConversation),
}

/// Forecasts per skill as of the router's last refresh.
#[derive(Debug, Default)]
pub struct ForecastCache(RwLock<BTreeMap<Label, SkillForecast>>);

impl ForecastCache {
    /// Every cached forecast.
    pub fn all(&self) -> BTreeMap<Label, SkillForecast> {
        self.0.read().map(|f| f.clone()).unwrap_or_default()
    }

    /// Replaces the cache.
    pub fn set(&self, forecasts: impl IntoIterator<Item = SkillForecast>) {
        if let Ok(mut cache) = self.0.write() {
            *cache = forecasts
                .into_iter()
                .map(|f| (f.skill.clone(), f))
                .collect();
        }
    }

    /// Expected wait and available agents for `skills`, for the capacity signal; None
    /// before any agent is registered (a bot-only deployment still hands off).
    pub fn capacity_for(&self, skills: &[Label]) -> Option<CapacityView> {
        let forecasts = self.0.read().ok()?;
        if forecasts.is_empty() {
            return None;
        }
        let relevant: Vec<&SkillForecast> = if skills.is_empty() {
            forecasts
                .get(&baton_core::forecast::any_skill())
                .into_iter()
                .collect()
        } else {
            skills.iter().filter_map(|s| forecasts.get(s)).collect()
        };
        if relevant.is_empty() {
            // No arrivals for these skills yet: nothing to forecast from.
            return None;
        }
        Some(CapacityView {
            expected_wait_secs: relevant
                .iter()
                .map(|f| f.expected_wait_secs.unwrap_or(f64::INFINITY))
                .fold(0.0, f64::max),
            agents_available: relevant
                .iter()
                .map(|f| f.agents_available)
                .min()
                .unwrap_or(0),
        })
    }
}

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
        let capacity = self.forecasts.capacity_for(skills);
        let decision = decide(state, signals, policy, trigger.seq, capacity.as_ref());
        metrics::histogram!("baton_decide_seconds").record(started.elapsed().as_secs_f64());
        metrics::counter!("baton_decisions_total", "outcome" => outcome_name(&decision.outcome))
            .increment(1);
        vec![EventBody::Decision(decision)]
    }

    /// What must happen once a batch is durable: a handoff puts the conversation in
    /// line.
    pub fn after_commit(
        &self,
        conversation: &ConversationId,
        state: &ConversationState,
        written: &[Event],
    ) -> Vec<AfterCommit> {
        let handed_off = written
            .iter()
            .any(|e| matches!(&e.body, EventBody::Decision(d) if d.outcome == Outcome::Handoff));
        if !handed_off || state.owner != Owner::Queued {
            return Vec::new();
        }
        QueuedConversation::from_state(conversation, state)
            .map(AfterCommit::Enqueue)
            .into_iter()
            .collect()
    }
}

fn outcome_name(outcome: &baton_core::event::Outcome) -> &'static str {
    match outcome {
        baton_core::event::Outcome::Continue => "continue",
        baton_core::event::Outcome::Offer => "offer",
        baton_core::event::Outcome::Handoff => "handoff",
    }
}
