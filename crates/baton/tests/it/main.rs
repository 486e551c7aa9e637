// clippy.toml allows unwrap in #[test] fns; the helpers these tests share may unwrap too.
#![allow(clippy::unwrap_used)]
mod admin_key;
mod cluster;
mod demo;
mod eval;
mod example_bot;
mod helpers;
mod import;
mod kill9;
mod ledger_cli;
mod master_key;
mod node_label;
mod sighup;
mod system_roots;
mod train;
mod train_export;
mod webhook_kill9;
