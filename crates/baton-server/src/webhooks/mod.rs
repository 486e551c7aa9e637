//! Webhooks: subscriptions in memory, the outbox entries an append records, and the
//! delivery worker that sends them (Standard Webhooks signatures, at least once, in
//! order per conversation).
//!
//! The outbox entry rides in the append's batch, so the store writes it in the same
//! transaction as the events: a crash between commit and send loses nothing, and the
//! append never waits for a receiver. It is one row however many subscriptions there
//! are; the worker's claims fan it out into deliveries, off the append path. The
//! worker claims due deliveries under a lease; a crashed worker's lease lapses and the
//! delivery goes out again with the same `webhook-id`.
//!
//! # Layout
//! - [`config`]: timeouts, lease, retry schedule, concurrency.
//! - [`target`]: which URLs a subscription may name.
//! - [`sign`]: secrets and the `webhook-*` headers.
//! - [`deliver`]: one try: the body for the subscription's role, signed and sent.
//! - [`worker`]: the loop that claims, delivers and records, and the metrics.

pub mod config;
pub mod deliver;
pub mod sign;
pub mod target;
pub mod worker;

use std::sync::{Arc, RwLock};

use baton_core::ConversationState;
use baton_core::webhook::WebhookState;
use baton_store::{OutboxEntry, Store, StoreError, WebhookRecord};
use tokio::sync::Notify;

pub use config::WebhookConfig;

/// The client deliveries go out with: no redirects, bounded timeouts, and `https`
/// receivers verified against the system's roots plus [`WebhookConfig::extra_roots`].
/// A system without CA certificates (a minimal container) still starts: its client
/// trusts only the extra roots, so `https` tries fail with a certificate error
/// instead of keeping every plain-`http` receiver from being served.
fn delivery_client(config: &WebhookConfig) -> reqwest::Result<reqwest::Client> {
    let builder = || {
        crate::http_client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(std::time::Duration::from_secs(5)))
            .user_agent(concat!("baton-webhooks/", env!("CARGO_PKG_VERSION")))
    };
    let with_system_roots = config
        .extra_roots
        .iter()
        .cloned()
        .fold(builder(), |builder, root| {
            builder.add_root_certificate(root)
        })
        .build();
    with_system_roots.or_else(|error| {
        tracing::warn!(
            %error,
            "no usable CA certificates on this system: https webhook receivers are trusted \
             only through BATON_WEBHOOK_CA_FILE"
        );
        builder()
            .tls_certs_only(config.extra_roots.iter().cloned())
            .build()
    })
}

/// The subscriptions and the worker's wake-up call.
pub struct Webhooks {
    subscriptions: RwLock<Arc<Vec<WebhookRecord>>>,
    wake: Notify,
    /// Settings.
    pub config: WebhookConfig,
    /// The client deliveries go out with (no redirects, bounded timeouts).
    pub client: reqwest::Client,
}

impl Webhooks {
    /// Loads the subscriptions from the store.
    pub async fn load(store: &dyn Store, config: WebhookConfig) -> Result<Self, StoreError> {
        let subscriptions = store.webhooks().await?;
        let client = delivery_client(&config)
            .map_err(|e| StoreError::Engine(format!("webhook client: {e}")))?;
        Ok(Self {
            subscriptions: RwLock::new(Arc::new(subscriptions)),
            wake: Notify::new(),
            config,
            client,
        })
    }

    /// The subscriptions as of the last change.
    pub fn subscriptions(&self) -> Arc<Vec<WebhookRecord>> {
        self.subscriptions
            .read()
            .map(|s| Arc::clone(&s))
            .unwrap_or_else(|poisoned| Arc::clone(&poisoned.into_inner()))
    }

    /// Replaces the in-memory subscriptions (after a change, or a periodic re-read so
    /// another node's changes arrive).
    pub fn set(&self, subscriptions: Vec<WebhookRecord>) {
        let mut slot = self
            .subscriptions
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *slot = Arc::new(subscriptions);
    }

    /// Re-reads the subscriptions from the store.
    pub async fn reload(&self, store: &dyn Store) -> Result<(), StoreError> {
        self.set(store.webhooks().await?);
        Ok(())
    }

    /// The outbox entry a batch records, with the conversation's `state` after it:
    /// the store fans it out to the subscriptions that want its events. Nothing is
    /// allocated when no subscription exists.
    pub fn outbox_for(&self, state: &ConversationState) -> Option<OutboxEntry> {
        if self.subscriptions().is_empty() {
            return None;
        }
        let state =
            serde_json::to_string(&WebhookState::of(state)).unwrap_or_else(|_| "{}".to_owned());
        Some(OutboxEntry { state })
    }

    /// Tells the worker that deliveries may be due (a commit recorded some, a try
    /// finished, a replay).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Waits for [`Self::wake`] or `timeout`, whichever comes first.
    pub async fn woken(&self, timeout: std::time::Duration) {
        let _ = tokio::time::timeout(timeout, self.wake.notified()).await;
    }
}
