//! HTTP handlers, one file per resource. Each handler's doc starts with its route.

pub mod agents;
pub mod audit;
pub mod conversations;
pub mod erasure;
pub mod feed;
pub mod feedback;
pub mod handoff;
pub mod insights;
pub mod keys;
pub mod ledger;
pub mod offers;
pub mod package;
pub mod search;
pub mod stats;
pub mod stream;
pub mod system;
pub mod webhooks;
