//! What the console's filter forms send: a blank field is no filter, and a date picker's
//! `YYYY-MM-DD` stands for the start of that day in UTC.

/// The field trimmed; `None` when absent or blank.
pub fn given(field: Option<&str>) -> Option<String> {
    field
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// A date picker's day as its first instant (RFC 3339); anything else as typed, for
/// the API's own check to accept or refuse.
pub fn day_start(field: Option<&str>) -> Option<String> {
    given(field).map(|v| {
        if v.len() == 10 {
            format!("{v}T00:00:00Z")
        } else {
            v
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blanks_are_no_filter_and_days_start_at_midnight_utc() {
        assert_eq!(given(Some("  ")), None);
        assert_eq!(given(None), None);
        assert_eq!(given(Some(" billing ")).as_deref(), Some("billing"));
        assert_eq!(
            day_start(Some("2026-12-01")).as_deref(),
            Some("2026-12-01T00:00:00Z")
        );
        assert_eq!(
            day_start(Some("2026-12-01T08:00:00Z")).as_deref(),
            Some("2026-12-01T08:00:00Z")
        );
    }
}
