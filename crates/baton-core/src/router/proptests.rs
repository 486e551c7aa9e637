//! Router property tests.
