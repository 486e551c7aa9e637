//! Facts a conversation already holds, kept current event by event, so the append path
//! can check an agent's question or a customer's restatement, and the package can be
//! built, without re-reading the log.

use crate::event::{CustomerRepeated, EventBody, RepeatAsk};
use crate::{Event, Label};

use super::collect::{FactFold, facts_from_nlu};
use super::extract::FactExtractor;
use super::repeat::{detect_customer_repeat, detect_repeat_ask};
use super::{Fact, FactSource};

/// Facts the conversation already holds, kept current per event so an agent's
/// question or a customer's restatement can be checked without re-reading the log.
/// Only the first mention of each value is kept: that is the one a repeat points
/// back to, and it keeps the cost per message flat however long the conversation.
///
/// It also folds the package's facts ([`FactFold`]: questions and bare answers read
/// together, NLU entities attributed to the message they read), from the same single
/// extraction per customer message.
#[derive(Debug, Clone, Default)]
pub struct KnownFacts {
    first: Vec<Fact>,
    fold: FactFold,
}

impl KnownFacts {
    /// Every distinct known fact, oldest mention first.
    pub fn all(&self) -> &[Fact] {
        &self.first
    }

    /// The facts a package shows: `collect_facts` of every event observed.
    pub fn package_facts(&self) -> Vec<Fact> {
        self.fold.facts()
    }

    fn remember(&mut self, facts: Vec<Fact>) {
        for fact in facts {
            let key = fact.normalized();
            match self
                .first
                .iter_mut()
                .find(|known| known.kind == fact.kind && known.normalized() == key)
            {
                // The bot's NLU wins over baton's own reading of the same value.
                Some(known)
                    if fact.source == FactSource::Nlu && known.source != FactSource::Nlu =>
                {
                    let seq = known.seq.min(fact.seq);
                    *known = Fact { seq, ..fact };
                }
                Some(_) => {}
                None => self.first.push(fact),
            }
        }
    }

    /// Folds one event in and returns what it repeats: an agent asking for a known
    /// fact (`repeat_ask`), or a customer restating one (`customer_repeated`).
    pub fn observe(&mut self, event: &Event, extractor: &FactExtractor) -> Vec<EventBody> {
        let mut derived = Vec::new();
        match &event.body {
            EventBody::AgentMessage(message) => {
                for repeat in detect_repeat_ask(message.text.as_str(), self.all()) {
                    if let Ok(fact_kind) = Label::parse(repeat.kind.as_str()) {
                        derived.push(EventBody::RepeatAsk(RepeatAsk {
                            fact_kind,
                            asked_seq: event.seq,
                            fact_seq: repeat.fact_seq,
                        }));
                    }
                }
                self.fold.observe(event, extractor);
            }
            EventBody::CustomerMessage(message) => {
                let text = message.text.as_str();
                for repeat in detect_customer_repeat(text, event.seq, self.all(), extractor) {
                    if let Ok(fact_kind) = Label::parse(repeat.kind.as_str()) {
                        derived.push(EventBody::CustomerRepeated(CustomerRepeated {
                            fact_kind,
                            repeated_seq: event.seq,
                            fact_seq: repeat.fact_seq,
                        }));
                    }
                }
                let plain = self.fold.observe(event, extractor);
                self.remember(plain);
            }
            EventBody::Nlu(nlu) => {
                self.fold.observe(event, extractor);
                self.remember(facts_from_nlu(nlu, event.seq));
            }
            _ => {
                self.fold.observe(event, extractor);
            }
        }
        derived
    }
}
