//! What the server looks up besides the log: agents, conversation summaries (by owner,
//! agent, customer) and events by kind across conversations.

use baton_core::{AgentId, CustomerId, Owner};
use baton_store::{AgentRecord, ConversationFilter};

use crate::engine::Engine;
use crate::seed::{EMPTY, Summary, at, batch_with};

pub async fn agents_are_created_replaced_and_listed<E: Engine>() {
    let fresh = E::fresh();
    let store = fresh.store.as_ref();
    let ana = AgentRecord {
        id: AgentId::parse("ana").unwrap(),
        profile: r#"{"skills":{"billing":3},"capacity":2}"#.to_owned(),
        presence: "offline".to_owned(),
        updated_at: at(1),
    };
    store.put_agent(ana.clone()).await.unwrap();
    let bo = AgentRecord {
        id: AgentId::parse("bo").unwrap(),
        ..ana.clone()
    };
    store.put_agent(bo).await.unwrap();
    let available = AgentRecord {
        presence: "available".to_owned(),
        updated_at: at(2),
        ..ana.clone()
    };
    store.put_agent(available.clone()).await.unwrap();
    assert_eq!(store.agent(&ana.id).await.unwrap(), Some(available));
    assert!(
        store
            .agent(&AgentId::parse("cy").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    let mut ids: Vec<String> = store
        .agents()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id.to_string())
        .collect();
    ids.sort();
    assert_eq!(ids, ["ana", "bo"], "a replaced agent is listed once");
}

pub async fn summaries_filter_by_owner_agent_and_customer<E: Engine>() {
    let fresh = E::fresh();
    let store = fresh.store.as_ref();
    let rows = [
        ("c-1", Owner::Bot, None, Some("cust-1"), 1, 10),
        ("c-2", Owner::Agent, Some("ana"), Some("cust-1"), 2, 30),
        ("c-3", Owner::Queued, None, Some("cust-2"), 3, 20),
        ("c-4", Owner::Agent, Some("bo"), None, 4, 40),
    ];
    for (id, owner, agent, customer, started, updated) in rows {
        let summary = Summary {
            owner: Some(owner),
            agent,
            customer,
            started,
            updated,
        };
        store
            .append(batch_with(id, EMPTY, "e", &["hello"], &summary))
            .await
            .unwrap();
    }
    let ids = |rows: Vec<baton_store::ConversationRow>| -> Vec<String> {
        rows.into_iter().map(|r| r.id.to_string()).collect()
    };
    let all = store
        .conversations(ConversationFilter::default())
        .await
        .unwrap();
    assert_eq!(
        ids(all),
        ["c-4", "c-2", "c-3", "c-1"],
        "most recently updated first"
    );
    let agents = ConversationFilter {
        owners: vec![Owner::Agent, Owner::Queued],
        ..Default::default()
    };
    assert_eq!(
        ids(store.conversations(agents).await.unwrap()),
        ["c-4", "c-2", "c-3"]
    );
    let ana = ConversationFilter {
        agent: Some(AgentId::parse("ana").unwrap()),
        ..Default::default()
    };
    assert_eq!(ids(store.conversations(ana).await.unwrap()), ["c-2"]);
    let limited = ConversationFilter {
        limit: Some(2),
        ..Default::default()
    };
    assert_eq!(
        ids(store.conversations(limited).await.unwrap()),
        ["c-4", "c-2"]
    );
    let journey = store
        .conversations_of_customer(&CustomerId::parse("cust-1").unwrap())
        .await
        .unwrap();
    assert_eq!(
        ids(journey),
        ["c-1", "c-2"],
        "a customer's conversations, oldest first"
    );
    let row = store
        .conversation(&crate::seed::cid("c-2"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.summary.owner, Owner::Agent);
    assert_eq!(row.summary.agent, Some(AgentId::parse("ana").unwrap()));
    assert_eq!(
        (row.summary.started_at, row.summary.updated_at),
        (at(2), at(30))
    );
}

pub async fn events_are_found_by_kind_across_conversations<E: Engine>() {
    let fresh = E::fresh();
    let store = fresh.store.as_ref();
    for id in ["c-1", "c-2"] {
        store
            .append(batch_with(
                id,
                EMPTY,
                "e",
                &["hi", "there"],
                &Summary::default(),
            ))
            .await
            .unwrap();
    }
    let found = store
        .events_of_kinds(&["customer_message"], at(0), 100)
        .await
        .unwrap();
    assert_eq!(found.len(), 4);
    let since = store
        .events_of_kinds(&["customer_message"], at(2), 100)
        .await
        .unwrap();
    assert!(
        since.iter().all(|e| e.seq == 2),
        "only events written at or after `since`"
    );
    let none = store
        .events_of_kinds(&["decision"], at(0), 100)
        .await
        .unwrap();
    assert!(none.is_empty());
    let limited = store
        .events_of_kinds(&["customer_message"], at(0), 3)
        .await
        .unwrap();
    assert_eq!(limited.len(), 3);
}
