//! Offline evaluation of the decision engine: replaying labelled conversations
//! ([`decisions`]) and measuring explicit-request detection on labelled text
//! ([`requests`]), and whether calibration helps on held-out text ([`calibration`]). The CLI runs them as `baton eval decisions FILE` and
//! `baton eval requests`.

pub mod calibration;
pub mod decisions;
pub mod replay;
pub mod requests;

pub use decisions::{Case, DecisionReport, EvalError, Miss, evaluate};
pub use replay::{Decided, Replay, ReplayError};
pub use requests::{RequestReport, evaluate_requests};
