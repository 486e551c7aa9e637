//! API keys and console sessions: only hashes are stored; expiry and revocation are
//! the store's to record, and the last working admin key is never revoked.

use baton_store::{KeyId, KeyRecord, RevokeOutcome, Role, SessionRecord};

use crate::engine::Engine;
use crate::seed::at;

fn key(n: u8, role: Role, expires: Option<i64>) -> KeyRecord {
    KeyRecord {
        id: KeyId::from_random([n; 8]),
        hash: [n; 32],
        role,
        agent: (role == Role::Agent).then(|| baton_core::AgentId::parse("ana").unwrap()),
        name: None,
        created_at: at(i64::from(n)),
        expires_at: expires.map(at),
        revoked_at: None,
    }
}

pub async fn keys_are_found_by_hash_and_listed_oldest_first<E: Engine>() {
    let fresh = E::fresh();
    let store = fresh.store.as_ref();
    assert_eq!(store.admin_key_count(at(0)).await.unwrap(), 0);
    store.insert_key(key(2, Role::Agent, None)).await.unwrap();
    store.insert_key(key(1, Role::Admin, None)).await.unwrap();
    store
        .insert_key(key(3, Role::Admin, Some(100)))
        .await
        .unwrap();

    let found = store.find_key(&[2; 32]).await.unwrap().unwrap();
    assert_eq!(found, key(2, Role::Agent, None), "a key reads back whole");
    assert!(store.find_key(&[9; 32]).await.unwrap().is_none());
    let listed: Vec<u8> = store
        .keys()
        .await
        .unwrap()
        .iter()
        .map(|k| k.hash[0])
        .collect();
    assert_eq!(listed, [1, 2, 3], "oldest first");
    assert_eq!(store.admin_key_count(at(50)).await.unwrap(), 2);
    assert_eq!(
        store.admin_key_count(at(100)).await.unwrap(),
        1,
        "an expired admin key does not count"
    );
}

pub async fn revoking_records_once_and_spares_the_last_admin<E: Engine>() {
    let fresh = E::fresh();
    let store = fresh.store.as_ref();
    let (first, second, agent) = (
        key(1, Role::Admin, None),
        key(2, Role::Admin, None),
        key(3, Role::Agent, None),
    );
    for k in [&first, &second, &agent] {
        store.insert_key(k.clone()).await.unwrap();
    }
    store
        .insert_session(SessionRecord {
            hash: [7; 32],
            key_hash: agent.hash,
            created_at: at(10),
            expires_at: at(1000),
        })
        .await
        .unwrap();

    match store.revoke_key(&agent.id, at(20)).await.unwrap() {
        RevokeOutcome::Revoked(record) => assert_eq!(record.revoked_at, Some(at(20))),
        other => panic!("expected a revocation, got {other:?}"),
    }
    assert!(
        store.find_session(&[7; 32]).await.unwrap().is_none(),
        "revoking a key ends its sessions"
    );
    let again = store.revoke_key(&agent.id, at(30)).await.unwrap();
    assert!(
        matches!(&again, RevokeOutcome::AlreadyRevoked(r) if r.revoked_at == Some(at(20))),
        "a second revocation changes nothing: {again:?}"
    );
    assert!(matches!(
        store.revoke_key(&first.id, at(40)).await.unwrap(),
        RevokeOutcome::Revoked(_)
    ));
    assert_eq!(
        store.revoke_key(&second.id, at(50)).await.unwrap(),
        RevokeOutcome::LastAdmin
    );
    assert!(
        store
            .find_key(&second.hash)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_none()
    );
    assert_eq!(
        store
            .revoke_key(&KeyId::from_random([9; 8]), at(60))
            .await
            .unwrap(),
        RevokeOutcome::NotFound
    );
}

pub async fn sessions_are_stored_found_and_ended<E: Engine>() {
    let fresh = E::fresh();
    let store = fresh.store.as_ref();
    let session = SessionRecord {
        hash: [5; 32],
        key_hash: [1; 32],
        created_at: at(0),
        expires_at: at(3600),
    };
    store.insert_session(session.clone()).await.unwrap();
    assert_eq!(store.find_session(&[5; 32]).await.unwrap(), Some(session));
    store.delete_session(&[5; 32]).await.unwrap();
    assert!(store.find_session(&[5; 32]).await.unwrap().is_none());
    store.delete_session(&[5; 32]).await.unwrap();
}
