//! Webhook subscriptions and the delivery outbox: deliveries are written atomically
//! with their batch, claimed under a lease in per-conversation order, completed,
//! retried later, dead-lettered, replayed, and counted.

use baton_core::EventId;
use baton_core::webhook::EventFilter;
use baton_store::{
    AppendBatch, Attempt, DeliveryQuery, DeliveryStatus, Finish, OutboxEntry, Role, SigningSecret,
    Store, WebhookId, WebhookRecord,
};

use crate::engine::Engine;
use crate::seed::{EMPTY, Head, Summary, at, batch_with};

fn webhook(n: u8) -> WebhookRecord {
    WebhookRecord {
        id: WebhookId::from_random([n; 8]),
        url: format!("http://127.0.0.1:9/hook{n}"),
        events: EventFilter::parse(&["*"]).unwrap(),
        description: Some("desk".to_owned()),
        role: Role::Bot,
        secret: SigningSecret("whsec_c2VjcmV0".to_owned()),
        previous: None,
        created_at: at(n as i64),
    }
}

/// A batch of customer messages committed at `at(10)` (after the test's
/// subscriptions are made), with its outbox entry.
fn with_outbox(conversation: &str, head: Head, prefix: &str, texts: &[&str]) -> AppendBatch {
    with_outbox_at(conversation, head, prefix, texts, 10)
}

/// [`with_outbox`] committed at `at(committed)`.
fn with_outbox_at(
    conversation: &str,
    head: Head,
    prefix: &str,
    texts: &[&str],
    committed: i64,
) -> AppendBatch {
    let summary = Summary {
        updated: committed,
        ..Summary::default()
    };
    let mut batch = batch_with(conversation, head, prefix, texts, &summary);
    batch.outbox = Some(OutboxEntry {
        state: r#"{"owner":"bot"}"#.to_owned(),
    });
    batch
}

async fn append(store: &dyn Store, batch: AppendBatch) -> Head {
    let receipt = store.append(batch).await.unwrap();
    Head {
        seq: receipt.last_seq,
        hash: receipt.head,
    }
}

fn delivered(n: i64) -> Attempt {
    Attempt {
        at: at(n),
        status: Some(200),
        error: None,
    }
}

fn lines(claimed: &[baton_store::Delivery]) -> Vec<(String, u64)> {
    let mut lines: Vec<(String, u64)> = claimed
        .iter()
        .map(|d| (d.conversation.to_string(), d.seq))
        .collect();
    lines.sort();
    lines
}

pub async fn subscriptions_are_stored_replaced_and_deleted<E: Engine>() {
    let fresh = E::fresh();
    let store = fresh.store.as_ref();
    let (one, two) = (webhook(1), webhook(2));
    store.put_webhook(one.clone()).await.unwrap();
    store.put_webhook(two.clone()).await.unwrap();
    assert_eq!(store.webhooks().await.unwrap(), [one.clone(), two.clone()]);
    let rotated = WebhookRecord {
        secret: SigningSecret("whsec_bmV3".to_owned()),
        previous: Some((one.secret.clone(), at(100))),
        events: EventFilter::parse(&["assigned", "decision"]).unwrap(),
        ..one.clone()
    };
    store.put_webhook(rotated.clone()).await.unwrap();
    assert_eq!(store.webhooks().await.unwrap(), [rotated, two.clone()]);
    append(store, with_outbox("c-1", EMPTY, "a", &["hi"])).await;
    let claimed = store
        .claim_deliveries(at(1000), at(1100), 10)
        .await
        .unwrap();
    assert_eq!(
        claimed.iter().map(|d| &d.webhook).collect::<Vec<_>>(),
        [&two.id],
        "only the subscription whose filter wants a customer message"
    );
    assert!(store.delete_webhook(&two.id).await.unwrap());
    assert!(
        !store.delete_webhook(&two.id).await.unwrap(),
        "gone already"
    );
    assert_eq!(store.webhooks().await.unwrap().len(), 1);
    assert!(
        store
            .claim_deliveries(at(1200), at(1300), 10)
            .await
            .unwrap()
            .is_empty(),
        "a deleted subscription's deliveries go with it"
    );
    // With no subscription left, an entry recorded meanwhile has nobody to wait for.
    append(store, with_outbox("c-2", EMPTY, "a", &["hi"])).await;
    store.delete_webhook(&one.id).await.unwrap();
    let stats = store.outbox_stats().await.unwrap();
    assert_eq!((stats.pending, stats.unexpanded), (0, 0));
    assert_eq!(stats.oldest_pending, None);
}

pub async fn deliveries_are_written_with_their_batch_or_not_at_all<E: Engine>() {
    let fresh = E::fresh();
    let store = fresh.store.as_ref();
    let hook = webhook(1);
    store.put_webhook(hook.clone()).await.unwrap();
    let head = append(store, with_outbox("c-1", EMPTY, "a", &["one"])).await;
    // A refused batch (a reused id) writes none of its deliveries.
    let mut refused = with_outbox("c-1", head, "b", &["two", "three"]);
    refused.events[1].id = EventId::parse("a-1").unwrap();
    assert!(store.append(refused).await.is_err());
    let stale = with_outbox("c-1", EMPTY, "c", &["again"]);
    assert!(store.append(stale).await.is_err());
    let recorded = store.outbox_stats().await.unwrap();
    assert_eq!(
        (recorded.pending, recorded.unexpanded),
        (0, 1),
        "one entry, not yet fanned out"
    );
    assert_eq!(recorded.oldest_pending, Some(at(10)));
    let claimed = store
        .claim_deliveries(at(1000), at(1100), 10)
        .await
        .unwrap();
    assert_eq!(lines(&claimed), [("c-1".to_owned(), 1)]);
    let d = &claimed[0];
    assert_eq!(
        (d.kind.as_str(), d.status, d.webhook.clone()),
        ("customer_message", DeliveryStatus::Pending, hook.id.clone())
    );
    assert_eq!(d.state, r#"{"owner":"bot"}"#);
    assert_eq!(d.created_at, at(10), "committed with its entry");
    let stats = store.outbox_stats().await.unwrap();
    assert_eq!((stats.pending, stats.unexpanded, stats.dead), (1, 0, 0));
    assert_eq!(stats.oldest_pending, Some(at(10)));
}

pub async fn a_conversation_is_delivered_in_order_and_others_are_not_held_up<E: Engine>() {
    let fresh = E::fresh();
    let store = fresh.store.as_ref();
    let one = webhook(1);
    store.put_webhook(one.clone()).await.unwrap();
    append(store, with_outbox("c-1", EMPTY, "a", &["1", "2", "3"])).await;
    // Made after c-1's commit: it receives c-2's event, not c-1's.
    let two = WebhookRecord {
        created_at: at(15),
        ..webhook(2)
    };
    store.put_webhook(two).await.unwrap();
    append(store, with_outbox_at("c-2", EMPTY, "a", &["1"], 30)).await;
    let now = at(1000);
    let first = store.claim_deliveries(now, at(1100), 10).await.unwrap();
    assert_eq!(
        lines(&first),
        [
            ("c-1".to_owned(), 1),
            ("c-2".to_owned(), 1),
            ("c-2".to_owned(), 1)
        ],
        "one in flight per conversation and webhook"
    );
    assert!(
        store
            .claim_deliveries(now, at(1100), 10)
            .await
            .unwrap()
            .is_empty(),
        "leased deliveries are not claimed twice, and c-1's next waits for its first"
    );
    let c1 = first
        .iter()
        .find(|d| d.conversation.as_str() == "c-1")
        .unwrap();
    store
        .finish_delivery(c1.id, delivered(1001), Finish::Delivered)
        .await
        .unwrap();
    let next = store.claim_deliveries(now, at(1100), 10).await.unwrap();
    assert_eq!(lines(&next), [("c-1".to_owned(), 2)]);
    // A lapsed lease (a worker that died) makes the delivery claimable again.
    let again = store
        .claim_deliveries(at(1200), at(1300), 10)
        .await
        .unwrap();
    assert_eq!(
        lines(&again),
        [
            ("c-1".to_owned(), 2),
            ("c-2".to_owned(), 1),
            ("c-2".to_owned(), 1)
        ]
    );
}

pub async fn a_failed_try_waits_for_its_retry_then_dead_letters_and_replays<E: Engine>() {
    let fresh = E::fresh();
    let store = fresh.store.as_ref();
    let hook = webhook(1);
    store.put_webhook(hook.clone()).await.unwrap();
    append(store, with_outbox("c-1", EMPTY, "a", &["1", "2"])).await;
    let first = store
        .claim_deliveries(at(1000), at(1100), 10)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    let failed = Attempt {
        at: at(1000),
        status: Some(503),
        error: None,
    };
    store
        .finish_delivery(first[0].id, failed.clone(), Finish::RetryAt(at(1060)))
        .await
        .unwrap();
    assert!(
        store
            .claim_deliveries(at(1030), at(1130), 10)
            .await
            .unwrap()
            .is_empty(),
        "not before its retry, and seq 2 waits behind it"
    );
    let retried = store
        .claim_deliveries(at(1060), at(1160), 10)
        .await
        .unwrap();
    assert_eq!((retried.len(), retried[0].id), (1, first[0].id));
    let refused = Attempt {
        at: at(1060),
        status: None,
        error: Some("connection refused".to_owned()),
    };
    store
        .finish_delivery(retried[0].id, refused.clone(), Finish::Dead)
        .await
        .unwrap();
    // The dead letter no longer holds the conversation up.
    let next = store
        .claim_deliveries(at(1061), at(1161), 10)
        .await
        .unwrap();
    assert_eq!(lines(&next), [("c-1".to_owned(), 2)]);
    store
        .finish_delivery(next[0].id, delivered(1062), Finish::Delivered)
        .await
        .unwrap();

    let query = |status| DeliveryQuery {
        webhook: hook.id.clone(),
        status,
        before: None,
        limit: 10,
    };
    let dead = store
        .deliveries(query(Some(DeliveryStatus::Dead)))
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, [failed, refused]);
    let all = store.deliveries(query(None)).await.unwrap();
    assert_eq!(
        all.iter().map(|d| d.seq).collect::<Vec<_>>(),
        [2, 1],
        "newest first"
    );
    let older = store
        .deliveries(DeliveryQuery {
            before: Some(all[0].id),
            ..query(None)
        })
        .await
        .unwrap();
    assert_eq!(older.len(), 1);
    let stats = store.outbox_stats().await.unwrap();
    assert_eq!((stats.pending, stats.dead), (0, 1));

    // A replay sends both again, in a new series, in order.
    let replayed = store
        .replay_deliveries(&hook.id, at(0), at(2000))
        .await
        .unwrap();
    assert_eq!(replayed, 2);
    let again = store
        .claim_deliveries(at(2000), at(2100), 10)
        .await
        .unwrap();
    assert_eq!(lines(&again), [("c-1".to_owned(), 1)]);
    assert_eq!(again[0].series_start, at(2000));
    let none = store
        .replay_deliveries(&hook.id, at(5000), at(2000))
        .await
        .unwrap();
    assert_eq!(none, 0, "nothing committed since then");
}

/// More entries than one claim fans out: every event still reaches the receiver once,
/// in each conversation's order, and the outbox ends empty.
pub async fn a_backlog_fans_out_in_order<E: Engine>() {
    let fresh = E::fresh();
    let store = fresh.store.as_ref();
    let hook = webhook(1);
    store.put_webhook(hook.clone()).await.unwrap();
    let entries = baton_store::FAN_OUT_PER_CLAIM as usize + 6;
    let mut heads = [EMPTY, EMPTY];
    for n in 0..entries {
        let conversation = n % 2;
        heads[conversation] = append(
            store,
            with_outbox(
                &format!("c-{conversation}"),
                heads[conversation],
                "a",
                &["m"],
            ),
        )
        .await;
    }
    assert_eq!(
        store.outbox_stats().await.unwrap().unexpanded,
        entries as u64
    );
    let mut delivered: Vec<(String, u64)> = Vec::new();
    for round in 0..(2 * entries) {
        let now = at(1000 + round as i64);
        let claimed = store
            .claim_deliveries(now, now.plus_millis(500), 100)
            .await
            .unwrap();
        if claimed.is_empty() && store.outbox_stats().await.unwrap().unexpanded == 0 {
            break;
        }
        for d in claimed {
            delivered.push((d.conversation.to_string(), d.seq));
            store
                .finish_delivery(d.id, delivered_at(now), Finish::Delivered)
                .await
                .unwrap();
        }
    }
    for conversation in ["c-0", "c-1"] {
        let seqs: Vec<u64> = delivered
            .iter()
            .filter(|(c, _)| c == conversation)
            .map(|(_, s)| *s)
            .collect();
        assert_eq!(
            seqs,
            (1..=(entries / 2) as u64).collect::<Vec<_>>(),
            "{conversation}: every event once, in order"
        );
    }
    let stats = store.outbox_stats().await.unwrap();
    assert_eq!((stats.pending, stats.unexpanded), (0, 0));
}

fn delivered_at(now: baton_core::Timestamp) -> Attempt {
    Attempt {
        at: now,
        status: Some(200),
        error: None,
    }
}
