// clippy.toml allows unwrap in #[test] fns; the helpers these tests share may unwrap too.
#![allow(clippy::unwrap_used)]
mod append;
mod auth;
mod bad_input;
mod handoff;
mod helpers;
mod ledger;
mod ownership;
mod package;
mod routing;
mod stream;
mod system;
mod validation;
