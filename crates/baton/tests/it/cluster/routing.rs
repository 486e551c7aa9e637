//! Routing across three real nodes: one router decides (the leader's), any node takes
//! an accept, two nodes accepting one offer at once make one assignment, and when the
//! leader is killed another node leads within seconds and offers what queued meanwhile.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Cluster, served_within};
use crate::helpers::{ADMIN_KEY, Server, workspace};

async fn agent_key(node: &Server, aid: &str) -> String {
    let (status, body) = node
        .call(
            reqwest::Method::POST,
            "/v1/keys",
            ADMIN_KEY,
            json!({"role": "agent", "agent_id": aid}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["key"].as_str().unwrap().to_owned()
}

/// `aid` with the billing skill and `capacity`, available, set through `node`.
async fn available_agent(node: &Server, aid: &str, capacity: u32) {
    let path = format!("/v1/agents/{aid}");
    let profile = json!({"skills": {"billing": 3}, "capacity": capacity});
    let (status, body) = node
        .call(reqwest::Method::PUT, &path, ADMIN_KEY, profile)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let path = format!("/v1/agents/{aid}/presence");
    let presence = json!({"status": "available"});
    let (status, body) = node
        .call(reqwest::Method::POST, &path, ADMIN_KEY, presence)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn hand_off(node: &Server, bot: &str, cid: &str) {
    let path = format!("/v1/conversations/{cid}/events");
    let events = json!({"events": [
        {"type": "customer_message", "text": "The charge on my statement is wrong."},
        {"type": "handoff_requested", "reason": "billing dispute", "skills": ["billing"]},
    ]});
    let (status, body) = node.call(reqwest::Method::POST, &path, bot, events).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["owner"], "queued", "{body}");
}

/// The node that says it leads, once exactly one of `nodes` does (polled for `within`).
async fn leader_within(nodes: &[&Server], within: Duration) -> usize {
    let deadline = Instant::now() + within;
    loop {
        let mut leaders = Vec::new();
        for (n, node) in nodes.iter().enumerate() {
            if node.get("/healthz").await["leader"] == true {
                leaders.push(n);
            }
        }
        assert!(leaders.len() <= 1, "one leader at most: {leaders:?}");
        if let [leader] = leaders[..] {
            return leader;
        }
        assert!(Instant::now() < deadline, "a node leads within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn accept(node: &Server, key: &str, offer: &str) -> (StatusCode, Value) {
    let path = format!("/v1/offers/{offer}/accept");
    node.call(reqwest::Method::POST, &path, key, json!({}))
        .await
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

/// `aid` as `node` sees them, once their owned conversations are `want` (20 s).
async fn agent_owning(node: &Server, aid: &str, want: &[&str]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let view = node.get(&format!("/v1/agents/{aid}")).await;
        if view["conversations"] == json!(want) || Instant::now() > deadline {
            return view;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_accepting_one_offer_at_once_make_one_assignment() {
    let Some(cluster) = Cluster::new().await else {
        return;
    };
    let (root, _) = workspace();
    let nodes = cluster.nodes(root.path()).await;
    let all: Vec<&Server> = nodes.iter().collect();
    let leader = leader_within(&all, Duration::from_secs(10)).await;
    let (f1, f2) = ((leader + 1) % 3, (leader + 2) % 3);
    // Set up through a follower: the leader learns of the agent from the store.
    available_agent(&nodes[f1], "ana", 1).await;
    let ana = agent_key(&nodes[f1], "ana").await;
    let bot = nodes[f2].key("bot").await;
    // Each round, two nodes answer the same offer at the same moment: two followers,
    // then the leader against each follower.
    for (round, (a, b)) in [(f1, f2), (leader, f1), (f2, leader)]
        .into_iter()
        .enumerate()
    {
        let cid = format!("d-{round}");
        hand_off(&nodes[f2], &bot, &cid).await;
        // Each node accepts an offer it lists.
        let offer = nodes[a]
            .offer_of("ana", &cid, Duration::from_secs(20))
            .await;
        assert_eq!(
            nodes[b]
                .offer_of("ana", &cid, Duration::from_secs(20))
                .await,
            offer
        );
        let (first, second) = tokio::join!(
            accept(&nodes[a], &ana, &offer),
            accept(&nodes[b], &ana, &offer)
        );
        let (won, lost) = match (first.0, second.0) {
            (StatusCode::OK, _) => (first, second),
            _ => (second, first),
        };
        assert_eq!(
            won.0,
            StatusCode::OK,
            "{cid}: one accept wins: {won:?} {lost:?}"
        );
        assert_eq!(
            lost.0,
            StatusCode::CONFLICT,
            "{cid}: the other is refused: {lost:?}"
        );
        assert_eq!(lost.1["error"]["code"], "offer_not_open", "{lost:?}");
        assert_eq!(won.1["owner"], "agent");

        let events = nodes[leader].events(&cid).await;
        let assigned = of_type(&events, "assigned");
        assert_eq!(assigned.len(), 1, "{cid}: one assignment: {events:?}");
        assert_eq!(assigned[0]["agent_id"], "ana");
        assert_eq!(assigned[0]["offer_id"], offer.as_str());
        assert_eq!(of_type(&events, "offered").len(), 1, "{cid}: offered once");
        for node in &nodes {
            let view = agent_owning(node, "ana", &[&cid]).await;
            assert_eq!(view["conversations"], json!([cid]), "{}: {view}", node.base);
            assert_eq!(view["load"], 1, "within capacity on {}: {view}", node.base);
        }
        // Ana resolves it, freeing her one slot for the next round.
        let path = format!("/v1/conversations/{cid}/resolve");
        let body = json!({"resolution": "refunded"});
        let (status, answer) = nodes[a]
            .call(reqwest::Method::POST, &path, &ana, body)
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        for node in &nodes {
            let view = agent_owning(node, "ana", &[]).await;
            assert_eq!(view["load"], 0, "{}: {view}", node.base);
        }
    }
    cluster.verify(root.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_router_leader_is_killed_another_leads_and_offers_what_queued() {
    let Some(cluster) = Cluster::new().await else {
        return;
    };
    let (root, _) = workspace();
    let mut nodes: Vec<Option<Server>> = cluster
        .nodes(root.path())
        .await
        .into_iter()
        .map(Some)
        .collect();
    let all: Vec<&Server> = nodes.iter().flatten().collect();
    let leader = leader_within(&all, Duration::from_secs(10)).await;
    let survivors = [(leader + 1) % 3, (leader + 2) % 3];
    let bot = all[survivors[0]].key("bot").await;
    available_agent(all[survivors[0]], "ana", 10).await;
    let ana = agent_key(all[survivors[0]], "ana").await;
    // An offer the leader made, still open when it dies.
    hand_off(all[survivors[1]], &bot, "e-0").await;
    let open = all[survivors[0]]
        .offer_of("ana", "e-0", Duration::from_secs(20))
        .await;

    nodes[leader].take().unwrap().kill9().await;
    let killed_at = Instant::now();
    let alive: Vec<&Server> = survivors
        .iter()
        .map(|&n| nodes[n].as_ref().unwrap())
        .collect();
    // Queued while no router leads.
    hand_off(alive[0], &bot, "e-1").await;
    hand_off(alive[1], &bot, "e-2").await;
    let next = leader_within(&alive, Duration::from_secs(10)).await;
    let failover = killed_at.elapsed();
    eprintln!(
        "failover: another node led {} ms after the kill",
        failover.as_millis()
    );
    assert!(failover < Duration::from_secs(10), "{failover:?}");

    // What queued meanwhile is offered; the dead leader's offer still holds.
    let mut offers = vec![("e-0", open.clone())];
    for cid in ["e-1", "e-2"] {
        offers.push((
            cid,
            alive[next]
                .offer_of("ana", cid, Duration::from_secs(20))
                .await,
        ));
    }
    assert_eq!(
        alive[1 - next]
            .offer_of("ana", "e-0", Duration::from_secs(20))
            .await,
        open
    );
    for (i, (cid, offer)) in offers.iter().enumerate() {
        let (status, body) = accept(alive[i % 2], &ana, offer).await;
        assert_eq!(status, StatusCode::OK, "{cid} {offer}: {body}");
    }
    for node in &alive {
        let view = agent_owning(node, "ana", &["e-0", "e-1", "e-2"]).await;
        assert_eq!(
            view["conversations"],
            json!(["e-0", "e-1", "e-2"]),
            "{view}"
        );
        assert_eq!(view["load"], 3, "{view}");
    }
    // No conversation assigned twice, nor offered again once taken.
    for (cid, offer) in &offers {
        let events = served_within(alive[0], cid, 0).await;
        let assigned = of_type(&events, "assigned");
        assert_eq!(assigned.len(), 1, "{cid}: {events:?}");
        assert_eq!(assigned[0]["offer_id"], offer.as_str());
        let after: Vec<&Value> = events
            .iter()
            .skip_while(|e| e["type"] != "assigned")
            .filter(|e| e["type"] == "offered")
            .collect();
        assert!(
            after.is_empty(),
            "{cid}: offered after the assignment: {after:?}"
        );
    }
    cluster.verify(root.path()).await;
}
