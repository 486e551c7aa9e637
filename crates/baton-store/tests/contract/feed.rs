//! The global feed: every stored event has a position, positions grow in commit
//! order, pages after a position are bounded like a conversation's pages, a type filter
//! applies, and positions survive a reopen.

use std::sync::Arc;

use baton_core::EventId;
use baton_store::Store;

use crate::engine::Engine;
use crate::seed::{EMPTY, Head, append, batch, cid};

fn positions(page: &baton_store::FeedPage) -> Vec<u64> {
    page.events.iter().map(|e| e.position).collect()
}

pub async fn positions_follow_commit_order_across_conversations<E: Engine>() {
    let fresh = E::fresh();
    let store = fresh.store.as_ref();
    assert_eq!(
        store.feed_head().await.unwrap(),
        0,
        "an empty store is at 0"
    );
    let one = append(store, "c-1", EMPTY, "a", &["one", "two"]).await;
    let two = append(store, "c-2", EMPTY, "a", &["three"]).await;
    append(store, "c-1", one, "b", &["four"]).await;
    // A refused batch takes no position.
    let mut refused = batch("c-2", two, "b", &["x", "y"]);
    refused.events[1].id = EventId::parse("a-1").unwrap();
    assert!(store.append(refused).await.is_err());

    let page = store.feed_page(0, &[], 100, 1 << 20).await.unwrap();
    assert!(!page.more);
    let order: Vec<(String, u64)> = page
        .events
        .iter()
        .map(|e| (e.conversation.to_string(), e.event.seq))
        .collect();
    assert_eq!(
        order,
        [
            ("c-1".to_owned(), 1),
            ("c-1".to_owned(), 2),
            ("c-2".to_owned(), 1),
            ("c-1".to_owned(), 3)
        ]
    );
    let all = positions(&page);
    assert!(all.windows(2).all(|w| w[0] < w[1]), "{all:?}");
    assert_eq!(store.feed_head().await.unwrap(), all[3]);
    assert!(page.events[3].event.canonical.contains("\"four\""));
    let stored = store.events_after(&cid("c-1"), 2, 1).await.unwrap();
    assert_eq!(
        page.events[3].event, stored[0],
        "the feed serves the stored event"
    );

    let rest = store.feed_page(all[1], &[], 100, 1 << 20).await.unwrap();
    assert_eq!(positions(&rest), all[2..]);
    let none = store.feed_page(u64::MAX, &[], 100, 1 << 20).await.unwrap();
    assert!(none.events.is_empty() && !none.more);
    let limited = store.feed_page(0, &[], 2, 1 << 20).await.unwrap();
    assert_eq!(
        (positions(&limited), limited.more),
        (all[..2].to_vec(), true)
    );
    let tiny = store.feed_page(0, &[], 100, 1).await.unwrap();
    assert_eq!(tiny.events.len(), 1, "a page always moves on by one event");
    assert!(tiny.more);
    let none_of_kind = store
        .feed_page(0, &["decision"], 100, 1 << 20)
        .await
        .unwrap();
    assert!(none_of_kind.events.is_empty());
    let messages = store
        .feed_page(0, &["decision", "customer_message"], 100, 1 << 20)
        .await
        .unwrap();
    assert_eq!(messages.events.len(), 4);
}

pub async fn concurrent_commits_get_increasing_positions<E: Engine>() {
    let fresh = E::fresh();
    let store: Arc<dyn Store> = Arc::clone(&fresh.store);
    let mut writers = Vec::new();
    for w in 0..8 {
        let store = Arc::clone(&store);
        writers.push(tokio::spawn(async move {
            let cid = format!("c-{w}");
            let mut head = EMPTY;
            for round in 0..10 {
                head = append(store.as_ref(), &cid, head, &format!("r{round}"), &["m"]).await;
            }
            head
        }));
    }
    for writer in writers {
        assert_eq!(writer.await.unwrap().seq, 10);
    }
    let mut after = 0;
    let mut seen = Vec::new();
    loop {
        let page = store.feed_page(after, &[], 7, 1 << 20).await.unwrap();
        for event in &page.events {
            assert!(event.position > after);
            after = event.position;
            seen.push((event.conversation.to_string(), event.event.seq));
        }
        if !page.more {
            break;
        }
    }
    assert_eq!(seen.len(), 80, "every event once");
    for w in 0..8 {
        let cid = format!("c-{w}");
        let seqs: Vec<u64> = seen
            .iter()
            .filter(|(c, _)| *c == cid)
            .map(|(_, s)| *s)
            .collect();
        assert_eq!(seqs, (1..=10).collect::<Vec<_>>(), "{cid} in seq order");
    }
}

pub async fn positions_survive_a_reopen<E: Engine>() {
    let fresh = E::fresh();
    let head = append(fresh.store.as_ref(), "c-1", EMPTY, "a", &["one", "two"]).await;
    let before = fresh.store.feed_page(0, &[], 10, 1 << 20).await.unwrap();
    let place = fresh.place;
    drop(fresh.store);
    let reopened = E::reopen(place);
    let store = reopened.store.as_ref();
    let after = store.feed_page(0, &[], 10, 1 << 20).await.unwrap();
    assert_eq!(after, before, "same positions after a reopen");
    append(store, "c-1", Head { ..head }, "b", &["three"]).await;
    let last = before.events.last().unwrap().position;
    let next = store.feed_page(last, &[], 10, 1 << 20).await.unwrap();
    assert_eq!(next.events.len(), 1);
    assert!(next.events[0].position > last, "positions go on growing");
}
