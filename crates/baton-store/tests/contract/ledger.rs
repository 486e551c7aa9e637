//! Checkpoints and verification: every commit that appends records the heads it
//! touched, so an edit, a truncated tail and a deleted conversation are all caught.

use baton_core::ledger::BreakKind;

use crate::engine::{Engine, Fresh};
use crate::seed::{EMPTY, append, cid};

/// Two conversations of three events each, appended in three commits.
async fn two_conversations<E: Engine>() -> Fresh {
    let fresh = E::fresh();
    let store = fresh.store.as_ref();
    let a = append(store, "c-a", EMPTY, "x", &["a says 1", "a says 2"]).await;
    let b = append(store, "c-b", EMPTY, "x", &["b says 1", "b says 2"]).await;
    append(store, "c-a", a, "y", &["a says 3"]).await;
    append(store, "c-b", b, "y", &["b says 3"]).await;
    fresh
}

pub async fn an_untouched_ledger_verifies_with_its_checkpoints<E: Engine>() {
    let fresh = two_conversations::<E>().await;
    let verified = fresh
        .store
        .verify(None)
        .await
        .unwrap()
        .expect("an untouched ledger verifies");
    assert_eq!((verified.conversations, verified.events), (2, 6));
    assert!(verified.checkpoints >= 1, "commits record checkpoints");
    let one = fresh
        .store
        .verify(Some(cid("c-a")))
        .await
        .unwrap()
        .expect("one conversation verifies");
    assert_eq!(one.events, 3);
}

pub async fn an_edited_event_is_named<E: Engine>() {
    let fresh = two_conversations::<E>().await;
    fresh.tamper.edit_event("c-b", 2, "b says 2", "b says 9");
    let broken = fresh.store.verify(None).await.unwrap().unwrap_err();
    assert_eq!(broken.conversation, Some(cid("c-b")));
    assert_eq!((broken.seq, broken.kind), (2, BreakKind::HashMismatch));
    let only_a = fresh.store.verify(Some(cid("c-a"))).await.unwrap();
    assert!(
        only_a.is_ok(),
        "the other conversation still verifies alone"
    );
}

pub async fn a_truncated_tail_is_caught<E: Engine>() {
    let fresh = two_conversations::<E>().await;
    fresh.tamper.truncate("c-a", 3);
    let broken = fresh.store.verify(None).await.unwrap().unwrap_err();
    assert_eq!(broken.conversation, Some(cid("c-a")));
    assert_eq!(broken.kind, BreakKind::TruncatedTail);
}

pub async fn a_deleted_conversation_is_caught<E: Engine>() {
    let fresh = two_conversations::<E>().await;
    fresh.tamper.delete_conversation("c-b");
    let broken = fresh.store.verify(None).await.unwrap().unwrap_err();
    assert_eq!(broken.conversation, Some(cid("c-b")));
    assert_eq!(broken.kind, BreakKind::MissingConversation);
}

pub async fn a_conversations_checkpoint_trail_proves_it_offline<E: Engine>() {
    use baton_core::ledger::CheckpointBody;
    use baton_core::ledger::proof::{self, CheckpointProof, ConversationProof, LedgerExport};

    let fresh = two_conversations::<E>().await;
    let store = fresh.store.as_ref();
    let mut export = LedgerExport {
        format: proof::FORMAT.to_owned(),
        version: proof::VERSION,
        exported_at: baton_core::Timestamp::from_unix_millis(0),
        ledger_head: None,
        conversations: Vec::new(),
    };
    let mut every = std::collections::BTreeMap::new();
    for name in ["c-a", "c-b"] {
        let trail = store.checkpoint_trail(&cid(name)).await.unwrap();
        let (head_number, head_hash) = trail.head.expect("a ledger head");
        export.ledger_head = Some(proof::CheckpointLink {
            number: head_number,
            hash: head_hash,
        });
        assert!(!trail.checkpoints.is_empty(), "{name} was recorded");
        let mut checkpoints = Vec::new();
        for stored in trail.checkpoints {
            let body: CheckpointBody = serde_json::from_str(&stored.canonical).unwrap();
            assert!(
                body.heads.iter().any(|h| h.conversation == cid(name)),
                "a checkpoint in {name}'s trail records it"
            );
            every.insert(stored.number, (stored.prev, stored.hash));
            checkpoints.push(CheckpointProof {
                number: stored.number,
                prev: stored.prev,
                body,
                hash: stored.hash,
            });
        }
        let events = store
            .events_after(&cid(name), 0, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| {
                serde_json::from_str(&baton_core::ledger::with_hash(&e.canonical, &e.hash)).unwrap()
            })
            .collect();
        export.conversations.push(ConversationProof {
            conversation: cid(name),
            events,
            checkpoints,
        });
    }
    // The two trails together are the whole chain here, each link onto the one before.
    let numbers: Vec<u64> = every.keys().copied().collect();
    let head = export.ledger_head.unwrap();
    assert_eq!(numbers, (1..=head.number).collect::<Vec<_>>());
    assert_eq!(every[&head.number].1, head.hash, "the head is the newest");
    for n in 2..=head.number {
        assert_eq!(
            every[&n].0,
            every[&(n - 1)].1,
            "checkpoint {n} names its prev"
        );
    }
    let verified = proof::verify(&export).expect("the export verifies");
    assert_eq!((verified.conversations, verified.events), (2, 6));

    let mut edited = export.clone();
    edited.conversations[1].events[0]["text"] = "b said something else".into();
    let broken = proof::verify(&edited).unwrap_err();
    assert_eq!(
        (broken.conversation, broken.seq, broken.kind),
        (Some(cid("c-b")), 1, BreakKind::HashMismatch)
    );
}
