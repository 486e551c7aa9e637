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
