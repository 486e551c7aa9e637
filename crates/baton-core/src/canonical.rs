//! RFC 8785 (JCS) canonical JSON, written in one pass over a `serde_json::Value`.
//!
//! Every appended event is canonicalized before it is hashed, so this is on the ingest
//! path. `serde_json_canonicalizer` is the reference: it stays the formatter for
//! non-integer numbers (ECMAScript number formatting is subtle) and the oracle the
//! property tests below compare against, but its general object handling (re-parsing
//! every key, a boxed writer per token) costs several times more than the rest of the
//! append path per event.

use std::cmp::Ordering;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Map, Number, Value};

/// Why a value could not be canonicalized.
#[derive(Debug, thiserror::Error)]
#[error("cannot canonicalize: {0}")]
pub struct CanonicalError(pub String);

/// The RFC 8785 canonical JSON text of `value`.
pub fn to_canonical_string<T: Serialize + ?Sized>(value: &T) -> Result<String, CanonicalError> {
    let value = serde_json::to_value(value).map_err(|e| CanonicalError(e.to_string()))?;
    let mut out = String::with_capacity(512);
    write_value(&value, &mut out)?;
    Ok(out)
}

/// The canonical text of a value already in hand (no conversion, no copy).
pub fn value_to_canonical(value: &Value) -> Result<String, CanonicalError> {
    let mut out = String::with_capacity(512);
    write_value(value, &mut out)?;
    Ok(out)
}

/// A canonical object's text with where each member sits in it: objects that share
/// members (an event, its structure, its customer data) are then assembled by
/// [`Members::object_of`] from slices of one text, no member written twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Members<'a> {
    /// The whole object, canonical.
    pub text: String,
    /// Each member's name and the byte range of its `"name":value` in `text`, in JCS
    /// order.
    pub spans: Vec<(&'a str, std::ops::Range<usize>)>,
}

impl Members<'_> {
    /// The canonical object of the members `keep` selects, in their order, with `extra`
    /// (a `"name":value` text) placed where `extra_name` sorts.
    pub fn object_of(&self, keep: impl Fn(&str) -> bool, extra: Option<(&str, &str)>) -> String {
        let mut out = String::with_capacity(self.text.len() + extra.map_or(0, |e| e.1.len()));
        let mut extra = extra;
        out.push('{');
        let push = |out: &mut String, text: &str| {
            if out.len() > 1 {
                out.push(',');
            }
            out.push_str(text);
        };
        for (name, range) in &self.spans {
            if !keep(name) {
                continue;
            }
            if let Some((extra_name, text)) = extra
                && key_order(extra_name, name) == Ordering::Less
            {
                push(&mut out, text);
                extra = None;
            }
            push(&mut out, &self.text[range.clone()]);
        }
        if let Some((_, text)) = extra {
            push(&mut out, text);
        }
        out.push('}');
        out
    }
}

/// The canonical text of `map` and its members' places in it.
pub fn members(map: &Map<String, Value>) -> Result<Members<'_>, CanonicalError> {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    if !entries.is_sorted_by(|a, b| key_order(a.0, b.0) != Ordering::Greater) {
        entries.sort_by(|a, b| key_order(a.0, b.0));
    }
    let mut text = String::with_capacity(512);
    let mut spans = Vec::with_capacity(entries.len());
    text.push('{');
    for (index, (name, value)) in entries.into_iter().enumerate() {
        if index > 0 {
            text.push(',');
        }
        let start = text.len();
        write_string(name, &mut text);
        text.push(':');
        write_value(value, &mut text)?;
        spans.push((name.as_str(), start..text.len()));
    }
    text.push('}');
    Ok(Members { text, spans })
}

fn write_value(value: &Value, out: &mut String) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => write_number(number, out)?,
        Value::String(text) => write_string(text, out),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_value(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            // The map is usually already in code-point order (serde_json's BTreeMap), which
            // equals JCS's UTF-16 order except around characters above U+FFFF; and with
            // serde_json's `preserve_order` feature it would be in insertion order. Check
            // rather than assume.
            if !entries.is_sorted_by(|a, b| key_order(a.0, b.0) != Ordering::Greater) {
                entries.sort_by(|a, b| key_order(a.0, b.0));
            }
            out.push('{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_value(item, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// JCS orders property names by their UTF-16 code units.
pub fn key_order(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.as_bytes().cmp(b.as_bytes())
    } else {
        a.encode_utf16().cmp(b.encode_utf16())
    }
}

/// Integers a double represents exactly print the same in ECMAScript and in Rust.
const EXACT_INTEGER: u64 = 1 << 53;

pub(crate) fn write_number(number: &Number, out: &mut String) -> Result<(), CanonicalError> {
    if let Some(n) = number.as_u64().filter(|n| *n <= EXACT_INTEGER) {
        let _ = write!(out, "{n}");
    } else if let Some(n) = number
        .as_i64()
        .filter(|n| n.unsigned_abs() <= EXACT_INTEGER)
    {
        let _ = write!(out, "{n}");
    } else {
        let float = number
            .as_f64()
            .ok_or_else(|| CanonicalError(format!("{number} is not a number JSON can carry")))?;
        let text = serde_json_canonicalizer::to_string(&float)
            .map_err(|e| CanonicalError(e.to_string()))?;
        out.push_str(&text);
    }
    Ok(())
}

/// A JSON string as `JSON.stringify` writes it: `"` and `\` escaped, the control
/// characters as their short escape or `\u00xx`, everything else as is.
pub(crate) fn write_string(text: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (index, byte) in text.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&text[start..index]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.push_str(escape);
        }
        start = index + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn reference(value: &Value) -> String {
        serde_json_canonicalizer::to_string(value).expect("the reference canonicalizes")
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<u64>().prop_map(|n| json!(n)),
            prop::num::f64::NORMAL.prop_map(|f| json!(f)),
            (-1_000_000i64..1_000_000, 0u32..6)
                .prop_map(|(n, scale)| json!(n as f64 / 10f64.powi(scale as i32))),
            any::<String>().prop_map(Value::String),
            "[\\x00-\\x1f\"\\\\a-z\u{e000}\u{1f600}]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(
                    (
                        prop_oneof![
                            any::<String>(),
                            "[a-z_]{1,6}",
                            "[\u{e000}\u{1f600}\u{ff}a]{1,3}"
                        ],
                        inner
                    ),
                    0..6
                )
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]
        #[test]
        fn matches_the_reference_implementation(value in json_value()) {
            prop_assert_eq!(to_canonical_string(&value).unwrap(), reference(&value));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        #[test]
        fn an_object_assembled_from_its_members_is_its_canonical_text(
            entries in prop::collection::vec(
                (prop_oneof![any::<String>(), "[\u{e000}\u{1f600}a-c]{1,3}"], json_value()),
                0..8,
            )
        ) {
            let map: Map<String, Value> = entries.into_iter().collect();
            let members = members(&map).unwrap();
            prop_assert_eq!(&members.text, &reference(&Value::Object(map.clone())));
            prop_assert_eq!(members.object_of(|_| true, None), members.text.clone());
            // Any selection plus an extra member is the canonical text of that object.
            let mut picked: Map<String, Value> =
                map.iter().filter(|(k, _)| k.len() % 2 == 0).map(|(k, v)| (k.clone(), v.clone())).collect();
            let assembled = if picked.contains_key("sealed") {
                members.object_of(|name| name.len() % 2 == 0, None)
            } else {
                picked.insert("sealed".into(), json!({"ct": "x"}));
                members.object_of(|name| name.len() % 2 == 0, Some(("sealed", r#""sealed":{"ct":"x"}"#)))
            };
            prop_assert_eq!(assembled, reference(&Value::Object(picked)));
        }
    }

    #[test]
    fn rfc8785_examples() {
        // The input of RFC 8785 section 3.2.2, as JSON text.
        let input = r#"{
            "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
            "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
            "literals": [null, true, false]
        }"#;
        let value: Value = serde_json::from_str(input).unwrap();
        assert_eq!(
            to_canonical_string(&value).unwrap(),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    #[test]
    fn keys_sort_by_utf16_code_units_not_code_points() {
        // U+1F600 is D83D DE00 in UTF-16, below U+E000; by code point it sorts after.
        let value = json!({"\u{e000}": 1, "\u{1f600}": 2, "a": 3});
        assert_eq!(
            to_canonical_string(&value).unwrap(),
            "{\"a\":3,\"\u{1f600}\":2,\"\u{e000}\":1}"
        );
    }

    #[test]
    fn large_integers_print_as_ecmascript_doubles() {
        assert_eq!(
            to_canonical_string(&json!(u64::MAX)).unwrap(),
            "18446744073709552000"
        );
        assert_eq!(
            to_canonical_string(&json!(9_007_199_254_740_993u64)).unwrap(),
            reference(&json!(9_007_199_254_740_993u64))
        );
    }
}
