//! Webhook subscriptions and the outbox of their deliveries, as the store keeps them.
//!
//! A delivery row is written by the append that stores its event (one transaction),
//! then claimed by a delivery worker under a lease, and finished: delivered, retried
//! later, or dead-lettered. A conversation's deliveries to one webhook are claimed in
//! order: a later one waits while an earlier one is pending.

use baton_core::id::ConversationId;
use baton_core::timestamp::Timestamp;
use baton_core::webhook::EventFilter;

use crate::model::Role;

/// Why a string is not a webhook id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a webhook id is `wh_` followed by 16 lowercase hex digits")]
pub struct WebhookIdError;

/// A webhook's public id: `wh_` and 16 random hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WebhookId(String);

impl WebhookId {
    /// What every webhook id starts with.
    pub const PREFIX: &str = "wh_";

    /// The id made of these random bytes.
    pub fn from_random(bytes: [u8; 8]) -> Self {
        Self(baton_core::id::random_hex_id(Self::PREFIX, bytes))
    }

    /// Validates an id.
    pub fn parse(raw: &str) -> Result<Self, WebhookIdError> {
        if baton_core::id::is_random_hex_id(raw, Self::PREFIX) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(WebhookIdError)
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for WebhookId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A signing secret (`whsec_` + base64). Its `Debug` never shows it, so a logged
/// record leaks nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(pub String);

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(..)")
    }
}

/// A subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRecord {
    /// Its id.
    pub id: WebhookId,
    /// Where deliveries go (`http` or `https`, checked by the server).
    pub url: String,
    /// Which event types it wants.
    pub events: EventFilter,
    /// What the admin said it is for.
    pub description: Option<String>,
    /// The role its deliveries are redacted for.
    pub role: Role,
    /// The secret deliveries are signed with.
    pub secret: SigningSecret,
    /// After a rotation, the old secret and until when it signs too.
    pub previous: Option<(SigningSecret, Timestamp)>,
    /// When it was created.
    pub created_at: Timestamp,
}

/// A delivery an append causes: the event `seq` of the batch, to `webhook`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The subscription.
    pub webhook: WebhookId,
    /// The event, by its seq in the batch.
    pub seq: u64,
    /// Its type.
    pub kind: &'static str,
    /// The conversation's state summary as of the commit (JSON).
    pub state: String,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Not delivered yet: due, waiting for a retry, or in flight.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up after the retry horizon; a replay sends it again.
    Dead,
}

impl DeliveryStatus {
    /// Every status.
    pub const ALL: [DeliveryStatus; 3] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Delivered,
        DeliveryStatus::Dead,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Dead => "dead",
        }
    }

    /// Parses a wire name.
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "pending" => DeliveryStatus::Pending,
            "delivered" => DeliveryStatus::Delivered,
            "dead" => DeliveryStatus::Dead,
            _ => return None,
        })
    }
}

/// One try of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// When it was made.
    pub at: Timestamp,
    /// The receiver's HTTP status, if it answered.
    pub status: Option<u16>,
    /// What went wrong, if anything (a timeout, a refused connection, a redirect).
    pub error: Option<String>,
}

/// A delivery as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Its number (grows in commit order).
    pub id: u64,
    /// The subscription.
    pub webhook: WebhookId,
    /// The event's conversation.
    pub conversation: ConversationId,
    /// The event's seq.
    pub seq: u64,
    /// The event's type.
    pub kind: String,
    /// The state summary as of the commit (JSON).
    pub state: String,
    /// When the event was committed.
    pub created_at: Timestamp,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// When the current series of tries began (the commit, or the last replay).
    pub series_start: Timestamp,
    /// When it is next due (while pending).
    pub next_at: Timestamp,
    /// Its tries, oldest first (filled by [`crate::Store::deliveries`] only).
    pub attempts: Vec<Attempt>,
}

/// How a try ended, and what follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    /// Delivered.
    Delivered,
    /// Try again at this instant.
    RetryAt(Timestamp),
    /// Dead-lettered.
    Dead,
}

/// Which deliveries to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryQuery {
    /// The subscription.
    pub webhook: WebhookId,
    /// Only those in this status.
    pub status: Option<DeliveryStatus>,
    /// Only those with a smaller id (the next page of a newest-first list).
    pub before: Option<u64>,
    /// At most this many.
    pub limit: u32,
}

/// The outbox at a glance, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Deliveries not yet delivered.
    pub pending: u64,
    /// When the oldest of them was committed.
    pub oldest_pending: Option<Timestamp>,
    /// Dead letters.
    pub dead: u64,
}
