//! Synthetic but realistic conversation histories shared by the in-process benches.

use baton_core::event::{EventBody, IntentScore, Message, Nlu};
use baton_core::id::EventId;
use baton_core::{Actor, Confidence, Event, Label, Text, Timestamp};

const CUSTOMER: [&str; 5] = [
    "Hi, I was charged twice for order 88231 and I need one of the charges refunded.",
    "I already gave you the order number, it's 88231. My email is maria.lopez@example.com",
    "The second charge of 59.90 EUR is still on my card statement from November 20.",
    "Can you please check again? This is getting really frustrating.",
    "OK thanks, but when will the refund actually arrive on my account?",
];
const BOT: [&str; 3] = [
    "I'm sorry about that. Let me look up order 88231 for you.",
    "I can see two captures of 59.90 EUR. I've started a refund for the duplicate.",
    "Refunds usually arrive within 5 business days. Is there anything else I can help with?",
];

/// Calm, varied customer turns: the decision engine has no reason to hand off early.
pub const TURNS: [&str; 10] = [
    "Hi! I have a question about the refund for order 88231.",
    "It was the duplicate charge of 59.90 EUR from November 20.",
    "My email is maria.lopez@example.com if you need it.",
    "Thanks. Do you know which card it goes back to?",
    "Great, it was the Visa ending in 4242.",
    "And how long does it usually take to show up?",
    "Okay, five business days sounds fine.",
    "Will I get an email confirmation as well?",
    "Perfect, and is there a reference number I can keep?",
    "Thank you, that is very helpful.",
];

/// The bot's answers, all different: a bot repeating itself is a loop, and loops hand off.
pub const REPLIES: [&str; 10] = [
    "Of course, let me pull up order 88231.",
    "I can see that duplicate charge; a refund for it is already in progress.",
    "Thanks, I have found your account under that email.",
    "Refunds always go back to the card that was charged.",
    "Got it, the Visa ending in 4242 will receive the money.",
    "It usually takes three to five business days to appear.",
    "Glad that works for you.",
    "Yes, a confirmation email is sent as soon as the bank processes it.",
    "Your refund reference is R-5531.",
    "You're welcome! Anything else I can do?",
];

/// The client events of one calm turn, as a bot integration sends them: the customer's
/// message, the bot's NLU reading of it, the bot's reply.
pub fn calm_turn(turn: usize) -> [serde_json::Value; 3] {
    [
        serde_json::json!({"type": "customer_message", "text": TURNS[turn % TURNS.len()]}),
        serde_json::json!({"type": "nlu", "intent": "billing.refund_status", "confidence": 0.91}),
        serde_json::json!({"type": "bot_message", "text": REPLIES[turn % REPLIES.len()]}),
    ]
}

fn event(seq: u64, actor: Actor, body: EventBody) -> anyhow::Result<Event> {
    Ok(Event {
        seq,
        id: EventId::parse(format!("e{seq}"))?,
        actor,
        at: Timestamp::from_unix_millis(1_764_000_000_000 + seq as i64 * 5_000),
        meta: None,
        body,
    })
}

/// A customer message at `seq`, turn `turn`.
pub fn customer(seq: u64, turn: usize) -> anyhow::Result<Event> {
    let text = Text::parse(CUSTOMER[turn % CUSTOMER.len()])?;
    event(
        seq,
        Actor::Customer,
        EventBody::CustomerMessage(Message { text }),
    )
}

/// `turns` turns of customer message, NLU and bot reply.
pub fn history(turns: usize) -> anyhow::Result<Vec<Event>> {
    let mut events = Vec::with_capacity(turns * 3);
    for turn in 0..turns {
        let seq = events.len() as u64 + 1;
        events.push(customer(seq, turn)?);
        events.push(event(
            seq + 1,
            Actor::Bot,
            EventBody::Nlu(Nlu {
                intent: Label::parse("billing.double_charge")?,
                confidence: Confidence::new(0.82)?,
                alternatives: vec![IntentScore {
                    intent: Label::parse("billing.refund")?,
                    confidence: Confidence::new(0.1)?,
                }],
                entities: Vec::new(),
            }),
        )?);
        let text = Text::parse(BOT[turn % BOT.len()])?;
        events.push(event(
            seq + 2,
            Actor::Bot,
            EventBody::BotMessage(Message { text }),
        )?);
    }
    Ok(events)
}
