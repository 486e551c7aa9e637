//! The access log: who read which customer data, when and from where, in a hash chain
//! of its own.
//!
//! Each entry is numbered from 1 and chained like the ledger:
//! `hash = SHA-256(prev_hash || JCS(record))`, `prev_hash` of entry 1 being 32 zero
//! bytes. The number is inside the hashed record, so deleting an entry from the middle
//! breaks the chain; the store keeps a head (last number and hash) beside the log, so
//! deleting the tail is caught too. A record says *what* was read, never the content:
//! no customer text ever enters it.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::canonical::{CanonicalError, to_canonical_string};
use crate::id::{AgentId, ConversationId, KeyId};
use crate::ledger::{Break, BreakKind, Digest, GENESIS, Sealed, chain_hash};
use crate::role::Role;
use crate::timestamp::Timestamp;

/// A context package's rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageFormat {
    /// The JSON package.
    Json,
    /// Markdown.
    Markdown,
    /// An HTML fragment.
    Html,
    /// A Bot Framework handoff activity.
    Botframework,
    /// A Zendesk ticket.
    Zendesk,
    /// A Twilio TaskRouter task.
    Taskrouter,
}

impl PackageFormat {
    /// Parses a `?format=` value.
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "json" => Self::Json,
            "markdown" => Self::Markdown,
            "html" => Self::Html,
            "botframework" => Self::Botframework,
            "zendesk" => Self::Zendesk,
            "taskrouter" => Self::Taskrouter,
            _ => return None,
        })
    }
}

/// A console page that shows customer data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsolePage {
    /// An agent's home: their conversations and offers, with previews.
    AgentHome,
    /// One conversation.
    Conversation,
    /// The supervisor's conversation list (ids, owners, customers, intents).
    ConversationList,
}

/// What was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AccessKind {
    /// A conversation's events (`GET .../events`).
    Events,
    /// A conversation's state, facts included (`GET /v1/conversations/{cid}`).
    State,
    /// A context package in some format.
    Package {
        /// The rendering served.
        format: PackageFormat,
    },
    /// A conversation's live stream was opened.
    StreamOpened,
    /// A page of the global feed (`GET /v1/events`).
    Feed,
    /// The global feed's stream was opened.
    FeedStream,
    /// A page of conversation search (`GET /v1/conversations`): who the customers are.
    ConversationSearch,
    /// Everything held about one customer (GDPR art. 15 export).
    CustomerExport,
    /// A console page.
    ConsolePage {
        /// Which page.
        page: ConsolePage,
    },
    /// An insights report that quotes conversation texts.
    Insights,
    /// The access log itself (an auditor's reads are audited too).
    AccessLog,
}

/// One read, as the server reports it; the store numbers and chains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEntry {
    /// When.
    pub at: Timestamp,
    /// The key's public id.
    pub key: KeyId,
    /// The key's role.
    pub role: Role,
    /// The agent an agent key is bound to.
    pub agent: Option<AgentId>,
    /// The conversation read (absent for the global feed).
    pub conversation: Option<ConversationId>,
    /// What was read.
    pub what: AccessKind,
    /// The caller's address.
    pub address: Option<IpAddr>,
}

/// One entry of the chain: what is hashed, stored and served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessRecord {
    /// Position in the chain, from 1.
    pub number: u64,
    /// When.
    pub at: Timestamp,
    /// The key's public id.
    pub key: KeyId,
    /// The key's role.
    pub role: Role,
    /// The agent an agent key is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentId>,
    /// The conversation read (absent for the global feed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<ConversationId>,
    /// What was read.
    pub what: AccessKind,
    /// The caller's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<IpAddr>,
}

impl AccessRecord {
    /// `entry` at position `number`.
    pub fn new(number: u64, entry: AccessEntry) -> Self {
        Self {
            number,
            at: entry.at,
            key: entry.key,
            role: entry.role,
            agent: entry.agent,
            conversation: entry.conversation,
            what: entry.what,
            address: entry.address,
        }
    }
}

/// Canonicalizes `record` and chains it to `prev`.
pub fn seal_access(prev: &Digest, record: &AccessRecord) -> Result<Sealed, CanonicalError> {
    let canonical = to_canonical_string(record)?;
    let hash = chain_hash(prev, canonical.as_bytes());
    Ok(Sealed { canonical, hash })
}

/// A batch numbered and chained: what a store appends in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chained {
    /// Each record with its canonical JSON and hash, in order.
    pub entries: Vec<(AccessRecord, Sealed)>,
    /// The new head's number.
    pub last: u64,
    /// The new head's hash.
    pub head: Digest,
}

/// Numbers and chains `entries` after the head (`last`, `prev`).
pub fn chain_entries(
    last: u64,
    prev: Digest,
    entries: Vec<AccessEntry>,
) -> Result<Chained, CanonicalError> {
    let mut number = last;
    let mut head = prev;
    let mut sealed = Vec::with_capacity(entries.len());
    for entry in entries {
        number += 1;
        let record = AccessRecord::new(number, entry);
        let seal = seal_access(&head, &record)?;
        head = seal.hash;
        sealed.push((record, seal));
    }
    Ok(Chained {
        entries: sealed,
        last: number,
        head,
    })
}

/// A stored entry as the verifier reads it.
#[derive(Debug, Clone, Copy)]
pub struct StoredAccessRef<'a> {
    /// Number from the row.
    pub number: u64,
    /// Stored canonical JSON.
    pub canonical: &'a [u8],
    /// Stored hash.
    pub hash: Digest,
}

/// Streaming verifier of the access log: feed entries in number order, then the head.
#[derive(Debug)]
pub struct AccessVerifier {
    prev: Digest,
    number: u64,
}

impl Default for AccessVerifier {
    fn default() -> Self {
        Self {
            prev: GENESIS,
            number: 0,
        }
    }
}

fn broken(number: u64, kind: BreakKind, message: String) -> Break {
    Break {
        conversation: None,
        seq: number,
        kind,
        message: format!("access log entry {number}: {message}"),
    }
}

impl AccessVerifier {
    /// A verifier with nothing seen.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next entry; the first error is the first break.
    pub fn push(&mut self, entry: StoredAccessRef<'_>) -> Result<(), Break> {
        let expected = self.number + 1;
        if entry.number != expected {
            return Err(broken(
                expected.min(entry.number),
                BreakKind::AccessLogGap,
                format!("expected entry {expected}, found {}", entry.number),
            ));
        }
        match serde_json::from_slice::<AccessRecord>(entry.canonical) {
            Ok(record) if record.number == entry.number => {}
            Ok(record) => {
                return Err(broken(
                    entry.number,
                    BreakKind::AccessLogMismatch,
                    format!("the row holds entry {}", record.number),
                ));
            }
            Err(e) => {
                return Err(broken(
                    entry.number,
                    BreakKind::AccessLogMismatch,
                    format!("not an access record: {e}"),
                ));
            }
        }
        let recomputed = chain_hash(&self.prev, entry.canonical);
        if recomputed != entry.hash {
            return Err(broken(
                entry.number,
                BreakKind::AccessLogMismatch,
                format!(
                    "stored hash {} but the entry hashes to {recomputed}",
                    entry.hash
                ),
            ));
        }
        self.prev = entry.hash;
        self.number = entry.number;
        Ok(())
    }

    /// Compares the log's end with the stored head (`number`, `hash`); the entries
    /// verified.
    pub fn finish(self, head: (u64, Digest)) -> Result<u64, Break> {
        let (number, hash) = head;
        if number > self.number {
            return Err(broken(
                self.number + 1,
                BreakKind::AccessLogTruncated,
                format!(
                    "the log ends at entry {} but its head records entry {number}",
                    self.number
                ),
            ));
        }
        if number < self.number {
            return Err(broken(
                number + 1,
                BreakKind::AccessLogUnrecorded,
                format!(
                    "the log runs to entry {} but its head records entry {number}",
                    self.number
                ),
            ));
        }
        if hash != self.prev {
            return Err(broken(
                number,
                BreakKind::AccessLogMismatch,
                "the log's last hash differs from its head (chain rewritten)".into(),
            ));
        }
        Ok(self.number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: i64) -> AccessEntry {
        AccessEntry {
            at: Timestamp::from_unix_millis(1_700_000_000_000 + n),
            key: KeyId::parse("key_0123456789abcdef").unwrap(),
            role: Role::Agent,
            agent: Some(AgentId::parse("ana").unwrap()),
            conversation: (n % 2 == 0).then(|| ConversationId::parse("c1").unwrap()),
            what: if n % 3 == 0 {
                AccessKind::Package {
                    format: PackageFormat::Markdown,
                }
            } else {
                AccessKind::Events
            },
            address: Some("192.0.2.7".parse().unwrap()),
        }
    }

    fn chain(n: i64) -> (Vec<(AccessRecord, Sealed)>, u64, Digest) {
        let chained = chain_entries(0, GENESIS, (1..=n).map(entry).collect()).unwrap();
        (chained.entries, chained.last, chained.head)
    }

    fn verify(rows: &[(u64, String, Digest)], head: (u64, Digest)) -> Result<u64, Break> {
        let mut verifier = AccessVerifier::new();
        for (number, canonical, hash) in rows {
            verifier.push(StoredAccessRef {
                number: *number,
                canonical: canonical.as_bytes(),
                hash: *hash,
            })?;
        }
        verifier.finish(head)
    }

    fn rows(sealed: &[(AccessRecord, Sealed)]) -> Vec<(u64, String, Digest)> {
        sealed
            .iter()
            .map(|(r, s)| (r.number, s.canonical.clone(), s.hash))
            .collect()
    }

    #[test]
    fn a_chain_in_two_batches_equals_one_in_one() {
        let (whole, last, head) = chain(5);
        let first = chain_entries(0, GENESIS, (1..=2).map(entry).collect()).unwrap();
        let second = chain_entries(first.last, first.head, (3..=5).map(entry).collect()).unwrap();
        let (first, second, last2, head2) =
            (first.entries, second.entries, second.last, second.head);
        assert_eq!((last, head), (last2, head2));
        let joined: Vec<_> = first.into_iter().chain(second).collect();
        assert_eq!(rows(&whole), rows(&joined));
        assert_eq!(verify(&rows(&whole), (last, head)), Ok(5));
    }

    #[test]
    fn the_record_is_canonical_and_names_what_was_read() {
        let (sealed, _, _) = chain(3);
        assert_eq!(
            sealed[2].1.canonical,
            r#"{"address":"192.0.2.7","agent":"ana","at":"2023-11-14T22:13:20.003Z","key":"key_0123456789abcdef","number":3,"role":"agent","what":{"format":"markdown","kind":"package"}}"#
        );
        let back: AccessRecord = serde_json::from_str(&sealed[1].1.canonical).unwrap();
        assert_eq!(back, sealed[1].0);
    }

    #[test]
    fn an_edit_is_named() {
        let (sealed, last, head) = chain(4);
        let mut rows = rows(&sealed);
        rows[1].1 = rows[1]
            .1
            .replace("\"role\":\"agent\"", "\"role\":\"admin\"");
        let broken = verify(&rows, (last, head)).unwrap_err();
        assert_eq!(broken.kind, BreakKind::AccessLogMismatch);
        assert_eq!(broken.seq, 2);
        assert!(
            broken.message.starts_with("access log entry 2"),
            "{}",
            broken.message
        );
    }

    #[test]
    fn a_renumbered_row_is_named() {
        let (sealed, last, head) = chain(3);
        let mut rows = rows(&sealed);
        rows[2].1 = rows[1].1.clone();
        let broken = verify(&rows, (last, head)).unwrap_err();
        assert_eq!((broken.kind, broken.seq), (BreakKind::AccessLogMismatch, 3));
    }

    #[test]
    fn a_deleted_middle_entry_is_a_gap() {
        let (sealed, last, head) = chain(4);
        let mut rows = rows(&sealed);
        rows.remove(1);
        let broken = verify(&rows, (last, head)).unwrap_err();
        assert_eq!((broken.kind, broken.seq), (BreakKind::AccessLogGap, 2));
    }

    #[test]
    fn a_deleted_tail_is_caught_by_the_head() {
        let (sealed, last, head) = chain(4);
        let mut rows = rows(&sealed);
        rows.pop();
        let broken = verify(&rows, (last, head)).unwrap_err();
        assert_eq!(
            (broken.kind, broken.seq),
            (BreakKind::AccessLogTruncated, 4)
        );
        let broken = verify(&[], (last, head)).unwrap_err();
        assert_eq!(
            (broken.kind, broken.seq),
            (BreakKind::AccessLogTruncated, 1)
        );
    }

    #[test]
    fn entries_behind_the_head_and_a_rewritten_head_are_caught() {
        let (sealed, _, head) = chain(3);
        let rows = rows(&sealed);
        let broken = verify(&rows, (2, sealed[1].1.hash)).unwrap_err();
        assert_eq!(
            (broken.kind, broken.seq),
            (BreakKind::AccessLogUnrecorded, 3)
        );
        let broken = verify(&rows, (3, GENESIS)).unwrap_err();
        assert_eq!((broken.kind, broken.seq), (BreakKind::AccessLogMismatch, 3));
        assert_eq!(verify(&rows, (3, head)), Ok(3));
        assert_eq!(verify(&[], (0, GENESIS)), Ok(0), "an empty log verifies");
    }

    #[test]
    fn package_formats_parse_from_the_query_names() {
        for (raw, format) in [
            ("json", PackageFormat::Json),
            ("markdown", PackageFormat::Markdown),
            ("html", PackageFormat::Html),
            ("botframework", PackageFormat::Botframework),
            ("zendesk", PackageFormat::Zendesk),
        ] {
            assert_eq!(PackageFormat::parse(raw), Some(format));
        }
        assert_eq!(PackageFormat::parse("pdf"), None);
    }
}
