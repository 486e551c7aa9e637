//! A ledger export: conversations with their events (as stored: the sealed form) and
//! the checkpoints that recorded them, verifiable offline without the database.
//!
//! What a verified export proves: every event chains from seq 1 to the last one with
//! nothing edited, inserted or removed; every checkpoint hashes onto the previous
//! checkpoint's hash it names; every head a checkpoint records for the conversation is
//! an event of the chain, and the newest one is its last event, so a cut tail shows.
//! Checkpoints of other conversations in between are not in the file: that this
//! file's checkpoint hashes belong to *the* ledger is shown by comparing them (or
//! `ledger_head`) with the live ledger (`baton ledger verify` prints its head) or a
//! head published earlier.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{
    Break, BreakKind, ChainVerifier, CheckpointBody, Digest, GENESIS, StoredEventRef, chain_hash,
};
use crate::canonical::to_canonical_string;
use crate::id::ConversationId;
use crate::timestamp::Timestamp;

/// The `format` member every export carries.
pub const FORMAT: &str = "baton-ledger-export";
/// The version this build writes and reads.
pub const VERSION: u32 = 1;

/// One export file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerExport {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// When the export was taken.
    pub exported_at: Timestamp,
    /// The newest checkpoint of the whole ledger when the export was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger_head: Option<CheckpointLink>,
    /// The conversations, each complete from seq 1.
    pub conversations: Vec<ConversationProof>,
}

/// A checkpoint named by number and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointLink {
    /// Its number in the global chain.
    pub number: u64,
    /// Its hash.
    pub hash: Digest,
}

/// One conversation and what proves it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationProof {
    /// The conversation.
    pub conversation: ConversationId,
    /// Its events in seq order, each the stored object with its `hash`, exactly as
    /// `GET .../events?view=sealed` serves it.
    pub events: Vec<Value>,
    /// Every checkpoint that recorded a head of it, in number order.
    pub checkpoints: Vec<CheckpointProof>,
}

/// One checkpoint with the hash it chains onto.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointProof {
    /// Its number.
    pub number: u64,
    /// The hash of checkpoint `number - 1` (zeros for the first).
    pub prev: Digest,
    /// What it recorded.
    pub body: CheckpointBody,
    /// Its hash: `SHA-256(prev || JCS(body))`.
    pub hash: Digest,
}

/// An export that verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportVerified {
    /// Conversations verified.
    pub conversations: u64,
    /// Events verified.
    pub events: u64,
    /// Checkpoints verified.
    pub checkpoints: u64,
    /// The ledger head the export names, to compare with the live or a published one.
    pub ledger_head: Option<CheckpointLink>,
}

/// Verifies an export; the first error names the first break.
pub fn verify(export: &LedgerExport) -> Result<ExportVerified, Break> {
    if export.format != FORMAT || export.version != VERSION {
        return Err(Break {
            conversation: None,
            seq: 0,
            kind: BreakKind::Malformed,
            message: format!(
                "not a {FORMAT} version {VERSION} file (format {:?}, version {})",
                export.format, export.version
            ),
        });
    }
    let mut verified = ExportVerified {
        conversations: 0,
        events: 0,
        checkpoints: 0,
        ledger_head: export.ledger_head,
    };
    let mut newest_checkpoint = 0;
    for proof in &export.conversations {
        let hashes = verify_events(proof)?;
        verify_checkpoints(proof, &hashes)?;
        verified.conversations += 1;
        verified.events += hashes.len() as u64;
        verified.checkpoints += proof.checkpoints.len() as u64;
        newest_checkpoint = newest_checkpoint.max(proof.checkpoints.last().map_or(0, |c| c.number));
    }
    if let Some(head) = export.ledger_head
        && head.number < newest_checkpoint
    {
        return Err(Break {
            conversation: None,
            seq: head.number,
            kind: BreakKind::CheckpointMismatch,
            message: format!(
                "the ledger head is checkpoint {} but the file holds checkpoint {newest_checkpoint}",
                head.number
            ),
        });
    }
    Ok(verified)
}

/// The chain of one conversation's events; returns each event's hash by seq - 1.
fn verify_events(proof: &ConversationProof) -> Result<Vec<Digest>, Break> {
    let cid = &proof.conversation;
    let malformed = |seq: u64, message: String| Break {
        conversation: Some(cid.clone()),
        seq,
        kind: BreakKind::Malformed,
        message,
    };
    let mut chain = ChainVerifier::new();
    let mut hashes = Vec::with_capacity(proof.events.len());
    for (index, event) in proof.events.iter().enumerate() {
        let position = index as u64 + 1;
        let mut object: Map<String, Value> = event
            .as_object()
            .cloned()
            .ok_or_else(|| malformed(position, "an event is not a JSON object".to_owned()))?;
        let hash = object
            .remove("hash")
            .and_then(|h| h.as_str().and_then(|h| Digest::parse_hex(h).ok()))
            .ok_or_else(|| malformed(position, "an event has no valid hash".to_owned()))?;
        let seq = object
            .get("seq")
            .and_then(Value::as_u64)
            .ok_or_else(|| malformed(position, "an event has no seq".to_owned()))?;
        let canonical = to_canonical_string(&object)
            .map_err(|e| malformed(seq, format!("event {seq} cannot be canonicalized: {e}")))?;
        chain.push(StoredEventRef {
            conversation: cid,
            seq,
            canonical: canonical.as_bytes(),
            hash,
        })?;
        hashes.push(hash);
    }
    if hashes.is_empty() {
        return Err(malformed(1, "the conversation has no events".to_owned()));
    }
    Ok(hashes)
}

/// The checkpoints of one conversation against its verified chain.
fn verify_checkpoints(proof: &ConversationProof, hashes: &[Digest]) -> Result<(), Break> {
    let cid = &proof.conversation;
    let broken = |number: u64, message: String| Break {
        conversation: Some(cid.clone()),
        seq: number,
        kind: BreakKind::CheckpointMismatch,
        message,
    };
    let mut previous: Option<&CheckpointProof> = None;
    let mut recorded_seq = 0;
    for checkpoint in &proof.checkpoints {
        let number = checkpoint.number;
        if checkpoint.body.number != number {
            return Err(broken(
                number,
                format!(
                    "checkpoint {number} holds number {}",
                    checkpoint.body.number
                ),
            ));
        }
        if let Some(previous) = previous {
            if number <= previous.number {
                return Err(broken(number, "checkpoints are out of order".to_owned()));
            }
            if number == previous.number + 1 && checkpoint.prev != previous.hash {
                return Err(broken(
                    number,
                    format!(
                        "checkpoint {number} does not chain onto checkpoint {}",
                        previous.number
                    ),
                ));
            }
        }
        if number == 1 && checkpoint.prev != GENESIS {
            return Err(broken(
                number,
                "the first checkpoint must chain onto zeros".to_owned(),
            ));
        }
        let canonical = to_canonical_string(&checkpoint.body).map_err(|e| {
            broken(
                number,
                format!("checkpoint {number} cannot be canonicalized: {e}"),
            )
        })?;
        if chain_hash(&checkpoint.prev, canonical.as_bytes()) != checkpoint.hash {
            return Err(broken(
                number,
                format!("checkpoint {number} does not hash to its hash"),
            ));
        }
        let head = checkpoint
            .body
            .heads
            .iter()
            .find(|head| head.conversation == *cid)
            .ok_or_else(|| {
                broken(
                    number,
                    format!("checkpoint {number} records no head of this conversation"),
                )
            })?;
        let index = usize::try_from(head.seq).unwrap_or(usize::MAX);
        match hashes.get(index.wrapping_sub(1)) {
            Some(hash) if *hash == head.hash => {}
            Some(_) => {
                return Err(Break {
                    conversation: Some(cid.clone()),
                    seq: head.seq,
                    kind: BreakKind::HashMismatch,
                    message: format!(
                        "checkpoint {number} records a different event at seq {}",
                        head.seq
                    ),
                });
            }
            None => {
                return Err(Break {
                    conversation: Some(cid.clone()),
                    seq: hashes.len() as u64 + 1,
                    kind: BreakKind::TruncatedTail,
                    message: format!(
                        "the file ends at seq {} but checkpoint {number} records seq {}",
                        hashes.len(),
                        head.seq
                    ),
                });
            }
        }
        recorded_seq = recorded_seq.max(head.seq);
        previous = Some(checkpoint);
    }
    let last = hashes.len() as u64;
    if recorded_seq < last {
        return Err(Break {
            conversation: Some(cid.clone()),
            seq: recorded_seq + 1,
            kind: BreakKind::Unrecorded,
            message: format!(
                "no checkpoint in the file records the events after seq {recorded_seq}"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Head, checkpoint_hash, with_hash};

    /// A conversation of `n` notes, one checkpoint per event, as baton writes them.
    fn export(n: u64) -> LedgerExport {
        let cid = ConversationId::parse("c-1").unwrap();
        let mut events = Vec::new();
        let mut checkpoints = Vec::new();
        let (mut prev, mut prev_checkpoint) = (GENESIS, GENESIS);
        for seq in 1..=n {
            let canonical = format!(
                r#"{{"actor":"system","at":"2026-12-01T00:00:00.000Z","id":"e{seq}","seq":{seq},"text":"note {seq}","type":"note"}}"#
            );
            let hash = chain_hash(&prev, canonical.as_bytes());
            events.push(serde_json::from_str(&with_hash(&canonical, &hash)).unwrap());
            prev = hash;
            let body = CheckpointBody {
                number: seq,
                heads: vec![Head {
                    conversation: cid.clone(),
                    seq,
                    hash,
                }],
            };
            let (_, checkpoint) = checkpoint_hash(&prev_checkpoint, &body).unwrap();
            checkpoints.push(CheckpointProof {
                number: seq,
                prev: prev_checkpoint,
                body,
                hash: checkpoint,
            });
            prev_checkpoint = checkpoint;
        }
        LedgerExport {
            format: FORMAT.to_owned(),
            version: VERSION,
            exported_at: Timestamp::from_unix_millis(0),
            ledger_head: Some(CheckpointLink {
                number: n,
                hash: prev_checkpoint,
            }),
            conversations: vec![ConversationProof {
                conversation: cid,
                events,
                checkpoints,
            }],
        }
    }

    #[test]
    fn an_untouched_export_verifies() {
        let verified = verify(&export(3)).unwrap();
        assert_eq!(
            (
                verified.conversations,
                verified.events,
                verified.checkpoints
            ),
            (1, 3, 3)
        );
    }

    #[test]
    fn an_edited_event_is_named() {
        let mut file = export(3);
        file.conversations[0].events[1]["text"] = "changed".into();
        let broken = verify(&file).unwrap_err();
        assert_eq!((broken.kind, broken.seq), (BreakKind::HashMismatch, 2));
    }

    #[test]
    fn a_consistently_rehashed_tail_is_caught_by_its_checkpoint() {
        // Edit the last event and recompute its hash: the chain alone is fine again,
        // but the checkpoint still records the original event.
        let mut file = export(3);
        let event = &mut file.conversations[0].events[2];
        event["text"] = "changed".into();
        let mut object = event.as_object().unwrap().clone();
        object.remove("hash");
        let prev =
            Digest::parse_hex(file.conversations[0].events[1]["hash"].as_str().unwrap()).unwrap();
        let rehashed = chain_hash(&prev, to_canonical_string(&object).unwrap().as_bytes());
        file.conversations[0].events[2]["hash"] = rehashed.to_hex().into();
        let broken = verify(&file).unwrap_err();
        assert_eq!((broken.kind, broken.seq), (BreakKind::HashMismatch, 3));
    }

    #[test]
    fn a_cut_tail_and_a_dropped_checkpoint_are_caught() {
        let mut cut = export(3);
        cut.conversations[0].events.pop();
        assert_eq!(verify(&cut).unwrap_err().kind, BreakKind::TruncatedTail);

        let mut dropped = export(3);
        dropped.conversations[0].checkpoints.pop();
        assert_eq!(verify(&dropped).unwrap_err().kind, BreakKind::Unrecorded);

        let mut removed = export(3);
        removed.conversations[0].events.remove(1);
        assert_eq!(verify(&removed).unwrap_err().kind, BreakKind::SeqGap);
    }

    #[test]
    fn an_edited_checkpoint_or_head_is_caught() {
        let mut file = export(3);
        file.conversations[0].checkpoints[1].body.heads[0].seq = 1;
        assert_eq!(
            verify(&file).unwrap_err().kind,
            BreakKind::CheckpointMismatch
        );

        let mut unlinked = export(3);
        unlinked.conversations[0].checkpoints[2].prev = GENESIS;
        assert_eq!(
            verify(&unlinked).unwrap_err().kind,
            BreakKind::CheckpointMismatch
        );

        let mut behind = export(3);
        behind.ledger_head = Some(CheckpointLink {
            number: 2,
            hash: GENESIS,
        });
        assert_eq!(
            verify(&behind).unwrap_err().kind,
            BreakKind::CheckpointMismatch
        );

        let mut foreign = export(3);
        foreign.format = "something-else".to_owned();
        assert_eq!(verify(&foreign).unwrap_err().kind, BreakKind::Malformed);
    }
}
