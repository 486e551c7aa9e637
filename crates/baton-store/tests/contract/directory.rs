//! What the server looks up besides the log: agents, conversation summaries (by owner,
//! agent, customer) and events by kind across conversations.

use baton_core::{AgentId, CustomerId, Owner};
use baton_store::{AgentRecord, ConversationCursor, ConversationFilter, ConversationQuery};

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
            intent: None,
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

pub async fn search_filters_and_pages_without_skipping_or_repeating<E: Engine>() {
    let fresh = E::fresh();
    let store = fresh.store.as_ref();
    // Two pairs share a start time, so the id breaks ties inside a page boundary.
    let rows = [
        (
            "s-1",
            Owner::Bot,
            None,
            Some("cust-1"),
            Some("billing"),
            100,
        ),
        (
            "s-2",
            Owner::Agent,
            Some("ana"),
            Some("cust-1"),
            Some("refund"),
            200,
        ),
        (
            "s-3",
            Owner::Closed,
            Some("ana"),
            Some("cust-2"),
            Some("billing"),
            200,
        ),
        ("s-4", Owner::Queued, None, None, Some("billing"), 300),
        ("s-5", Owner::Agent, Some("bo"), Some("cust-2"), None, 300),
        ("s-6", Owner::Bot, None, None, Some("refund"), 400),
    ];
    for (id, owner, agent, customer, intent, started) in rows {
        let summary = Summary {
            owner: Some(owner),
            agent,
            customer,
            started,
            // Updated in the opposite order to started: search must not follow it.
            updated: 1_000 - started,
            intent,
        };
        store
            .append(batch_with(id, EMPTY, "e", &["hello"], &summary))
            .await
            .unwrap();
    }
    let search = |query: ConversationQuery| async move {
        store
            .search_conversations(query)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id.to_string())
            .collect::<Vec<_>>()
    };
    let all = ConversationQuery {
        limit: 100,
        ..Default::default()
    };
    assert_eq!(
        search(all.clone()).await,
        ["s-6", "s-5", "s-4", "s-3", "s-2", "s-1"],
        "newest started first, ties by id descending"
    );
    // Page by twos with the last row of each page as the cursor.
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let rows = store
            .search_conversations(ConversationQuery {
                limit: 2,
                after: after.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        let Some(last) = rows.last() else { break };
        after = Some(ConversationCursor {
            started_at: last.summary.started_at,
            id: last.id.clone(),
        });
        paged.extend(rows.iter().map(|r| r.id.to_string()));
    }
    assert_eq!(paged, search(all).await, "pages join up to the whole list");

    let billing = ConversationQuery {
        intent: Some(baton_core::Label::parse("billing").unwrap()),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(search(billing).await, ["s-4", "s-3", "s-1"]);
    let ana = ConversationQuery {
        agent: Some(AgentId::parse("ana").unwrap()),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(search(ana).await, ["s-3", "s-2"]);
    let customer = ConversationQuery {
        customer: Some(CustomerId::parse("cust-2").unwrap()),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(search(customer).await, ["s-5", "s-3"]);
    let live = ConversationQuery {
        owners: vec![Owner::Agent, Owner::Queued],
        limit: 100,
        ..Default::default()
    };
    assert_eq!(search(live).await, ["s-5", "s-4", "s-2"]);
    let window = ConversationQuery {
        since: Some(at(200)),
        until: Some(at(400)),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(
        search(window).await,
        ["s-5", "s-4", "s-3", "s-2"],
        "since is inclusive, until exclusive"
    );
    let combined = ConversationQuery {
        intent: Some(baton_core::Label::parse("billing").unwrap()),
        owners: vec![Owner::Closed, Owner::Bot],
        since: Some(at(150)),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(search(combined).await, ["s-3"]);
    let row = store
        .conversation(&crate::seed::cid("s-2"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.summary.intent,
        Some(baton_core::Label::parse("refund").unwrap()),
        "the summary keeps the intent"
    );
}
