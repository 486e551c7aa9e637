//! Live fan-out of appended events to stream subscribers, one broadcast channel per
//! watched conversation. Channels are created on first subscribe and dropped when the
//! last subscriber leaves, so idle conversations cost nothing.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use baton_core::ConversationId;
use tokio::sync::broadcast;

/// One appended event as subscribers receive it.
#[derive(Debug, Clone)]
pub struct Published {
    /// Its seq.
    pub seq: u64,
    /// Its `type`.
    pub kind: &'static str,
    /// The event JSON with its hash, as `GET .../events` serves it.
    pub json: Arc<str>,
}

/// How many events a slow subscriber may fall behind before it re-reads from the store.
const CHANNEL_DEPTH: usize = 1024;

/// The per-conversation channels.
#[derive(Default)]
pub struct Fanout {
    channels: Mutex<BTreeMap<ConversationId, broadcast::Sender<Published>>>,
}

impl Fanout {
    /// Subscribes to a conversation's future events.
    pub fn subscribe(&self, conversation: &ConversationId) -> broadcast::Receiver<Published> {
        let mut channels = self
            .channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        channels
            .entry(conversation.clone())
            .or_insert_with(|| broadcast::channel(CHANNEL_DEPTH).0)
            .subscribe()
    }

    /// Sends events to the conversation's subscribers, if any.
    pub fn publish(&self, conversation: &ConversationId, events: &[Published]) {
        let mut channels = self
            .channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(sender) = channels.get(conversation) else {
            return;
        };
        if sender.receiver_count() == 0 {
            channels.remove(conversation);
            return;
        }
        for event in events {
            let _ = sender.send(event.clone());
        }
    }
}
