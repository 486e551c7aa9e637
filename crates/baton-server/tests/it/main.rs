// clippy.toml allows unwrap in #[test] fns; the helpers these tests share may unwrap too.
#![allow(clippy::unwrap_used)]
mod append;
mod auth;
mod bad_input;
mod binding;
mod bola;
mod bounded;
mod faulty_store;
mod handoff;
mod handoff_path;
mod helpers;
mod idempotency;
mod keys;
mod ledger;
mod limits;
mod ownership;
mod package;
mod params;
mod redaction;
mod routing;
mod session;
mod shapes;
mod stream;
mod stream_access;
mod system;
mod validation;
mod wedge;
