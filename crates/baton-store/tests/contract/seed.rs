//! Sealed batches for the cases: customer messages chained onto whatever a
//! conversation holds, as the server would seal them.

use baton_core::ledger::{Digest, GENESIS};
use baton_core::{
    Actor, AgentId, ConversationId, CustomerId, Event, EventBody, EventId, Owner, Text, Timestamp,
};
use baton_store::{AppendBatch, ConversationSummary, SealedEvent, Store};

/// A fixed instant, so stored JSON is the same on every run.
pub const T0: i64 = 1_767_225_600_000;

/// The time `n` seconds after [`T0`].
pub fn at(n: i64) -> Timestamp {
    Timestamp::from_unix_millis(T0 + n * 1000)
}

/// A conversation id.
pub fn cid(raw: &str) -> ConversationId {
    ConversationId::parse(raw).expect("test conversation id")
}

/// Where a conversation's chain stands: its last seq and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub seq: u64,
    pub hash: Digest,
}

/// The head of an empty conversation.
pub const EMPTY: Head = Head {
    seq: 0,
    hash: GENESIS,
};

/// What a batch is to say about its conversation.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub owner: Option<Owner>,
    pub customer: Option<&'static str>,
    pub agent: Option<&'static str>,
    pub started: i64,
    pub updated: i64,
    pub intent: Option<&'static str>,
}

/// A batch of customer messages `texts` after `head`, with event ids
/// `<prefix>-<seq>`.
pub fn batch(conversation: &str, head: Head, prefix: &str, texts: &[&str]) -> AppendBatch {
    batch_with(conversation, head, prefix, texts, &Summary::default())
}

/// [`batch`] with a summary.
pub fn batch_with(
    conversation: &str,
    head: Head,
    prefix: &str,
    texts: &[&str],
    summary: &Summary,
) -> AppendBatch {
    let mut prev = head.hash;
    let mut events = Vec::with_capacity(texts.len());
    for (offset, text) in texts.iter().enumerate() {
        let seq = head.seq + 1 + offset as u64;
        let event = Event {
            erased: false,
            seq,
            id: EventId::parse(format!("{prefix}-{seq}")).expect("test event id"),
            actor: Actor::Customer,
            at: at(seq as i64),
            meta: None,
            body: EventBody::CustomerMessage(baton_core::event::Message {
                text: Text::parse(*text).expect("test text"),
            }),
        };
        let sealed = SealedEvent::seal(&prev, &event).expect("seal");
        prev = sealed.hash;
        events.push(sealed);
    }
    AppendBatch {
        conversation: cid(conversation),
        expected_last_seq: head.seq,
        events,
        summary: ConversationSummary {
            owner: summary.owner.unwrap_or(Owner::Bot),
            customer: summary
                .customer
                .map(|c| CustomerId::parse(c).expect("test customer id")),
            agent: summary
                .agent
                .map(|a| AgentId::parse(a).expect("test agent id")),
            started_at: at(summary.started),
            updated_at: at(summary.updated),
            intent: summary
                .intent
                .map(|i| baton_core::Label::parse(i).expect("test intent")),
        },
        outbox: None,
        claim: None,
        data_key: None,
    }
}

/// Appends `texts` after `head` and returns the new head.
pub async fn append(
    store: &dyn Store,
    conversation: &str,
    head: Head,
    prefix: &str,
    texts: &[&str],
) -> Head {
    let receipt = store
        .append(batch(conversation, head, prefix, texts))
        .await
        .expect("append");
    Head {
        seq: receipt.last_seq,
        hash: receipt.head,
    }
}
