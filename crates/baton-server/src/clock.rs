//! The server's clock: the only place that reads the system time. Core never does.

use std::time::{SystemTime, UNIX_EPOCH};

use baton_core::Timestamp;

/// Now, to the millisecond.
pub fn now() -> Timestamp {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp::from_unix_millis(millis)
}
