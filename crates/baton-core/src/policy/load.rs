//! Reading a policy file: parse, merge over the default, deserialize, validate, and
//! report the first problem with the line it sits on.

use serde::Deserialize;
use toml::{Table, Value};

use super::{DEFAULT_POLICY_TOML, Policy};

/// A policy file that cannot be used, with where the problem is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}{message}", location(*line, *column), path.as_deref().map(|p| format!("{p}: ")).unwrap_or_default())]
pub struct PolicyError {
    /// 1-based line, when the problem can be placed.
    pub line: Option<usize>,
    /// 1-based column, when the problem can be placed.
    pub column: Option<usize>,
    /// Dotted path of the setting, e.g. `sentiment.smoothing`.
    pub path: Option<String>,
    /// What is wrong.
    pub message: String,
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("line {l}, column {c}: "),
        (Some(l), None) => format!("line {l}: "),
        _ => String::new(),
    }
}

impl Policy {
    /// The whole policy as a TOML file that [`Policy::from_toml_str`] reads back to the
    /// same policy (what `baton train --out` writes).
    pub fn to_toml_string(&self) -> Result<String, PolicyError> {
        toml::to_string(self).map_err(|e| PolicyError {
            line: None,
            column: None,
            path: None,
            message: e.to_string(),
        })
    }

    /// Parses a policy file, merged over the built-in default, and validates it.
    pub fn from_toml_str(src: &str) -> Result<Policy, PolicyError> {
        let user: Table = toml::from_str(src).map_err(|e| {
            let (line, column) = match e.span() {
                Some(span) => line_col(src, span.start),
                None => (None, None),
            };
            PolicyError {
                line,
                column,
                path: None,
                message: e.message().trim().to_owned(),
            }
        })?;
        let mut merged: Table = if std::ptr::eq(src, DEFAULT_POLICY_TOML) {
            Table::new()
        } else {
            toml::from_str(DEFAULT_POLICY_TOML)
                .map_err(|e| at_path(src, None, e.message().to_owned()))?
        };
        merge(&mut merged, user);
        let policy = Policy::deserialize(merged).map_err(|e| {
            let text = e.to_string();
            let (message, path) = split_path(&text);
            let path = match (path, unknown_field(message)) {
                (Some(p), Some(field)) => Some(format!("{p}.{field}")),
                (None, Some(field)) => Some(field.to_owned()),
                (p, None) => p.map(str::to_owned),
            };
            at_path(src, path, message.to_owned())
        })?;
        if let Some((path, message)) = policy.problems().into_iter().next() {
            return Err(at_path(src, Some(path), message));
        }
        Ok(policy)
    }
}

fn at_path(src: &str, path: Option<String>, message: String) -> PolicyError {
    let (line, column) = path
        .as_deref()
        .map_or((None, None), |p| locate(src, p, quoted(&message)));
    PolicyError {
        line,
        column,
        path,
        message,
    }
}

/// Tables merge key by key; anything else (numbers, strings, lists) replaces.
fn merge(base: &mut Table, over: Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(b)), Value::Table(o)) => merge(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// toml reports `message\nin `a.b`` for errors found after parsing.
fn split_path(text: &str) -> (&str, Option<&str>) {
    match text.trim_end().rsplit_once("\nin `") {
        Some((message, rest)) => (message.trim(), rest.strip_suffix('`')),
        None => (text.trim(), None),
    }
}

fn unknown_field(message: &str) -> Option<&str> {
    message.strip_prefix("unknown field `")?.split('`').next()
}

fn line_col(src: &str, offset: usize) -> (Option<usize>, Option<usize>) {
    let before = src.get(..offset).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (Some(line), Some(column))
}

/// Finds the line of `a.b.c` in the user's file: the key `c` under the table `[a.b]`
/// (or `[[a]]`, with `a[2]` choosing the third), else the table header itself. toml's
/// paths omit array indexes, so `hint` (a value quoted in the message) picks the line
/// among several candidates, including lines inside a multi-line list.
fn locate(src: &str, path: &str, hint: Option<&str>) -> (Option<usize>, Option<usize>) {
    let parts: Vec<&str> = path.split('.').collect();
    let Some((key, table_parts)) = parts.split_last() else {
        return (None, None);
    };
    let (table, index) = table_and_index(&table_parts.join("."));
    let (key, _) = table_and_index(key);
    let mut current = String::new();
    let mut seen = 0usize;
    let mut header_line = None;
    let mut first_key = None;
    let mut in_value = false;
    for (n, raw) in src.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('[') && !in_value {
            current = line
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .to_owned();
            if current == table {
                seen += 1;
                if header_line.is_none() && index.is_none_or(|i| seen == i + 1) {
                    header_line = Some(n + 1);
                }
            }
            continue;
        }
        let in_table = current == table && index.is_none_or(|i| seen == i + 1);
        let is_key = line
            .strip_prefix(key.as_str())
            .is_some_and(|r| r.trim_start().starts_with('='));
        if is_key {
            in_value = in_table;
        } else if line.contains('=') && !line.starts_with('"') {
            in_value = false;
        }
        let column = raw.len() - raw.trim_start().len() + 1;
        if in_table && is_key && first_key.is_none() {
            first_key = Some((Some(n + 1), Some(column)));
        }
        if in_table && in_value && hint.is_some_and(|h| raw.contains(h)) {
            return (Some(n + 1), Some(column));
        }
    }
    match (first_key, header_line) {
        (Some(found), _) => found,
        (None, Some(l)) => (Some(l), Some(1)),
        // A table written inline or not at all: try it as a key of its parent.
        (None, None) if !table.is_empty() => locate(src, &table, hint),
        (None, None) => (None, None),
    }
}

/// `skills[2]` -> (`skills`, Some(2)); `skills` -> (`skills`, None).
fn table_and_index(path: &str) -> (String, Option<usize>) {
    match path.split_once('[') {
        Some((name, rest)) => (name.to_owned(), rest.trim_end_matches(']').parse().ok()),
        None => (path.to_owned(), None),
    }
}

/// The first double-quoted value in an error message, if any.
fn quoted(message: &str) -> Option<&str> {
    let rest = message.split_once('"')?.1;
    rest.split_once('"')
        .map(|(v, _)| v)
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_parses() {
        let p = Policy::default();
        assert_eq!(p.name, "baton-default");
        assert_eq!(p.label().unwrap().as_str(), "baton-default@1");
    }

    #[test]
    fn partial_files_override_only_what_they_name() {
        let p = Policy::from_toml_str("name = \"strict\"\n[sentiment]\nhandoff_level = -0.2\n")
            .unwrap();
        assert_eq!(p.name, "strict");
        assert_eq!(p.sentiment.handoff_level, -0.2);
        assert_eq!(p.sentiment.smoothing, Policy::default().sentiment.smoothing);
        assert_eq!(p.risk, Policy::default().risk);
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let e = Policy::from_toml_str("name = \"x\"\n[sentiment]\nsmoothing = = 2\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.to_string().starts_with("line 3"), "{e}");
    }

    #[test]
    fn type_errors_name_the_line_and_path() {
        let e = Policy::from_toml_str("\n[confidence]\nlow = \"high\"\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert_eq!(e.path.as_deref(), Some("confidence.low"));
    }

    #[test]
    fn unknown_keys_name_the_line() {
        let e = Policy::from_toml_str("[loops]\nwindow = 3\nwindw = 4\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert_eq!(e.path.as_deref(), Some("loops.windw"));
    }

    #[test]
    fn semantic_errors_name_the_line() {
        let e = Policy::from_toml_str("# strict\n[sentiment]\nsmoothing = 1.5\n").unwrap_err();
        assert_eq!(
            (e.line, e.path.as_deref()),
            (Some(3), Some("sentiment.smoothing")),
            "{e}"
        );
        let e = Policy::from_toml_str(
            "[[skills]]\nintent = \"a\"\nskills = [\"x\"]\n[[skills]]\nintent = \"b c\"\nskills = []\n",
        );
        let e = e.unwrap_err();
        assert_eq!(e.line, Some(5), "{e}");
        let e = Policy::from_toml_str("[gaming]\nroutine_intents = [\n  \"a\",\n  \"b c\",\n]\n");
        assert_eq!(e.unwrap_err().line, Some(4));
    }
}
