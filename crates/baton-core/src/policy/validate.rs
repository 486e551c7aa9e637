//! Semantic checks serde cannot express: ranges, finiteness, orderings between settings.

use super::Policy;

/// Collects problems as (dotted path, message), in file order.
struct Checks(Vec<(String, String)>);

impl Checks {
    fn range(&mut self, path: &str, value: f64, lo: f64, hi: f64) {
        if !value.is_finite() || value < lo || value > hi {
            self.0.push((
                path.to_owned(),
                format!("must be between {lo} and {hi}, got {value}"),
            ));
        }
    }

    fn finite(&mut self, path: &str, value: f64) {
        if !value.is_finite() {
            self.0.push((
                path.to_owned(),
                format!("must be a finite number, got {value}"),
            ));
        }
    }

    fn count(&mut self, path: &str, value: usize, lo: usize, hi: usize) {
        if value < lo || value > hi {
            self.0.push((
                path.to_owned(),
                format!("must be between {lo} and {hi}, got {value}"),
            ));
        }
    }

    fn phrases(&mut self, path: &str, phrases: &[String]) {
        for (i, p) in phrases.iter().enumerate() {
            if p.trim().is_empty() || p.chars().any(char::is_uppercase) {
                self.0.push((
                    path.to_owned(),
                    format!("entry {i} must be non-empty lower-case text"),
                ));
            }
        }
    }

    fn rule(&mut self, ok: bool, path: &str, message: &str) {
        if !ok {
            self.0.push((path.to_owned(), message.to_owned()));
        }
    }
}

impl Policy {
    /// Every semantic problem, as (dotted path, message); empty when the policy is usable.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut c = Checks(Vec::new());
        c.rule(!self.name.trim().is_empty(), "name", "must not be empty");
        c.rule(
            self.label().is_some(),
            "version",
            "name@version must be a valid label",
        );
        let s = &self.sentiment;
        c.range("sentiment.smoothing", s.smoothing, 0.01, 1.0);
        c.count("sentiment.slope_window", s.slope_window, 2, 32);
        c.range("sentiment.handoff_level", s.handoff_level, -1.0, 1.0);
        c.range("sentiment.handoff_slope", s.handoff_slope, -2.0, 0.0);
        c.range("sentiment.slope_level_gate", s.slope_level_gate, -1.0, 1.0);
        c.range("sentiment.calm_floor", s.calm_floor, -1.0, 1.0);
        let f = &self.frustration;
        c.range("frustration.handoff_level", f.handoff_level, 0.0, 1.0);
        c.range("frustration.decay", f.decay, 0.0, 1.0);
        c.range("frustration.shouting_ratio", f.shouting_ratio, 0.0, 1.0);
        c.count(
            "frustration.shouting_min_letters",
            f.shouting_min_letters,
            1,
            1000,
        );
        for (name, w) in [
            ("weight_shouting", f.weight_shouting),
            ("weight_punctuation", f.weight_punctuation),
            ("weight_insult", f.weight_insult),
            ("weight_repeat_claim", f.weight_repeat_claim),
        ] {
            c.range(&format!("frustration.{name}"), w, 0.0, 1.0);
        }
        c.phrases("frustration.insults", &f.insults);
        c.phrases("frustration.repeat_claims", &f.repeat_claims);
        c.range("confidence.low", self.confidence.low, 0.0, 1.0);
        c.rule(
            self.confidence.streak_handoff >= 1,
            "confidence.streak_handoff",
            "must be at least 1",
        );
        let l = &self.loops;
        c.range(
            "loops.rephrase_similarity",
            l.rephrase_similarity,
            0.05,
            1.0,
        );
        c.range("loops.repeat_similarity", l.repeat_similarity, 0.05, 1.0);
        c.count("loops.window", l.window, 1, 16);
        c.range("loops.handoff_score", l.handoff_score, 0.1, 100.0);
        c.range("loops.decay", l.decay, 0.0, 1.0);
        c.phrases("explicit.extra_phrases", &self.explicit.extra_phrases);
        c.range(
            "gaming.min_confidence",
            self.gaming.min_confidence,
            0.0,
            1.0,
        );
        c.phrases("offer.accept_phrases", &self.offer.accept_phrases);
        c.range("risk.min_confidence", self.risk.min_confidence, 0.0, 1.0);
        c.phrases("risk.phrases", &self.risk.phrases);
        let m = &self.failure;
        for (name, v) in [
            ("bias", m.bias),
            ("weight_negativity", m.weight_negativity),
            ("weight_decline", m.weight_decline),
            ("weight_frustration", m.weight_frustration),
            ("weight_low_confidence", m.weight_low_confidence),
            ("weight_loop", m.weight_loop),
            ("weight_length", m.weight_length),
        ] {
            c.finite(&format!("failure.{name}"), v);
        }
        c.range("failure.handoff", m.handoff, 0.0, 1.0);
        c.range("failure.offer", m.offer, 0.0, 1.0);
        c.rule(
            m.offer <= m.handoff,
            "failure.offer",
            "must not exceed failure.handoff",
        );
        c.range(
            "capacity.max_wait_secs",
            self.capacity.max_wait_secs,
            0.0,
            86_400.0,
        );
        for (i, rule) in self.skills.iter().enumerate() {
            c.rule(
                !rule.skills.is_empty(),
                &format!("skills[{i}].skills"),
                "must name at least one skill",
            );
        }
        for (i, book) in self.playbooks.iter().enumerate() {
            let ok = !book.steps.is_empty() && book.steps.iter().all(|s| !s.trim().is_empty());
            c.rule(
                ok,
                &format!("playbooks[{i}].steps"),
                "must hold at least one non-empty step",
            );
        }
        c.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_has_no_problems() {
        assert_eq!(Policy::default().problems(), Vec::<(String, String)>::new());
    }

    #[test]
    fn catches_nan_and_order() {
        let mut p = Policy::default();
        p.failure.weight_loop = f64::NAN;
        p.failure.offer = 0.9;
        p.failure.handoff = 0.5;
        let paths: Vec<String> = p.problems().into_iter().map(|(path, _)| path).collect();
        assert_eq!(paths, ["failure.weight_loop", "failure.offer"]);
    }
}
