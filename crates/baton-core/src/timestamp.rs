//! Instants as baton stores them: milliseconds since the Unix epoch, written as RFC 3339
//! in UTC with exactly three fractional digits, so the same instant always has the same
//! bytes in the ledger. Core never reads a clock; callers pass `Timestamp`s in.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// An instant with millisecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timestamp(i64);

/// Why a string is not an RFC 3339 instant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be an RFC 3339 date-time such as 2026-01-31T09:30:00Z")]
pub struct TimestampError;

impl Timestamp {
    /// The instant `millis` milliseconds after the Unix epoch.
    pub const fn from_unix_millis(millis: i64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn unix_millis(self) -> i64 {
        self.0
    }

    /// Parses any RFC 3339 date-time (any offset) into UTC milliseconds.
    pub fn parse(raw: &str) -> Result<Self, TimestampError> {
        let parsed = OffsetDateTime::parse(raw, &Rfc3339).map_err(|_| TimestampError)?;
        let millis = parsed.unix_timestamp_nanos() / 1_000_000;
        i64::try_from(millis).map(Self).map_err(|_| TimestampError)
    }

    /// Milliseconds from `earlier` to `self` (negative if `earlier` is later).
    pub fn millis_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// This instant plus `millis` milliseconds.
    pub fn plus_millis(self, millis: i64) -> Self {
        Self(self.0.saturating_add(millis))
    }
}

impl TryFrom<String> for Timestamp {
    type Error = TimestampError;
    fn try_from(raw: String) -> Result<Self, TimestampError> {
        Self::parse(&raw)
    }
}

impl From<Timestamp> for String {
    fn from(ts: Timestamp) -> String {
        ts.to_string()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = i128::from(self.0) * 1_000_000;
        let format = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        match OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .and_then(|dt| dt.format(&format).ok())
        {
            Some(text) => f.write_str(&text),
            None => write!(f, "@{}ms", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats_utc_with_millis() {
        let ts = Timestamp::parse("2026-11-25T23:55:57.1234+01:00").unwrap();
        assert_eq!(ts.to_string(), "2026-11-25T22:55:57.123Z");
    }

    #[test]
    fn rejects_non_rfc3339() {
        assert!(Timestamp::parse("yesterday").is_err());
        assert!(Timestamp::parse("2026-11-25").is_err());
    }

    proptest! {
        #[test]
        fn display_then_parse_is_identity(millis in 0i64..4_102_444_800_000) {
            let ts = Timestamp::from_unix_millis(millis);
            prop_assert_eq!(Timestamp::parse(&ts.to_string()).unwrap(), ts);
        }
    }
}
