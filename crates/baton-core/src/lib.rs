//! baton's domain, pure: events, the state fold and ownership machine, signals, policy,
//! the context package, the router, forecasting and ledger hashing.
//!
//! Nothing here performs I/O, spawns, awaits or reads a clock: time is a parameter.
//! That is what lets the decision engine, the router and the ledger be unit- and
//! property-tested in microseconds, and lets every engine of `baton-store` share them.
//!
//! # Layout
//! - [`id`], [`label`], [`text`], [`timestamp`], [`actor`]: validated values.
//! - [`event`]: the event model with frozen wire names; [`decode`]: client input with
//!   errors that name the field.
//! - [`state`]: the conversation view as a fold of events; [`rules`]: who may write what;
//!   [`role`]: what an API key may do.
//! - [`ledger`]: hashing, sealing and streaming verification of the chains; [`access`]:
//!   the access log (who read what) and its own chain.
//! - [`seal`]: customer data vs structure, and the encrypted sealed form.
//! - [`policy`]: the decision rules as TOML; [`signals`]: incremental per-conversation
//!   signals; [`decide`]: signals + policy -> decision; [`eval`]: offline replays.
//! - [`facts`]: facts the customer gave, PII, role redaction, repeat detection.
//! - [`package`]: the SBAR context package and its renderers.
//! - [`router`]: matching queued conversations to agents; [`forecast`]: Erlang C staffing.
//! - [`webhook`]: which events a subscription wants, retry schedule, delivery body.
//! - [`insights`]: the mismatch matrix, reliability and calibration, from the log.
#![warn(missing_docs)]

pub mod access;
pub mod actor;
pub mod canonical;
pub mod decide;
pub mod decode;
pub mod eval;
pub mod event;
pub mod facts;
pub mod fixture;
pub mod forecast;
pub mod id;
pub mod insights;
pub mod label;
pub mod ledger;
pub mod package;
pub mod policy;
pub mod role;
pub mod router;
pub mod rules;
pub mod seal;
pub mod signals;
pub mod state;
pub mod text;
pub mod timestamp;
pub mod webhook;

pub use actor::Actor;
pub use event::{Event, EventBody};
pub use id::{AgentId, ConversationId, CustomerId, EventId, KeyId, OfferId};
pub use label::Label;
pub use role::Role;
pub use state::{ConversationState, Owner};
pub use text::{Confidence, Text};
pub use timestamp::Timestamp;
