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
        c.rule(
            f.rising_messages >= 2,
            "frustration.rising_messages",
            "must be at least 2: one message is not a trend",
        );
        c.range("frustration.rising_step", f.rising_step, 0.0, 1.0);
        c.range("frustration.rising_floor", f.rising_floor, 0.0, 1.0);
        self.facts_problems(&mut c);
        c.phrases("frustration.insults", &f.insults);
        c.phrases("frustration.repeat_claims", &f.repeat_claims);
        c.range("confidence.low", self.confidence.low, 0.0, 1.0);
        c.rule(
            self.confidence.calibration != super::CalibrationMode::Learned
                || self.confidence.learned.is_some(),
            "confidence.calibration",
            "\"learned\" needs [confidence.learned] (run `baton train`)",
        );
        c.rule(
            self.confidence.learned.as_ref().is_none_or(|l| l.is_valid()),
            "confidence.learned",
            "each map needs raw values increasing and calibrated values non-decreasing, all in [0, 1]",
        );
        c.rule(
            self.confidence.streak_handoff >= 1,
            "confidence.streak_handoff",
            "must be at least 1",
        );
        c.phrases(
            "confidence.rephrase_prompts",
            &self.confidence.rephrase_prompts,
        );
        for (i, pattern) in self.confidence.human_intents.iter().enumerate() {
            c.rule(
                pattern.as_str().bytes().any(|b| b != b'*'),
                "confidence.human_intents",
                &format!("entry {i} matches every intent: then none would name a task"),
            );
        }
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
        if let Some(days) = self.retention.closed_after_days {
            c.rule(
                (1..=super::RetentionPolicy::MAX_DAYS).contains(&days),
                "retention.closed_after_days",
                "must be between 1 and 36500 days",
            );
        }
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

impl Policy {
    /// `[facts]`: every id pattern compiles and names a kind; tiers and non-names are
    /// non-empty words.
    fn facts_problems(&self, c: &mut Checks) {
        for (i, id) in self.facts.ids.iter().enumerate() {
            c.rule(
                !id.kind.trim().is_empty(),
                &format!("facts.ids[{i}].kind"),
                "must not be empty",
            );
            if let Err(e) = regex::Regex::new(&id.pattern) {
                // The compiler's message spans lines; its last line says what is wrong.
                let why = e.to_string();
                let why = why
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("");
                c.0.push((
                    format!("facts.ids[{i}].pattern"),
                    format!("is not a valid regex: {}", why.trim()),
                ));
            }
        }
        for (path, words) in [
            ("facts.account_tiers", &self.facts.account_tiers),
            ("facts.not_names", &self.facts.not_names),
        ] {
            c.rule(
                words.iter().all(|w| !w.trim().is_empty()),
                path,
                "entries must not be empty",
            );
        }
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

    #[test]
    fn a_retention_is_read_and_bounded() {
        let p = Policy::from_toml_str("[retention]\nclosed_after_days = 30\n").unwrap();
        assert_eq!(p.retention.closed_after_days, Some(30));
        assert_eq!(Policy::default().retention.closed_after_days, None);
        for days in ["0", "36501"] {
            let e = Policy::from_toml_str(&format!("[retention]\nclosed_after_days = {days}\n"))
                .unwrap_err();
            assert_eq!(
                e.path.as_deref(),
                Some("retention.closed_after_days"),
                "{days}"
            );
        }
        let e = Policy::from_toml_str("[retention]\nclosed_after = 30\n").unwrap_err();
        assert!(e.message.contains("closed_after"), "{}", e.message);
    }

    #[test]
    fn a_catch_all_human_intent_is_refused() {
        let e = Policy::from_toml_str("[confidence]\nhuman_intents = [\"*agent*\", \"**\"]\n")
            .unwrap_err();
        assert_eq!(e.path.as_deref(), Some("confidence.human_intents"));
        assert!(e.message.contains("entry 1"), "{}", e.message);
        let p = Policy::from_toml_str("[confidence]\nhuman_intents = [\"*agent*\"]\n").unwrap();
        assert_eq!(p.confidence.human_intents.len(), 1, "lists replace");
    }

    #[test]
    fn default_facts_are_the_extractors_defaults() {
        // default.toml writes out what FactConfig::default() holds: one set of values.
        assert_eq!(Policy::default().facts, crate::facts::FactConfig::default());
    }

    #[test]
    fn a_bad_id_pattern_names_its_setting_and_line() {
        let src = "[facts]\n\n[[facts.ids]]\nkind = \"case_id\"\npattern = 'TCK-\\d{6}'\n\n\
                   [[facts.ids]]\nkind = \"policy_number\"\npattern = '(POL-\\d+'\n";
        let e = Policy::from_toml_str(src).unwrap_err();
        assert_eq!(e.path.as_deref(), Some("facts.ids[1].pattern"));
        assert_eq!(e.line, Some(9), "{e:?}");
        assert!(e.message.contains("not a valid regex"), "{}", e.message);
        let e =
            Policy::from_toml_str("[[facts.ids]]\nkind = \" \"\npattern = 'x\\d'\n").unwrap_err();
        assert_eq!(e.path.as_deref(), Some("facts.ids[0].kind"));
        assert_eq!(e.line, Some(2));
    }

    #[test]
    fn a_custom_id_pattern_replaces_the_defaults_and_is_extracted() {
        let src = "[[facts.ids]]\nkind = \"case_id\"\npattern = '\\bTCK-\\d{6}\\b'\n";
        let p = Policy::from_toml_str(src).unwrap();
        assert_eq!(p.facts.ids.len(), 1, "lists replace the default wholesale");
        assert_eq!(p.facts.account_tiers, Policy::default().facts.account_tiers);
        let ex = crate::facts::FactExtractor::new(&p.facts).unwrap();
        let facts = ex.extract("my ticket is TCK-204518, still open", 3);
        assert_eq!(facts.len(), 1, "{facts:?}");
        assert_eq!(facts[0].kind, crate::facts::FactKind::CaseId);
        assert_eq!(facts[0].value, "TCK-204518");
    }
}
