//! Reading an import file as a stream of JSON records in constant memory: one record
//! in memory at a time, whatever the file's size.
//!
//! Two shapes, told apart by the first non-blank byte:
//! - `[`: a JSON array (a Bot Framework transcript, an array of Rasa trackers); its
//!   elements are streamed one by one with a serde sequence visitor and located by
//!   index. A syntax error ends the file there (the array cannot be resynchronised).
//! - anything else: JSON documents one after another, as JSONL (one per line) or
//!   pretty-printed (a document spans lines from a line starting with `{` to one
//!   starting with `}`). Documents are located by their first line; a malformed one is
//!   reported and reading goes on with the next line that starts a document.
//!
//! Reading is blocking I/O, so it runs on a blocking thread and hands records to the
//! async importer over a bounded channel (the bound is what keeps memory constant).

use std::fmt;
use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde_json::Value;
use tokio::sync::mpsc::Sender;

/// The largest single record (one tracker, one activity, one JSONL line) accepted.
pub const MAX_RECORD_BYTES: usize = 64 * 1024 * 1024;

/// Where a record or an event came from, for messages that name it.
#[derive(Debug, Clone)]
pub struct Location {
    /// The file as given on the command line.
    pub file: Arc<str>,
    /// 1-based line where the record starts (documents), if known.
    pub line: Option<u64>,
    /// 0-based index of the record in a top-level array (arrays).
    pub element: Option<u64>,
    /// The part of the record, e.g. `("events", 3)` for a tracker's fourth event.
    pub part: Option<(&'static str, usize)>,
}

impl Location {
    /// The same record, narrowed to one of its parts.
    pub fn part(&self, name: &'static str, index: usize) -> Self {
        Self {
            part: Some((name, index)),
            ..self.clone()
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(element) = self.element {
            write!(f, " [element {element}]")?;
        }
        if let Some((name, index)) = self.part {
            write!(f, " {name}[{index}]")?;
        }
        Ok(())
    }
}

/// What the reader hands on.
#[derive(Debug)]
pub enum Read {
    /// One JSON record.
    Record(Value, Location),
    /// A record (or the file) that could not be read.
    Error(Location, String),
}

/// Reads `path` into `tx` until the end of the file or until the receiver goes away.
pub fn read_file(path: &Path, label: Arc<str>, reader: impl std::io::Read, tx: &Sender<Read>) {
    let mut reader = std::io::BufReader::with_capacity(64 * 1024, reader);
    let here = |line: Option<u64>| Location {
        file: Arc::clone(&label),
        line,
        element: None,
        part: None,
    };
    let first = match first_byte(&mut reader) {
        Ok(first) => first,
        Err(e) => {
            let _ = tx.blocking_send(Read::Error(
                here(None),
                format!("cannot read {}: {e}", path.display()),
            ));
            return;
        }
    };
    match first {
        (None, _) => {}
        (Some(b'['), _) => stream_array(reader, &label, tx),
        (Some(_), skipped) => read_documents(reader, skipped, &label, tx),
    }
}

/// The first byte that is not whitespace, left unread (`None` for an empty file), and
/// how many newlines were skipped to reach it.
fn first_byte(reader: &mut impl BufRead) -> std::io::Result<(Option<u8>, u64)> {
    let mut newlines = 0;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok((None, newlines));
        }
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(at) => {
                let first = buf[at];
                newlines += buf[..at].iter().filter(|b| **b == b'\n').count() as u64;
                reader.consume(at);
                return Ok((Some(first), newlines));
            }
            None => {
                let len = buf.len();
                newlines += buf.iter().filter(|b| **b == b'\n').count() as u64;
                reader.consume(len);
            }
        }
    }
}

fn stream_array(reader: impl std::io::Read, label: &Arc<str>, tx: &Sender<Read>) {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let seed = Elements {
        label: Arc::clone(label),
        tx,
        count: 0,
    };
    if let Err(e) = seed.deserialize(&mut de) {
        // A closed channel surfaces here as a custom error: nobody is listening.
        if !tx.is_closed() {
            let _ = tx.blocking_send(Read::Error(
                Location {
                    file: Arc::clone(label),
                    line: Some(e.line() as u64),
                    element: None,
                    part: None,
                },
                format!("the array stops being JSON here: {e}"),
            ));
        }
    }
}

struct Elements<'a> {
    label: Arc<str>,
    tx: &'a Sender<Read>,
    count: u64,
}

impl<'de> DeserializeSeed<'de> for Elements<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Elements<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(value) = seq.next_element::<Value>()? {
            let location = Location {
                file: Arc::clone(&self.label),
                line: None,
                element: Some(self.count),
                part: None,
            };
            self.count += 1;
            if self
                .tx
                .blocking_send(Read::Record(value, location))
                .is_err()
            {
                return Err(serde::de::Error::custom("the importer stopped"));
            }
        }
        Ok(())
    }
}

fn read_documents(mut reader: impl BufRead, skipped: u64, label: &Arc<str>, tx: &Sender<Read>) {
    let here = |line: u64| Location {
        file: Arc::clone(label),
        line: Some(line),
        element: None,
        part: None,
    };
    let mut buf = String::new();
    let mut line = String::new();
    let (mut number, mut start) = (skipped, 0u64);
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => number += 1,
            Err(e) => {
                let _ =
                    tx.blocking_send(Read::Error(here(number + 1), format!("cannot read: {e}")));
                return;
            }
        }
        let starts_document = line.starts_with('{') || line.starts_with('[');
        if !buf.is_empty() && starts_document {
            // The previous document never closed: report it, start afresh here.
            let sent = tx.blocking_send(Read::Error(
                here(start),
                "incomplete JSON: the record does not end before the next one starts".into(),
            ));
            if sent.is_err() {
                return;
            }
            buf.clear();
        }
        if buf.is_empty() {
            if line.trim().is_empty() {
                continue;
            }
            start = number;
        }
        buf.push_str(&line);
        if buf.len() > MAX_RECORD_BYTES {
            let sent = tx.blocking_send(Read::Error(
                here(start),
                format!("record larger than {MAX_RECORD_BYTES} bytes"),
            ));
            if sent.is_err() {
                return;
            }
            buf.clear();
            continue;
        }
        // Parse a one-line record at once, a longer one only when a line could close it:
        // reparsing a pretty-printed document on every line would be quadratic.
        let single = start == number;
        if !(single || line.starts_with('}') || line.starts_with(']')) {
            continue;
        }
        let message = match serde_json::from_str::<Value>(&buf) {
            Ok(value) => Read::Record(value, here(start)),
            Err(e) if e.is_eof() => continue,
            Err(e) => Read::Error(here(start + e.line() as u64 - 1), format!("not JSON: {e}")),
        };
        buf.clear();
        if tx.blocking_send(message).is_err() {
            return;
        }
    }
    if !buf.trim().is_empty() {
        let _ = tx.blocking_send(Read::Error(
            here(start),
            "incomplete JSON at the end of the file".into(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<String> {
        let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
        read_file(Path::new("f"), "f".into(), text.as_bytes(), &tx);
        drop(tx);
        let mut out = Vec::new();
        while let Ok(read) = rx.try_recv() {
            out.push(match read {
                Read::Record(value, at) => format!("{at} {value}"),
                Read::Error(at, _) => format!("{at} error"),
            });
        }
        out
    }

    #[test]
    fn jsonl_lines_are_located_and_a_bad_line_does_not_stop_the_rest() {
        let got = read("{\"a\":1}\n\n{\"a\":\n{\"a\":3}\nnope\n{\"a\":4}\n");
        assert_eq!(
            got,
            [
                "f:1 {\"a\":1}",
                "f:3 error",
                "f:4 {\"a\":3}",
                "f:5 error",
                "f:6 {\"a\":4}"
            ]
        );
    }

    #[test]
    fn pretty_documents_span_lines() {
        let got = read("{\n  \"a\": [\n    1\n  ]\n}\n{\"b\":2}\n");
        assert_eq!(got, ["f:1 {\"a\":[1]}", "f:6 {\"b\":2}"]);
    }

    #[test]
    fn arrays_stream_elements_by_index() {
        let got = read("  [ {\"a\":1}, 2 ]");
        assert_eq!(got, ["f [element 0] {\"a\":1}", "f [element 1] 2"]);
    }

    #[test]
    fn a_broken_array_reports_where_it_broke() {
        let got = read("[{\"a\":1},\n{\"a\" 2}]");
        assert_eq!(got, ["f [element 0] {\"a\":1}", "f:2 error"]);
    }
}
