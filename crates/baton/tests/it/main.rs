mod helpers;
mod kill9;
mod ledger_cli;
