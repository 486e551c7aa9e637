//! Synthetic but realistic conversations shared by the in-process benches: the long
//! history of baton-core's fixture, and the calm turns of the conversation workload.

pub use baton_core::fixture::{customer, history};

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
