//! Does calibration improve the confidence a bot reports, on data it was not fitted
//! on? Measured on real utterances (the Bitext sample) with a stand-in bot: a
//! multinomial naive Bayes intent classifier, the textbook overconfident model, whose
//! top posterior is its confidence.
//!
//! Each utterance goes, by a fixed hash of its text and before anything is fitted, to
//! one of three parts: `nlu` (40 %, trains the stand-in bot), `fit` (30 %, the bot's
//! labelled outcomes the calibration is fitted on) and `test` (30 %, held out: the
//! figures reported). `nlu` and `fit` are the [`split`](super::split)'s `dev` side and
//! `test` is its `test` side. Nothing of `test` is seen by either fit.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::insights::calibration::Calibration;
use crate::insights::intents::{Reliability, reliability};

/// Which part of the data a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Trains the stand-in bot.
    Nlu,
    /// Fits the calibration.
    Fit,
    /// Held out.
    Test,
}

/// The part of `text`, by its hash: 4 in 10 `nlu`, 3 `fit`, 3 `test`.
pub fn part_of(text: &str) -> Part {
    match super::split::bucket(text) {
        0..=3 => Part::Nlu,
        4..=6 => Part::Fit,
        _ => Part::Test,
    }
}

fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// A multinomial naive Bayes intent classifier with add-one smoothing.
#[derive(Debug, Clone)]
pub struct NaiveBayes {
    priors: BTreeMap<String, f64>,
    counts: BTreeMap<String, BTreeMap<String, f64>>,
    totals: BTreeMap<String, f64>,
    vocabulary: usize,
}

impl NaiveBayes {
    /// Trains on `(text, intent)` rows.
    pub fn train<'a>(rows: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut docs: BTreeMap<String, f64> = BTreeMap::new();
        let mut counts: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
        let mut vocabulary = std::collections::BTreeSet::new();
        for (text, intent) in rows {
            *docs.entry(intent.to_owned()).or_default() += 1.0;
            let words = counts.entry(intent.to_owned()).or_default();
            for token in tokens(text) {
                vocabulary.insert(token.clone());
                *words.entry(token).or_default() += 1.0;
            }
        }
        let n: f64 = docs.values().sum();
        let priors = docs
            .iter()
            .map(|(i, d)| (i.clone(), (d / n).ln()))
            .collect();
        let totals = counts
            .iter()
            .map(|(i, w)| (i.clone(), w.values().sum()))
            .collect();
        Self {
            priors,
            counts,
            totals,
            vocabulary: vocabulary.len(),
        }
    }

    /// The top intent and its posterior probability.
    pub fn classify(&self, text: &str) -> Option<(String, f64)> {
        let words: Vec<String> = tokens(text).collect();
        let v = self.vocabulary as f64;
        let scores: Vec<(&String, f64)> = self
            .priors
            .iter()
            .map(|(intent, prior)| {
                let counts = &self.counts[intent];
                let total = self.totals[intent];
                let likelihood: f64 = words
                    .iter()
                    .map(|w| ((counts.get(w).copied().unwrap_or(0.0) + 1.0) / (total + v)).ln())
                    .sum();
                (intent, prior + likelihood)
            })
            .collect();
        let top = scores
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, s)| ((*i).clone(), *s))?;
        let norm: f64 = scores.iter().map(|(_, s)| (s - top.1).exp()).sum();
        Some((top.0, 1.0 / norm))
    }
}

/// The figures of one part.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartFigures {
    /// Rows scored.
    pub rows: u64,
    /// Share the stand-in bot got right.
    pub accuracy: f64,
    /// Expected calibration error of the raw confidence (10 bins).
    pub ece_raw: f64,
    /// Expected calibration error of the calibrated confidence (10 bins).
    pub ece_calibrated: f64,
    /// The reliability table of the calibrated confidence.
    pub calibrated: Reliability,
}

/// What `baton eval calibration` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalibrationReport {
    /// How the rows were split.
    pub split: &'static str,
    /// Rows that trained the stand-in bot.
    pub nlu_rows: u64,
    /// The part the calibration was fitted on (in-sample figures: not a result).
    pub fit: PartFigures,
    /// The held-out part: the result.
    pub test: PartFigures,
    /// Intents with a map of their own (the rest use the pooled map).
    pub intents_with_own_map: u64,
}

/// Scores calibration on `(text, intent)` rows, split by [`part_of`].
pub fn evaluate_calibration(
    rows: &[(String, String)],
    min_samples: usize,
) -> Option<CalibrationReport> {
    let in_part = |part: Part| {
        rows.iter()
            .filter(move |(text, _)| part_of(text) == part)
            .map(|(t, i)| (t.as_str(), i.as_str()))
    };
    let bot = NaiveBayes::train(in_part(Part::Nlu));
    let outcomes = |part: Part| -> Vec<(String, f64, bool)> {
        in_part(part)
            .filter_map(|(text, truth)| {
                let (intent, confidence) = bot.classify(text)?;
                let correct = intent == truth;
                Some((intent, confidence, correct))
            })
            .collect()
    };
    let fit = outcomes(Part::Fit);
    let test = outcomes(Part::Test);
    let calibration = Calibration::fit(
        fit.iter().map(|(i, c, ok)| (i.as_str(), *c, *ok)),
        min_samples,
    )?;
    let figures = |cases: &[(String, f64, bool)]| {
        let raw = reliability(cases.iter().map(|(_, c, ok)| (*c, *ok)), 10);
        let calibrated = reliability(
            cases
                .iter()
                .map(|(i, c, ok)| (calibration.apply(i, *c), *ok)),
            10,
        );
        PartFigures {
            rows: cases.len() as u64,
            accuracy: if cases.is_empty() {
                0.0
            } else {
                cases.iter().filter(|c| c.2).count() as f64 / cases.len() as f64
            },
            ece_raw: raw.ece,
            ece_calibrated: calibrated.ece,
            calibrated,
        }
    };
    Some(CalibrationReport {
        split: "FNV-1a of the utterance mod 10: 0-3 nlu, 4-6 fit, 7-9 test",
        nlu_rows: in_part(Part::Nlu).count() as u64,
        fit: figures(&fit),
        test: figures(&test),
        intents_with_own_map: calibration.intents.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_is_fixed_and_roughly_four_three_three() {
        assert_eq!(
            part_of("how can I cancel my order"),
            part_of("how can I cancel my order")
        );
        let parts: Vec<Part> = (0..1000).map(|i| part_of(&format!("row {i}"))).collect();
        let nlu = parts.iter().filter(|p| **p == Part::Nlu).count();
        assert!((300..500).contains(&nlu), "{nlu}");
    }

    #[test]
    fn naive_bayes_picks_the_intent_whose_words_it_saw() {
        let bot = NaiveBayes::train([
            ("cancel my order", "cancel_order"),
            ("cancel the order please", "cancel_order"),
            ("where is my refund", "track_refund"),
            ("refund status", "track_refund"),
        ]);
        let (intent, confidence) = bot.classify("please cancel order").unwrap();
        assert_eq!(intent, "cancel_order");
        assert!(confidence > 0.5 && confidence <= 1.0);
    }
}
