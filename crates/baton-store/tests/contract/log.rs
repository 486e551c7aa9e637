//! The conversation log: append atomicity, idempotent ids, `expected_seq`, concurrent
//! appends to one conversation, reads (pages by count and bytes, tails, ids), and
//! durability across a reopen.

use std::sync::Arc;

use baton_core::EventId;
use baton_store::{Store, StoreError};

use crate::engine::Engine;
use crate::seed::{EMPTY, Head, append, batch, cid};

pub async fn appended_events_read_back_in_order<E: Engine>() {
    let fresh = E::fresh();
    let store = fresh.store.as_ref();
    let head = append(store, "c-1", EMPTY, "a", &["one", "two"]).await;
    let head = append(store, "c-1", head, "b", &["three"]).await;
    assert_eq!(head.seq, 3);

    let events = store.events_after(&cid("c-1"), 0, 100).await.unwrap();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(
        events[2].hash, head.hash,
        "the receipt names the stored head"
    );
    assert!(events[0].canonical.contains("\"text\":\"one\""));
    let later = store.events_after(&cid("c-1"), 2, 100).await.unwrap();
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].seq, 3);
    let none = store
        .events_after(&cid("c-1"), u64::MAX, 100)
        .await
        .unwrap();
    assert!(
        none.is_empty(),
        "a read after the largest seq reads nothing"
    );

    let row = store.conversation(&cid("c-1")).await.unwrap().unwrap();
    assert_eq!((row.last_seq, row.head), (3, head.hash));
    assert!(store.conversation(&cid("ghost")).await.unwrap().is_none());
    assert!(
        store
            .events_after(&cid("ghost"), 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn a_batch_is_all_or_nothing<E: Engine>() {
    let fresh = E::fresh();
    let store = fresh.store.as_ref();
    let head = append(store, "c-1", EMPTY, "a", &["one"]).await;
    // The second event reuses the id of the stored first one: the whole batch goes.
    let mut refused = batch("c-1", head, "b", &["two", "three"]);
    refused.events[1].id = EventId::parse("a-1").unwrap();
    match store.append(refused).await {
        Err(StoreError::DuplicateEventId(id)) => assert_eq!(id, "a-1"),
        other => panic!("expected a duplicate id, got {other:?}"),
    }
    let events = store.events_after(&cid("c-1"), 0, 100).await.unwrap();
    assert_eq!(events.len(), 1, "nothing of the refused batch is stored");
    let row = store.conversation(&cid("c-1")).await.unwrap().unwrap();
    assert_eq!((row.last_seq, row.head), (1, head.hash));
    // The log goes on from where it was.
    let head = append(store, "c-1", head, "c", &["two"]).await;
    assert_eq!(head.seq, 2);
    assert!(store.verify(None).await.unwrap().is_ok());
}

pub async fn a_batch_refused_mid_write_leaves_its_neighbours_committed<E: Engine>() {
    let fresh = E::fresh();
    let store: Arc<dyn Store> = Arc::clone(&fresh.store);
    let head = append(store.as_ref(), "dup", EMPTY, "a", &["one"]).await;
    // Submitted at once, so they share group commits: one batch fails on its second
    // event, after its first was written, among appends to other conversations.
    let mut refused = batch("dup", head, "b", &["two", "three"]);
    refused.events[1].id = EventId::parse("a-1").unwrap();
    let mut tasks = Vec::new();
    for i in 0..32 {
        let store = Arc::clone(&store);
        let job = if i == 16 {
            refused.clone()
        } else {
            batch(&format!("ok-{i}"), EMPTY, "x", &["hello", "again"])
        };
        tasks.push(tokio::spawn(async move { store.append(job).await }));
    }
    for (i, task) in tasks.into_iter().enumerate() {
        let result = task.await.unwrap();
        if i == 16 {
            assert!(
                matches!(result, Err(StoreError::DuplicateEventId(_))),
                "{result:?}"
            );
        } else {
            assert_eq!(result.unwrap().last_seq, 2, "ok-{i}");
        }
    }
    let events = store.events_after(&cid("dup"), 0, 100).await.unwrap();
    assert_eq!(events.len(), 1, "nothing of the refused batch is stored");
    for i in (0..32).filter(|i| *i != 16) {
        let row = store.conversation(&cid(&format!("ok-{i}"))).await.unwrap();
        assert_eq!(row.unwrap().last_seq, 2, "ok-{i}");
    }
    assert!(store.verify(None).await.unwrap().is_ok());
}

pub async fn a_stale_expected_seq_is_refused<E: Engine>() {
    let fresh = E::fresh();
    let store = fresh.store.as_ref();
    let head = append(store, "c-1", EMPTY, "a", &["one", "two"]).await;
    let stale = batch("c-1", EMPTY, "b", &["again"]);
    match store.append(stale).await {
        Err(StoreError::Conflict {
            expected, actual, ..
        }) => assert_eq!((expected, actual), (0, 2)),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let ahead = batch(
        "c-1",
        Head {
            seq: 5,
            hash: head.hash,
        },
        "c",
        &["ahead"],
    );
    assert!(matches!(
        store.append(ahead).await,
        Err(StoreError::Conflict { actual: 2, .. })
    ));
    assert_eq!(
        store.events_after(&cid("c-1"), 0, 100).await.unwrap().len(),
        2
    );
}

pub async fn ids_are_found_by_conversation<E: Engine>() {
    let fresh = E::fresh();
    let store = fresh.store.as_ref();
    let head = append(store, "c-1", EMPTY, "a", &["one", "two"]).await;
    append(store, "c-2", EMPTY, "a", &["other"]).await;
    let ids = [
        EventId::parse("a-2").unwrap(),
        EventId::parse("a-9").unwrap(),
    ];
    let found = store.find_event_ids(&cid("c-1"), &ids).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].seq, found[0].hash), (2, head.hash));
    // The same id in another conversation is another event.
    let found = store.find_event_ids(&cid("c-2"), &ids[..1]).await.unwrap();
    assert!(found.is_empty());
}

pub async fn concurrent_appends_to_one_conversation_never_fork_it<E: Engine>() {
    let fresh = E::fresh();
    let store: Arc<dyn Store> = Arc::clone(&fresh.store);
    let mut head = EMPTY;
    for round in 0..8 {
        let mut racers = Vec::new();
        for racer in 0..8 {
            let store = Arc::clone(&store);
            let batch = batch("c-1", head, &format!("r{round}x{racer}"), &["race"]);
            racers.push(tokio::spawn(async move { store.append(batch).await }));
        }
        let mut winners = Vec::new();
        for racer in racers {
            match racer.await.unwrap() {
                Ok(receipt) => winners.push(receipt),
                Err(StoreError::Conflict { .. }) => {}
                Err(other) => panic!("a racer failed otherwise: {other}"),
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "exactly one append takes seq {}",
            head.seq + 1
        );
        head = Head {
            seq: winners[0].last_seq,
            hash: winners[0].head,
        };
    }
    assert_eq!(head.seq, 8);
    let verified = store
        .verify(None)
        .await
        .unwrap()
        .expect("the chain verifies");
    assert_eq!(verified.events, 8);
}

pub async fn pages_are_bounded_by_count_and_bytes<E: Engine>() {
    let fresh = E::fresh();
    let store = fresh.store.as_ref();
    let big = "x".repeat(4000);
    let texts: Vec<&str> = (0..10).map(|_| big.as_str()).collect();
    append(store, "c-1", EMPTY, "a", &texts).await;

    let page = store.events_page(&cid("c-1"), 0, 3, 1 << 20).await.unwrap();
    assert_eq!(page.events.len(), 3);
    assert!(page.more);
    let page = store.events_page(&cid("c-1"), 0, 100, 9_000).await.unwrap();
    let bytes: usize = page.events.iter().map(|e| e.canonical.len()).sum();
    assert!(bytes <= 9_000, "a page stays under its byte cap ({bytes})");
    assert!(page.more && !page.events.is_empty());
    let page = store.events_page(&cid("c-1"), 0, 100, 10).await.unwrap();
    assert_eq!(page.events.len(), 1, "a page always moves on by one event");
    let page = store
        .events_page(&cid("c-1"), 8, 100, 1 << 20)
        .await
        .unwrap();
    assert_eq!(
        page.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [9, 10]
    );
    assert!(!page.more);

    let tail = store.events_tail(&cid("c-1"), 4, 1 << 20).await.unwrap();
    assert_eq!(
        tail.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [7, 8, 9, 10]
    );
    let tail = store.events_tail(&cid("c-1"), 100, 10).await.unwrap();
    assert_eq!(
        tail.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [10],
        "a tail always holds the last event"
    );
}

pub async fn acknowledged_appends_survive_a_reopen<E: Engine>() {
    let fresh = E::fresh();
    let head = append(fresh.store.as_ref(), "c-1", EMPTY, "a", &["one", "two"]).await;
    let place = fresh.place;
    drop(fresh.store);
    let reopened = E::reopen(place);
    let store = reopened.store.as_ref();
    let row = store.conversation(&cid("c-1")).await.unwrap().unwrap();
    assert_eq!((row.last_seq, row.head), (2, head.hash));
    let head = append(store, "c-1", head, "b", &["three"]).await;
    assert_eq!(head.seq, 3, "the log goes on after a reopen");
    let verified = store.verify(None).await.unwrap().expect("verifies");
    assert_eq!((verified.conversations, verified.events), (1, 3));
}

/// A store's leadership claim leads when nobody else holds it (the embedded store's
/// only node always does).
pub async fn a_lone_node_leads<E: Engine>() {
    let fresh = E::fresh();
    let claim = fresh.store.leadership();
    assert!(claim.try_lead().await.unwrap());
    assert!(claim.still_leads().await.unwrap());
}
