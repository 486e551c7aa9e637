//! Notifications between nodes over NATS JetStream: after each commit a node
//! publishes `{"node", "conversation", "seq", "routing"}` on `<stream>.advanced`
//! (`routing`: the commit holds an event that moves the conversation in or out of the
//! router's hands, see [`baton_core::event::EventKind::moves_routing`]); every node reads
//! the stream with an ordered ephemeral consumer from "new" and, for another node's
//! notification, runs [`super::remote_advanced`].
//!
//! A notification is a hint, never data: nothing is served from it, so publishing
//! does not wait for JetStream's ack and a full queue drops the hint (the store
//! poller catches up within its interval).

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use baton_core::ConversationId;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::app::AppState;

/// Where the notifications travel.
#[derive(Debug, Clone)]
pub struct NatsConfig {
    /// `nats://host:port`.
    pub url: String,
    /// The JetStream stream's name; its subject is `<stream>.advanced`. Nodes of one
    /// cluster share it; tests give each cluster its own.
    pub stream: String,
}

/// The default stream name.
pub const DEFAULT_STREAM: &str = "BATON";

/// Why the notification link could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The NATS server does not answer.
    #[error("cannot connect to NATS at {url}: {message}")]
    Connect {
        /// The URL tried.
        url: String,
        /// What the client said.
        message: String,
    },
    /// JetStream refused the stream (not enabled, or a conflicting definition).
    #[error("cannot set up the JetStream stream {stream}: {message}")]
    Stream {
        /// The stream's name.
        stream: String,
        /// What the server said.
        message: String,
    },
}

/// One notification on the wire.
#[derive(Debug, Serialize, Deserialize)]
struct Advanced {
    node: String,
    conversation: String,
    seq: u64,
    /// Absent from an older node's hints: false, and the poller still catches up.
    #[serde(default)]
    routing: bool,
}

/// Hints waiting to be published; beyond this many they are dropped.
const QUEUE: usize = 4_096;

/// A node's link to NATS.
pub struct Notifier {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    stream: String,
    subject: String,
    queue: mpsc::Sender<Vec<u8>>,
}

impl Notifier {
    /// Connects, makes sure the stream exists (in memory, one minute of hints) and
    /// starts the publisher task.
    pub async fn connect(config: &NatsConfig) -> Result<Arc<Self>, NotifyError> {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .retry_on_initial_connect()
            .connect(config.url.as_str())
            .await
            .map_err(|e| NotifyError::Connect {
                url: config.url.clone(),
                message: e.to_string(),
            })?;
        let jetstream = jetstream::new(client.clone());
        let subject = format!("{}.advanced", config.stream);
        let stream_error = |e: &dyn std::fmt::Display| NotifyError::Stream {
            stream: config.stream.clone(),
            message: e.to_string(),
        };
        tokio::time::timeout(
            Duration::from_secs(10),
            jetstream.get_or_create_stream(jetstream::stream::Config {
                name: config.stream.clone(),
                subjects: vec![subject.clone()],
                storage: jetstream::stream::StorageType::Memory,
                max_age: Duration::from_secs(60),
                max_messages: 1_000_000,
                ..Default::default()
            }),
        )
        .await
        .map_err(|e| stream_error(&e))?
        .map_err(|e| stream_error(&e))?;
        let (queue, rx) = mpsc::channel(QUEUE);
        let notifier = Arc::new(Self {
            client,
            jetstream,
            stream: config.stream.clone(),
            subject,
            queue,
        });
        tokio::spawn(publish(Arc::clone(&notifier), rx));
        Ok(notifier)
    }

    /// Queues "`conversation` reached `seq`" for the other nodes.
    pub fn advanced(&self, node: &str, conversation: &ConversationId, seq: u64, routing: bool) {
        let hint = Advanced {
            node: node.to_owned(),
            conversation: conversation.as_str().to_owned(),
            seq,
            routing,
        };
        let Ok(bytes) = serde_json::to_vec(&hint) else {
            return;
        };
        if self.queue.try_send(bytes).is_err() {
            metrics::counter!("baton_cluster_notifications_dropped_total").increment(1);
        }
    }

    /// Whether the NATS connection is up right now.
    pub fn connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }
}

/// Publishes queued hints in order until the notifier is dropped.
async fn publish(notifier: Arc<Notifier>, mut rx: mpsc::Receiver<Vec<u8>>) {
    while let Some(bytes) = rx.recv().await {
        // The ack is not awaited: a lost hint is the poller's to make up for.
        if let Err(error) = notifier
            .jetstream
            .publish(notifier.subject.clone(), bytes.into())
            .await
        {
            metrics::counter!("baton_cluster_notifications_dropped_total").increment(1);
            tracing::debug!(%error, "cannot publish a cluster notification");
        } else {
            metrics::counter!("baton_cluster_notifications_sent_total").increment(1);
        }
    }
}

/// Reads other nodes' notifications until the app is dropped; a broken consumer is
/// made again after a pause.
pub fn spawn_consumer(app: &AppState, notifier: Arc<Notifier>) {
    let weak = Arc::downgrade(&app.0);
    tokio::spawn(async move {
        loop {
            if weak.strong_count() == 0 {
                return;
            }
            if let Err(error) = consume(&weak, &notifier).await {
                tracing::warn!(%error, "cluster notifications: consumer stopped; retrying");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

async fn consume(
    weak: &std::sync::Weak<crate::app::AppInner>,
    notifier: &Notifier,
) -> Result<(), String> {
    let stream = notifier
        .jetstream
        .get_stream(&notifier.stream)
        .await
        .map_err(|e| e.to_string())?;
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig {
            deliver_policy: jetstream::consumer::DeliverPolicy::New,
            filter_subject: notifier.subject.clone(),
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let mut messages = consumer.messages().await.map_err(|e| e.to_string())?;
    tracing::info!(stream = %notifier.stream, "cluster notifications: listening");
    while let Some(message) = messages.next().await {
        let message = message.map_err(|e| e.to_string())?;
        let Some(inner) = weak.upgrade() else {
            return Ok(());
        };
        let app = AppState(inner);
        let Ok(hint) = serde_json::from_slice::<Advanced>(&message.payload) else {
            tracing::warn!("cluster notifications: a message is not a notification");
            continue;
        };
        if hint.node == app.cluster.node_id {
            continue;
        }
        let Ok(conversation) = ConversationId::parse(&hint.conversation) else {
            continue;
        };
        metrics::counter!("baton_cluster_notifications_received_total").increment(1);
        super::remote_advanced(&app, &conversation, hint.seq, hint.routing);
    }
    Err("the notification stream ended".to_owned())
}
