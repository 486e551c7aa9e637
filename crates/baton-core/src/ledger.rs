//! The ledger: a SHA-256 chain over each conversation's events, and a global chain of
//! checkpoints over the heads each commit touched.
//!
//! `hash = SHA-256(prev_hash || JCS(event without hash))`, where JCS is RFC 8785 and
//! `prev_hash` of seq 1 is 32 zero bytes. Anyone can recompute it from the API alone.
//! Verification is streaming and pure: feed it what a store holds and it names the
//! first broken conversation and seq.

pub mod proof;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::event::Event;
use crate::id::ConversationId;

/// A SHA-256 digest, hex in JSON.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digest(pub [u8; 32]);

/// The `prev_hash` of every seq 1 and of the first checkpoint.
pub const GENESIS: Digest = Digest([0; 32]);

/// Why a string is not a digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 64 hexadecimal characters")]
pub struct DigestError;

impl Digest {
    /// Parses 64 hex characters.
    pub fn parse_hex(raw: &str) -> Result<Self, DigestError> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(raw, &mut bytes).map_err(|_| DigestError)?;
        Ok(Self(bytes))
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl TryFrom<String> for Digest {
    type Error = DigestError;
    fn try_from(raw: String) -> Result<Self, DigestError> {
        Self::parse_hex(&raw)
    }
}

impl From<Digest> for String {
    fn from(d: Digest) -> String {
        d.to_hex()
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.to_hex())
    }
}

pub use crate::canonical::CanonicalError;
use crate::canonical::to_canonical_string;

/// RFC 8785 canonical JSON of an event (which never carries its hash).
pub fn canonical_json(event: &Event) -> Result<String, CanonicalError> {
    to_canonical_string(event)
}

/// `SHA-256(prev || canonical)`.
pub fn chain_hash(prev: &Digest, canonical: &[u8]) -> Digest {
    let mut hasher = Sha256::new();
    hasher.update(prev.0);
    hasher.update(canonical);
    Digest(hasher.finalize().into())
}

/// An event sealed for storage: its canonical bytes and its chained hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// RFC 8785 JSON of the event without hash: what is stored and served.
    pub canonical: String,
    /// The chained hash.
    pub hash: Digest,
}

/// A stored event as the API serves it: its canonical object with `"hash"` added
/// last. The bytes before the hash are the stored ones, so an auditor can strip the
/// hash and recompute the chain; appending (instead of re-serializing) keeps them.
pub fn with_hash(canonical: &str, hash: &Digest) -> String {
    let open = canonical.strip_suffix('}').unwrap_or(canonical);
    let comma = if open.ends_with('{') { "" } else { "," };
    format!("{open}{comma}\"hash\":\"{hash}\"}}")
}

/// Canonicalizes `event` and chains it to `prev`.
pub fn seal(prev: &Digest, event: &Event) -> Result<Sealed, CanonicalError> {
    let canonical = canonical_json(event)?;
    let hash = chain_hash(prev, canonical.as_bytes());
    Ok(Sealed { canonical, hash })
}

/// The head of one conversation's chain.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Head {
    /// Conversation.
    pub conversation: ConversationId,
    /// Last seq.
    pub seq: u64,
    /// Hash of the last event.
    pub hash: Digest,
}

/// The body of one global checkpoint: the heads one commit touched, chained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointBody {
    /// Position in the global chain, from 1.
    pub number: u64,
    /// Heads after the commit, sorted by conversation.
    pub heads: Vec<Head>,
}

impl CheckpointBody {
    /// The canonical text, written straight from the fields (members in RFC 8785
    /// order) rather than through a `serde_json::Value` tree: the single SQLite writer
    /// builds one per group commit, on the path every append waits behind.
    pub fn canonical(&self) -> Result<String, CanonicalError> {
        use crate::canonical::{write_number, write_string};
        let mut out = String::with_capacity(32 + self.heads.len() * 128);
        out.push_str("{\"heads\":[");
        for (index, head) in self.heads.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            out.push_str("{\"conversation\":");
            write_string(head.conversation.as_str(), &mut out);
            out.push_str(",\"hash\":\"");
            out.push_str(&head.hash.to_hex());
            out.push_str("\",\"seq\":");
            write_number(&head.seq.into(), &mut out)?;
            out.push('}');
        }
        out.push_str("],\"number\":");
        write_number(&self.number.into(), &mut out)?;
        out.push('}');
        Ok(out)
    }
}

/// Hashes a checkpoint body onto the previous checkpoint's hash.
pub fn checkpoint_hash(
    prev: &Digest,
    body: &CheckpointBody,
) -> Result<(String, Digest), CanonicalError> {
    let canonical = body.canonical()?;
    let hash = chain_hash(prev, canonical.as_bytes());
    Ok((canonical, hash))
}

/// What is wrong at the first broken place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakKind {
    /// The stored hash does not match the recomputed one (the event was edited).
    HashMismatch,
    /// A seq is missing (an event was deleted from the middle).
    SeqGap,
    /// The stored event is not valid JSON or disagrees with its row.
    Malformed,
    /// The last checkpoint records a later seq than the log holds (tail truncated).
    TruncatedTail,
    /// The checkpoints record a conversation the store no longer holds.
    MissingConversation,
    /// The log holds events no checkpoint records (written behind baton's back).
    Unrecorded,
    /// The checkpoint chain itself does not verify.
    CheckpointMismatch,
    /// An access log entry (or its head) does not hash to what is stored: edited.
    AccessLogMismatch,
    /// An access log entry is missing from the middle (deleted).
    AccessLogGap,
    /// The access log ends before the entry its head records (tail deleted).
    AccessLogTruncated,
    /// The access log holds entries its head does not record (written behind baton's back).
    AccessLogUnrecorded,
}

impl BreakKind {
    /// Whether the break is in the access log rather than the ledger.
    pub fn is_access_log(&self) -> bool {
        matches!(
            self,
            Self::AccessLogMismatch
                | Self::AccessLogGap
                | Self::AccessLogTruncated
                | Self::AccessLogUnrecorded
        )
    }
}

/// The first break found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Break {
    /// The broken conversation (absent for a broken checkpoint or access log entry).
    pub conversation: Option<ConversationId>,
    /// The first seq (or checkpoint number, or access log entry) that does not verify.
    pub seq: u64,
    /// What is wrong.
    pub kind: BreakKind,
    /// In plain words.
    pub message: String,
}

/// A stored event as the verifier reads it.
#[derive(Debug, Clone, Copy)]
pub struct StoredEventRef<'a> {
    /// Conversation.
    pub conversation: &'a ConversationId,
    /// Seq from the row.
    pub seq: u64,
    /// Stored canonical JSON.
    pub canonical: &'a [u8],
    /// Stored hash.
    pub hash: Digest,
}

/// The `seq` member of a stored event's top-level object, read without parsing the
/// rest: verification runs over every event ever written, and a full parse per event
/// would cost more than hashing it. Nested objects (`meta`, entities) are skipped by
/// depth; strings are skipped whole, so a `"seq":` inside text or a nested object
/// never counts.
fn top_level_seq(json: &[u8]) -> Option<u64> {
    let mut depth = 0usize;
    let mut index = 0;
    let mut expect_key = false;
    while index < json.len() {
        match json[index] {
            b'"' => {
                let start = index + 1;
                index = start;
                while index < json.len() && json[index] != b'"' {
                    index += if json[index] == b'\\' { 2 } else { 1 };
                }
                if depth == 1 && expect_key && json.get(start..index) == Some(b"seq") {
                    let digits = json.get(index + 2..)?;
                    if json.get(index + 1) != Some(&b':') {
                        return None;
                    }
                    let end = digits
                        .iter()
                        .position(|b| !b.is_ascii_digit())
                        .unwrap_or(digits.len());
                    return std::str::from_utf8(&digits[..end]).ok()?.parse().ok();
                }
                expect_key = false;
            }
            b'{' => {
                depth += 1;
                expect_key = depth == 1;
            }
            b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' => expect_key = depth == 1,
            _ => {}
        }
        index += 1;
    }
    None
}

/// Streaming verifier of per-conversation chains. Feed events ordered by
/// (conversation, seq); it keeps only the current conversation's link and every head.
#[derive(Debug, Default)]
pub struct ChainVerifier {
    current: Option<(ConversationId, u64, Digest)>,
    heads: BTreeMap<ConversationId, (u64, Digest)>,
    events: u64,
}

impl ChainVerifier {
    /// A verifier with nothing seen.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next event; the first error is the first break.
    pub fn push(&mut self, event: StoredEventRef<'_>) -> Result<(), Break> {
        let (expected_seq, prev) = match &self.current {
            Some((cid, seq, hash)) if cid == event.conversation => (seq + 1, *hash),
            _ => (1, GENESIS),
        };
        let broken = |kind, message: String| Break {
            conversation: Some(event.conversation.clone()),
            seq: expected_seq.min(event.seq),
            kind,
            message,
        };
        if event.seq != expected_seq {
            return Err(broken(
                BreakKind::SeqGap,
                format!("expected seq {expected_seq}, found {}", event.seq),
            ));
        }
        match top_level_seq(event.canonical) {
            Some(inner) if inner == event.seq => {}
            Some(inner) => {
                return Err(broken(
                    BreakKind::Malformed,
                    format!("row seq {} holds an event with seq {inner}", event.seq),
                ));
            }
            None => {
                return Err(broken(
                    BreakKind::Malformed,
                    "stored event is not an event object with a seq".to_owned(),
                ));
            }
        }
        let recomputed = chain_hash(&prev, event.canonical);
        if recomputed != event.hash {
            return Err(broken(
                BreakKind::HashMismatch,
                format!(
                    "stored hash {} but the event hashes to {recomputed}",
                    event.hash
                ),
            ));
        }
        self.events += 1;
        match &mut self.current {
            Some((cid, seq, hash)) if *cid == *event.conversation => {
                (*seq, *hash) = (event.seq, event.hash);
            }
            _ => {
                if let Some((cid, seq, hash)) = self.current.take() {
                    self.heads.insert(cid, (seq, hash));
                }
                self.current = Some((event.conversation.clone(), event.seq, event.hash));
            }
        }
        Ok(())
    }

    /// Events verified so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Ends the per-event pass; checkpoints are compared next.
    pub fn finish(mut self) -> CheckpointVerifier {
        if let Some((cid, seq, hash)) = self.current.take() {
            self.heads.insert(cid, (seq, hash));
        }
        CheckpointVerifier {
            heads: self.heads,
            recorded: BTreeMap::new(),
            prev: GENESIS,
            number: 0,
            events: self.events,
        }
    }
}

/// A stored checkpoint as the verifier reads it.
#[derive(Debug, Clone, Copy)]
pub struct StoredCheckpointRef<'a> {
    /// Position in the global chain.
    pub number: u64,
    /// Stored canonical JSON of its body.
    pub canonical: &'a [u8],
    /// Stored hash.
    pub hash: Digest,
}

/// Verifies the global checkpoint chain and compares its latest heads with the logs.
#[derive(Debug)]
pub struct CheckpointVerifier {
    heads: BTreeMap<ConversationId, (u64, Digest)>,
    recorded: BTreeMap<ConversationId, (u64, Digest)>,
    prev: Digest,
    number: u64,
    events: u64,
}

/// A chain that verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verified {
    /// Conversations verified.
    pub conversations: u64,
    /// Events verified.
    pub events: u64,
    /// Checkpoints verified.
    pub checkpoints: u64,
    /// Hash of the last checkpoint: publish it to anchor the whole ledger.
    pub head: Digest,
    /// Access log entries verified (absent when only one conversation was verified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_entries: Option<u64>,
}

impl CheckpointVerifier {
    /// Checks the next checkpoint (in number order).
    pub fn push(&mut self, checkpoint: StoredCheckpointRef<'_>) -> Result<(), Break> {
        let broken = |message: String| Break {
            conversation: None,
            seq: checkpoint.number,
            kind: BreakKind::CheckpointMismatch,
            message,
        };
        if checkpoint.number != self.number + 1 {
            return Err(broken(format!(
                "expected checkpoint {}, found {}",
                self.number + 1,
                checkpoint.number
            )));
        }
        let recomputed = chain_hash(&self.prev, checkpoint.canonical);
        if recomputed != checkpoint.hash {
            return Err(broken(format!(
                "checkpoint {} does not hash to its stored hash",
                checkpoint.number
            )));
        }
        let body: CheckpointBody = serde_json::from_slice(checkpoint.canonical).map_err(|e| {
            broken(format!(
                "checkpoint {} is not valid: {e}",
                checkpoint.number
            ))
        })?;
        if body.number != checkpoint.number {
            return Err(broken(format!(
                "checkpoint row {} holds number {}",
                checkpoint.number, body.number
            )));
        }
        for head in body.heads {
            self.recorded
                .insert(head.conversation, (head.seq, head.hash));
        }
        self.prev = checkpoint.hash;
        self.number = checkpoint.number;
        Ok(())
    }

    /// Compares the latest recorded head of every conversation with its log; with
    /// `only`, of that one conversation (whose events alone were pushed).
    pub fn finish(mut self, only: Option<&ConversationId>) -> Result<Verified, Break> {
        if let Some(cid) = only {
            self.recorded.retain(|recorded, _| recorded == cid);
            self.heads.retain(|head, _| head == cid);
        }
        for (cid, (recorded_seq, recorded_hash)) in &self.recorded {
            match self.heads.get(cid) {
                None => {
                    return Err(Break {
                        conversation: Some(cid.clone()),
                        seq: 1,
                        kind: BreakKind::MissingConversation,
                        message: format!(
                            "checkpoints record seq {recorded_seq} but the conversation is gone"
                        ),
                    });
                }
                Some((seq, _)) if seq < recorded_seq => {
                    return Err(Break {
                        conversation: Some(cid.clone()),
                        seq: seq + 1,
                        kind: BreakKind::TruncatedTail,
                        message: format!(
                            "log ends at seq {seq} but checkpoints record seq {recorded_seq}"
                        ),
                    });
                }
                Some((seq, _)) if seq > recorded_seq => {
                    return Err(Break {
                        conversation: Some(cid.clone()),
                        seq: recorded_seq + 1,
                        kind: BreakKind::Unrecorded,
                        message: format!(
                            "log runs to seq {seq} but checkpoints end at seq {recorded_seq}"
                        ),
                    });
                }
                Some((_, hash)) if hash != recorded_hash => {
                    return Err(Break {
                        conversation: Some(cid.clone()),
                        seq: *recorded_seq,
                        kind: BreakKind::HashMismatch,
                        message:
                            "the log's head differs from the checkpointed head (chain rewritten)"
                                .into(),
                    });
                }
                Some(_) => {}
            }
        }
        if let Some((cid, _)) = self
            .heads
            .iter()
            .find(|(cid, _)| !self.recorded.contains_key(*cid))
        {
            return Err(Break {
                conversation: Some(cid.clone()),
                seq: 1,
                kind: BreakKind::Unrecorded,
                message: "no checkpoint records this conversation".into(),
            });
        }
        Ok(Verified {
            conversations: self.heads.len() as u64,
            events: self.events,
            checkpoints: self.number,
            head: self.prev,
            access_entries: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{Digest, top_level_seq, with_hash};

    #[test]
    fn the_hash_is_added_after_the_stored_bytes() {
        let hash = Digest([0xab; 32]);
        let stored = r#"{"id":"e1","seq":1}"#;
        let served = with_hash(stored, &hash);
        assert_eq!(served, format!(r#"{{"id":"e1","seq":1,"hash":"{hash}"}}"#));
        assert!(served.starts_with(&stored[..stored.len() - 1]));
        let value: serde_json::Value = serde_json::from_str(&with_hash("{}", &hash)).unwrap();
        assert_eq!(
            value["hash"],
            hash.to_string(),
            "even an empty object stays JSON"
        );
    }

    #[test]
    fn reads_the_top_level_seq_only() {
        let cases: [(&str, Option<u64>); 7] = [
            (
                r#"{"actor":"bot","at":"x","id":"e1","seq":12,"type":"note"}"#,
                Some(12),
            ),
            (r#"{"meta":{"seq":99},"seq":3}"#, Some(3)),
            (r#"{"a":[{"seq":7}],"seq":4,"z":{"seq":8}}"#, Some(4)),
            (r#"{"text":"\"seq\":5 is not it","seq":6}"#, Some(6)),
            (r#"{"text":"seq","value":"seq"}"#, None),
            (r#"{"meta":{"seq":1}}"#, None),
            (r#"{"seq":"7"}"#, None),
        ];
        for (json, expected) in cases {
            assert_eq!(top_level_seq(json.as_bytes()), expected, "{json}");
        }
    }
}
