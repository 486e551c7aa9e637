//! The access log: batches chain in order into one chain (across batches, and across
//! nodes on a shared engine), reads filter by conversation, key, time and cursor, and
//! verification names an edited, deleted or truncated entry.

use std::sync::Arc;

use baton_core::access::{AccessEntry, AccessKind, PackageFormat};
use baton_core::id::{AgentId, KeyId};
use baton_core::ledger::BreakKind;
use baton_core::{Role, Timestamp};
use baton_store::{AccessQuery, Store};

use crate::engine::{Engine, Nodes};
use crate::seed::cid;

const KEY_A: &str = "key_00000000000000aa";
const KEY_B: &str = "key_00000000000000bb";

/// A read at `millis` by key `key` of conversation `conversation` (the feed when none).
fn read(millis: i64, key: &str, conversation: Option<&str>) -> AccessEntry {
    AccessEntry {
        at: Timestamp::from_unix_millis(1_700_000_000_000 + millis),
        key: KeyId::parse(key).unwrap(),
        role: Role::Agent,
        agent: Some(AgentId::parse("ana").unwrap()),
        conversation: conversation.map(cid),
        what: match conversation {
            Some(_) if millis % 2 == 0 => AccessKind::Package {
                format: PackageFormat::Html,
            },
            Some(_) => AccessKind::Events,
            None => AccessKind::Feed,
        },
        address: Some("192.0.2.7".parse().unwrap()),
    }
}

fn all() -> AccessQuery {
    AccessQuery {
        limit: 1000,
        ..AccessQuery::default()
    }
}

/// Six reads in three batches: two conversations, two keys, one feed read.
async fn six_reads(store: &dyn Store) {
    let last = store
        .append_access(vec![
            read(1, KEY_A, Some("c-1")),
            read(2, KEY_B, Some("c-2")),
        ])
        .await
        .unwrap();
    assert_eq!(last, 2);
    let last = store
        .append_access(vec![read(3, KEY_A, None), read(4, KEY_A, Some("c-2"))])
        .await
        .unwrap();
    assert_eq!(last, 4, "the second batch continues the numbering");
    let last = store
        .append_access(vec![
            read(5, KEY_B, Some("c-1")),
            read(6, KEY_A, Some("c-1")),
        ])
        .await
        .unwrap();
    assert_eq!(last, 6);
}

pub async fn access_batches_chain_in_order_and_read_back<E: Engine>() {
    let fresh = E::fresh();
    let store = fresh.store.as_ref();
    assert_eq!(store.append_access(Vec::new()).await.unwrap(), 0);
    six_reads(store).await;
    let entries = store.access_log(all()).await.unwrap();
    let numbers: Vec<u64> = entries.iter().map(|e| e.record.number).collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5, 6]);
    assert_eq!(entries[0].record.conversation, Some(cid("c-1")));
    assert_eq!(entries[2].record.what, AccessKind::Feed);
    assert_eq!(entries[2].record.conversation, None);
    assert_eq!(
        entries[1].record.what,
        AccessKind::Package {
            format: PackageFormat::Html
        }
    );
    assert_eq!(
        entries[1].record.address,
        Some("192.0.2.7".parse().unwrap())
    );
    let verified = store
        .verify(None)
        .await
        .unwrap()
        .expect("an untouched log verifies");
    assert_eq!(verified.access_entries, Some(6));
}

pub async fn access_reads_filter_by_conversation_key_time_and_cursor<E: Engine>() {
    let fresh = E::fresh();
    let store = fresh.store.as_ref();
    six_reads(store).await;
    let numbers = |entries: Vec<baton_store::StoredAccess>| -> Vec<u64> {
        entries.iter().map(|e| e.record.number).collect()
    };
    let of_c1 = AccessQuery {
        conversation: Some(cid("c-1")),
        ..all()
    };
    assert_eq!(
        numbers(store.access_log(of_c1.clone()).await.unwrap()),
        [1, 5, 6]
    );
    let key_a = AccessQuery {
        key: Some(KeyId::parse(KEY_A).unwrap()),
        ..all()
    };
    assert_eq!(
        numbers(store.access_log(key_a).await.unwrap()),
        [1, 3, 4, 6]
    );
    let both = AccessQuery {
        key: Some(KeyId::parse(KEY_B).unwrap()),
        ..of_c1.clone()
    };
    assert_eq!(numbers(store.access_log(both).await.unwrap()), [5]);
    let since = AccessQuery {
        since: Some(Timestamp::from_unix_millis(1_700_000_000_004)),
        ..all()
    };
    assert_eq!(numbers(store.access_log(since).await.unwrap()), [4, 5, 6]);
    let first_page = AccessQuery { limit: 2, ..all() };
    assert_eq!(numbers(store.access_log(first_page).await.unwrap()), [1, 2]);
    let next_page = AccessQuery {
        after: 2,
        limit: 2,
        ..all()
    };
    assert_eq!(numbers(store.access_log(next_page).await.unwrap()), [3, 4]);
    let paged_filter = AccessQuery {
        after: 1,
        limit: 1,
        ..of_c1
    };
    assert_eq!(numbers(store.access_log(paged_filter).await.unwrap()), [5]);
}

pub async fn an_edited_access_entry_is_named<E: Engine>() {
    let fresh = E::fresh();
    six_reads(fresh.store.as_ref()).await;
    let changed = fresh.tamper.raw(
        "UPDATE access_log SET body = replace(body, '\"role\":\"agent\"', '\"role\":\"admin\"') WHERE number = 4",
    );
    assert_eq!(changed, 1);
    let broken = fresh.store.verify(None).await.unwrap().unwrap_err();
    assert_eq!((broken.seq, broken.kind), (4, BreakKind::AccessLogMismatch));
    assert!(
        broken.message.starts_with("access log entry 4"),
        "{}",
        broken.message
    );
    assert!(
        fresh.store.verify(Some(cid("c-1"))).await.unwrap().is_ok(),
        "one conversation's ledger check does not read the access log"
    );
}

pub async fn a_deleted_access_entry_is_named<E: Engine>() {
    let fresh = E::fresh();
    six_reads(fresh.store.as_ref()).await;
    assert_eq!(
        fresh.tamper.raw("DELETE FROM access_log WHERE number = 3"),
        1
    );
    let broken = fresh.store.verify(None).await.unwrap().unwrap_err();
    assert_eq!((broken.seq, broken.kind), (3, BreakKind::AccessLogGap));
}

pub async fn a_truncated_access_log_is_caught<E: Engine>() {
    let fresh = E::fresh();
    six_reads(fresh.store.as_ref()).await;
    assert_eq!(
        fresh.tamper.raw("DELETE FROM access_log WHERE number >= 5"),
        2
    );
    let broken = fresh.store.verify(None).await.unwrap().unwrap_err();
    assert_eq!(
        (broken.seq, broken.kind),
        (5, BreakKind::AccessLogTruncated)
    );
}

/// Batches from two nodes, racing, still form one chain with no number twice.
pub async fn two_nodes_keep_one_access_chain<E: Nodes>() {
    let fresh = E::fresh();
    let nodes: [Arc<dyn Store>; 2] = [Arc::clone(&fresh.store), E::another_node(&fresh.place)];
    let mut writers = Vec::new();
    for writer in 0..8i64 {
        let store = Arc::clone(&nodes[(writer % 2) as usize]);
        writers.push(tokio::spawn(async move {
            for round in 0..5 {
                let at = writer * 100 + round * 10;
                store
                    .append_access(vec![
                        read(at, KEY_A, Some("c-1")),
                        read(at + 1, KEY_B, None),
                    ])
                    .await
                    .unwrap();
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let entries = nodes[1].access_log(all()).await.unwrap();
    let numbers: Vec<u64> = entries.iter().map(|e| e.record.number).collect();
    assert_eq!(numbers, (1..=80).collect::<Vec<u64>>());
    for pair in entries.chunks(2) {
        assert_eq!(
            pair[0].record.at.unix_millis() + 1,
            pair[1].record.at.unix_millis(),
            "a batch stays together in the chain"
        );
    }
    let verified = nodes[0]
        .verify(None)
        .await
        .unwrap()
        .expect("one chain verifies");
    assert_eq!(verified.access_entries, Some(80));
}
