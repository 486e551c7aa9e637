//! Data keys: one per conversation, the first stored wins, a rotation rewraps every
//! live one in one go, and a destroyed key never comes back.

use baton_core::ConversationId;
use baton_store::{DataKeyRecord, Rewrap, StoreError};

use crate::engine::Engine;
use crate::seed::{EMPTY, Head, at, batch};

fn cid(name: &str) -> ConversationId {
    ConversationId::parse(name).unwrap()
}

fn record(conversation: &str, id: &str, wrapped: u8) -> DataKeyRecord {
    DataKeyRecord {
        conversation: cid(conversation),
        id: id.to_owned(),
        master: "mk_old".to_owned(),
        wrapped: Some(vec![wrapped; 60]),
        created_at: at(5),
        destroyed_at: None,
    }
}

pub async fn data_keys_are_stored_once_and_rewrapped<E: Engine>() {
    let fresh = E::fresh();
    let store = fresh.store.as_ref();
    assert!(store.data_key(&cid("c1")).await.unwrap().is_none());
    let first = store.put_data_key(record("c1", "dk_1", 1)).await.unwrap();
    assert_eq!(first, record("c1", "dk_1", 1));
    let raced = store.put_data_key(record("c1", "dk_2", 2)).await.unwrap();
    assert_eq!(raced, first, "the first key of a conversation stays");
    store.put_data_key(record("c2", "dk_3", 3)).await.unwrap();
    let ids: Vec<String> = store
        .data_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.id)
        .collect();
    assert_eq!(ids, ["dk_1", "dk_3"]);

    let rewrapped = store
        .rewrap_data_keys(vec![
            Rewrap {
                conversation: cid("c1"),
                master: "mk_new".into(),
                wrapped: vec![9; 60],
            },
            Rewrap {
                conversation: cid("c2"),
                master: "mk_new".into(),
                wrapped: vec![8; 60],
            },
        ])
        .await
        .unwrap();
    assert_eq!(rewrapped, 2);
    let fresh = E::reopen(fresh.place);
    let c1 = fresh.store.data_key(&cid("c1")).await.unwrap().unwrap();
    assert_eq!(
        (c1.id.as_str(), c1.master.as_str(), c1.wrapped),
        ("dk_1", "mk_new", Some(vec![9; 60])),
        "a rotation changes the wrapping, not the key id, and is durable"
    );
}

pub async fn a_destroyed_data_key_is_gone_and_stays_gone<E: Engine>() {
    let fresh = E::fresh();
    let store = fresh.store.as_ref();
    store.put_data_key(record("c1", "dk_1", 1)).await.unwrap();
    store.put_data_key(record("c2", "dk_2", 2)).await.unwrap();
    assert!(store.destroy_data_key(&cid("c1"), at(50)).await.unwrap());
    assert!(
        !store.destroy_data_key(&cid("c1"), at(60)).await.unwrap(),
        "a second erasure finds nothing to destroy"
    );
    assert!(!store.destroy_data_key(&cid("nope"), at(60)).await.unwrap());
    let gone = store.data_key(&cid("c1")).await.unwrap().unwrap();
    assert_eq!((gone.wrapped, gone.destroyed_at), (None, Some(at(50))));

    let again = store.put_data_key(record("c1", "dk_9", 9)).await.unwrap();
    assert_eq!(again.id, "dk_1", "a destroyed conversation gets no new key");
    assert_eq!(again.wrapped, None);
    let rewrapped = store
        .rewrap_data_keys(vec![Rewrap {
            conversation: cid("c1"),
            master: "mk_new".into(),
            wrapped: vec![7; 60],
        }])
        .await
        .unwrap();
    assert_eq!(rewrapped, 0, "a rotation cannot bring a destroyed key back");
    let other = store.data_key(&cid("c2")).await.unwrap().unwrap();
    assert_eq!(
        other.wrapped,
        Some(vec![2; 60]),
        "other conversations keep theirs"
    );
}

/// A conversation's first sealed batch brings its data key: stored in the batch's
/// transaction, so the key exists exactly when its events do.
pub async fn a_first_batch_stores_its_data_key_with_its_events_or_not_at_all<E: Engine>() {
    let fresh = E::fresh();
    let store: std::sync::Arc<dyn baton_store::Store> = std::sync::Arc::clone(&fresh.store);
    let mut first = batch("c1", EMPTY, "a", &["one", "two"]);
    first.data_key = Some(record("c1", "dk_1", 1));
    store.append(first).await.unwrap();
    assert_eq!(
        store.data_key(&cid("c1")).await.unwrap(),
        Some(record("c1", "dk_1", 1))
    );

    // Refused for its seq: no key either.
    let mut stale = batch("c2", Head { seq: 4, ..EMPTY }, "b", &["one"]);
    stale.data_key = Some(record("c2", "dk_2", 2));
    assert!(matches!(
        store.append(stale).await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(store.data_key(&cid("c2")).await.unwrap().is_none());

    // A key stored meanwhile (another node's) refuses the batch, whose events were
    // sealed under another key; a neighbour submitted at the same moment, sharing its
    // commit, is kept.
    store.put_data_key(record("c3", "dk_3", 3)).await.unwrap();
    let mut raced = batch("c3", EMPTY, "c", &["one"]);
    raced.data_key = Some(record("c3", "dk_other", 4));
    let mut neighbour = batch("c4", EMPTY, "d", &["one"]);
    neighbour.data_key = Some(record("c4", "dk_4", 5));
    let (raced, neighbour) = tokio::join!(store.append(raced), store.append(neighbour));
    assert!(
        matches!(raced, Err(StoreError::Conflict { .. })),
        "{raced:?}"
    );
    neighbour.unwrap();
    assert!(
        store
            .events_after(&cid("c3"), 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.conversation(&cid("c3")).await.unwrap().is_none());
    assert_eq!(
        store.data_key(&cid("c3")).await.unwrap().map(|k| k.id),
        Some("dk_3".to_owned())
    );
    assert_eq!(
        store.events_after(&cid("c4"), 0, 10).await.unwrap().len(),
        1
    );
    assert_eq!(
        store.data_key(&cid("c4")).await.unwrap().map(|k| k.id),
        Some("dk_4".to_owned())
    );

    // Durable with its events.
    let fresh = E::reopen(fresh.place);
    assert_eq!(
        fresh.store.data_key(&cid("c1")).await.unwrap(),
        Some(record("c1", "dk_1", 1))
    );
    assert!(fresh.store.verify(None).await.unwrap().is_ok());
}
