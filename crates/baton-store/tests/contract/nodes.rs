//! Two handles on one store, as two baton nodes open it: their appends to one
//! conversation never fork it, and their commits chain one checkpoint chain.

use std::sync::Arc;

use baton_store::{AppendReceipt, StoreError};

use crate::engine::Nodes;
use crate::seed::{EMPTY, Head, batch, cid};

/// Racers on both nodes append after the same head, round after round.
pub async fn two_nodes_appending_to_one_conversation_never_fork_it<E: Nodes>() {
    let fresh = E::fresh();
    let nodes = [Arc::clone(&fresh.store), E::another_node(&fresh.place)];
    let mut head = EMPTY;
    for round in 0..8 {
        let mut racers = Vec::new();
        for racer in 0..6 {
            let store = Arc::clone(&nodes[racer % 2]);
            let batch = batch("c-1", head, &format!("r{round}x{racer}"), &["race"]);
            racers.push(tokio::spawn(async move { store.append(batch).await }));
        }
        let mut winners = Vec::new();
        for racer in racers {
            match racer.await.unwrap() {
                Ok(receipt) => winners.push(receipt),
                Err(StoreError::Conflict { actual, .. }) => assert_eq!(actual, head.seq + 1),
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
    for node in &nodes {
        let verified = node
            .verify(None)
            .await
            .unwrap()
            .expect("the chain verifies");
        assert_eq!(verified.events, 8);
        let row = node.conversation(&cid("c-1")).await.unwrap().unwrap();
        assert_eq!((row.last_seq, row.head), (8, head.hash));
    }
}

/// Many conversations appended on both nodes at once: every receipt names a place in
/// one checkpoint chain, and that chain verifies.
pub async fn two_nodes_keep_one_checkpoint_chain<E: Nodes>() {
    let fresh = E::fresh();
    let nodes = [Arc::clone(&fresh.store), E::another_node(&fresh.place)];
    let mut writers = Vec::new();
    for conversation in 0..16 {
        let store = Arc::clone(&nodes[conversation % 2]);
        writers.push(tokio::spawn(async move {
            let name = format!("c-{conversation}");
            let mut head = EMPTY;
            let mut receipts: Vec<AppendReceipt> = Vec::new();
            for turn in 0..5 {
                let receipt = store
                    .append(batch(&name, head, &format!("t{turn}"), &["hello", "again"]))
                    .await
                    .expect("an append on its own conversation commits");
                head = Head {
                    seq: receipt.last_seq,
                    hash: receipt.head,
                };
                receipts.push(receipt);
            }
            receipts
        }));
    }
    let mut numbers = Vec::new();
    for writer in writers {
        numbers.extend(writer.await.unwrap().into_iter().map(|r| r.checkpoint));
    }
    let verified = fresh
        .store
        .verify(None)
        .await
        .unwrap()
        .expect("one chain, verified");
    assert_eq!((verified.conversations, verified.events), (16, 160));
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(
        numbers.last().copied(),
        Some(verified.checkpoints),
        "the last commit's checkpoint is the chain's last"
    );
    assert!(numbers.first().is_some_and(|first| *first >= 1));
}

/// Both nodes start the same conversation at once: one wins, the other is told the
/// conversation moved on.
pub async fn two_nodes_creating_one_conversation_agree_on_one_winner<E: Nodes>() {
    let fresh = E::fresh();
    let nodes = [Arc::clone(&fresh.store), E::another_node(&fresh.place)];
    for n in 0..10 {
        let name = format!("new-{n}");
        let racers: Vec<_> = nodes
            .iter()
            .enumerate()
            .map(|(node, store)| {
                let store = Arc::clone(store);
                let batch = batch(&name, EMPTY, &format!("n{node}"), &["first", "second"]);
                tokio::spawn(async move { store.append(batch).await })
            })
            .collect();
        let mut won = 0;
        for racer in racers {
            match racer.await.unwrap() {
                Ok(receipt) => {
                    won += 1;
                    assert_eq!(receipt.last_seq, 2);
                }
                Err(StoreError::Conflict { actual, .. }) => assert_eq!(actual, 2),
                Err(other) => panic!("a racer failed otherwise: {other}"),
            }
        }
        assert_eq!(won, 1, "exactly one node creates {name}");
    }
    let verified = nodes[1].verify(None).await.unwrap().expect("verifies");
    assert_eq!((verified.conversations, verified.events), (10, 20));
}
