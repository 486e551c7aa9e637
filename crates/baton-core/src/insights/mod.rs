//! What the log says about how well handoffs work: the bot's intent against the
//! humans' (the mismatch matrix and reliability, [`intents`]) and calibration fitted
//! from it ([`calibration`]), the failure model's weights fitted from resolved conversations
//! ([`failure`]). Pure: the server reads events and passes them here with
//! the time window.

pub mod calibration;
pub mod failure;
pub mod intents;
pub mod outcomes;
pub mod train;
pub mod training;
