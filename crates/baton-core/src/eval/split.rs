//! The one dev/test split every labelled set baton is measured on is cut by, fixed
//! before anything is tuned: a row belongs to `test` when the 64-bit FNV-1a hash of its
//! text (UTF-8 bytes, as given) mod 10 is 7, 8 or 9 (30 %), to `dev` otherwise. Tuning
//! (phrase lists, thresholds, weights) may look at `dev` rows and their misses only;
//! the figures baton publishes are the `test` ones.
//!
//! The hash is of the text alone, so a row keeps its side whatever file it is read
//! from, and the same utterance in two data sets is on the same side of both.
//! [`calibration`](super::calibration) cuts `dev` further (its `nlu` and `fit` parts)
//! and reports on the same `test` rows.

use serde::Serialize;

use crate::signals::words::fnv1a;

/// Which side of the split a row is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Rows tuning may look at.
    Dev,
    /// Held-out rows: the reported figures.
    Test,
}

/// The split as the reports name it.
pub const SPLIT_RULE: &str = "FNV-1a 64 of the row's text mod 10: 7-9 test (30 %), 0-6 dev";

impl Split {
    /// The side of the row whose text is `text`.
    pub fn of(text: &str) -> Split {
        if bucket(text) >= 7 {
            Split::Test
        } else {
            Split::Dev
        }
    }
}

/// `text`'s bucket, 0..10.
pub(crate) fn bucket(text: &str) -> u64 {
    fnv1a(text) % 10
}

/// Figures for each side, labelled.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BySplit<T> {
    /// How rows were split ([`SPLIT_RULE`]).
    pub split: &'static str,
    /// On the rows tuning may look at: in-sample, not a result.
    pub dev: T,
    /// On the held-out rows: the result.
    pub test: T,
}

impl<T> BySplit<T> {
    /// Runs `measure` on each side's rows.
    pub fn measure<R: Clone>(
        rows: impl IntoIterator<Item = R>,
        text: impl Fn(&R) -> &str,
        mut measure: impl FnMut(Vec<R>) -> T,
    ) -> Self {
        let (mut dev, mut test) = (Vec::new(), Vec::new());
        for row in rows {
            match Split::of(text(&row)) {
                Split::Dev => dev.push(row),
                Split::Test => test.push(row),
            }
        }
        Self {
            split: SPLIT_RULE,
            dev: measure(dev),
            test: measure(test),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_is_fixed_and_about_seventy_thirty() {
        // Pinned: a change to the hash or the rule would move rows between sides and
        // silently turn tuned-on rows into "held-out" ones.
        assert_eq!(fnv1a("how can I cancel my order"), 0x7aab_0819_dd66_4f30);
        assert_eq!(Split::of("how can I cancel my order"), Split::Dev);
        let test = (0..10_000)
            .filter(|i| Split::of(&format!("row {i}")) == Split::Test)
            .count();
        assert!((2_800..3_200).contains(&test), "{test}");
    }

    #[test]
    fn each_row_is_measured_once_on_its_side() {
        let rows: Vec<String> = (0..100).map(|i| format!("utterance {i}")).collect();
        let by = BySplit::measure(rows.clone(), |r| r.as_str(), |side| side);
        assert_eq!(by.dev.len() + by.test.len(), 100);
        assert!(by.test.iter().all(|r| Split::of(r) == Split::Test));
        assert!(by.dev.iter().all(|r| Split::of(r) == Split::Dev));
    }
}
