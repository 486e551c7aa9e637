//! Whole numbers written with a fraction or an exponent (`3.0`, `1e2`) read as the
//! integers they are. JSON has one number type, JSON Schema's `integer` (what
//! `/openapi.json` promises) includes `3.0`, and RFC 8785, which the ledger hashes,
//! writes `3.0` as `3`; refusing it where a count is expected refused a value the
//! document allows (found by the OpenAPI fuzzer, `scripts/fuzz-openapi.sh`).

use serde_json::{Number, Value};

/// The largest magnitude an `f64` holds exactly as an integer (2^53).
const EXACT: f64 = 9_007_199_254_740_992.0;

/// Whether `body` may hold a number with a fraction or an exponent: a digit followed by
/// `.`, `e` or `E` (inside strings too, which only costs the slower path).
pub fn may_hold_fractions(body: &[u8]) -> bool {
    body.windows(2)
        .any(|w| w[0].is_ascii_digit() && matches!(w[1], b'.' | b'e' | b'E'))
}

/// Rewrites every whole, exactly representable float in `value` as an integer.
pub fn whole_numbers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() <= EXACT) {
                // In range and whole: the casts are exact.
                *n = if f >= 0.0 {
                    Number::from(f as u64)
                } else {
                    Number::from(f as i64)
                };
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        Value::Object(fields) => fields.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn whole_floats_become_integers_and_the_rest_stay() {
        let mut value: Value = serde_json::from_str(
            r#"{"a": 3.0, "b": [1e2, -2.0, 0.5], "c": {"d": 1e300, "e": "3.0"}}"#,
        )
        .unwrap();
        whole_numbers(&mut value);
        assert_eq!(
            value,
            json!({"a": 3, "b": [100, -2, 0.5], "c": {"d": 1e300, "e": "3.0"}})
        );
        assert!(value["a"].is_u64() && value["b"][1].is_i64());
    }

    #[test]
    fn only_bodies_with_a_fraction_or_exponent_take_the_slow_path() {
        assert!(may_hold_fractions(br#"{"csat": 1.0}"#));
        assert!(may_hold_fractions(br#"{"n": 1e3}"#));
        assert!(!may_hold_fractions(br#"{"csat": 1, "text": "v. e"}"#));
    }
}
