//! Who may write what, and when: "only the owner speaks".
//!
//! Two checks run on every client event before it is written: the actor must fit the
//! event type (a `bot_message` is the bot's), and the conversation's owner must allow it
//! (no `bot_message` while an agent owns it; only the assigned agent may reply).
//! Customer messages are always accepted; on a closed conversation they reopen it.
//!
//! Binding a conversation to a customer (`identity_verified`) is the bot's (or baton's):
//! the package's journey shows that customer's earlier conversations, so an agent who
//! could bind would read any customer's history. Notes, which any non-customer may add,
//! are taken from an agent only while that agent owns the conversation.

use crate::actor::Actor;
use crate::event::{EventBody, EventKind};
use crate::state::{ConversationState, Owner};

/// Why an event may not be appended now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The actor cannot write this type at all (e.g. a customer writing `bot_message`).
    #[error("{kind} events cannot be written by {actor}")]
    ActorMismatch {
        /// Event type.
        kind: &'static str,
        /// The actor given.
        actor: String,
    },
    /// The actor is not the conversation's owner right now.
    #[error("{actor} may not write {kind} while the conversation is owned by {owner}")]
    NotOwner {
        /// Event type.
        kind: &'static str,
        /// The actor given.
        actor: String,
        /// Current owner, e.g. `agent:ana`.
        owner: String,
    },
    /// The conversation is closed; only a customer message reopens it.
    #[error("the conversation is closed; only a customer message reopens it")]
    Closed,
    /// A handoff was requested while a human already has or is about to have it.
    #[error("the conversation is already {0}; a handoff is already under way")]
    AlreadyHandedOff(&'static str),
    /// An answer to an offer (accepted, closed) that is not the conversation's open
    /// offer: another node answered it first, or it lapsed.
    #[error("offer {offer} is no longer open (the conversation is {owner})")]
    OfferNotOpen {
        /// The offer answered.
        offer: String,
        /// Current owner.
        owner: &'static str,
    },
    /// An offer made for a conversation that is not waiting in the queue.
    #[error("the conversation is {0}, not queued: it cannot be offered")]
    NotQueued(&'static str),
}

impl Refusal {
    /// The stable error code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::ActorMismatch { .. } => "actor_mismatch",
            Refusal::NotOwner { .. } => "not_owner",
            Refusal::Closed => "conversation_closed",
            Refusal::AlreadyHandedOff(_) => "already_handed_off",
            Refusal::OfferNotOpen { .. } => "offer_not_open",
            Refusal::NotQueued(_) => "not_queued",
        }
    }
}

/// Whether `actor` can ever write `body`'s type.
pub fn actor_fits(actor: &Actor, body: &EventBody) -> bool {
    actor_fits_kind(actor, body.event_kind())
}

/// Whether `actor` can ever write an event of `kind` (what the API's schema states
/// per type, too).
pub fn actor_fits_kind(actor: &Actor, kind: EventKind) -> bool {
    use EventKind as K;
    match kind {
        K::CustomerMessage => *actor == Actor::Customer,
        K::BotMessage | K::Nlu | K::DocumentRetrieved => *actor == Actor::Bot,
        K::AgentMessage => matches!(actor, Actor::Agent(_)),
        K::HandoffRequested => matches!(actor, Actor::Bot | Actor::System),
        K::Action | K::Commitment => matches!(actor, Actor::Bot | Actor::Agent(_)),
        K::IdentityVerified => matches!(actor, Actor::Bot | Actor::System),
        K::Note => *actor != Actor::Customer,
        K::ReadBack => matches!(actor, Actor::Agent(_)),
        K::Survey => matches!(actor, Actor::Bot | Actor::Agent(_)),
        _ => *actor == Actor::System,
    }
}

fn owner_label(state: &ConversationState) -> String {
    match (&state.owner, &state.assigned_agent) {
        (Owner::Agent, Some(agent)) => format!("agent:{agent}"),
        (owner, _) => owner.as_str().to_owned(),
    }
}

/// Checks that `actor` may append `body` to a conversation in `state`.
pub fn check_append(
    state: &ConversationState,
    actor: &Actor,
    body: &EventBody,
) -> Result<(), Refusal> {
    use EventBody as B;
    if !actor_fits(actor, body) {
        return Err(Refusal::ActorMismatch {
            kind: body.kind(),
            actor: actor.to_string(),
        });
    }
    if matches!(body, B::CustomerMessage(_)) {
        return Ok(());
    }
    if state.owner == Owner::Closed && !body.is_server_only() {
        return Err(Refusal::Closed);
    }
    check_routing(state, body)?;
    let not_owner = || Refusal::NotOwner {
        kind: body.kind(),
        actor: actor.to_string(),
        owner: owner_label(state),
    };
    match (body, actor) {
        (B::HandoffRequested(_), _) => match state.owner {
            Owner::Bot => Ok(()),
            other => Err(Refusal::AlreadyHandedOff(other.as_str())),
        },
        // The bot keeps the customer company while they wait, but never talks over an agent.
        (B::BotMessage(_) | B::Action(_) | B::Commitment(_), Actor::Bot) => match state.owner {
            Owner::Bot | Owner::Queued | Owner::Offered => Ok(()),
            _ => Err(not_owner()),
        },
        (
            B::AgentMessage(_) | B::Action(_) | B::Commitment(_) | B::Note(_),
            Actor::Agent(agent),
        ) => {
            if state.owner == Owner::Agent && state.assigned_agent.as_ref() == Some(agent) {
                Ok(())
            } else {
                Err(not_owner())
            }
        }
        // The read-back is the owning agent's word on what they received.
        (B::ReadBack(_), Actor::Agent(agent)) => {
            if state.owner == Owner::Agent && state.assigned_agent.as_ref() == Some(agent) {
                Ok(())
            } else {
                Err(not_owner())
            }
        }
        // An agent rates the package of a conversation they handled, also once it is
        // closed; the customer's answers (through the bot) come whenever they come.
        (B::Survey(_), Actor::Agent(agent)) => {
            if state.last_agent.as_ref() == Some(agent) {
                Ok(())
            } else {
                Err(not_owner())
            }
        }
        _ => Ok(()),
    }
}

/// The router's own events must fit the log they land in, whichever node's router
/// decided them: several nodes may answer one offer at once, and a router that had
/// not heard of another node's answer must not offer, close or assign over it.
/// Checked on the stored state (the append is refused if memory is behind), so an
/// offer is accepted at most once.
fn check_routing(state: &ConversationState, body: &EventBody) -> Result<(), Refusal> {
    let open = |offer: &crate::id::OfferId| {
        state
            .offer
            .as_ref()
            .is_some_and(|live| state.owner == Owner::Offered && live.offer_id == *offer)
    };
    let not_open = |offer: &crate::id::OfferId| Refusal::OfferNotOpen {
        offer: offer.to_string(),
        owner: state.owner.as_str(),
    };
    match body {
        EventBody::Offered(_) if state.owner != Owner::Queued => {
            Err(Refusal::NotQueued(state.owner.as_str()))
        }
        EventBody::Assigned(crate::event::Assigned {
            agent_id,
            offer_id: Some(offer),
        }) => {
            let to_them = state
                .offer
                .as_ref()
                .is_some_and(|o| o.agent_id == *agent_id);
            if open(offer) && to_them {
                Ok(())
            } else {
                Err(not_open(offer))
            }
        }
        EventBody::OfferClosed(closed) => {
            // A resolution withdraws its open offer right after it: the offer closes
            // on a closed conversation.
            let after_resolution = closed.reason == crate::event::OfferEnd::Withdrawn
                && state.owner == Owner::Closed
                && state.offer.is_none();
            if open(&closed.offer_id) || after_resolution {
                Ok(())
            } else {
                Err(not_open(&closed.offer_id))
            }
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{IdentityVerified, Message};
    use crate::state::LiveOffer;
    use crate::{AgentId, CustomerId, Label, OfferId, Text, Timestamp};

    fn agent(id: &str) -> Actor {
        Actor::Agent(AgentId::parse(id).unwrap())
    }

    fn note() -> EventBody {
        EventBody::Note(Message {
            text: Text::parse("called back").unwrap(),
        })
    }

    fn identity() -> EventBody {
        EventBody::IdentityVerified(IdentityVerified {
            customer_id: CustomerId::parse("someone-else").unwrap(),
            method: Label::parse("otp").unwrap(),
        })
    }

    fn owned_by(id: &str) -> ConversationState {
        ConversationState {
            owner: Owner::Agent,
            assigned_agent: Some(AgentId::parse(id).unwrap()),
            last_seq: 3,
            ..ConversationState::default()
        }
    }

    fn offered_to(id: &str) -> ConversationState {
        ConversationState {
            owner: Owner::Offered,
            offer: Some(LiveOffer {
                offer_id: OfferId::parse("o1").unwrap(),
                agent_id: AgentId::parse(id).unwrap(),
                expires_at: Timestamp::from_unix_millis(0),
            }),
            last_seq: 3,
            ..ConversationState::default()
        }
    }

    #[test]
    fn only_the_bot_or_baton_binds_a_customer() {
        let state = owned_by("ana");
        assert!(matches!(
            check_append(&state, &agent("ana"), &identity()),
            Err(Refusal::ActorMismatch {
                kind: "identity_verified",
                ..
            })
        ));
        assert!(matches!(
            check_append(&ConversationState::default(), &Actor::Customer, &identity()),
            Err(Refusal::ActorMismatch { .. })
        ));
        assert_eq!(check_append(&state, &Actor::Bot, &identity()), Ok(()));
        assert_eq!(check_append(&state, &Actor::System, &identity()), Ok(()));
    }

    #[test]
    fn an_agent_notes_only_what_it_owns() {
        assert_eq!(
            check_append(&owned_by("ana"), &agent("ana"), &note()),
            Ok(())
        );
        for (state, who) in [
            (owned_by("ana"), "bob"),
            (offered_to("bob"), "bob"),
            (ConversationState::default(), "bob"),
        ] {
            assert!(
                matches!(
                    check_append(&state, &agent(who), &note()),
                    Err(Refusal::NotOwner { kind: "note", .. })
                ),
                "{who} in {:?}",
                state.owner
            );
        }
        // The bot's notes are not speech: it may add one while an agent talks.
        assert_eq!(check_append(&owned_by("ana"), &Actor::Bot, &note()), Ok(()));
    }

    fn assigned(agent: &str, offer: &str) -> EventBody {
        EventBody::Assigned(crate::event::Assigned {
            agent_id: AgentId::parse(agent).unwrap(),
            offer_id: Some(OfferId::parse(offer).unwrap()),
        })
    }

    fn closed(offer: &str, reason: crate::event::OfferEnd) -> EventBody {
        EventBody::OfferClosed(crate::event::OfferClosed {
            offer_id: OfferId::parse(offer).unwrap(),
            agent_id: AgentId::parse("bob").unwrap(),
            reason,
        })
    }

    #[test]
    fn an_offer_is_accepted_only_while_it_is_the_open_one() {
        assert_eq!(
            check_append(&offered_to("bob"), &Actor::System, &assigned("bob", "o1")),
            Ok(())
        );
        // Someone else's offer, another offer, an offer already accepted.
        for (state, body) in [
            (offered_to("bob"), assigned("ana", "o1")),
            (offered_to("bob"), assigned("bob", "o2")),
            (owned_by("bob"), assigned("bob", "o1")),
        ] {
            assert!(
                matches!(
                    check_append(&state, &Actor::System, &body),
                    Err(Refusal::OfferNotOpen { .. })
                ),
                "{body:?} on {:?}",
                state.owner
            );
        }
    }

    #[test]
    fn only_a_queued_conversation_is_offered_and_only_the_open_offer_closes() {
        let offer = EventBody::Offered(crate::event::Offered {
            offer_id: OfferId::parse("o2").unwrap(),
            agent_id: AgentId::parse("ana").unwrap(),
            expires_at: Timestamp::from_unix_millis(0),
        });
        let queued = ConversationState {
            owner: Owner::Queued,
            ..ConversationState::default()
        };
        assert_eq!(check_append(&queued, &Actor::System, &offer), Ok(()));
        for state in [offered_to("bob"), owned_by("bob")] {
            assert!(matches!(
                check_append(&state, &Actor::System, &offer),
                Err(Refusal::NotQueued(_))
            ));
        }
        use crate::event::OfferEnd;
        let expired = closed("o1", OfferEnd::Expired);
        assert_eq!(
            check_append(&offered_to("bob"), &Actor::System, &expired),
            Ok(())
        );
        assert!(matches!(
            check_append(&owned_by("bob"), &Actor::System, &expired),
            Err(Refusal::OfferNotOpen { .. })
        ));
        // A resolution's withdrawal of its offer lands after the resolution.
        let resolved = ConversationState {
            owner: Owner::Closed,
            ..ConversationState::default()
        };
        let withdrawn = closed("o1", OfferEnd::Withdrawn);
        assert_eq!(check_append(&resolved, &Actor::System, &withdrawn), Ok(()));
        assert!(check_append(&resolved, &Actor::System, &expired).is_err());
    }
}
