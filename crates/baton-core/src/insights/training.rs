//! Training examples for the bot's NLU, from the humans' verdicts: each customer
//! utterance the bot read as the intent a human then judged, with both intents.
//!
//! Only the utterances whose `nlu` reading is the one the human judged are taken: an
//! earlier "hi" read as `greet` says nothing about whether `greet` was right.

use serde::Serialize;

use super::intents::LabelledCase;
use crate::event::{Event, EventBody};
use crate::id::ConversationId;

/// One example.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainingExample {
    /// The customer's words.
    pub text: String,
    /// What the bot read.
    pub bot_intent: String,
    /// What the human found.
    pub human_intent: String,
    /// Where it came from.
    pub conversation: String,
    /// The utterance's seq.
    pub seq: u64,
}

/// The examples of the labelled `cases`, from their conversations' events (seq order).
pub fn training_examples<'a>(
    cases: &[LabelledCase],
    events_of: impl Fn(&ConversationId) -> Option<&'a [Event]>,
) -> Vec<TrainingExample> {
    let mut out = Vec::new();
    for case in cases {
        let Some(events) = events_of(&case.conversation) else {
            continue;
        };
        let mut pending: Option<&Event> = None;
        for event in events {
            match &event.body {
                EventBody::CustomerMessage(_) => pending = Some(event),
                EventBody::Nlu(nlu) => {
                    if let Some(message) = pending.take()
                        && nlu.intent == case.bot_intent
                        && let Some(text) = message.body.message_text()
                    {
                        out.push(TrainingExample {
                            text: text.to_owned(),
                            bot_intent: nlu.intent.to_string(),
                            human_intent: case.true_intent.to_string(),
                            conversation: case.conversation.to_string(),
                            seq: message.seq,
                        });
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Rasa NLU training data (YAML, `version: "3.1"`): one block per human intent.
pub fn to_rasa_yaml(examples: &[TrainingExample]) -> String {
    let mut by_intent: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for example in examples {
        let line: String = example
            .text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        by_intent
            .entry(example.human_intent.as_str())
            .or_default()
            .push(line.trim().to_owned());
    }
    let mut out = String::from("version: \"3.1\"\nnlu:\n");
    for (intent, lines) in by_intent {
        out.push_str(&format!("- intent: {intent}\n  examples: |\n"));
        for line in lines {
            out.push_str(&format!("    - {line}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insights::intents::labelled_cases;
    use crate::timestamp::Timestamp;
    use serde_json::json;

    #[test]
    fn takes_the_utterances_read_as_the_judged_intent() {
        let events: Vec<Event> = [
            json!({"type": "customer_message", "text": "hi", "actor": "customer"}),
            json!({"type": "nlu", "intent": "greet", "confidence": 0.9, "actor": "bot"}),
            json!({"type": "customer_message", "text": "I can't log in\nat all", "actor": "customer"}),
            json!({"type": "nlu", "intent": "reset_password", "confidence": 0.6, "actor": "bot"}),
            json!({"type": "resolved", "resolution": "ok", "true_intent": "billing_dispute", "actor": "system"}),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, mut e)| {
            e["seq"] = json!(i + 1);
            e["id"] = json!(format!("e{i}"));
            e["at"] = json!("2026-01-01T00:00:00.000Z");
            serde_json::from_value(e).unwrap()
        })
        .collect();
        let cid = ConversationId::parse("c1").unwrap();
        let cases = labelled_cases(
            [(&cid, events.as_slice())],
            Timestamp::from_unix_millis(0),
            Timestamp::from_unix_millis(i64::MAX / 2),
        );
        let examples = training_examples(&cases, |_| Some(events.as_slice()));
        assert_eq!(examples.len(), 1);
        assert_eq!(examples[0].bot_intent, "reset_password");
        assert_eq!(examples[0].human_intent, "billing_dispute");
        assert_eq!(examples[0].seq, 3);
        let yaml = to_rasa_yaml(&examples);
        assert_eq!(
            yaml,
            "version: \"3.1\"\nnlu:\n- intent: billing_dispute\n  examples: |\n    - I can't log in at all\n"
        );
    }
}
