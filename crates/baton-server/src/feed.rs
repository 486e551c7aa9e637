//! The global feed for one reader: events of every conversation the reader may read,
//! in position (commit) order, redacted for its role, and the signal that wakes feed
//! streams on each commit.
//!
//! Access and redaction are decided per conversation from its last committed state
//! (as every read path does): an agent sees the events of conversations offered or
//! assigned to it now; facts known now mask every event that holds them. A page stops
//! before an event newer than that state (its commit is not yet in memory), so no
//! event is served with facts older than itself; the next read serves it.

use std::collections::BTreeMap;
use std::sync::Arc;

use baton_core::ConversationId;
use baton_store::FeedEvent;
use tokio::sync::watch;

use crate::access::can_read;
use crate::app::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::live::Live;
use crate::redaction::ReadView;

/// Bumped after every commit; feed streams wait on it.
pub struct FeedSignal {
    tx: watch::Sender<u64>,
}

impl Default for FeedSignal {
    fn default() -> Self {
        Self {
            tx: watch::channel(0).0,
        }
    }
}

impl FeedSignal {
    /// A commit happened.
    pub fn committed(&self) {
        self.tx.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that sees the next commit.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }
}

/// One served feed item: its position, type and JSON
/// (`{"position", "conversation", "event"}`).
pub struct Item {
    /// Global position.
    pub position: u64,
    /// Event type.
    pub kind: String,
    /// The item as JSON.
    pub json: String,
}

/// A page as a reader gets it.
pub struct Served {
    /// What the reader may see, in order.
    pub items: Vec<Item>,
    /// Where to read on from (past events the reader may not see, too).
    pub next_after: u64,
    /// Whether more may follow now.
    pub more: bool,
}

/// The page of the feed after `after` for `principal`.
pub async fn page(
    app: &AppState,
    principal: &Principal,
    after: u64,
    kinds: &[&str],
    limit: u32,
    max_bytes: usize,
) -> Result<Served, ApiError> {
    let page = app.store.feed_page(after, kinds, limit, max_bytes).await?;
    let mut readers: BTreeMap<ConversationId, Option<(Arc<Live>, ReadView)>> = BTreeMap::new();
    let mut served = Served {
        items: Vec::with_capacity(page.events.len()),
        next_after: after,
        more: page.more,
    };
    for FeedEvent {
        position,
        conversation,
        kind,
        event,
    } in page.events
    {
        if !readers.contains_key(&conversation) {
            let reader = match app
                .conversations
                .snapshot(app.store.as_ref(), &app.policy(), &conversation)
                .await?
            {
                Some(live) if can_read(principal, &live.state) => {
                    let view = ReadView::new(app, principal.role, live.facts.package_facts())?;
                    Some((live, view))
                }
                _ => None,
            };
            readers.insert(conversation.clone(), reader);
        }
        if let Some(Some((live, view))) = readers.get(&conversation) {
            if event.seq > live.state.last_seq {
                // Committed but not in memory: either a commit of this node about to
                // be published, or another node's, which memory drops so the next
                // read loads it.
                app.conversations.forget_behind(&conversation, event.seq);
                served.more = true;
                break;
            }
            let json = format!(
                "{{\"position\":{position},\"conversation\":{},\"event\":{}}}",
                serde_json::to_string(conversation.as_str()).map_err(ApiError::internal)?,
                view.stored(&event)?
            );
            served.items.push(Item {
                position,
                kind,
                json,
            });
        }
        served.next_after = position;
    }
    Ok(served)
}
