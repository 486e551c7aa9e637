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

/// Writers on both nodes commit while a reader follows the feed from one of them: the
/// reader never skips an event that commits after it read past a higher position (the
/// sequence-versus-commit-order trap), and sees every event exactly once.
pub async fn a_feed_reader_never_skips_what_commits_behind_it<E: Nodes>() {
    let fresh = E::fresh();
    let nodes = [Arc::clone(&fresh.store), E::another_node(&fresh.place)];
    let mut writers = Vec::new();
    for conversation in 0..12 {
        let store = Arc::clone(&nodes[conversation % 2]);
        writers.push(tokio::spawn(async move {
            let name = format!("c-{conversation}");
            let mut head = EMPTY;
            for turn in 0..8 {
                let receipt = store
                    .append(batch(&name, head, &format!("t{turn}"), &["hello", "again"]))
                    .await
                    .expect("an append on its own conversation commits");
                head = Head {
                    seq: receipt.last_seq,
                    hash: receipt.head,
                };
            }
        }));
    }
    let reader = Arc::clone(&nodes[1]);
    let follow = tokio::spawn(async move {
        let mut after = 0;
        let mut seen: Vec<(String, u64)> = Vec::new();
        while seen.len() < 12 * 16 {
            let page = reader.feed_page(after, &[], 5, 1 << 20).await.unwrap();
            for event in page.events {
                assert!(event.position > after, "positions grow along the feed");
                after = event.position;
                seen.push((event.conversation.to_string(), event.event.seq));
            }
            tokio::task::yield_now().await;
        }
        (after, seen)
    });
    for writer in writers {
        writer.await.unwrap();
    }
    let (last, seen) = tokio::time::timeout(std::time::Duration::from_secs(60), follow)
        .await
        .expect("the reader catches up")
        .unwrap();
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no event twice");
    for conversation in 0..12 {
        let name = format!("c-{conversation}");
        let seqs: Vec<u64> = seen
            .iter()
            .filter(|(c, _)| *c == name)
            .map(|(_, s)| *s)
            .collect();
        assert_eq!(seqs, (1..=16).collect::<Vec<_>>(), "{name}: all, in order");
    }
    assert_eq!(nodes[0].feed_head().await.unwrap(), last);
}

/// Workers on both nodes claim from one outbox at once: no delivery is leased to two
/// of them, and a conversation's next delivery is claimable only once the one before
/// it is finished.
pub async fn two_nodes_never_claim_one_delivery<E: Nodes>() {
    use baton_core::webhook::EventFilter;
    use baton_store::{
        Attempt, Finish, OutboxEntry, Role, SigningSecret, WebhookId, WebhookRecord,
    };

    let fresh = E::fresh();
    let nodes = [Arc::clone(&fresh.store), E::another_node(&fresh.place)];
    let hook = WebhookRecord {
        id: WebhookId::from_random([7; 8]),
        url: "http://127.0.0.1:9/hook".to_owned(),
        events: EventFilter::parse(&["*"]).unwrap(),
        description: None,
        role: Role::Bot,
        secret: SigningSecret("whsec_c2VjcmV0".to_owned()),
        previous: None,
        created_at: crate::seed::at(0),
    };
    nodes[0].put_webhook(hook.clone()).await.unwrap();
    for conversation in 0..6 {
        let mut head = EMPTY;
        for turn in 0..4 {
            let mut b = batch(
                &format!("c-{conversation}"),
                head,
                &format!("t{turn}"),
                &["m"],
            );
            b.outbox = Some(OutboxEntry {
                state: "{}".to_owned(),
            });
            let receipt = nodes[conversation % 2].append(b).await.unwrap();
            head = Head {
                seq: receipt.last_seq,
                hash: receipt.head,
            };
        }
    }
    let now = crate::seed::at(1_000);
    let lease = crate::seed::at(2_000);
    // Fan the entries out first (a claim of none), so that each round's concurrent
    // claims race for deliveries, not for the fan-out.
    assert!(
        nodes[1]
            .claim_deliveries(now, lease, 0)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(nodes[0].outbox_stats().await.unwrap().unexpanded, 0);
    let mut delivered: Vec<(String, u64)> = Vec::new();
    for _round in 0..4 {
        let claims: Vec<_> = (0..6)
            .map(|worker| {
                let store = Arc::clone(&nodes[worker % 2]);
                tokio::spawn(async move { store.claim_deliveries(now, lease, 2).await.unwrap() })
            })
            .collect();
        let mut round: Vec<baton_store::Delivery> = Vec::new();
        for claim in claims {
            round.extend(claim.await.unwrap());
        }
        let mut ids: Vec<u64> = round.iter().map(|d| d.id).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), before, "a delivery leased twice");
        let mut conversations: Vec<String> =
            round.iter().map(|d| d.conversation.to_string()).collect();
        conversations.sort();
        conversations.dedup();
        assert_eq!(
            conversations.len(),
            round.len(),
            "one delivery in flight per conversation"
        );
        assert_eq!(
            round.len(),
            6,
            "every conversation's next delivery is claimed"
        );
        for d in round {
            delivered.push((d.conversation.to_string(), d.seq));
            let attempt = Attempt {
                at: now,
                status: Some(204),
                error: None,
            };
            nodes[1]
                .finish_delivery(d.id, attempt, Finish::Delivered)
                .await
                .unwrap();
        }
    }
    for conversation in 0..6 {
        let name = format!("c-{conversation}");
        let seqs: Vec<u64> = delivered
            .iter()
            .filter(|(c, _)| *c == name)
            .map(|(_, s)| *s)
            .collect();
        assert_eq!(seqs, [1, 2, 3, 4], "{name} delivered in order");
    }
    assert!(
        nodes[0]
            .claim_deliveries(now, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// One leader at a time among the nodes; when it goes, another takes over.
pub async fn one_node_leads_and_another_takes_over_when_it_goes<E: Nodes>() {
    let fresh = E::fresh();
    let other = E::another_node(&fresh.place);
    let first = fresh.store.leadership();
    let second = other.leadership();
    assert!(first.try_lead().await.unwrap(), "the first claim leads");
    assert!(
        first.try_lead().await.unwrap(),
        "asking again keeps the lead"
    );
    assert!(
        !second.try_lead().await.unwrap(),
        "a second node does not lead meanwhile"
    );
    assert!(first.still_leads().await.unwrap());
    assert!(!second.still_leads().await.unwrap());
    // The leader dies: its session ends and the lock is free. Polled, since the
    // server notices a closed connection asynchronously.
    drop(first);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !second.try_lead().await.unwrap() {
        assert!(
            std::time::Instant::now() < deadline,
            "another node leads once the leader is gone"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let third = fresh.store.leadership();
    assert!(!third.try_lead().await.unwrap(), "still one leader");
    second.resign().await.unwrap();
    assert!(!second.still_leads().await.unwrap());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !third.try_lead().await.unwrap() {
        assert!(
            std::time::Instant::now() < deadline,
            "a resigned lead is free"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
