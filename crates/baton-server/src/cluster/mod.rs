//! Several baton nodes over one PostgreSQL: who this node is, how it hears that
//! another node moved a conversation, and what it does about it.
//!
//! The store is the only source of truth. A notification (NATS JetStream, see
//! [`notify`]) only says "conversation X reached seq N"; the node then forgets its
//! in-memory state of X if it is behind and tells X's stream subscribers and the
//! global-feed streams to re-read from the store. Notifications may be lost or late,
//! so a node sharing its store also polls the store's global feed on a modest
//! interval ([`ClusterConfig::poll`]) and does the same for every conversation that
//! moved: a lost notification delays a remote event, never loses or repeats it.

pub mod notify;

use std::sync::Arc;
use std::time::Duration;

use baton_core::ConversationId;

use crate::app::AppState;

/// How this node takes part in a cluster.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// This node's name, in logs, `/healthz` and the metrics' `node` label.
    pub node_id: String,
    /// Where notifications go and come from; `None` on a single node.
    pub nats: Option<notify::NatsConfig>,
    /// How often to look in the store for conversations other nodes moved; `None`
    /// when no other node writes the store (the embedded SQLite store).
    pub poll: Option<Duration>,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            node_id: "local".to_owned(),
            nats: None,
            poll: None,
        }
    }
}

/// The cluster side of a running node.
pub struct Cluster {
    /// This node's name.
    pub node_id: String,
    /// The notification link, when configured.
    pub notifier: Option<Arc<notify::Notifier>>,
}

impl Cluster {
    /// Tells the other nodes that `conversation` reached `seq`, and whether the commit
    /// moved it in or out of the router's hands; never waits.
    pub fn advanced(&self, conversation: &ConversationId, seq: u64, routing: bool) {
        if let Some(notifier) = &self.notifier {
            notifier.advanced(&self.node_id, conversation, seq, routing);
        }
    }
}

/// Another node moved `conversation` to `seq` (or may have): memory behind it is
/// dropped (its data key too), and its streams and the feed streams re-read from the
/// store; when the commit moved it in the router's hands (`routing`), this node's
/// router takes the log's word for it ([`crate::routing::resync`]).
pub fn remote_advanced(app: &AppState, conversation: &ConversationId, seq: u64, routing: bool) {
    app.conversations.forget_behind(conversation, seq);
    // The other node may have erased it: its data key is read from the store again
    // on next use, so a destroyed key is not kept usable in this node's memory.
    if let Some(vault) = &app.vault {
        vault.forget(conversation);
    }
    app.fanout.catch_up(conversation);
    app.feed.committed();
    // Its webhook deliveries were committed with its events; any node may claim them.
    app.webhooks.wake();
    if routing {
        tokio::spawn(crate::routing::resync(app.clone(), conversation.clone()));
    }
}

/// Starts the store poller and the notification consumer, as configured.
pub fn spawn(app: &AppState) {
    if let Some(every) = app.config.cluster.poll {
        spawn_poller(app, every);
    }
    if let Some(notifier) = &app.cluster.notifier {
        notify::spawn_consumer(app, Arc::clone(notifier));
    }
}

/// Feed items read per poll; more wait for the next page, read at once.
const POLL_PAGE: u32 = 1_000;
const POLL_BYTES: usize = 1024 * 1024;

/// Whether a feed event moves its conversation in the router's hands: the kind says
/// whether it may, the event itself for a decision.
fn moves_routing(item: &baton_store::FeedEvent) -> bool {
    let may = baton_core::event::EventKind::from_wire(&item.kind)
        .is_some_and(baton_core::event::EventKind::moves_routing);
    may && serde_json::from_str::<baton_core::Event>(&item.event.canonical)
        .map_or(true, |event| event.body.moves_routing())
}

/// Reads the global feed from its head on a timer, and treats every conversation
/// found in it as a notification: the safety net under lost notifications.
fn spawn_poller(app: &AppState, every: Duration) {
    let weak = Arc::downgrade(&app.0);
    tokio::spawn(async move {
        let mut after = match weak.upgrade() {
            Some(inner) => match inner.store.feed_head().await {
                Ok(head) => head,
                Err(error) => {
                    tracing::error!(%error, "cluster poller: cannot read the feed head; not polling");
                    return;
                }
            },
            None => return,
        };
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            let Some(inner) = weak.upgrade() else { return };
            let app = AppState(inner);
            loop {
                let page = match app.store.feed_page(after, &[], POLL_PAGE, POLL_BYTES).await {
                    Ok(page) => page,
                    Err(error) => {
                        tracing::warn!(%error, "cluster poller: cannot read the feed");
                        break;
                    }
                };
                let mut moved: std::collections::BTreeMap<ConversationId, (u64, bool)> =
                    Default::default();
                for item in &page.events {
                    after = after.max(item.position);
                    let (seq, routing) = moved.entry(item.conversation.clone()).or_default();
                    *seq = (*seq).max(item.event.seq);
                    *routing |= moves_routing(item);
                }
                for (conversation, (seq, routing)) in &moved {
                    remote_advanced(&app, conversation, *seq, *routing);
                }
                if !page.more || page.events.is_empty() {
                    break;
                }
            }
        }
    });
}
