//! The leadership state machine in one process, over a store whose claim the test
//! switches: a node that loses the lead stops offering and expiring at once; gaining
//! it rebuilds the router from the store and offers what queued meanwhile.

use serde_json::json;

use crate::faulty_store::spawn_faulty;

#[tokio::test]
async fn losing_the_lead_stops_routing_and_regaining_it_offers_what_waits() {
    let (app, store) = spawn_faulty().await;
    let bot = app.key("bot", None).await;
    app.available_agent("ana", json!({"billing": 3}), 2).await;
    assert_eq!(app.get("/healthz", None).await.1["leader"], true);
    app.hand_off("c1", &bot, &["billing"], "normal").await;
    let first = app.wait_offer("ana", "c1").await;

    store.set_leading(false);
    baton_server::leader::round(&app.state).await;
    assert_eq!(app.get("/healthz", None).await.1["leader"], false);
    // Queued while this node does not lead: nobody offers it.
    app.hand_off("c2", &bot, &["billing"], "normal").await;
    baton_server::routing::tick(&app.state).await;
    assert_eq!(app.state("c2").await["owner"], "queued");
    let offers = app.offers_of("ana").await;
    assert_eq!(
        offers.len(),
        1,
        "only the offer made while leading: {offers:?}"
    );
    assert_eq!(offers[0]["offer_id"], first.as_str());

    store.set_leading(true);
    baton_server::leader::round(&app.state).await;
    assert_eq!(app.get("/healthz", None).await.1["leader"], true);
    let second = app.wait_offer("ana", "c2").await;
    assert_ne!(second, first);
    // The rebuilt router kept the first offer as the log holds it.
    assert_eq!(app.wait_offer("ana", "c1").await, first);
    assert_eq!(app.agent("ana").await["load"], 2);
}
