//! Capacity claims: a batch that assigns its conversation to an agent is refused,
//! whole, when the agent already owns as many others as their capacity; racing
//! claims on several nodes never take an agent over it.

use std::sync::Arc;

use baton_core::{AgentId, Owner};
use baton_store::{AgentClaim, AppendBatch, ConversationFilter, Store, StoreError};

use crate::engine::{Engine, Nodes};
use crate::seed::{EMPTY, Head, Summary, batch, batch_with, cid};

fn ana() -> AgentId {
    AgentId::parse("ana").unwrap()
}

/// A batch after `head` that hands `conversation` to ana, claiming `capacity`.
fn assigning(conversation: &str, head: Head, prefix: &str, capacity: u32) -> AppendBatch {
    let summary = Summary {
        owner: Some(Owner::Agent),
        agent: Some("ana"),
        ..Summary::default()
    };
    let mut batch = batch_with(conversation, head, prefix, &["assign"], &summary);
    batch.claim = Some(AgentClaim {
        agent: ana(),
        capacity,
    });
    batch
}

async fn started(store: &dyn Store, conversation: &str) -> Head {
    let receipt = store
        .append(batch(conversation, EMPTY, "s", &["hello"]))
        .await
        .unwrap();
    Head {
        seq: receipt.last_seq,
        hash: receipt.head,
    }
}

async fn owned_by_ana(store: &dyn Store) -> usize {
    let filter = ConversationFilter {
        owners: vec![Owner::Agent],
        ..Default::default()
    };
    let rows = store.conversations(filter).await.unwrap();
    rows.iter()
        .filter(|row| row.summary.agent.as_ref() == Some(&ana()))
        .count()
}

/// Claims up to capacity pass; the next is refused with nothing written; a claim on
/// a conversation the agent owns already does not count it twice; a release frees
/// the slot.
pub async fn a_claim_beyond_capacity_is_refused<E: Engine>() {
    let fresh = E::fresh();
    let store = fresh.store.as_ref();
    let mut heads = Vec::new();
    for c in ["c-1", "c-2", "c-3"] {
        heads.push(started(store, c).await);
    }
    for (c, head) in ["c-1", "c-2"].iter().zip(&heads) {
        store.append(assigning(c, *head, "a", 2)).await.unwrap();
    }
    match store.append(assigning("c-3", heads[2], "a", 2)).await {
        Err(StoreError::AtCapacity { agent, capacity }) => {
            assert_eq!((agent.as_str(), capacity), ("ana", 2));
        }
        other => panic!("a third claim at capacity 2 is refused, got {other:?}"),
    }
    let c3 = store.conversation(&cid("c-3")).await.unwrap().unwrap();
    assert_eq!(c3.last_seq, 1, "nothing of the refused batch is written");
    assert_eq!(c3.summary.owner, Owner::Bot);
    // Ana owns c-1: claiming it again counts the other one only.
    let c1 = store.conversation(&cid("c-1")).await.unwrap().unwrap();
    let c1_head = Head {
        seq: c1.last_seq,
        hash: c1.head,
    };
    let receipt = store
        .append(assigning("c-1", c1_head, "again", 2))
        .await
        .unwrap();
    // Released: c-1 goes back to the bot, and c-3's claim fits.
    let released = batch(
        "c-1",
        Head {
            seq: receipt.last_seq,
            hash: receipt.head,
        },
        "r",
        &["bye"],
    );
    store.append(released).await.unwrap();
    store
        .append(assigning("c-3", heads[2], "b", 2))
        .await
        .unwrap();
    assert_eq!(owned_by_ana(store).await, 2);
}

/// Claims for one agent race on two nodes, each for its own conversation: exactly
/// `capacity` of them commit, the others are refused, whatever the interleaving.
pub async fn claims_racing_on_two_nodes_never_exceed_capacity<E: Nodes>() {
    let fresh = E::fresh();
    let nodes = [Arc::clone(&fresh.store), E::another_node(&fresh.place)];
    for round in 0..4 {
        let mut racers = Vec::new();
        for racer in 0..6 {
            let store = Arc::clone(&nodes[racer % 2]);
            let name = format!("r{round}-c{racer}");
            let head = started(store.as_ref(), &name).await;
            let claim = assigning(&name, head, "a", 2);
            racers.push(tokio::spawn(async move { store.append(claim).await }));
        }
        let mut won = 0;
        for racer in racers {
            match racer.await.unwrap() {
                Ok(_) => won += 1,
                Err(StoreError::AtCapacity { .. }) => {}
                Err(other) => panic!("a claim failed otherwise: {other}"),
            }
        }
        assert_eq!(won, 2, "round {round}: as many claims as the capacity");
        assert_eq!(owned_by_ana(nodes[round % 2].as_ref()).await, 2);
        // Ana lets go of everything before the next round.
        let filter = ConversationFilter {
            owners: vec![Owner::Agent],
            ..Default::default()
        };
        for row in nodes[0].conversations(filter).await.unwrap() {
            let head = Head {
                seq: row.last_seq,
                hash: row.head,
            };
            let name = row.id.as_str().to_owned();
            nodes[0]
                .append(batch(&name, head, "bye", &["bye"]))
                .await
                .unwrap();
        }
    }
}
