//! Webhook subscriptions and the outbox of their deliveries, as the store keeps them.
//!
//! An append that may interest a subscription records one [`OutboxEntry`] in its own
//! transaction: the batch's events, by seq and type, and the conversation's state
//! after it. A claim first fans the oldest entries out into one delivery per event
//! and subscription that wants it (subscriptions as stored, made no later than the
//! entry), in entry order, then leases due deliveries; a delivery is finished as
//! delivered, retried later, or dead-lettered. A conversation's deliveries to one
//! webhook are claimed in order: a later one waits while an earlier one is pending.
//!
//! The append pays for one row however many subscriptions there are; the fan-out
//! runs off the append path, many entries to a transaction.

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

/// What an append records for the webhooks: its events (the batch's own seqs and
/// types) are to be delivered to every subscription that wants them, with the
/// conversation's state summary as of the commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The conversation's state summary after the batch (JSON).
    pub state: String,
}

/// The most outbox entries one claim fans out: enough that a backlog drains in a few
/// claims, few enough that the transaction stays short (SQLite's writer is shared
/// with appends).
pub const FAN_OUT_PER_CLAIM: u32 = 64;

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
    /// Outbox entries (appends) not yet fanned out into deliveries.
    pub unexpanded: u64,
    /// When the oldest undelivered event (pending, or not yet fanned out) was
    /// committed.
    pub oldest_pending: Option<Timestamp>,
    /// Dead letters.
    pub dead: u64,
}

/// The event types of an entry's events, in seq order, as stored: space-separated.
pub fn kinds_column(kinds: impl IntoIterator<Item = &'static str>) -> String {
    kinds.into_iter().collect::<Vec<_>>().join(" ")
}

/// One delivery a fan-out makes: the event `seq` to `webhook`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FannedOut<'a> {
    /// The subscription.
    pub webhook: &'a WebhookId,
    /// The event's seq.
    pub seq: u64,
    /// Its type.
    pub kind: &'a str,
}

/// An outbox entry as stored, waiting to be fanned out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    /// Its row id (entries are fanned out in this order).
    pub id: i64,
    /// The conversation.
    pub conversation: String,
    /// The seq of the batch's first event.
    pub first_seq: u64,
    /// The batch's event types in seq order ([`kinds_column`]).
    pub kinds: String,
    /// The state summary after the batch (JSON).
    pub state: String,
    /// When the batch was committed (Unix milliseconds).
    pub created_at: i64,
}

impl StoredEntry {
    /// The deliveries this entry holds: each of its events to each subscription made
    /// no later than the entry whose filter wants the event's type, in seq order. A
    /// type this build does not know (written by a newer node) goes only to `["*"]`.
    pub fn fan_out<'a>(&'a self, subscriptions: &'a [WebhookRecord]) -> Vec<FannedOut<'a>> {
        let made = Timestamp::from_unix_millis(self.created_at);
        let mut out = Vec::new();
        for (offset, kind) in self.kinds.split(' ').filter(|k| !k.is_empty()).enumerate() {
            let known = baton_core::event::EventKind::from_wire(kind);
            for hook in subscriptions.iter().filter(|h| h.created_at <= made) {
                let wanted = match (&hook.events, known) {
                    (EventFilter::All, _) => true,
                    (filter, Some(kind)) => filter.wants(kind),
                    (_, None) => false,
                };
                if wanted {
                    out.push(FannedOut {
                        webhook: &hook.id,
                        seq: self.first_seq + offset as u64,
                        kind,
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(n: u8, events: &[&str], created: i64) -> WebhookRecord {
        WebhookRecord {
            id: WebhookId::from_random([n; 8]),
            url: "http://127.0.0.1:9/".to_owned(),
            events: EventFilter::parse(events).unwrap(),
            description: None,
            role: Role::Bot,
            secret: SigningSecret("whsec_c2VjcmV0".to_owned()),
            previous: None,
            created_at: Timestamp::from_unix_millis(created),
        }
    }

    fn entry(first_seq: u64, kinds: &str, created_at: i64) -> StoredEntry {
        StoredEntry {
            id: 1,
            conversation: "c-1".to_owned(),
            first_seq,
            kinds: kinds.to_owned(),
            state: "{}".to_owned(),
            created_at,
        }
    }

    #[test]
    fn each_event_goes_to_the_subscriptions_that_want_it_in_seq_order() {
        let all = hook(1, &["*"], 0);
        let decisions = hook(2, &["decision"], 0);
        let later = hook(3, &["*"], 200);
        let subscriptions = [all.clone(), decisions.clone(), later];
        let entry = entry(7, &kinds_column(["customer_message", "decision"]), 100);
        let made = entry.fan_out(&subscriptions);
        let got: Vec<(&WebhookId, u64, &str)> =
            made.iter().map(|d| (d.webhook, d.seq, d.kind)).collect();
        assert_eq!(
            got,
            [
                (&all.id, 7, "customer_message"),
                (&all.id, 8, "decision"),
                (&decisions.id, 8, "decision"),
            ],
            "a subscription made after the commit gets nothing"
        );
    }

    #[test]
    fn a_type_this_build_does_not_know_goes_only_to_every_type_subscriptions() {
        let subscriptions = [hook(1, &["*"], 0), hook(2, &["decision"], 0)];
        let future = entry(1, "future_kind", 1);
        let made = future.fan_out(&subscriptions);
        assert_eq!(made.len(), 1);
        assert_eq!(made[0].webhook, &subscriptions[0].id);
        assert!(entry(1, "", 1).fan_out(&subscriptions).is_empty());
    }
}
