//! The mismatch matrix and the reliability table: how often the bot's intent was the
//! one the human found, and whether its confidence meant what it said.
//!
//! A labelled case is one conversation: the bot's intent and confidence as the human
//! judged them, and the intent the human held true. A read-back carries all three
//! (baton recorded the bot's reading when the agent answered); a resolution's
//! `true_intent` is paired with the bot's last `nlu` before it. When a conversation has
//! both, the resolution is the later, considered word and wins.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::event::{Event, EventBody};
use crate::id::ConversationId;
use crate::label::Label;
use crate::timestamp::Timestamp;

/// One conversation's labelled outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelledCase {
    /// The conversation.
    pub conversation: ConversationId,
    /// When the human's label was given.
    pub at: Timestamp,
    /// The bot's intent.
    pub bot_intent: Label,
    /// The bot's confidence in it.
    pub confidence: f64,
    /// The intent the human held true.
    pub true_intent: Label,
}

impl LabelledCase {
    /// Whether the bot was right.
    pub fn correct(&self) -> bool {
        self.bot_intent == self.true_intent
    }
}

/// The labelled cases in a set of conversations' events (each conversation's events in
/// seq order), one per conversation whose label falls in `[since, until)`.
pub fn labelled_cases<'a>(
    conversations: impl IntoIterator<Item = (&'a ConversationId, &'a [Event])>,
    since: Timestamp,
    until: Timestamp,
) -> Vec<LabelledCase> {
    let mut out = Vec::new();
    for (conversation, events) in conversations {
        let mut reading: Option<(Label, f64)> = None;
        let mut case: Option<LabelledCase> = None;
        for event in events {
            let label = match &event.body {
                EventBody::Nlu(nlu) => {
                    reading = Some((nlu.intent.clone(), nlu.confidence.get()));
                    None
                }
                EventBody::ReadBack(read_back) => {
                    let bot = read_back.bot_intent.clone().zip(read_back.bot_confidence);
                    match (bot, read_back.true_intent()) {
                        (Some((intent, confidence)), Some(truth)) => {
                            Some((intent, confidence.get(), truth.clone()))
                        }
                        _ => None,
                    }
                }
                EventBody::Resolved(resolved) => match (&reading, &resolved.true_intent) {
                    (Some((intent, confidence)), Some(truth)) => {
                        Some((intent.clone(), *confidence, truth.clone()))
                    }
                    _ => None,
                },
                _ => None,
            };
            if let Some((bot_intent, confidence, true_intent)) = label {
                case = Some(LabelledCase {
                    conversation: conversation.clone(),
                    at: event.at,
                    bot_intent,
                    confidence,
                    true_intent,
                });
            }
        }
        if let Some(case) = case.filter(|c| c.at >= since && c.at < until) {
            out.push(case);
        }
    }
    out.sort_by(|a, b| (a.at, &a.conversation).cmp(&(b.at, &b.conversation)));
    out
}

/// One row of the matrix: a bot intent and what the humans found it to be.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatrixRow {
    /// The bot's intent.
    pub bot_intent: Label,
    /// Labelled cases with this bot intent.
    pub total: u64,
    /// Of which the human confirmed it.
    pub confirmed: u64,
    /// `confirmed / total`.
    pub accuracy: f64,
    /// True intent -> count, the bot's own included.
    pub true_intents: BTreeMap<Label, u64>,
}

/// The confusion matrix, one row per bot intent (by name).
pub fn confusion(cases: &[LabelledCase]) -> Vec<MatrixRow> {
    let mut rows: BTreeMap<&Label, BTreeMap<Label, u64>> = BTreeMap::new();
    for case in cases {
        *rows
            .entry(&case.bot_intent)
            .or_default()
            .entry(case.true_intent.clone())
            .or_default() += 1;
    }
    rows.into_iter()
        .map(|(bot_intent, true_intents)| {
            let total: u64 = true_intents.values().sum();
            let confirmed = true_intents.get(bot_intent).copied().unwrap_or(0);
            MatrixRow {
                bot_intent: bot_intent.clone(),
                total,
                confirmed,
                accuracy: ratio(confirmed, total),
                true_intents,
            }
        })
        .collect()
}

/// One confidence bin of the reliability table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bin {
    /// Lower edge (inclusive).
    pub lower: f64,
    /// Upper edge (exclusive, the last one inclusive).
    pub upper: f64,
    /// Cases in the bin.
    pub count: u64,
    /// Share of them the bot got right (0 when empty).
    pub accuracy: f64,
    /// Their mean confidence (0 when empty).
    pub mean_confidence: f64,
}

/// Confidence against accuracy, in equal-width bins.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reliability {
    /// The bins, lowest first.
    pub bins: Vec<Bin>,
    /// Cases counted.
    pub count: u64,
    /// Expected calibration error: `sum(count_b / n * |accuracy_b - confidence_b|)`.
    pub ece: f64,
}

/// The reliability table of `(confidence, correct)` pairs in `bins` equal-width bins.
pub fn reliability(pairs: impl IntoIterator<Item = (f64, bool)>, bins: usize) -> Reliability {
    let bins = bins.max(1);
    let mut sums = vec![(0u64, 0u64, 0.0f64); bins];
    for (confidence, correct) in pairs {
        let index = bin_of(confidence, bins);
        let (count, right, total) = &mut sums[index];
        *count += 1;
        *right += u64::from(correct);
        *total += confidence;
    }
    let n: u64 = sums.iter().map(|s| s.0).sum();
    let mut ece = 0.0;
    let width = 1.0 / bins as f64;
    let bins = sums
        .into_iter()
        .enumerate()
        .map(|(i, (count, right, total))| {
            let accuracy = ratio(right, count);
            let mean_confidence = if count == 0 {
                0.0
            } else {
                total / count as f64
            };
            if n > 0 {
                ece += count as f64 / n as f64 * (accuracy - mean_confidence).abs();
            }
            Bin {
                lower: i as f64 * width,
                upper: (i + 1) as f64 * width,
                count,
                accuracy,
                mean_confidence,
            }
        })
        .collect();
    Reliability {
        bins,
        count: n,
        ece,
    }
}

/// Which of `bins` equal bins `confidence` falls in (1.0 in the last).
pub fn bin_of(confidence: f64, bins: usize) -> usize {
    let scaled = (confidence.clamp(0.0, 1.0) * bins as f64).floor();
    (scaled as usize).min(bins - 1)
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// `GET /v1/insights/intents`: the matrix and the reliability table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentInsights {
    /// Labelled conversations counted.
    pub labelled: u64,
    /// Of which the bot was right.
    pub correct: u64,
    /// One row per bot intent.
    pub matrix: Vec<MatrixRow>,
    /// The bot's confidence against its accuracy.
    pub reliability: Reliability,
}

/// Bins of the reliability table the API reports.
pub const RELIABILITY_BINS: usize = 10;

/// The intent insights of `cases`.
pub fn intent_insights(cases: &[LabelledCase]) -> IntentInsights {
    IntentInsights {
        labelled: cases.len() as u64,
        correct: cases.iter().filter(|c| c.correct()).count() as u64,
        matrix: confusion(cases),
        reliability: reliability(
            cases.iter().map(|c| (c.confidence, c.correct())),
            RELIABILITY_BINS,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Actor;
    use crate::event::{FactsCheck, IntentCheck, Nlu, ReadBack, Resolved};
    use crate::id::{AgentId, EventId};
    use crate::text::{Confidence, Text};

    fn label(s: &str) -> Label {
        Label::parse(s).unwrap()
    }

    fn event(seq: u64, at: i64, body: EventBody) -> Event {
        Event {
            erased: false,
            seq,
            id: EventId::parse(format!("e{seq}")).unwrap(),
            actor: match &body {
                EventBody::ReadBack(_) => Actor::Agent(AgentId::parse("ana").unwrap()),
                EventBody::Resolved(_) => Actor::System,
                _ => Actor::Bot,
            },
            at: Timestamp::from_unix_millis(at),
            meta: None,
            body,
        }
    }

    fn nlu(intent: &str, confidence: f64) -> EventBody {
        EventBody::Nlu(Nlu {
            intent: label(intent),
            confidence: Confidence::new(confidence).unwrap(),
            alternatives: vec![],
            entities: vec![],
        })
    }

    fn read_back(bot: &str, confidence: f64, check: IntentCheck) -> EventBody {
        EventBody::ReadBack(ReadBack {
            intent: check,
            bot_intent: Some(label(bot)),
            bot_confidence: Some(Confidence::new(confidence).unwrap()),
            facts: FactsCheck::default(),
            note: None,
        })
    }

    fn resolved(truth: Option<&str>) -> EventBody {
        EventBody::Resolved(Resolved {
            resolution: Text::parse("done").unwrap(),
            true_intent: truth.map(label),
            csat: None,
        })
    }

    /// Six conversations, counted by hand:
    /// - c1 reset_password 0.95, read back confirmed            -> right, bin 9
    /// - c2 reset_password 0.85, corrected to billing_dispute   -> wrong, bin 8
    /// - c3 reset_password 0.91, resolved true billing_dispute  -> wrong, bin 9
    /// - c4 billing_dispute 0.55, corrected at read-back to reset_password, then resolved
    ///   true billing_dispute: the resolution wins             -> right, bin 5
    /// - c5 billing_dispute 0.45, resolved without true_intent  -> not labelled
    /// - c6 order_status 0.70, confirmed, but before `since`    -> outside the window
    fn fixture() -> Vec<(ConversationId, Vec<Event>)> {
        let corrected = |s: &str| IntentCheck::Corrected(label(s));
        let c = |s: &str| ConversationId::parse(s).unwrap();
        vec![
            (
                c("c1"),
                vec![
                    event(1, 1000, nlu("reset_password", 0.95)),
                    event(
                        2,
                        1100,
                        read_back("reset_password", 0.95, IntentCheck::Confirmed),
                    ),
                ],
            ),
            (
                c("c2"),
                vec![
                    event(1, 1000, nlu("reset_password", 0.85)),
                    event(
                        2,
                        1200,
                        read_back("reset_password", 0.85, corrected("billing_dispute")),
                    ),
                ],
            ),
            (
                c("c3"),
                vec![
                    event(1, 1000, nlu("reset_password", 0.91)),
                    event(2, 1300, resolved(Some("billing_dispute"))),
                ],
            ),
            (
                c("c4"),
                vec![
                    event(1, 1000, nlu("billing_dispute", 0.55)),
                    event(
                        2,
                        1400,
                        read_back("billing_dispute", 0.55, corrected("reset_password")),
                    ),
                    event(3, 1500, resolved(Some("billing_dispute"))),
                ],
            ),
            (
                c("c5"),
                vec![
                    event(1, 1000, nlu("billing_dispute", 0.45)),
                    event(2, 1600, resolved(None)),
                ],
            ),
            (
                c("c6"),
                vec![
                    event(1, 10, nlu("order_status", 0.70)),
                    event(
                        2,
                        20,
                        read_back("order_status", 0.7, IntentCheck::Confirmed),
                    ),
                ],
            ),
        ]
    }

    #[test]
    fn the_matrix_and_reliability_match_the_hand_count() {
        let conversations = fixture();
        let cases = labelled_cases(
            conversations.iter().map(|(c, e)| (c, e.as_slice())),
            Timestamp::from_unix_millis(500),
            Timestamp::from_unix_millis(2000),
        );
        let insights = intent_insights(&cases);
        assert_eq!(insights.labelled, 4);
        assert_eq!(insights.correct, 2);
        assert_eq!(insights.matrix.len(), 2);
        let billing = &insights.matrix[0];
        assert_eq!(billing.bot_intent.as_str(), "billing_dispute");
        assert_eq!((billing.total, billing.confirmed), (1, 1));
        let reset = &insights.matrix[1];
        assert_eq!(reset.bot_intent.as_str(), "reset_password");
        assert_eq!((reset.total, reset.confirmed), (3, 1));
        assert_eq!(reset.true_intents[&label("billing_dispute")], 2);
        assert_eq!(reset.true_intents[&label("reset_password")], 1);
        assert!((reset.accuracy - 1.0 / 3.0).abs() < 1e-12);

        let bins = &insights.reliability.bins;
        assert_eq!(bins.len(), 10);
        assert_eq!((bins[5].count, bins[8].count, bins[9].count), (1, 1, 2));
        assert_eq!(bins[9].accuracy, 0.5);
        assert!((bins[9].mean_confidence - 0.93).abs() < 1e-12);
        assert_eq!(bins[8].accuracy, 0.0);
        // ECE = 1/4 |1 - 0.55| + 1/4 |0 - 0.85| + 2/4 |0.5 - 0.93| = 0.1125 + 0.2125 + 0.215
        assert!(
            (insights.reliability.ece - 0.54).abs() < 1e-12,
            "{}",
            insights.reliability.ece
        );
    }

    #[test]
    fn a_confidence_of_one_falls_in_the_last_bin() {
        assert_eq!(bin_of(1.0, 10), 9);
        assert_eq!(bin_of(0.0, 10), 0);
        assert_eq!(bin_of(0.1, 10), 1);
        let table = reliability([(1.0, true), (0.0, false)], 10);
        assert_eq!(table.ece, 0.0);
    }
}
