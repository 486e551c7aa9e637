//! Replaying a conversation exactly as the server runs it: events in client batches,
//! checked by the ownership rules, folded into state and signals; after each batch that
//! holds a `customer_message`, `nlu` or `handoff_requested` while the bot owns the
//! conversation, `decide` runs and its decision is folded back in as a `decision` event.

use serde_json::Value;

use crate::actor::Actor;
use crate::decide::{CapacityView, decide};
use crate::decode::{DecodeError, decode_new_event};
use crate::event::{Decision, Event, EventBody};
use crate::id::EventId;
use crate::policy::Policy;
use crate::rules::{Refusal, check_append};
use crate::signals::SignalState;
use crate::state::{ConversationState, Owner};
use crate::timestamp::Timestamp;

/// Where replayed events are placed in time when they carry no `at`: 2026-01-01, one
/// second apart.
pub const REPLAY_EPOCH_MILLIS: i64 = 1_767_225_600_000;

/// Why a replay stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReplayError {
    /// An event does not decode.
    #[error("{0}")]
    Decode(#[from] DecodeError),
    /// The server would refuse an event.
    #[error("event {index} of batch {batch} refused: {refusal}")]
    Refused {
        /// Batch, from 0.
        batch: usize,
        /// Event in the batch, from 0.
        index: usize,
        /// Why.
        refusal: Refusal,
    },
}

/// One decision made during a replay.
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    /// Customer messages so far (the "turn").
    pub turn: u32,
    /// The decision.
    pub decision: Decision,
}

/// A conversation being replayed.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    /// The state fold.
    pub state: ConversationState,
    /// The signal fold.
    pub signals: SignalState,
    /// Every event, decisions included.
    pub events: Vec<Event>,
    /// Every decision, in order.
    pub decisions: Vec<Decided>,
}

impl Replay {
    /// Sends one batch of client events (JSON objects as the HTTP API takes them).
    pub fn send(
        &mut self,
        batch_no: usize,
        batch: &[Value],
        policy: &Policy,
        capacity: Option<&CapacityView>,
    ) -> Result<Option<&Decided>, ReplayError> {
        let mut trigger = None;
        for (index, raw) in batch.iter().enumerate() {
            let new = decode_new_event(raw.clone(), &format!("batches[{batch_no}][{index}]"))?;
            let actor = new.actor.unwrap_or_else(|| default_actor(&new.body));
            check_append(&self.state, &actor, &new.body).map_err(|refusal| {
                ReplayError::Refused {
                    batch: batch_no,
                    index,
                    refusal,
                }
            })?;
            let bearing = matches!(
                new.body,
                EventBody::CustomerMessage(_) | EventBody::Nlu(_) | EventBody::HandoffRequested(_)
            );
            let seq = self.push(new.id, actor, new.at, new.meta, new.body, policy);
            if bearing {
                trigger = Some(seq);
            }
        }
        let Some(trigger_seq) = trigger.filter(|_| self.state.owner == Owner::Bot) else {
            return Ok(None);
        };
        let decision = decide(&self.state, &self.signals, policy, trigger_seq, capacity);
        self.push(
            None,
            Actor::System,
            None,
            None,
            EventBody::Decision(decision.clone()),
            policy,
        );
        self.decisions.push(Decided {
            turn: self.state.counts.customer_messages,
            decision,
        });
        Ok(self.decisions.last())
    }

    fn push(
        &mut self,
        id: Option<EventId>,
        actor: Actor,
        at: Option<Timestamp>,
        meta: Option<serde_json::Map<String, Value>>,
        body: EventBody,
        policy: &Policy,
    ) -> u64 {
        let seq = self.state.last_seq + 1;
        let seq_millis = i64::try_from(seq)
            .unwrap_or(i64::MAX / 2_000)
            .saturating_mul(1_000);
        let at = at.unwrap_or(Timestamp::from_unix_millis(
            REPLAY_EPOCH_MILLIS.saturating_add(seq_millis),
        ));
        let id = id.or_else(|| EventId::parse(format!("e{seq}")).ok());
        let Some(id) = id else { return seq };
        let event = Event {
            erased: false,
            seq,
            id,
            actor,
            at,
            meta,
            body,
        };
        self.state.apply(&event);
        self.signals.apply(&event, policy);
        self.events.push(event);
        seq
    }
}

/// Who writes a type when the client leaves `actor` out.
pub fn default_actor(body: &EventBody) -> Actor {
    match body {
        EventBody::CustomerMessage(_) => Actor::Customer,
        EventBody::Note(_) => Actor::System,
        _ => Actor::Bot,
    }
}
