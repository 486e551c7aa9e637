//! Webhooks, the domain part: which events a subscription wants ([`EventFilter`]),
//! when a failed delivery is tried again and when it is given up ([`RetryPolicy`]),
//! and what a delivery says ([`payload`]). Pure: the clock and the randomness of the
//! jitter are parameters; signing and sending live in the server.
//!
//! # Layout
//! - [`filter`]: `["*"]` or a list of event types.
//! - [`retry`]: exponential backoff with jitter over a horizon of at least 24 h.
//! - [`payload`]: the body of a delivery, its state summary and its message id.

pub mod filter;
pub mod payload;
pub mod retry;

pub use filter::{EventFilter, FilterError};
pub use payload::{WebhookState, message_id, payload};
pub use retry::{Next, RetryPolicy};
