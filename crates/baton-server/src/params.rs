//! Numeric query parameters and headers, parsed and range-checked in one place, so a
//! value out of range is a 400 naming the field, never an engine error.

use crate::error::ApiError;

/// The largest seq (or feed position) a store can hold: SQLite integers are signed.
pub const MAX_SEQ: u64 = i64::MAX as u64;

/// Where a number came from, for the error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The query string.
    Query,
    /// A request header.
    Header,
}

/// Parses an optional whole number in `min..=max`.
pub fn number(
    source: Source,
    field: &str,
    raw: Option<&str>,
    min: u64,
    max: u64,
) -> Result<Option<u64>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    match raw.trim().parse::<u64>() {
        Ok(value) if (min..=max).contains(&value) => Ok(Some(value)),
        _ => {
            let code = match source {
                Source::Query => "invalid_query",
                Source::Header => "invalid_header",
            };
            Err(ApiError::bad_request(
                code,
                format!("{field} must be a whole number from {min} to {max}"),
            )
            .with_field(field))
        }
    }
}

/// Parses an optional seq (`after`, `Last-Event-ID`).
pub fn seq(source: Source, field: &str, raw: Option<&str>) -> Result<Option<u64>, ApiError> {
    number(source, field, raw, 0, MAX_SEQ)
}

/// Parses an optional RFC 3339 time.
pub fn timestamp(
    field: &'static str,
    raw: Option<&str>,
) -> Result<Option<baton_core::Timestamp>, ApiError> {
    raw.map(|raw| {
        baton_core::Timestamp::parse(raw).map_err(|_| {
            ApiError::bad_request("invalid_query", format!("{field} must be an RFC 3339 time"))
                .with_field(field)
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_names_the_field() {
        assert_eq!(seq(Source::Query, "after", Some("7")).unwrap(), Some(7));
        assert_eq!(seq(Source::Query, "after", None).unwrap(), None);
        let too_big = (1u64 << 63).to_string();
        for bad in [too_big.as_str(), "-1", "x", "1e3", ""] {
            let error = seq(Source::Query, "after", Some(bad)).unwrap_err();
            assert_eq!(error.field.as_deref(), Some("after"), "{bad}");
            assert_eq!(error.status, axum::http::StatusCode::BAD_REQUEST);
        }
        let error = number(Source::Header, "Last-Event-ID", Some("0"), 1, 5).unwrap_err();
        assert_eq!(error.code, "invalid_header");
    }
}
