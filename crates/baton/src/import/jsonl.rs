//! baton's own JSONL: one object per line, `{"conversation": CID, "event": E}`.
//!
//! `E` is an event as the append body takes it (`{"id"?, "type", "actor"?, "at"?,
//! "meta"?, ...}`) or as `GET .../events` returns it: `seq` and `hash` are dropped
//! (baton assigns and computes them again; the chain is the importing store's),
//! `id`, `at`, `actor` and `meta` are kept. Events only baton writes (`decision`,
//! `assigned`...) are skipped (`server_written`): the importing server derives its
//! own. An event without `id` gets one derived from the conversation and its ordinal
//! among that conversation's lines in the file, so re-running the same file is
//! idempotent; give ids to be safe against edits of the file.

use std::collections::BTreeMap;

use baton_core::ConversationId;
use serde_json::Value;

use super::Out;
use super::source::Location;

/// Per-file state: how many events each conversation had so far (for derived ids).
#[derive(Default)]
pub struct Jsonl {
    ordinals: BTreeMap<ConversationId, u64>,
}

impl Jsonl {
    /// Maps one line.
    pub fn map(&mut self, record: Value, at: &Location, out: &mut Vec<Out>) {
        let Value::Object(mut record) = record else {
            out.push(Out::Error(
                at.clone(),
                "a line must be a JSON object".into(),
            ));
            return;
        };
        if let Some(other) = record
            .keys()
            .find(|k| *k != "conversation" && *k != "event")
        {
            out.push(Out::Error(
                at.clone(),
                format!("unknown field {other:?}; a line is {{\"conversation\", \"event\"}}"),
            ));
            return;
        }
        let Some(raw) = record.get("conversation").and_then(Value::as_str) else {
            out.push(Out::Error(
                at.clone(),
                "a line needs a string conversation".into(),
            ));
            return;
        };
        let cid = match ConversationId::parse(raw) {
            Ok(cid) => cid,
            Err(e) => {
                out.push(Out::Error(
                    at.clone(),
                    format!("conversation {raw:?} is not a valid id: {e}"),
                ));
                return;
            }
        };
        let Some(Value::Object(mut event)) = record.remove("event") else {
            out.push(Out::Error(
                at.clone(),
                "a line needs an event object".into(),
            ));
            return;
        };
        event.remove("seq");
        event.remove("hash");
        let ordinal = self.ordinals.entry(cid.clone()).or_insert(0);
        *ordinal += 1;
        if !event.contains_key("id") {
            event.insert(
                "id".into(),
                super::stable_id("jsonl", &cid, &ordinal.to_string()).into(),
            );
        }
        out.push(Out::Event {
            cid,
            event: Value::Object(event),
            at: at.clone(),
        });
    }
}
