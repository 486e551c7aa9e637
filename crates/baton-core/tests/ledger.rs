//! Properties of the ledger: a sealed log with its checkpoint chain verifies, and any
//! single edit (a flipped byte in a body or a hash, a deleted event, a truncated tail,
//! a deleted conversation, an edited checkpoint) is reported at the right place.
// Test helpers unwrap on values the generators make valid by construction.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use baton_core::ledger::{
    Break, BreakKind, ChainVerifier, CheckpointBody, Digest, GENESIS, Head, StoredCheckpointRef,
    StoredEventRef, Verified, chain_hash, checkpoint_hash, seal,
};
use baton_core::{Actor, ConversationId, Event, EventId, Timestamp};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::json;

/// What a store holds: rows by (conversation, seq), and the checkpoint chain.
#[derive(Debug, Clone)]
struct Stored {
    rows: BTreeMap<(ConversationId, u64), (Vec<u8>, Digest)>,
    checkpoints: Vec<(u64, Vec<u8>, Digest)>,
}

impl Stored {
    fn verify(&self, only: Option<&ConversationId>) -> Result<Verified, Break> {
        let mut chains = ChainVerifier::new();
        for ((conversation, seq), (canonical, hash)) in &self.rows {
            if only.is_some_and(|only| only != conversation) {
                continue;
            }
            chains.push(StoredEventRef {
                conversation,
                seq: *seq,
                canonical,
                hash: *hash,
            })?;
        }
        let mut checkpoints = chains.finish();
        for (number, canonical, hash) in &self.checkpoints {
            checkpoints.push(StoredCheckpointRef {
                number: *number,
                canonical,
                hash: *hash,
            })?;
        }
        checkpoints.finish(only)
    }

    fn conversation(&self, cid: &ConversationId) -> Vec<u64> {
        self.rows
            .keys()
            .filter(|(c, _)| c == cid)
            .map(|(_, s)| *s)
            .collect()
    }

    fn conversations(&self) -> Vec<ConversationId> {
        let mut all: Vec<ConversationId> = self.rows.keys().map(|(c, _)| c.clone()).collect();
        all.dedup();
        all
    }
}

/// Commits: each appends batches (conversation index, how many events) in one group.
type Plan = Vec<Vec<(usize, usize)>>;

fn plan() -> impl Strategy<Value = (Plan, Vec<String>)> {
    (
        prop::collection::vec(prop::collection::vec((0usize..4, 1usize..4), 1..4), 1..12),
        prop::collection::vec("\\PC{1,24}", 48),
    )
}

/// Seals a log the way the server and the store do.
fn build((plan, texts): &(Plan, Vec<String>)) -> Stored {
    let mut rows = BTreeMap::new();
    let mut heads: BTreeMap<ConversationId, (u64, Digest)> = BTreeMap::new();
    let mut checkpoints = Vec::new();
    let mut prev_checkpoint = GENESIS;
    let mut n = 0usize;
    for (number, commit) in plan.iter().enumerate() {
        let mut touched = BTreeMap::new();
        for &(c, k) in commit {
            let cid = ConversationId::parse(format!("conv-{c}")).unwrap();
            for _ in 0..k {
                let (seq, prev) = heads.get(&cid).copied().unwrap_or((0, GENESIS));
                let text = texts[n % texts.len()].trim();
                let text = if text.is_empty() { "x" } else { text };
                let event = Event {
                    erased: false,
                    seq: seq + 1,
                    id: EventId::parse(format!("e{n}")).unwrap(),
                    actor: if n.is_multiple_of(2) { Actor::Customer } else { Actor::Bot },
                    at: Timestamp::from_unix_millis(1_767_225_600_000 + n as i64),
                    meta: n.is_multiple_of(3).then(|| json!({"n": n, "f": 0.1 * n as f64, "s": text}).as_object().unwrap().clone()),
                    body: serde_json::from_value(json!({"type": if n.is_multiple_of(2) { "customer_message" } else { "bot_message" }, "text": text}))
                        .unwrap(),
                };
                let sealed = seal(&prev, &event).unwrap();
                rows.insert(
                    (cid.clone(), event.seq),
                    (sealed.canonical.into_bytes(), sealed.hash),
                );
                heads.insert(cid.clone(), (event.seq, sealed.hash));
                touched.insert(cid.clone(), (event.seq, sealed.hash));
                n += 1;
            }
        }
        let body = CheckpointBody {
            number: number as u64 + 1,
            heads: touched
                .into_iter()
                .map(|(conversation, (seq, hash))| Head {
                    conversation,
                    seq,
                    hash,
                })
                .collect(),
        };
        let (canonical, hash) = checkpoint_hash(&prev_checkpoint, &body).unwrap();
        checkpoints.push((body.number, canonical.into_bytes(), hash));
        prev_checkpoint = hash;
    }
    Stored { rows, checkpoints }
}

fn pick<T: Clone>(items: &[T], index: &Index) -> T {
    items[index.index(items.len())].clone()
}

#[track_caller]
fn assert_break(
    found: Result<Verified, Break>,
    cid: Option<&ConversationId>,
    seq: u64,
    kinds: &[BreakKind],
) -> Result<(), TestCaseError> {
    let found = match found {
        Ok(verified) => {
            return Err(TestCaseError::fail(format!(
                "tampering went unnoticed: {verified:?}"
            )));
        }
        Err(found) => found,
    };
    prop_assert_eq!(found.conversation.as_ref(), cid, "{:?}", found);
    prop_assert_eq!(found.seq, seq, "{:?}", found);
    prop_assert!(
        kinds.contains(&found.kind),
        "{:?} not in {:?}",
        found,
        kinds
    );
    Ok(())
}

/// Verifying every chain and verifying only the tampered conversation agree; any other
/// conversation alone still verifies.
fn assert_scoped(stored: &Stored, tampered: &ConversationId) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        stored.verify(Some(tampered)).err(),
        stored.verify(None).err()
    );
    for other in stored.conversations().iter().filter(|c| *c != tampered) {
        prop_assert!(stored.verify(Some(other)).is_ok(), "{} is untouched", other);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_checkpoint_body_is_written_as_jcs_writes_it(
        number in prop_oneof![1u64..1_000_000, any::<u64>()],
        heads in proptest::collection::vec(
            ("[A-Za-z0-9._:-]{0,20}", prop_oneof![1u64..100_000, any::<u64>()], any::<[u8; 32]>()),
            0..6,
        ),
    ) {
        // Numbers past 2^53 included: JCS writes them as the nearest double.
        let heads = heads
            .into_iter()
            .map(|(id, seq, hash)| Head {
                conversation: ConversationId::parse(format!("c{id}")).unwrap(),
                seq,
                hash: Digest(hash),
            })
            .collect();
        let body = CheckpointBody { number, heads };
        let reference = serde_json_canonicalizer::to_string(&body).unwrap();
        prop_assert_eq!(body.canonical().unwrap(), reference);
    }

    #[test]
    fn a_sealed_log_verifies(log in plan()) {
        let stored = build(&log);
        let verified = stored.verify(None).unwrap();
        prop_assert_eq!(verified.events, stored.rows.len() as u64);
        prop_assert_eq!(verified.conversations, stored.conversations().len() as u64);
        prop_assert_eq!(verified.checkpoints, stored.checkpoints.len() as u64);
        prop_assert_eq!(verified.head, stored.checkpoints.last().unwrap().2);
        for cid in stored.conversations() {
            let one = stored.verify(Some(&cid)).unwrap();
            prop_assert_eq!(one.events, stored.conversation(&cid).len() as u64);
        }
    }

    #[test]
    fn anyone_can_recompute_the_chain_from_the_served_json(log in plan()) {
        // A third party parses what the API serves, drops `hash`, applies any JCS
        // library and SHA-256: the canonical form must be a fixed point of JCS.
        let stored = build(&log);
        let mut prev: Option<(ConversationId, Digest)> = None;
        for ((cid, _), (canonical, hash)) in &stored.rows {
            let value: serde_json::Value = serde_json::from_slice(canonical).unwrap();
            let again = serde_json_canonicalizer::to_string(&value).unwrap();
            prop_assert_eq!(again.as_bytes(), canonical.as_slice());
            let link = match &prev { Some((c, h)) if c == cid => *h, _ => GENESIS };
            prop_assert_eq!(chain_hash(&link, again.as_bytes()), *hash);
            prev = Some((cid.clone(), *hash));
        }
    }

    #[test]
    fn a_flipped_byte_in_a_body_is_caught_at_its_seq(log in plan(), row in any::<Index>(), at in any::<Index>(), mask in 1u8..=255) {
        let mut stored = build(&log);
        let keys: Vec<_> = stored.rows.keys().cloned().collect();
        let (cid, seq) = pick(&keys, &row);
        let body = &mut stored.rows.get_mut(&(cid.clone(), seq)).unwrap().0;
        let i = at.index(body.len());
        body[i] ^= mask;
        assert_break(stored.verify(None), Some(&cid), seq, &[BreakKind::HashMismatch, BreakKind::Malformed])?;
        assert_scoped(&stored, &cid)?;
    }

    #[test]
    fn a_flipped_byte_in_a_hash_is_caught_at_its_seq(log in plan(), row in any::<Index>(), at in 0usize..32, mask in 1u8..=255) {
        let mut stored = build(&log);
        let keys: Vec<_> = stored.rows.keys().cloned().collect();
        let (cid, seq) = pick(&keys, &row);
        stored.rows.get_mut(&(cid.clone(), seq)).unwrap().1 .0[at] ^= mask;
        assert_break(stored.verify(None), Some(&cid), seq, &[BreakKind::HashMismatch])?;
        assert_scoped(&stored, &cid)?;
    }

    #[test]
    fn a_deleted_event_is_caught_at_its_seq(log in plan(), row in any::<Index>()) {
        let mut stored = build(&log);
        let keys: Vec<_> = stored.rows.keys().cloned().collect();
        let (cid, seq) = pick(&keys, &row);
        let last = *stored.conversation(&cid).last().unwrap();
        stored.rows.remove(&(cid.clone(), seq));
        let (expected_seq, kind) = if last == 1 {
            (1, BreakKind::MissingConversation)
        } else if seq == last {
            (seq, BreakKind::TruncatedTail)
        } else {
            (seq, BreakKind::SeqGap)
        };
        assert_break(stored.verify(None), Some(&cid), expected_seq, &[kind])?;
        assert_scoped(&stored, &cid)?;
    }

    #[test]
    fn a_truncated_tail_is_caught_at_the_first_missing_seq(log in plan(), which in any::<Index>(), keep in any::<Index>()) {
        let mut stored = build(&log);
        let cid = pick(&stored.conversations(), &which);
        let seqs = stored.conversation(&cid);
        let kept = keep.index(seqs.len());
        for seq in &seqs[kept..] {
            stored.rows.remove(&(cid.clone(), *seq));
        }
        if kept == 0 {
            assert_break(stored.verify(None), Some(&cid), 1, &[BreakKind::MissingConversation])?;
        } else {
            assert_break(stored.verify(None), Some(&cid), kept as u64 + 1, &[BreakKind::TruncatedTail])?;
        }
        assert_scoped(&stored, &cid)?;
    }

    #[test]
    fn an_edited_checkpoint_is_caught_at_its_number(log in plan(), which in any::<Index>(), at in any::<Index>(), mask in 1u8..=255, in_hash in any::<bool>()) {
        let mut stored = build(&log);
        let i = which.index(stored.checkpoints.len());
        let checkpoint = &mut stored.checkpoints[i];
        if in_hash {
            checkpoint.2 .0[at.index(32)] ^= mask;
        } else {
            let j = at.index(checkpoint.1.len());
            checkpoint.1[j] ^= mask;
        }
        assert_break(stored.verify(None), None, i as u64 + 1, &[BreakKind::CheckpointMismatch])?;
    }

    #[test]
    fn a_deleted_checkpoint_is_caught(log in plan(), which in any::<Index>()) {
        let mut stored = build(&log);
        let i = which.index(stored.checkpoints.len());
        let removed = stored.checkpoints.remove(i);
        if i < stored.checkpoints.len() {
            // The checkpoint after the hole is the first one out of place.
            assert_break(stored.verify(None), None, removed.0 + 1, &[BreakKind::CheckpointMismatch])?;
        } else {
            // The last one gone: the logs run past what the checkpoints record. The first
            // conversation it touched that an earlier checkpoint recorded is reported
            // after that record; failing that, the first it touched, from seq 1.
            let body: CheckpointBody = serde_json::from_slice(&removed.1).unwrap();
            let earlier = |cid: &ConversationId| {
                stored.checkpoints.iter().rev().find_map(|(_, b, _)| {
                    let b: CheckpointBody = serde_json::from_slice(b).unwrap();
                    b.heads.into_iter().find(|h| &h.conversation == cid)
                })
            };
            let (cid, expected_seq) = body
                .heads
                .iter()
                .find_map(|h| earlier(&h.conversation).map(|e| (h.conversation.clone(), e.seq + 1)))
                .unwrap_or_else(|| (body.heads[0].conversation.clone(), 1));
            let found = stored.verify(None).expect_err("a deleted last checkpoint is noticed");
            prop_assert_eq!(&found.kind, &BreakKind::Unrecorded, "{:?}", found);
            prop_assert_eq!(found.conversation.as_ref(), Some(&cid), "{:?}", found);
            prop_assert_eq!(found.seq, expected_seq, "{:?}", found);
        }
    }
}
