// clippy.toml allows unwrap in #[test] fns; the helpers these tests share may unwrap too.
#![allow(clippy::unwrap_used)]
mod append;
mod auth;
mod handoff;
mod helpers;
mod keys;
mod ledger;
mod limits;
mod ownership;
mod package;
mod routing;
mod session;
mod stream;
mod system;
mod validation;
