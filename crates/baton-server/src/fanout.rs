//! Live fan-out of appended events to stream subscribers, one broadcast channel per
//! watched conversation. A channel is created on first subscribe and dropped as its
//! last subscriber leaves, so a conversation nobody watches costs nothing.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

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

/// The seq of [`Fanout::catch_up`]'s message: no event has it.
pub const CATCH_UP_SEQ: u64 = u64::MAX;

/// How many events a slow subscriber may fall behind before it re-reads from the store.
const CHANNEL_DEPTH: usize = 1024;

type Channels = BTreeMap<ConversationId, broadcast::Sender<Published>>;

/// The per-conversation channels.
#[derive(Default)]
pub struct Fanout {
    channels: Arc<Mutex<Channels>>,
}

fn locked(channels: &Mutex<Channels>) -> MutexGuard<'_, Channels> {
    channels
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One subscriber's receiver; dropping the last one of a conversation drops its channel.
pub struct Subscription {
    receiver: Option<broadcast::Receiver<Published>>,
    conversation: ConversationId,
    channels: Arc<Mutex<Channels>>,
}

impl Subscription {
    /// The next event, as [`broadcast::Receiver::recv`].
    pub async fn recv(&mut self) -> Result<Published, broadcast::error::RecvError> {
        match self.receiver.as_mut() {
            Some(receiver) => receiver.recv().await,
            None => Err(broadcast::error::RecvError::Closed),
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // Under the map lock, so no subscriber can join between the count and the removal.
        let mut channels = locked(&self.channels);
        drop(self.receiver.take());
        if channels
            .get(&self.conversation)
            .is_some_and(|sender| sender.receiver_count() == 0)
        {
            channels.remove(&self.conversation);
        }
    }
}

impl Fanout {
    /// Subscribes to a conversation's future events.
    pub fn subscribe(&self, conversation: &ConversationId) -> Subscription {
        let mut channels = locked(&self.channels);
        let receiver = channels
            .entry(conversation.clone())
            .or_insert_with(|| broadcast::channel(CHANNEL_DEPTH).0)
            .subscribe();
        metrics::gauge!("baton_fanout_channels").set(channels.len() as f64);
        Subscription {
            receiver: Some(receiver),
            conversation: conversation.clone(),
            channels: Arc::clone(&self.channels),
        }
    }

    /// Sends events to the conversation's subscribers, if any.
    pub fn publish(&self, conversation: &ConversationId, events: &[Published]) {
        let channels = locked(&self.channels);
        let Some(sender) = channels.get(conversation) else {
            return;
        };
        for event in events {
            let _ = sender.send(event.clone());
        }
    }

    /// Tells a conversation's subscribers that the store holds events they were not
    /// sent (another node wrote them): each re-reads from the store after what it has.
    /// What they receive is not an event: its seq is past any, which every
    /// subscriber takes as a gap to fill from the store.
    pub fn catch_up(&self, conversation: &ConversationId) {
        let channels = locked(&self.channels);
        if let Some(sender) = channels.get(conversation) {
            let _ = sender.send(Published {
                seq: CATCH_UP_SEQ,
                kind: "catch_up",
                json: Arc::from(""),
            });
        }
    }

    /// How many conversations have a channel (one per conversation being watched).
    pub fn channel_count(&self) -> usize {
        locked(&self.channels).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_subscriber_leaving_drops_the_channel() {
        let fanout = Fanout::default();
        let cid = ConversationId::parse("c").unwrap();
        let first = fanout.subscribe(&cid);
        let second = fanout.subscribe(&cid);
        assert_eq!(fanout.channel_count(), 1);
        drop(first);
        assert_eq!(fanout.channel_count(), 1);
        drop(second);
        assert_eq!(fanout.channel_count(), 0);
    }
}
