//! The access log recorder: read handlers report each read of customer data here with
//! one call, and a background task writes them to the store in batches.
//!
//! A read costs its handler one channel send; the task collects what arrives for up to
//! [`WINDOW`] (or [`MAX_BATCH`] entries) and appends it as one transaction, so the log
//! costs one commit per window however many reads there are. Nothing is dropped: a full
//! channel makes the reader wait (backpressure), a failed write is retried, and a write
//! that keeps failing is logged at error and counted (`baton_access_log_lost_total`).
//! [`AccessLog::flush`] writes everything sent before it (shutdown, and readers of the
//! log, who must see their own reads).

use std::sync::Arc;
use std::time::Duration;

use baton_core::access::{AccessEntry, AccessKind};
use baton_core::id::ConversationId;
use baton_store::Store;
use tokio::sync::{mpsc, oneshot};

use crate::auth::Principal;
use crate::clock::Clock;

/// The longest a record waits for company before its batch is written.
pub const WINDOW: Duration = Duration::from_millis(50);
/// The most entries one write takes.
pub const MAX_BATCH: usize = 1024;
/// Records waiting before readers are made to wait.
const CAPACITY: usize = 8192;
/// Pauses between tries of a failing write.
const RETRIES: [Duration; 3] = [
    Duration::from_millis(50),
    Duration::from_millis(500),
    Duration::from_secs(2),
];

enum Message {
    Record(AccessEntry),
    Flush(oneshot::Sender<()>),
}

/// The recorder in app state (`app.access`).
pub struct AccessLog {
    /// Absent when the access log is off (`AppConfig::access_log`).
    sender: Option<mpsc::Sender<Message>>,
    clock: Clock,
}

impl AccessLog {
    /// A recorder writing to `store`, or one that records nothing when `enabled` is
    /// false. Spawns its writer task (so it needs a runtime).
    pub fn start(store: Arc<dyn Store>, clock: Clock, enabled: bool) -> Self {
        let sender = enabled.then(|| {
            let (sender, receiver) = mpsc::channel(CAPACITY);
            tokio::spawn(run(store, receiver));
            sender
        });
        Self { sender, clock }
    }

    /// Records that `principal` read `what` (of `conversation`, when it is about one).
    /// Waits only when the writer is behind by more than the channel holds.
    pub async fn record(
        &self,
        principal: &Principal,
        what: AccessKind,
        conversation: Option<&ConversationId>,
    ) {
        let Some(sender) = &self.sender else {
            return;
        };
        let entry = AccessEntry {
            at: self.clock.now(),
            key: principal.key.clone(),
            role: principal.role,
            agent: principal.agent.clone(),
            conversation: conversation.cloned(),
            what,
            address: principal.address,
        };
        if sender.send(Message::Record(entry)).await.is_err() {
            // Only once the writer task is gone (the runtime is shutting down).
            lost(1);
        }
    }

    /// Returns once everything recorded before the call is written (or given up on).
    pub async fn flush(&self) {
        let Some(sender) = &self.sender else {
            return;
        };
        let (done, written) = oneshot::channel();
        if sender.send(Message::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}

fn lost(count: usize) {
    metrics::counter!("baton_access_log_lost_total").increment(count as u64);
}

async fn run(store: Arc<dyn Store>, mut receiver: mpsc::Receiver<Message>) {
    let mut batch = Vec::new();
    let mut flushed = Vec::new();
    let mut open = true;
    while open {
        match receiver.recv().await {
            Some(Message::Record(entry)) => batch.push(entry),
            Some(Message::Flush(done)) => flushed.push(done),
            None => open = false,
        }
        if flushed.is_empty() && open {
            let deadline = tokio::time::Instant::now() + WINDOW;
            while batch.len() < MAX_BATCH {
                match tokio::time::timeout_at(deadline, receiver.recv()).await {
                    Ok(Some(Message::Record(entry))) => batch.push(entry),
                    Ok(Some(Message::Flush(done))) => {
                        flushed.push(done);
                        break;
                    }
                    Ok(None) => {
                        open = false;
                        break;
                    }
                    Err(_) => break,
                }
            }
        }
        write(store.as_ref(), std::mem::take(&mut batch)).await;
        for done in flushed.drain(..) {
            let _ = done.send(());
        }
    }
}

async fn write(store: &dyn Store, batch: Vec<AccessEntry>) {
    if batch.is_empty() {
        return;
    }
    let count = batch.len();
    for pause in RETRIES.iter().map(Some).chain([None]) {
        match store.append_access(batch.clone()).await {
            Ok(_) => {
                metrics::counter!("baton_access_log_entries_total").increment(count as u64);
                return;
            }
            Err(e) => match pause {
                Some(pause) => {
                    tracing::warn!(error = %e, entries = count, "access log write failed; retrying");
                    tokio::time::sleep(*pause).await;
                }
                None => {
                    tracing::error!(error = %e, entries = count, "access log write failed; entries lost");
                    lost(count);
                }
            },
        }
    }
}

/// The caller's address, for handlers that authenticate without [`Principal`]'s
/// extractor (the console pages read the session cookie themselves).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub std::net::IpAddr);

impl axum::extract::FromRequestParts<crate::app::AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &crate::app::AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(crate::limit::client_addr(
            &parts.headers,
            &parts.extensions,
            state.config.trust_proxy_headers,
        )))
    }
}
