// clippy.toml allows unwrap in #[test] fns; the helpers these tests share may unwrap too.
#![allow(clippy::unwrap_used)]
mod append;
mod auth;
mod bounded;
mod faulty_store;
mod handoff;
mod helpers;
mod idempotency;
mod ledger;
mod ownership;
mod package;
mod params;
mod routing;
mod stream;
mod system;
mod validation;
mod wedge;
