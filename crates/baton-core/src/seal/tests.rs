use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::event::EventKind;
use crate::ledger::{GENESIS, canonical_json, chain_hash};

/// An event of `kind` whose customer data holds `text` (and `meta` when asked).
fn sample(kind: EventKind, seq: u64, text: &str, meta: bool) -> Event {
    let mut value = match kind {
        EventKind::CustomerMessage
        | EventKind::BotMessage
        | EventKind::AgentMessage
        | EventKind::Note => json!({"text": text}),
        EventKind::Nlu => json!({"intent": "billing", "confidence": 0.75,
            "entities": [{"kind": "order_id", "value": text, "start": 1, "end": 4}]}),
        EventKind::IdentityVerified => json!({"customer_id": "cust-1", "method": "otp"}),
        EventKind::DocumentRetrieved => {
            json!({"doc_id": "kb-1", "title": "Refunds", "snippet": text, "score": 0.5})
        }
        EventKind::Action => json!({"name": "refund.issue", "status": "pending", "detail": text}),
        EventKind::Commitment => json!({"text": text, "due": "2026-01-01T00:00:00.000Z"}),
        EventKind::HandoffRequested => json!({"reason": text, "skills": ["billing"]}),
        EventKind::Decision => json!({"outcome": "handoff", "trigger_seq": 1}),
        EventKind::Offered => json!({"offer_id": "of_1", "agent_id": "a1",
            "expires_at": "2026-01-01T00:00:00.000Z"}),
        EventKind::OfferClosed => {
            json!({"offer_id": "of_1", "agent_id": "a1", "reason": "expired"})
        }
        EventKind::Assigned => json!({"agent_id": "a1"}),
        EventKind::BouncedBack => json!({"agent_id": "a1", "instructions": text}),
        EventKind::Resolved => json!({"resolution": text, "csat": 4}),
        EventKind::RepeatAsk => json!({"fact_kind": "email", "asked_seq": 2, "fact_seq": 1}),
        EventKind::CustomerRepeated => {
            json!({"fact_kind": "email", "repeated_seq": 2, "fact_seq": 1})
        }
        EventKind::ReadBack => json!({"intent": "confirmed",
            "facts": {"corrected": [{"kind": "email", "value": text}]}, "note": text}),
        EventKind::Survey => json!({"csat": 5, "comment": text}),
        EventKind::Erased => json!({"reason": "customer asked", "by": "admin"}),
    };
    let object = value.as_object_mut().unwrap();
    object.insert("type".into(), json!(kind.as_str()));
    object.insert("seq".into(), json!(seq));
    object.insert("id".into(), json!(format!("e{seq}")));
    object.insert("actor".into(), json!("bot"));
    object.insert("at".into(), json!("2026-01-01T00:00:00.000Z"));
    if meta {
        object.insert("meta".into(), json!({"note": text, "n": 3}));
    }
    serde_json::from_value(value).unwrap_or_else(|e| panic!("{kind:?}: {e}"))
}

/// The oracle for [`seal_forms`]: removes the customer-data members of an event
/// object the slow way (by its wire type, through `serde_json::Value`), returning them
/// (`None` when it has none).
fn split(object: &mut Map<String, Value>) -> Option<Map<String, Value>> {
    let kind = object
        .get("type")
        .and_then(Value::as_str)
        .and_then(EventKind::from_wire)?;
    let mut secret = Map::new();
    for field in fields::customer_fields(kind) {
        if let Some(value) = object.remove(*field) {
            secret.insert((*field).to_owned(), value);
        }
    }
    (!secret.is_empty()).then_some(secret)
}

fn cid() -> ConversationId {
    ConversationId::parse("c-1").unwrap()
}

fn key() -> DataKey {
    DataKey::from_random([7; 32])
}

#[test]
fn every_kind_has_a_sample() {
    for kind in EventKind::ALL {
        assert_eq!(sample(kind, 1, "hi", false).body.event_kind(), kind);
    }
}

#[test]
fn a_sealed_event_holds_its_structure_and_no_customer_data() {
    let event = sample(EventKind::CustomerMessage, 3, "my card is 4111", true);
    let sealed = seal_event(&event, &cid(), &key(), "dk_1", [1; 12]).unwrap();
    assert!(!sealed.contains("4111"), "{sealed}");
    let value: Value = serde_json::from_str(&sealed).unwrap();
    assert_eq!(value["type"], "customer_message");
    assert_eq!(value["seq"], 3);
    assert_eq!(value["sealed"]["alg"], "A256GCM");
    assert_eq!(value["sealed"]["kid"], "dk_1");
    assert!(value.get("text").is_none() && value.get("meta").is_none());
}

#[test]
fn events_without_customer_data_are_their_own_sealed_form() {
    let event = sample(EventKind::Assigned, 2, "unused", false);
    let sealed = seal_event(&event, &cid(), &key(), "dk_1", [1; 12]).unwrap();
    assert_eq!(sealed, canonical_json(&event).unwrap());
    assert_eq!(open(&sealed, &cid(), None).unwrap(), Opened::Plain);
}

#[test]
fn a_ciphertext_moved_to_another_seq_or_conversation_does_not_open() {
    let event = sample(EventKind::Note, 4, "secret", false);
    let sealed = seal_event(&event, &cid(), &key(), "dk_1", [1; 12]).unwrap();
    let moved = sealed.replace("\"seq\":4", "\"seq\":5");
    assert!(open(&moved, &cid(), Some((&key(), "dk_1"))).is_err());
    let other = ConversationId::parse("c-2").unwrap();
    assert!(open(&sealed, &other, Some((&key(), "dk_1"))).is_err());
    let wrong = DataKey::from_random([8; 32]);
    assert!(open(&sealed, &cid(), Some((&wrong, "dk_1"))).is_err());
}

#[test]
fn an_erased_event_reads_as_its_structure_with_markers() {
    for kind in EventKind::ALL {
        let event = sample(kind, 1, "private words", true);
        let sealed = seal_event(&event, &cid(), &key(), "dk_1", [1; 12]).unwrap();
        let Opened::Erased(json) = open(&sealed, &cid(), None).unwrap() else {
            panic!("{kind:?} carried meta, so it was sealed");
        };
        assert!(!json.contains("private words"), "{json}");
        let read: Event = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert!(read.erased);
        assert_eq!(read.body.event_kind(), kind);
        assert_eq!(
            (read.seq, &read.id, read.at),
            (event.seq, &event.id, event.at)
        );
        assert!(read.meta.is_none());
    }
}

#[test]
fn master_keys_wrap_data_keys_per_conversation() {
    let master = MasterKey::parse_hex(&"ab".repeat(32)).unwrap();
    assert!(master.id().starts_with("mk_"));
    let wrapped = master.wrap(&cid(), &key(), [3; 12]);
    let back = master.unwrap_key(&cid(), &wrapped).unwrap();
    let plain = back.encrypt(&[0; 12], b"x", b"");
    assert_eq!(key().decrypt(&[0; 12], &plain, b"").unwrap(), b"x");
    let other = MasterKey::parse_hex(&"cd".repeat(32)).unwrap();
    assert_ne!(other.id(), master.id());
    assert_eq!(
        other.unwrap_key(&cid(), &wrapped).unwrap_err(),
        KeyError::Decrypt
    );
    let elsewhere = ConversationId::parse("c-2").unwrap();
    assert!(master.unwrap_key(&elsewhere, &wrapped).is_err());
    assert_eq!(MasterKey::parse_hex("short").unwrap_err(), KeyError::Format);
}

fn any_kind() -> impl Strategy<Value = EventKind> {
    (0..EventKind::ALL.len()).prop_map(|i| EventKind::ALL[i])
}

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 \"\\\\{}:,é😀]{0,40}[a-z]".prop_map(|s| s)
}

proptest! {
    #[test]
    fn split_then_join_gives_the_event_back(kind in any_kind(), t in text(), meta: bool, seq in 1u64..1000) {
        let event = sample(kind, seq, &t, meta);
        let value = serde_json::to_value(&event).unwrap();
        let mut object = value.as_object().unwrap().clone();
        let secret = split(&mut object);
        prop_assert_eq!(secret.is_some(), meta || fields::customer_fields(kind).iter()
            .any(|f| value.get(*f).is_some()));
        if let Some(secret) = secret {
            join(&mut object, secret);
        }
        prop_assert_eq!(Value::Object(object), value);
    }

    #[test]
    fn sealing_then_opening_gives_the_canonical_event(kind in any_kind(), t in text(), meta: bool,
        seq in 1u64..1000, nonce: [u8; 12]) {
        let event = sample(kind, seq, &t, meta);
        let sealed = seal_event(&event, &cid(), &key(), "dk_9", nonce).unwrap();
        let plain = canonical_json(&event).unwrap();
        match open(&sealed, &cid(), Some((&key(), "dk_9"))).unwrap() {
            Opened::Plain => prop_assert_eq!(&sealed, &plain),
            Opened::Decrypted(json) => prop_assert_eq!(json, plain),
            Opened::Erased(_) => prop_assert!(false, "a key was given"),
        }
    }

    #[test]
    fn both_forms_match_the_value_based_construction(kind in any_kind(), t in text(), meta: bool,
        seq in 1u64..1000, nonce: [u8; 12]) {
        let event = sample(kind, seq, &t, meta);
        let forms = seal_forms(&event, &cid(), &key(), "dk_9", nonce).unwrap();
        prop_assert_eq!(&forms.plain, &canonical_json(&event).unwrap());
        // The oracle: split the event's JSON value, canonicalize each part on its own.
        let mut value = serde_json::to_value(&event).unwrap();
        let object = value.as_object_mut().unwrap();
        match split(object) {
            None => prop_assert!(forms.sealed.is_none()),
            Some(secret) => {
                let plain = crate::canonical::to_canonical_string(&secret).unwrap();
                let ct = key().encrypt(&nonce, plain.as_bytes(), &associated_data(&cid(), seq));
                object.insert(SEALED_MEMBER.into(), json!({"alg": "A256GCM", "kid": "dk_9",
                    "nonce": crypto::b64(&nonce), "ct": crypto::b64(&ct)}));
                let expected = crate::canonical::to_canonical_string(&value).unwrap();
                prop_assert_eq!(forms.sealed.as_deref(), Some(expected.as_str()));
            }
        }
    }

    #[test]
    fn the_sealed_form_hashes_stably(kind in any_kind(), t in text(), nonce: [u8; 12]) {
        let event = sample(kind, 1, &t, true);
        let first = seal_event(&event, &cid(), &key(), "dk_9", nonce).unwrap();
        let again = seal_event(&event, &cid(), &key(), "dk_9", nonce).unwrap();
        prop_assert_eq!(&first, &again);
        // Stored bytes are canonical: re-canonicalizing what an auditor reads changes nothing.
        let reread: Value = serde_json::from_str(&first).unwrap();
        prop_assert_eq!(crate::canonical::to_canonical_string(&reread).unwrap(), first.clone());
        prop_assert_eq!(chain_hash(&GENESIS, first.as_bytes()), chain_hash(&GENESIS, again.as_bytes()));
    }
}
