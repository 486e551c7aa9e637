use serde_json::json;

use super::*;
use crate::facts::FactConfig;
use crate::ledger::seal;

const CARD: &str = "4242 4242 4242 4242";

fn extractor() -> FactExtractor {
    FactExtractor::new(&FactConfig::default()).unwrap()
}

fn event(seq: u64, actor: &str, body: serde_json::Value) -> Event {
    let mut value = body;
    value["seq"] = json!(seq);
    value["id"] = json!(format!("e{seq}"));
    value["actor"] = json!(actor);
    value["at"] = json!("2026-01-01T00:00:00.000Z");
    serde_json::from_value(value).unwrap()
}

/// One event of every type that carries text, each with a card number in every text.
fn every_text_field() -> Vec<Event> {
    let card = format!("card {CARD}");
    vec![
        event(
            1,
            "customer",
            json!({"type": "customer_message", "text": card}),
        ),
        event(2, "bot", json!({"type": "bot_message", "text": card})),
        event(
            3,
            "agent:ana",
            json!({"type": "agent_message", "text": card}),
        ),
        event(4, "agent:ana", json!({"type": "note", "text": card})),
        event(
            5,
            "bot",
            json!({"type": "nlu", "intent": "pay", "confidence": 0.9,
            "entities": [{"kind": "payment_info", "value": CARD}]}),
        ),
        event(
            6,
            "bot",
            json!({"type": "document_retrieved", "doc_id": "kb-1", "title": card,
            "uri": format!("https://kb.example/?q={CARD}"), "snippet": card}),
        ),
        event(
            7,
            "bot",
            json!({"type": "action", "name": "pay", "status": "failed", "detail": card}),
        ),
        event(8, "bot", json!({"type": "commitment", "text": card})),
        event(
            9,
            "bot",
            json!({"type": "handoff_requested", "reason": card}),
        ),
        event(
            10,
            "system",
            json!({"type": "decision", "outcome": "handoff", "trigger_seq": 9,
            "reasons": [{"code": "bot_request", "signal": "bot.request", "value": 1.0,
                "threshold": 1.0, "contribution": 1.0, "message": card}]}),
        ),
        event(
            11,
            "system",
            json!({"type": "bounced_back", "agent_id": "ana", "instructions": card}),
        ),
        event(
            12,
            "system",
            json!({"type": "resolved", "resolution": card}),
        ),
        {
            let mut e = event(13, "bot", json!({"type": "bot_message", "text": "ok"}));
            e.meta =
                Some(serde_json::from_value(json!({"crm": {"notes": [card]}, "n": 1})).unwrap());
            e
        },
    ]
}

#[test]
fn every_field_that_can_carry_customer_data_is_masked() {
    let ex = extractor();
    for role in [
        ViewerRole::Bot,
        ViewerRole::Agent,
        ViewerRole::Supervisor,
        ViewerRole::Admin,
    ] {
        let redactor = Redactor::new(role, &ex, &[]);
        for stored in every_text_field() {
            let sealed = seal(&crate::ledger::GENESIS, &stored).unwrap();
            let served = redactor
                .serve(&stored, &sealed.hash)
                .unwrap()
                .unwrap_or_else(|| panic!("{role:?} sees {} in clear", stored.body.kind()));
            assert!(!served.contains("4242 4242"), "{role:?}: {served}");
            assert!(served.contains("••••4242"), "{role:?}: {served}");
            let value: serde_json::Value = serde_json::from_str(&served).unwrap();
            assert_eq!(value["redacted"], true);
            assert_eq!(value["seq"], stored.seq);
            assert_eq!(
                value["hash"],
                sealed.hash.to_hex(),
                "the stored hash, unchanged"
            );
        }
    }
}

#[test]
fn the_auditor_and_clean_events_are_served_as_stored() {
    let ex = extractor();
    let auditor = Redactor::new(ViewerRole::Auditor, &ex, &[]);
    for stored in every_text_field() {
        assert_eq!(
            auditor.serve(&stored, &crate::ledger::GENESIS).unwrap(),
            None
        );
    }
    let agent = Redactor::new(ViewerRole::Agent, &ex, &[]);
    let clean = event(
        1,
        "customer",
        json!({"type": "customer_message", "text": "my order 88231"}),
    );
    assert_eq!(agent.event(&clean), None);
    let assigned = event(2, "system", json!({"type": "assigned", "agent_id": "ana"}));
    assert_eq!(agent.event(&assigned), None);
}

#[test]
fn what_each_role_sees_follows_the_table() {
    let ex = extractor();
    let text =
        format!("card {CARD}, NI number AB123456C, email ana@example.com, post code SW1A 1AA");
    let stored = event(
        1,
        "customer",
        json!({"type": "customer_message", "text": text}),
    );
    let shown = |role| match Redactor::new(role, &ex, &[]).event(&stored) {
        Some(e) => e.body.message_text().unwrap().to_owned(),
        None => text.clone(),
    };
    for role in [
        ViewerRole::Bot,
        ViewerRole::Agent,
        ViewerRole::Supervisor,
        ViewerRole::Admin,
        ViewerRole::Auditor,
    ] {
        let seen = shown(role);
        for (kind, value) in [
            (PiiKind::CardNumber, CARD),
            (PiiKind::NationalId, "AB123456C"),
            (PiiKind::Email, "ana@example.com"),
            (PiiKind::Address, "SW1A 1AA"),
        ] {
            assert_eq!(
                seen.contains(value),
                role.may_see(kind),
                "{role:?} and {kind:?}: {seen}"
            );
        }
    }
}

#[test]
fn known_values_and_hidden_entities_are_masked_whole() {
    let ex = extractor();
    // An id the extractor does not know, which the NLU labelled.
    let nlu = event(
        2,
        "bot",
        json!({"type": "nlu", "intent": "verify", "confidence": 0.9,
        "entities": [{"kind": "national_id", "value": "ZX-99-1"}]}),
    );
    let facts = crate::facts::collect::facts_from_nlu(
        match &nlu.body {
            EventBody::Nlu(n) => n,
            _ => unreachable!(),
        },
        2,
    );
    let agent = Redactor::new(ViewerRole::Agent, &ex, &facts);
    let masked = agent.event(&nlu).unwrap();
    let EventBody::Nlu(n) = &masked.body else {
        unreachable!()
    };
    assert_eq!(n.entities[0].value.as_str(), "[national id ••••-1]");
    let said = event(
        1,
        "customer",
        json!({"type": "customer_message", "text": "it is ZX-99-1"}),
    );
    let masked = agent.event(&said).unwrap();
    assert_eq!(
        masked.body.message_text(),
        Some("it is [national id ••••-1]")
    );
}

#[test]
fn the_state_is_masked_as_its_events_are() {
    let ex = extractor();
    let state = ConversationState::from_events(&every_text_field());
    assert!(state.resolution.as_ref().unwrap().as_str().contains(CARD));
    let shown = Redactor::new(ViewerRole::Supervisor, &ex, &[])
        .state(&state)
        .unwrap();
    let json = serde_json::to_string(&shown).unwrap();
    assert!(!json.contains("4242 4242"), "{json}");
    assert_eq!(
        Redactor::new(ViewerRole::Auditor, &ex, &[]).state(&state),
        None
    );
}

#[test]
fn served_json_parses_back_to_the_stored_event() {
    let stored = every_text_field().remove(5);
    let sealed = seal(&crate::ledger::GENESIS, &stored).unwrap();
    let open = sealed.canonical.strip_suffix('}').unwrap();
    let served = format!("{open},\"hash\":\"{}\"}}", sealed.hash);
    assert_eq!(parse_served(&served).unwrap(), (stored, sealed.hash));
}
