//! Facts over a whole conversation: every customer message read with the question that
//! preceded it in mind, every NLU entity attributed to the customer message it read,
//! NLU entities winning where they and baton's own reading disagree, and each fact kept
//! once, at the message that first gave it.

use crate::event::{Event, EventBody, Nlu};

use super::extract::FactExtractor;
use super::kind::FactKind;
use super::pii::PiiKind;
use super::repeat::asked_kinds;
use super::{Fact, FactSource};

/// Facts from an `nlu` event's entities, attributed to the customer message `seq`.
pub fn facts_from_nlu(nlu: &Nlu, seq: u64) -> Vec<Fact> {
    nlu.entities
        .iter()
        .map(|entity| {
            let kind = FactKind::from_name(entity.kind.as_str());
            let value = entity.value.as_str().to_owned();
            // An NLU may label a card "payment_info": the checksum still tells.
            let pii = PiiKind::of_entity(&kind, &value);
            let span = entity
                .start
                .zip(entity.end)
                .map(|(s, e)| (s as usize, e as usize));
            Fact {
                kind,
                value,
                seq,
                source: FactSource::Nlu,
                pii,
                redacted: false,
                span,
            }
        })
        .collect()
}

/// Every fact the customer gave in `events`, oldest first.
pub fn collect_facts(events: &[Event], extractor: &FactExtractor) -> Vec<Fact> {
    let mut fold = FactFold::default();
    for event in events {
        fold.observe(event, extractor);
    }
    fold.facts()
}

/// [`collect_facts`] one event at a time, so a server can keep a conversation's facts
/// current as it appends and build a package without re-reading the log: after any
/// prefix of a log, [`FactFold::facts`] is `collect_facts` of that prefix.
///
/// NLU entities only ever replace baton's reading of the latest customer message, so
/// the facts of earlier messages are settled (merged, each value kept once) as soon as
/// the next customer message arrives: the fold holds the distinct facts plus one
/// message's worth, however long the conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct FactFold {
    /// Facts of customer messages before the latest, merged, first mention of each.
    settled: Vec<Fact>,
    /// `settled`'s values, normalized.
    settled_norm: Vec<String>,
    /// baton's reading of the latest customer message.
    own: Vec<Fact>,
    /// NLU entities attributed to the latest customer message.
    nlu: Vec<Fact>,
    /// Kinds the bot or agent asked for since the customer last spoke.
    asked: Vec<FactKind>,
    customer_spoke_last: bool,
    last_customer_seq: Option<u64>,
}

impl Default for FactFold {
    fn default() -> Self {
        Self {
            settled: Vec::new(),
            settled_norm: Vec::new(),
            own: Vec::new(),
            nlu: Vec::new(),
            asked: Vec::new(),
            customer_spoke_last: true,
            last_customer_seq: None,
        }
    }
}

impl FactFold {
    /// Folds one event in. For a customer message, returns what [`FactExtractor::extract`]
    /// reads in it (without the bare-answer reading), for callers that want it too.
    pub fn observe(&mut self, event: &Event, extractor: &FactExtractor) -> Vec<Fact> {
        match &event.body {
            EventBody::BotMessage(m) | EventBody::AgentMessage(m) => {
                // A run of bot lines ("may I have your order ID" / "and email, please")
                // asks as one; the customer's replies answer that run.
                if self.customer_spoke_last {
                    self.asked.clear();
                }
                self.customer_spoke_last = false;
                for kind in asked_kinds(m.text.as_str()) {
                    if !self.asked.contains(&kind) {
                        self.asked.push(kind);
                    }
                }
                Vec::new()
            }
            EventBody::CustomerMessage(m) => {
                self.settle();
                self.customer_spoke_last = true;
                self.last_customer_seq = Some(event.seq);
                let text = m.text.as_str();
                let plain = extractor.extract(text, event.seq);
                let found = if plain.is_empty() {
                    extractor
                        .bare_answer(text, event.seq, &self.asked)
                        .into_iter()
                        .collect()
                } else {
                    plain.clone()
                };
                self.asked.retain(|k| !found.iter().any(|f| &f.kind == k));
                self.own = found;
                plain
            }
            EventBody::Nlu(n) => {
                if let Some(seq) = self.last_customer_seq {
                    self.nlu.extend(facts_from_nlu(n, seq));
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// Every fact so far, oldest first: `collect_facts` of the events folded in.
    pub fn facts(&self) -> Vec<Fact> {
        let mut out = self.settled.clone();
        for fact in merge(self.own.clone(), self.nlu.clone()) {
            if !self.is_settled(&fact.kind, &fact.normalized()) {
                out.push(fact);
            }
        }
        out
    }

    fn is_settled(&self, kind: &FactKind, norm: &str) -> bool {
        self.settled
            .iter()
            .zip(&self.settled_norm)
            .any(|(k, n)| &k.kind == kind && n == norm)
    }

    /// Moves the latest message's facts into `settled`: nothing can change them now.
    fn settle(&mut self) {
        let own = std::mem::take(&mut self.own);
        let nlu = std::mem::take(&mut self.nlu);
        for fact in merge(own, nlu) {
            let norm = fact.normalized();
            if !self.is_settled(&fact.kind, &norm) {
                self.settled.push(fact);
                self.settled_norm.push(norm);
            }
        }
    }
}

/// NLU facts replace baton's own reading of the same message where they share a kind or
/// a value; then each (kind, value) is kept once, at its first message.
pub fn merge(own: Vec<Fact>, nlu: Vec<Fact>) -> Vec<Fact> {
    let mut all: Vec<Fact> = own
        .into_iter()
        .filter(|f| {
            let norm = f.normalized();
            !nlu.iter()
                .any(|n| n.seq == f.seq && (n.kind == f.kind || overlaps(&norm, &n.normalized())))
        })
        .collect();
    all.extend(nlu);
    all.sort_by_key(|f| (f.seq, f.source == FactSource::Customer, f.span.map(|s| s.0)));
    let mut kept: Vec<Fact> = Vec::with_capacity(all.len());
    for fact in all {
        let norm = fact.normalized();
        if !kept
            .iter()
            .any(|k| k.kind == fact.kind && k.normalized() == norm)
        {
            kept.push(fact);
        }
    }
    kept
}

fn overlaps(a: &str, b: &str) -> bool {
    !a.is_empty() && !b.is_empty() && (a.contains(b) || b.contains(a))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::facts::FactConfig;

    /// `collect_facts` as it was before the fold: every message read, then one merge.
    fn whole_log(events: &[Event], extractor: &FactExtractor) -> Vec<Fact> {
        let (mut own, mut nlu, mut asked) = (Vec::new(), Vec::new(), Vec::new());
        let (mut customer_spoke_last, mut last) = (true, None);
        for event in events {
            match &event.body {
                EventBody::BotMessage(m) | EventBody::AgentMessage(m) => {
                    if customer_spoke_last {
                        asked.clear();
                    }
                    customer_spoke_last = false;
                    for kind in asked_kinds(m.text.as_str()) {
                        if !asked.contains(&kind) {
                            asked.push(kind);
                        }
                    }
                }
                EventBody::CustomerMessage(m) => {
                    customer_spoke_last = true;
                    last = Some(event.seq);
                    let found = extractor.extract_answer(m.text.as_str(), event.seq, &asked);
                    asked.retain(|k| !found.iter().any(|f| &f.kind == k));
                    own.extend(found);
                }
                EventBody::Nlu(n) => {
                    nlu.extend(last.map(|s| facts_from_nlu(n, s)).unwrap_or_default())
                }
                _ => {}
            }
        }
        merge(own, nlu)
    }

    #[test]
    fn the_fold_after_every_prefix_is_one_merge_of_the_whole_log() {
        let ex = FactExtractor::new(&FactConfig::default()).unwrap();
        let nlu = |entities: serde_json::Value| json!({"type": "nlu", "intent": "billing.refund", "confidence": 0.8, "entities": entities});
        let bodies = [
            (
                "bot",
                json!({"type": "nlu", "intent": "greet", "confidence": 0.9,
                "entities": [{"kind": "order_id", "value": "1"}]}),
            ),
            (
                "customer",
                json!({"type": "customer_message", "text": "order 88231 was charged twice, I'm Ana Ruiz"}),
            ),
            (
                "bot",
                nlu(json!([{"kind": "account_number", "value": "88231"}])),
            ),
            (
                "bot",
                json!({"type": "bot_message", "text": "May I have your email and phone number?"}),
            ),
            ("bot", nlu(json!([{"kind": "person_name", "value": "Ana"}]))),
            (
                "customer",
                json!({"type": "customer_message", "text": "ana@example.com"}),
            ),
            (
                "customer",
                json!({"type": "customer_message", "text": "555 201 7788"}),
            ),
            (
                "bot",
                nlu(
                    json!([{"kind": "phone", "value": "5552017788"}, {"kind": "email", "value": "ana@example.com"}]),
                ),
            ),
            (
                "customer",
                json!({"type": "customer_message", "text": "again: order 88231, email ana@example.com"}),
            ),
            (
                "bot",
                json!({"type": "bot_message", "text": "And your zip code?"}),
            ),
            (
                "customer",
                json!({"type": "customer_message", "text": "94107"}),
            ),
            (
                "bot",
                nlu(json!([{"kind": "postcode", "value": "94107", "start": 0, "end": 5}])),
            ),
        ];
        let mut events: Vec<Event> = Vec::new();
        let mut fold = FactFold::default();
        for (actor, mut body) in bodies {
            let seq = events.len() as u64 + 1;
            body["seq"] = json!(seq);
            body["id"] = json!(format!("e{seq}"));
            body["actor"] = json!(actor);
            body["at"] = json!("2026-01-01T10:00:00Z");
            let event: Event = serde_json::from_value(body).unwrap();
            fold.observe(&event, &ex);
            events.push(event);
            assert_eq!(fold.facts(), whole_log(&events, &ex), "after seq {seq}");
        }
        let facts = fold.facts();
        assert!(
            facts
                .iter()
                .any(|f| f.source == FactSource::Nlu && f.kind == FactKind::AccountId)
        );
        assert!(
            facts
                .iter()
                .any(|f| f.kind == FactKind::Postcode && f.source == FactSource::Nlu)
        );
    }
}
