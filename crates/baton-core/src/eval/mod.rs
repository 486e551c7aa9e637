//! Offline evaluation of the decision engine: replaying labelled conversations
//! ([`decisions`]), explicit-request detection on labelled text ([`requests`]), false
//! handoffs on text that asks for no human ([`handoffs`]), and whether calibration
//! helps on held-out text ([`calibration`]). Every labelled set is cut into dev and
//! test by one fixed hash ([`split`]) and reported per side. The CLI runs them as
//! `baton eval decisions|requests|handoffs|calibration`.

pub mod calibration;
pub mod decisions;
pub mod handoffs;
pub mod replay;
pub mod requests;
pub mod split;

pub use decisions::{Case, DecisionReport, EvalError, Miss, evaluate};
pub use replay::{Decided, Replay, ReplayError};
pub use requests::{RequestReport, evaluate_requests};
