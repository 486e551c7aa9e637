//! Rasa tracker-store JSON (a tracker as `GET /conversations/{id}/tracker` returns it
//! and tracker stores keep it: `sender_id` and `events`) to baton events. The event
//! shapes follow Rasa's "Events" reference (rasa.com/docs/rasa-pro/concepts/events and
//! the action server's event list, rasa.com/docs/action-server/events).
//!
//! | Rasa event | baton |
//! |---|---|
//! | `user` | `customer_message` (text), then `nlu` (intent, confidence, the rest of `intent_ranking` as alternatives, entities) |
//! | `bot` | `bot_message` |
//! | `action` | `action {name, status: done}` |
//! | `action` `action_listen` | skipped (`action_listen`): Rasa waiting for input |
//! | `action` `utter_*` | skipped (`utter_action`): the `bot` event after it holds the text |
//! | `action` `action_session_start`, `session_started` | skipped (`session_start`) |
//! | `slot` | skipped (`slot`): the bot's memory, filled from entities and actions already imported; a copy as a note would duplicate customer data in the ledger |
//! | anything else | skipped (`unsupported_rasa_event`) |

use baton_core::{ConversationId, Label, Text, Timestamp};
use serde_json::{Map, Value, json};

use super::Out;
use super::source::Location;

/// Maps one tracker.
pub fn map(record: Value, at: &Location, out: &mut Vec<Out>) {
    let Some(sender) = record.get("sender_id").and_then(Value::as_str) else {
        out.push(Out::Error(
            at.clone(),
            "a tracker needs a string sender_id".into(),
        ));
        return;
    };
    let cid = match ConversationId::parse(sender) {
        Ok(cid) => cid,
        Err(e) => {
            out.push(Out::Error(
                at.clone(),
                format!("sender_id {sender:?} is not a baton conversation id: {e}"),
            ));
            return;
        }
    };
    let Some(events) = record.get("events").and_then(Value::as_array) else {
        out.push(Out::Error(
            at.clone(),
            "a tracker needs an events array".into(),
        ));
        return;
    };
    for (index, event) in events.iter().enumerate() {
        map_event(&cid, index, event, &at.part("events", index), out);
    }
}

fn map_event(cid: &ConversationId, index: usize, event: &Value, at: &Location, out: &mut Vec<Out>) {
    let time = event
        .get("timestamp")
        .and_then(Value::as_f64)
        .map(|secs| Timestamp::from_unix_millis((secs * 1000.0).round() as i64).to_string());
    let emit = |out: &mut Vec<Out>, part: &str, mut body: Map<String, Value>| {
        body.insert(
            "id".into(),
            super::stable_id("rasa", cid, &format!("{index}.{part}")).into(),
        );
        if let Some(time) = &time {
            body.insert("at".into(), time.clone().into());
        }
        body.insert("meta".into(), json!({"imported_from": "rasa"}));
        out.push(Out::Event {
            cid: cid.clone(),
            event: Value::Object(body),
            at: at.clone(),
        });
    };
    let object = |v: Value| match v {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    match event.get("event").and_then(Value::as_str) {
        Some("user") => {
            let Some(text) = event
                .get("text")
                .and_then(Value::as_str)
                .filter(|t| !t.trim().is_empty())
            else {
                out.push(Out::Skip("user_without_text"));
                return;
            };
            emit(
                out,
                "message",
                object(json!({"type": "customer_message", "actor": "customer", "text": text})),
            );
            match nlu(text, event.get("parse_data")) {
                Some(nlu) => emit(out, "nlu", nlu),
                None => out.push(Out::Skip("user_without_intent")),
            }
        }
        Some("bot") => match event
            .get("text")
            .and_then(Value::as_str)
            .filter(|t| !t.trim().is_empty())
        {
            Some(text) => emit(
                out,
                "message",
                object(json!({"type": "bot_message", "actor": "bot", "text": text})),
            ),
            None => out.push(Out::Skip("bot_without_text")),
        },
        Some("action") => match event.get("name").and_then(Value::as_str) {
            Some("action_listen") => out.push(Out::Skip("action_listen")),
            Some("action_session_start") => out.push(Out::Skip("session_start")),
            Some(name) if name.starts_with("utter_") => out.push(Out::Skip("utter_action")),
            Some(name) => emit(
                out,
                "action",
                object(json!({"type": "action", "actor": "bot", "name": name, "status": "done"})),
            ),
            None => out.push(Out::Error(
                at.clone(),
                "an action event needs a name".into(),
            )),
        },
        Some("slot") => out.push(Out::Skip("slot")),
        Some("session_started") => out.push(Out::Skip("session_start")),
        Some(_) => out.push(Out::Skip("unsupported_rasa_event")),
        None => out.push(Out::Error(
            at.clone(),
            "a Rasa event needs an \"event\" name".into(),
        )),
    }
}

/// The `nlu` body for a user message's `parse_data`, when it names an intent.
fn nlu(text: &str, parse: Option<&Value>) -> Option<Map<String, Value>> {
    let parse = parse?;
    let intent = parse.get("intent")?;
    let name = intent.get("name")?.as_str()?;
    let confidence = intent.get("confidence")?.as_f64()?;
    let alternatives: Vec<Value> = parse
        .get("intent_ranking")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| Some((r.get("name")?.as_str()?, r.get("confidence")?.as_f64()?)))
        .filter(|(other, c)| {
            *other != name && (0.0..=1.0).contains(c) && Label::parse(*other).is_ok()
        })
        .take(5)
        .map(|(other, c)| json!({"intent": other, "confidence": c}))
        .collect();
    let entities: Vec<Value> = parse
        .get("entities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| entity(text, e))
        .collect();
    let mut body = Map::new();
    body.insert("type".into(), "nlu".into());
    body.insert("actor".into(), "bot".into());
    body.insert("intent".into(), name.into());
    body.insert("confidence".into(), confidence.into());
    if !alternatives.is_empty() {
        body.insert("alternatives".into(), alternatives.into());
    }
    if !entities.is_empty() {
        body.insert("entities".into(), entities.into());
    }
    Some(body)
}

/// A Rasa entity in baton's shape, or none when it does not fit (a structured value
/// such as a duckling time range, a kind that is not a label). Rasa's `start`/`end`
/// count characters; baton's count bytes.
fn entity(text: &str, entity: &Value) -> Option<Value> {
    let kind = entity.get("entity")?.as_str()?;
    let value = match entity.get("value")? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    Label::parse(kind).ok()?;
    Text::parse(value.clone()).ok()?;
    let mut out = json!({"kind": kind, "value": value});
    let byte = |chars: u64| -> Option<u64> {
        let chars = usize::try_from(chars).ok()?;
        if chars == text.chars().count() {
            return Some(text.len() as u64);
        }
        text.char_indices().nth(chars).map(|(b, _)| b as u64)
    };
    let start = entity.get("start").and_then(Value::as_u64).and_then(byte);
    let end = entity.get("end").and_then(Value::as_u64).and_then(byte);
    if let (Some(start), Some(end)) = (start, end)
        && start < end
    {
        out["start"] = start.into();
        out["end"] = end.into();
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_offsets_become_bytes() {
        let text = "né 88231";
        let e = entity(
            text,
            &json!({"entity": "order_id", "value": "88231", "start": 3, "end": 8}),
        )
        .unwrap();
        assert_eq!(e["start"], 4);
        assert_eq!(e["end"], 9);
        assert_eq!(&text[4..9], "88231");
    }

    #[test]
    fn structured_entity_values_do_not_fit() {
        assert!(entity("x", &json!({"entity": "time", "value": {"from": "a"}})).is_none());
    }
}
