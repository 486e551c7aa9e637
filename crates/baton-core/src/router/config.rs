//! The router's knobs, with defaults a small support team can start from.

use serde::{Deserialize, Serialize};

use crate::label::Label;

/// How long an offer may wait for an answer unless configured otherwise.
pub const DEFAULT_OFFER_TIMEOUT_MS: i64 = 30_000;

/// The router's configuration. Every duration is in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RouterConfig {
    /// How long an agent has to accept an offer before it moves on.
    pub offer_timeout_ms: i64,
    /// After this many offers in a row left to expire, the agent is set `away`.
    pub max_expiries_in_row: u32,
    /// How long an agent who rejected (or let expire) a conversation is skipped for
    /// it. Others are offered first; once this passes the agent may be offered it
    /// again, so a conversation whose only eligible agent declined is not stranded.
    pub reoffer_cooldown_ms: i64,
    /// How long after serving a customer (or conversation) an agent is preferred for
    /// them again.
    pub sticky_window_ms: i64,
    /// How many milliseconds of waiting are worth one priority rank (ageing): a `low`
    /// conversation that has waited `3 * W` longer than an `urgent` one is served first.
    pub ageing_ms_per_rank: i64,
    /// Relax required skills after a wait; `None` never relaxes.
    pub overflow: Option<Overflow>,
}

/// Overflow: after `after_ms` in the queue, a conversation may also be served by
/// agents who hold every skill of `skills` (the policy's fallback skills; empty means
/// any agent). Agents with the original skills stay preferred.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overflow {
    /// Wait before relaxing, from the conversation's `enqueued_at`.
    pub after_ms: i64,
    /// The fallback skills.
    #[serde(default)]
    pub skills: Vec<Label>,
}

impl Default for RouterConfig {
    fn default() -> Self {
        Self {
            offer_timeout_ms: DEFAULT_OFFER_TIMEOUT_MS,
            max_expiries_in_row: 3,
            reoffer_cooldown_ms: 60_000,
            sticky_window_ms: 24 * 3_600_000,
            ageing_ms_per_rank: 120_000,
            overflow: None,
        }
    }
}
