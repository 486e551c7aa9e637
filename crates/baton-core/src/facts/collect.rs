//! Facts over a whole conversation: every customer message read with the question that
//! preceded it in mind, every NLU entity attributed to the customer message it read,
//! NLU entities winning where they and baton's own reading disagree, and each fact kept
//! once, at the message that first gave it.

use crate::event::{Event, EventBody, Nlu};

use super::extract::FactExtractor;
use super::kind::FactKind;
use super::pii::{self, PiiKind};
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
            let pii = PiiKind::of(&kind)
                .or_else(|| pii::is_card_number(&value).then_some(PiiKind::CardNumber));
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
    let mut own: Vec<Fact> = Vec::new();
    let mut nlu: Vec<Fact> = Vec::new();
    let mut asked: Vec<FactKind> = Vec::new();
    let mut customer_spoke_last = true;
    let mut last_customer_seq: Option<u64> = None;
    for event in events {
        match &event.body {
            EventBody::BotMessage(m) | EventBody::AgentMessage(m) => {
                // A run of bot lines ("may I have your order ID" / "and email, please")
                // asks as one; the customer's replies answer that run.
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
                last_customer_seq = Some(event.seq);
                let found = extractor.extract_answer(m.text.as_str(), event.seq, &asked);
                asked.retain(|k| !found.iter().any(|f| &f.kind == k));
                own.extend(found);
            }
            EventBody::Nlu(n) => {
                if let Some(seq) = last_customer_seq {
                    nlu.extend(facts_from_nlu(n, seq));
                }
            }
            _ => {}
        }
    }
    merge(own, nlu)
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
