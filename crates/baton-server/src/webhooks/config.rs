//! How deliveries are made: timeouts, the lease, the retry schedule, concurrency.

use std::time::Duration;

use baton_core::webhook::RetryPolicy;

/// Webhook delivery settings.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// The longest one try may take, connection included.
    pub timeout: Duration,
    /// How long a claimed delivery is reserved for its worker; past it (a crash) it
    /// is claimed again. Longer than [`Self::timeout`].
    pub lease: Duration,
    /// When a failed delivery is tried again, and when it is given up.
    pub retry: RetryPolicy,
    /// How many deliveries are in flight at once (across conversations). 0: this
    /// node records deliveries in the outbox but sends none (another node sends them;
    /// the webhooks benchmark measures the outbox alone this way).
    pub concurrency: usize,
    /// How often the worker looks for due retries when nothing wakes it.
    pub poll: Duration,
    /// The base of `package_url` in payloads (`https://baton.example.com`); without
    /// it, `package_url` is a path.
    pub public_url: Option<String>,
    /// Certificate authorities trusted for `https` receivers besides the system's
    /// (a private CA for receivers inside the network).
    pub extra_roots: Vec<reqwest::Certificate>,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            lease: Duration::from_secs(15),
            retry: RetryPolicy::default(),
            concurrency: 32,
            poll: Duration::from_secs(1),
            public_url: None,
            extra_roots: Vec::new(),
        }
    }
}
