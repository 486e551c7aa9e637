//! HTTP handlers, one file per resource. Each handler's doc starts with its route.

pub mod conversations;
pub mod keys;
pub mod ledger;
pub mod stream;
pub mod system;
