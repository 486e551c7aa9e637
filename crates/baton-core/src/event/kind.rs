//! [`EventKind`]: the closed set of event `type`s, as a fieldless enum, so code that
//! lists or branches on types is checked by the compiler instead of by string lists.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An event's `type`, without its content. The wire names are frozen (they feed the
/// ledger hash): [`EventKind::as_str`] and serde agree on them, a test checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// `customer_message`.
    CustomerMessage,
    /// `bot_message`.
    BotMessage,
    /// `agent_message`.
    AgentMessage,
    /// `nlu`.
    Nlu,
    /// `identity_verified`.
    IdentityVerified,
    /// `document_retrieved`.
    DocumentRetrieved,
    /// `action`.
    Action,
    /// `commitment`.
    Commitment,
    /// `handoff_requested`.
    HandoffRequested,
    /// `note`.
    Note,
    /// `decision` (written by baton).
    Decision,
    /// `offered` (written by baton).
    Offered,
    /// `offer_closed` (written by baton).
    OfferClosed,
    /// `assigned` (written by baton).
    Assigned,
    /// `bounced_back` (written by baton).
    BouncedBack,
    /// `resolved` (written by baton).
    Resolved,
    /// `repeat_ask` (written by baton).
    RepeatAsk,
    /// `customer_repeated` (written by baton).
    CustomerRepeated,
    /// `read_back` (written by baton, as the agent).
    ReadBack,
    /// `survey` (written by baton, as the one who answered).
    Survey,
    /// `erased` (written by baton when the conversation's customer data is destroyed).
    Erased,
}

impl EventKind {
    /// Every kind: the ones a client may send first, in the order error messages list them.
    pub const ALL: [EventKind; 21] = [
        EventKind::CustomerMessage,
        EventKind::BotMessage,
        EventKind::AgentMessage,
        EventKind::Nlu,
        EventKind::IdentityVerified,
        EventKind::DocumentRetrieved,
        EventKind::Action,
        EventKind::Commitment,
        EventKind::HandoffRequested,
        EventKind::Note,
        EventKind::Decision,
        EventKind::Offered,
        EventKind::OfferClosed,
        EventKind::Assigned,
        EventKind::BouncedBack,
        EventKind::Resolved,
        EventKind::RepeatAsk,
        EventKind::CustomerRepeated,
        EventKind::ReadBack,
        EventKind::Survey,
        EventKind::Erased,
    ];

    /// The frozen wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::CustomerMessage => "customer_message",
            EventKind::BotMessage => "bot_message",
            EventKind::AgentMessage => "agent_message",
            EventKind::Nlu => "nlu",
            EventKind::IdentityVerified => "identity_verified",
            EventKind::DocumentRetrieved => "document_retrieved",
            EventKind::Action => "action",
            EventKind::Commitment => "commitment",
            EventKind::HandoffRequested => "handoff_requested",
            EventKind::Note => "note",
            EventKind::Decision => "decision",
            EventKind::Offered => "offered",
            EventKind::OfferClosed => "offer_closed",
            EventKind::Assigned => "assigned",
            EventKind::BouncedBack => "bounced_back",
            EventKind::Resolved => "resolved",
            EventKind::RepeatAsk => "repeat_ask",
            EventKind::CustomerRepeated => "customer_repeated",
            EventKind::ReadBack => "read_back",
            EventKind::Survey => "survey",
            EventKind::Erased => "erased",
        }
    }

    /// The kind with wire name `name`, if there is one.
    pub fn from_wire(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether only baton itself writes this kind (clients get `reserved_type`).
    pub fn is_server_only(self) -> bool {
        match self {
            EventKind::CustomerMessage
            | EventKind::BotMessage
            | EventKind::AgentMessage
            | EventKind::Nlu
            | EventKind::IdentityVerified
            | EventKind::DocumentRetrieved
            | EventKind::Action
            | EventKind::Commitment
            | EventKind::HandoffRequested
            | EventKind::Note => false,
            EventKind::Decision
            | EventKind::Offered
            | EventKind::OfferClosed
            | EventKind::Assigned
            | EventKind::BouncedBack
            | EventKind::Resolved
            | EventKind::RepeatAsk
            | EventKind::CustomerRepeated
            | EventKind::ReadBack
            | EventKind::Survey
            | EventKind::Erased => true,
        }
    }

    /// Whether an event of this kind can move the conversation into, within or out of
    /// the router's hands (queued, offered, owned by an agent): what a node that did
    /// not write it must tell its router about. A decision does only when it hands
    /// off (`EventBody::moves_routing` says for one event).
    pub fn moves_routing(self) -> bool {
        matches!(
            self,
            EventKind::Decision
                | EventKind::Offered
                | EventKind::OfferClosed
                | EventKind::Assigned
                | EventKind::BouncedBack
                | EventKind::Resolved
        )
    }

    /// The kinds a client may send, in [`EventKind::ALL`]'s order.
    pub fn client() -> impl Iterator<Item = EventKind> {
        Self::ALL.into_iter().filter(|k| !k.is_server_only())
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_are_serdes_and_round_trip() {
        for kind in EventKind::ALL {
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, kind.as_str(), "{kind:?}");
            assert_eq!(EventKind::from_wire(kind.as_str()), Some(kind));
        }
        assert_eq!(EventKind::from_wire("telepathy"), None);
    }

    #[test]
    fn client_kinds_come_first_and_are_the_documented_ten() {
        let client: Vec<_> = EventKind::client().map(EventKind::as_str).collect();
        assert_eq!(
            client,
            [
                "customer_message",
                "bot_message",
                "agent_message",
                "nlu",
                "identity_verified",
                "document_retrieved",
                "action",
                "commitment",
                "handoff_requested",
                "note",
            ]
        );
        assert!(
            EventKind::ALL[client.len()..]
                .iter()
                .all(|k| k.is_server_only())
        );
    }
}
