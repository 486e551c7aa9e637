mod append;
mod auth;
mod helpers;
mod ledger;
mod ownership;
mod stream;
mod system;
mod validation;
