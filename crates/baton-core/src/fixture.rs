//! A synthetic but realistic conversation, for benchmarks and timing runs: a customer
//! charged twice, the bot's NLU reading of each message, the bot's replies. One
//! definition serves `baton bench decide|package|ledger` and the ad-hoc timing tests
//! in this crate, so every figure is measured on the same history.

use crate::event::{EventBody, IntentScore, Message, Nlu};
use crate::id::EventId;
use crate::{Actor, Confidence, Event, Label, Text, Timestamp};

/// The customer's messages, in turn.
pub const CUSTOMER: [&str; 5] = [
    "Hi, I was charged twice for order 88231 and I need one of the charges refunded.",
    "I already gave you the order number, it's 88231. My email is maria.lopez@example.com",
    "The second charge of 59.90 EUR is still on my card statement from November 20.",
    "Can you please check again? This is getting really frustrating.",
    "OK thanks, but when will the refund actually arrive on my account?",
];

/// The bot's replies, in turn.
pub const BOT: [&str; 3] = [
    "I'm sorry about that. Let me look up order 88231 for you.",
    "I can see two captures of 59.90 EUR. I've started a refund for the duplicate.",
    "Refunds usually arrive within 5 business days. Is there anything else I can help with?",
];

// Every value below is a constant that satisfies its type's rules; the parses cannot
// fail, and a failure would be a bug in this file caught by its test.
fn text(raw: &str) -> Text {
    Text::parse(raw).expect("fixture texts are valid")
}

fn label(raw: &str) -> Label {
    Label::parse(raw).expect("fixture labels are valid")
}

fn confidence(value: f64) -> Confidence {
    Confidence::new(value).expect("fixture confidences are in [0, 1]")
}

fn event(seq: u64, actor: Actor, body: EventBody) -> Event {
    Event {
        erased: false,
        seq,
        id: EventId::parse(format!("e{seq}")).expect("e<digits> is a valid id"),
        actor,
        at: Timestamp::from_unix_millis(1_764_000_000_000 + seq as i64 * 5_000),
        meta: None,
        body,
    }
}

/// The customer message of turn `turn`, at `seq`.
pub fn customer(seq: u64, turn: usize) -> Event {
    let text = text(CUSTOMER[turn % CUSTOMER.len()]);
    event(
        seq,
        Actor::Customer,
        EventBody::CustomerMessage(Message { text }),
    )
}

/// `turns` turns of customer message, the bot's NLU reading and the bot's reply.
pub fn history(turns: usize) -> Vec<Event> {
    let mut events = Vec::with_capacity(turns * 3);
    for turn in 0..turns {
        let seq = events.len() as u64 + 1;
        events.push(customer(seq, turn));
        let nlu = Nlu {
            intent: label("billing.double_charge"),
            confidence: confidence(0.82),
            alternatives: vec![IntentScore {
                intent: label("billing.refund"),
                confidence: confidence(0.1),
            }],
            entities: Vec::new(),
        };
        events.push(event(seq + 1, Actor::Bot, EventBody::Nlu(nlu)));
        let text = text(BOT[turn % BOT.len()]);
        let body = EventBody::BotMessage(Message { text });
        events.push(event(seq + 2, Actor::Bot, body));
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_in_seq_order_and_folds() {
        let events = history(CUSTOMER.len() * BOT.len());
        assert_eq!(events.len(), 45);
        assert!(
            events
                .iter()
                .enumerate()
                .all(|(i, e)| e.seq == i as u64 + 1)
        );
        let state = crate::ConversationState::from_events(&events);
        assert_eq!(state.last_seq, 45);
    }
}
