//! The conversation's current view: a pure fold of its events, including the ownership
//! machine `bot -> queued -> offered -> agent -> bot | closed`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::{
    ActionStatus, Decision, Event, EventBody, IntentScore, Outcome, Priority, ReadBack,
};
use crate::id::{AgentId, CustomerId, OfferId};
use crate::label::Label;
use crate::text::Text;
use crate::timestamp::Timestamp;

/// Who holds the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    /// The bot is talking.
    Bot,
    /// Waiting for an agent.
    Queued,
    /// Reserved for one agent who has not yet accepted.
    Offered,
    /// One agent is talking.
    Agent,
    /// Resolved.
    Closed,
}

impl Owner {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Owner::Bot => "bot",
            Owner::Queued => "queued",
            Owner::Offered => "offered",
            Owner::Agent => "agent",
            Owner::Closed => "closed",
        }
    }

    /// Every owner, in the order a conversation meets them.
    pub const ALL: [Owner; 5] = [
        Owner::Bot,
        Owner::Queued,
        Owner::Offered,
        Owner::Agent,
        Owner::Closed,
    ];

    /// The owner with this wire name.
    pub fn parse(raw: &str) -> Option<Owner> {
        Owner::ALL.into_iter().find(|owner| owner.as_str() == raw)
    }
}

/// An offer awaiting the agent's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveOffer {
    /// The offer.
    pub offer_id: OfferId,
    /// To whom.
    pub agent_id: AgentId,
    /// When it lapses.
    pub expires_at: Timestamp,
}

/// The latest status of a named action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionState {
    /// Action name.
    pub name: Label,
    /// Latest status.
    pub status: ActionStatus,
    /// Latest detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Text>,
    /// Seq of the latest update.
    pub seq: u64,
}

/// A promise made to the customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommitmentState {
    /// What was promised.
    pub text: Text,
    /// By when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<Timestamp>,
    /// Seq of the commitment event.
    pub seq: u64,
}

/// A decision and where it sits in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionState {
    /// Seq of the decision event.
    pub seq: u64,
    /// When it was made.
    pub at: Timestamp,
    /// The decision.
    #[serde(flatten)]
    pub decision: Decision,
}

/// The current handoff: why, how urgent, which skills, since when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandoffState {
    /// When the conversation was queued.
    pub queued_at: Timestamp,
    /// Seq of the decision that queued it.
    pub decision_seq: u64,
    /// Urgency.
    pub priority: Priority,
    /// Skills the human needs.
    pub skills: Vec<Label>,
}

/// The latest read-back and who gave it: what a bot reads after a bounce-back to learn
/// what the human found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadBackState {
    /// Seq of the read-back event.
    pub seq: u64,
    /// The agent who gave it.
    pub agent_id: AgentId,
    /// What they said.
    #[serde(flatten)]
    pub read_back: ReadBack,
}

/// How many events of each origin the conversation holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Customer messages.
    pub customer_messages: u32,
    /// Bot messages.
    pub bot_messages: u32,
    /// Agent messages.
    pub agent_messages: u32,
    /// Handoffs (decisions that queued the conversation).
    pub handoffs: u32,
    /// Returns to the bot by an agent.
    pub bounce_backs: u32,
    /// Customer messages that reopened a closed conversation.
    pub reopens: u32,
    /// Agent questions for facts already known.
    pub repeat_asks: u32,
    /// Customer restatements of facts already given.
    pub customer_repeats: u32,
}

/// The conversation's current view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationState {
    /// Seq of the last event (0 for a conversation with no events).
    pub last_seq: u64,
    /// Who holds it.
    pub owner: Owner,
    /// The owning agent while `owner` is `agent`.
    pub assigned_agent: Option<AgentId>,
    /// The open offer while `owner` is `offered`.
    pub offer: Option<LiveOffer>,
    /// The most recent agent who owned it (bounce-back and sticky routing prefer them).
    pub last_agent: Option<AgentId>,
    /// The verified customer.
    pub customer_id: Option<CustomerId>,
    /// How the customer was verified.
    pub verified_by: Option<Label>,
    /// Current intent and confidence from the bot's NLU.
    pub intent: Option<IntentScore>,
    /// Other intent hypotheses.
    pub alternatives: Vec<IntentScore>,
    /// Every action by name, latest status.
    pub actions: BTreeMap<Label, ActionState>,
    /// Promises made.
    pub commitments: Vec<CommitmentState>,
    /// The latest decision.
    pub last_decision: Option<DecisionState>,
    /// Whether the customer was offered a human and has not yet answered.
    pub offer_pending: bool,
    /// The current handoff, while queued, offered or with an agent.
    pub handoff: Option<HandoffState>,
    /// What the agent asked the bot to do, after a bounce-back.
    pub bot_instructions: Option<Text>,
    /// The resolution, once closed.
    pub resolution: Option<Text>,
    /// The intent as the resolving human judged it.
    pub true_intent: Option<Label>,
    /// Customer satisfaction given at resolution.
    pub csat: Option<u8>,
    /// The latest read-back of the package by an agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_back: Option<ReadBackState>,
    /// Event counts.
    pub counts: Counts,
    /// When the first event happened.
    pub started_at: Option<Timestamp>,
    /// When the last event happened.
    pub last_event_at: Option<Timestamp>,
}

impl Default for ConversationState {
    fn default() -> Self {
        Self {
            last_seq: 0,
            owner: Owner::Bot,
            assigned_agent: None,
            offer: None,
            last_agent: None,
            customer_id: None,
            verified_by: None,
            intent: None,
            alternatives: Vec::new(),
            actions: BTreeMap::new(),
            commitments: Vec::new(),
            last_decision: None,
            offer_pending: false,
            handoff: None,
            bot_instructions: None,
            resolution: None,
            true_intent: None,
            csat: None,
            read_back: None,
            counts: Counts::default(),
            started_at: None,
            last_event_at: None,
        }
    }
}

impl ConversationState {
    /// Folds a whole log.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Self {
        let mut state = Self::default();
        for event in events {
            state.apply(event);
        }
        state
    }

    /// What the conversation is about: the intent a resolving human judged, else the
    /// NLU's latest read (what search filters on).
    pub fn topic(&self) -> Option<&Label> {
        self.true_intent
            .as_ref()
            .or(self.intent.as_ref().map(|score| &score.intent))
    }

    /// Actions still pending or failed, oldest first.
    pub fn open_actions(&self) -> impl Iterator<Item = &ActionState> {
        let mut open: Vec<&ActionState> = self
            .actions
            .values()
            .filter(|a| a.status != ActionStatus::Done)
            .collect();
        open.sort_by_key(|a| a.seq);
        open.into_iter()
    }

    /// Applies one event. Never fails: events in the log were checked before they were
    /// written, and the fold must reproduce the state from any stored log.
    pub fn apply(&mut self, event: &Event) {
        self.last_seq = event.seq;
        self.started_at.get_or_insert(event.at);
        self.last_event_at = Some(event.at);
        match &event.body {
            EventBody::CustomerMessage(_) => {
                self.counts.customer_messages += 1;
                if self.owner == Owner::Closed {
                    self.owner = Owner::Bot;
                    self.counts.reopens += 1;
                    self.resolution = None;
                }
            }
            EventBody::BotMessage(_) => self.counts.bot_messages += 1,
            EventBody::AgentMessage(_) => self.counts.agent_messages += 1,
            EventBody::Note(_)
            | EventBody::DocumentRetrieved(_)
            | EventBody::HandoffRequested(_) => {}
            EventBody::Nlu(nlu) => {
                self.intent = Some(IntentScore {
                    intent: nlu.intent.clone(),
                    confidence: nlu.confidence,
                });
                self.alternatives = nlu.alternatives.clone();
            }
            EventBody::IdentityVerified(id) => {
                self.customer_id = Some(id.customer_id.clone());
                self.verified_by = Some(id.method.clone());
            }
            EventBody::Action(action) => {
                self.actions.insert(
                    action.name.clone(),
                    ActionState {
                        name: action.name.clone(),
                        status: action.status,
                        detail: action.detail.clone(),
                        seq: event.seq,
                    },
                );
            }
            EventBody::Commitment(c) => self.commitments.push(CommitmentState {
                text: c.text.clone(),
                due: c.due,
                seq: event.seq,
            }),
            EventBody::Decision(decision) => self.apply_decision(event, decision),
            EventBody::Offered(offer) => {
                self.owner = Owner::Offered;
                self.offer = Some(LiveOffer {
                    offer_id: offer.offer_id.clone(),
                    agent_id: offer.agent_id.clone(),
                    expires_at: offer.expires_at,
                });
            }
            EventBody::OfferClosed(_) => {
                // A withdrawal can land after the conversation was resolved; it must
                // not reopen it.
                if self.owner == Owner::Offered {
                    self.owner = Owner::Queued;
                }
                self.offer = None;
            }
            EventBody::Assigned(assigned) => {
                self.owner = Owner::Agent;
                self.offer = None;
                self.assigned_agent = Some(assigned.agent_id.clone());
                self.last_agent = Some(assigned.agent_id.clone());
            }
            EventBody::BouncedBack(back) => {
                self.owner = Owner::Bot;
                self.assigned_agent = None;
                self.handoff = None;
                self.offer_pending = false;
                self.bot_instructions = Some(back.instructions.clone());
                self.counts.bounce_backs += 1;
            }
            EventBody::Resolved(resolved) => {
                self.owner = Owner::Closed;
                self.assigned_agent = None;
                self.offer = None;
                self.handoff = None;
                self.offer_pending = false;
                self.resolution = Some(resolved.resolution.clone());
                self.true_intent = resolved.true_intent.clone();
                self.csat = resolved.csat;
            }
            EventBody::RepeatAsk(_) => self.counts.repeat_asks += 1,
            EventBody::CustomerRepeated(_) => self.counts.customer_repeats += 1,
            EventBody::ReadBack(read_back) => {
                if let Some(agent_id) = event.actor.agent() {
                    self.read_back = Some(ReadBackState {
                        seq: event.seq,
                        agent_id: agent_id.clone(),
                        read_back: read_back.clone(),
                    });
                }
            }
            EventBody::Survey(_) | EventBody::Erased(_) => {}
        }
    }

    fn apply_decision(&mut self, event: &Event, decision: &Decision) {
        self.last_decision = Some(DecisionState {
            seq: event.seq,
            at: event.at,
            decision: decision.clone(),
        });
        match decision.outcome {
            Outcome::Continue => {}
            Outcome::Offer => self.offer_pending = true,
            Outcome::Handoff => {
                self.offer_pending = false;
                if self.owner == Owner::Bot {
                    self.owner = Owner::Queued;
                    self.counts.handoffs += 1;
                    self.handoff = Some(HandoffState {
                        queued_at: event.at,
                        decision_seq: event.seq,
                        priority: decision.priority.unwrap_or(Priority::Normal),
                        skills: decision.skills.clone(),
                    });
                }
            }
        }
    }
}
