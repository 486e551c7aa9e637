//! The bot's NLU confidence: the current value, the streak of low (or fallback) results,
//! the history for display, and the latest intent that names a task (what a handoff
//! should be routed by when the newest intent is only "let me talk to a human").

use serde::{Deserialize, Serialize};

use crate::event::Nlu;
use crate::label::Label;
use crate::policy::{ConfidencePolicy, any_matches};

/// Most recent confidences kept for sparklines.
pub const HISTORY_CAP: usize = 256;

/// The confidence fold.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IntentConfidence {
    /// The latest top intent.
    pub intent: Option<Label>,
    /// Its confidence as the signal reads it (calibrated when the policy says so).
    pub current: Option<f64>,
    /// The bot's own confidence, when `current` is calibrated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<f64>,
    /// Seq of the latest `nlu` event.
    pub seq: u64,
    /// Low or fallback results in a row.
    pub low_streak: u32,
    /// Fallback intents seen since the last reset.
    pub fallbacks: u32,
    /// Whether the latest intent is a fallback intent.
    pub fallback: bool,
    /// (seq, confidence) of each `nlu` event, oldest first.
    pub history: Vec<(u64, f64)>,
    /// The latest intent that names a task (see [`names_task`]) with a confidence that
    /// is not low.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_intent: Option<Label>,
    /// Whether the current customer turn already counts in `low_streak`.
    #[serde(default)]
    turn_low: bool,
    /// `low_streak` when the current customer turn began.
    #[serde(default)]
    streak_at_turn: u32,
}

/// Whether `intent` asks for a human rather than naming what the customer needs: one
/// of `policy.human_intents` matches the whole name or one of its words
/// (`contact_human_agent`, `talktohuman`, `talk_to_rep`, but not `report`).
pub fn asks_for_human(intent: &str, policy: &ConfidencePolicy) -> bool {
    let patterns = &policy.human_intents;
    // An unanchored pattern (`*agent*`) that matches a word matches the whole name too.
    any_matches(patterns, intent)
        || intent
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .any(|w| patterns.iter().any(|p| !p.is_unanchored() && p.matches(w)))
}

/// Whether `intent` names a task: neither a fallback ("not understood") nor a request
/// for a human.
pub fn names_task(intent: &str, policy: &ConfidencePolicy) -> bool {
    !any_matches(&policy.fallback_intents, intent) && !asks_for_human(intent, policy)
}

/// Room for one more result in the copy's history, as for
/// [`Sentiment`](super::sentiment::Sentiment).
impl Clone for IntentConfidence {
    fn clone(&self) -> Self {
        Self {
            intent: self.intent.clone(),
            current: self.current,
            raw: self.raw,
            seq: self.seq,
            low_streak: self.low_streak,
            fallbacks: self.fallbacks,
            fallback: self.fallback,
            history: super::sentiment::with_room(&self.history, HISTORY_CAP),
            task_intent: self.task_intent.clone(),
            turn_low: self.turn_low,
            streak_at_turn: self.streak_at_turn,
        }
    }
}

impl IntentConfidence {
    /// Adds one NLU result.
    pub fn push(&mut self, seq: u64, nlu: &Nlu, policy: &ConfidencePolicy) {
        let raw = nlu.confidence.get();
        let value = policy.calibrated(nlu.intent.as_str(), raw);
        self.raw = policy.is_learned().then_some(raw);
        self.fallback = any_matches(&policy.fallback_intents, nlu.intent.as_str());
        self.fallbacks += u32::from(self.fallback);
        if self.fallback || value < policy.low {
            self.low_streak += 1;
            self.turn_low = true;
        } else {
            self.low_streak = 0;
        }
        if !self.fallback && value >= policy.low && !asks_for_human(nlu.intent.as_str(), policy) {
            self.task_intent = Some(nlu.intent.clone());
        }
        self.intent = Some(nlu.intent.clone());
        self.current = Some(value);
        self.seq = seq;
        if self.history.len() == HISTORY_CAP {
            self.history.remove(0);
        }
        self.history.push((seq, value));
    }

    /// A customer message opens a turn.
    pub fn new_turn(&mut self) {
        self.turn_low = false;
        self.streak_at_turn = self.low_streak;
    }

    /// The bot asked the customer to rephrase: whatever its NLU said, it did not
    /// understand this turn, which continues the streak the turn began with (a
    /// confident reading earlier in the turn had reset it).
    pub fn bot_asked_to_rephrase(&mut self) {
        if !self.turn_low {
            self.low_streak = self.streak_at_turn + 1;
            self.turn_low = true;
        }
    }

    /// Starts a new episode; history stays.
    pub fn reset(&mut self) {
        self.low_streak = 0;
        self.fallbacks = 0;
        self.turn_low = false;
        self.streak_at_turn = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use crate::text::Confidence;

    fn nlu(intent: &str, c: f64) -> Nlu {
        Nlu {
            intent: Label::parse(intent).unwrap(),
            confidence: Confidence::new(c).unwrap(),
            alternatives: vec![],
            entities: vec![],
        }
    }

    #[test]
    fn streak_counts_low_and_fallback() {
        let p = Policy::default().confidence;
        let mut c = IntentConfidence::default();
        c.push(1, &nlu("refund", 0.3), &p);
        c.push(2, &nlu("nlu_fallback", 0.9), &p);
        assert_eq!(c.low_streak, 2);
        assert!(c.fallback);
        c.push(3, &nlu("refund", 0.9), &p);
        assert_eq!((c.low_streak, c.fallbacks), (0, 1));
        assert_eq!(c.history, vec![(1, 0.3), (2, 0.9), (3, 0.9)]);
    }

    #[test]
    fn a_rephrase_prompt_counts_its_turn_once() {
        let p = Policy::default().confidence;
        let mut c = IntentConfidence::default();
        c.new_turn();
        c.push(1, &nlu("refund", 0.3), &p);
        c.bot_asked_to_rephrase();
        assert_eq!(c.low_streak, 1, "the low reading already counted the turn");
        c.new_turn();
        c.push(3, &nlu("refund", 0.9), &p);
        assert_eq!(c.low_streak, 0);
        c.bot_asked_to_rephrase();
        assert_eq!(
            c.low_streak, 2,
            "the prompt overrides the confident reading"
        );
        c.bot_asked_to_rephrase();
        assert_eq!(c.low_streak, 2, "one turn counts once");
        c.new_turn();
        c.push(5, &nlu("refund", 0.9), &p);
        assert_eq!(c.low_streak, 0, "an understood turn ends the run");
    }

    #[test]
    fn task_intent_skips_fallbacks_low_confidence_and_human_requests() {
        let p = Policy::default().confidence;
        let mut c = IntentConfidence::default();
        c.push(1, &nlu("refund_status", 0.9), &p);
        c.push(2, &nlu("track_order", 0.3), &p);
        c.push(3, &nlu("nlu_fallback", 0.9), &p);
        c.push(4, &nlu("contact_human_agent", 0.95), &p);
        assert_eq!(
            c.intent.as_ref().map(Label::as_str),
            Some("contact_human_agent")
        );
        assert_eq!(
            c.task_intent.as_ref().map(Label::as_str),
            Some("refund_status")
        );
    }

    #[test]
    fn human_request_intents() {
        let p = Policy::default().confidence;
        for i in [
            "contact_human_agent",
            "agent",
            "Human",
            "talktohuman",
            "TalkToAgent",
            "operator",
            "talk_to_person",
            "live.agent",
            "escalate",
            "Talk-To-Rep",
            "get someone",
            "handoff.request",
            "SUPERVISOR",
        ] {
            assert!(asks_for_human(i, &p), "{i}");
        }
        for i in [
            "refund_status",
            "personal_info_update",
            "contact_customer_service",
            "track_order",
            "report_issue",
            "persona",
            "staffing",
            "billing.double_charge",
        ] {
            assert!(!asks_for_human(i, &p), "{i}");
        }
    }

    #[test]
    fn human_intents_come_from_the_policy() {
        let mut p = Policy::default().confidence;
        assert!(!asks_for_human("connect_live_assistant", &p));
        p.human_intents = vec![
            crate::policy::IntentPattern::parse("*assistant").unwrap(),
            crate::policy::IntentPattern::parse("live").unwrap(),
        ];
        assert!(asks_for_human("connect_live_assistant", &p));
        assert!(asks_for_human("LIVE.chat", &p), "a word matches");
        assert!(
            !asks_for_human("contact_human_agent", &p),
            "the defaults are replaced"
        );
        assert!(!names_task("Connect_Live_Assistant", &p));
    }
}
