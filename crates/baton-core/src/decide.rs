//! The decision: signals + policy (+ routing capacity) -> `continue`, `offer` or
//! `handoff`, with priority, skills and reasons. Pure and deterministic: the same inputs
//! give the same decision, byte for byte.
//!
//! Rules, strongest first: a bot's `handoff_requested`; a risk topic; an explicit
//! request (an `offer` instead when it looks like keyword gaming: an early, calm message
//! whose intent is routine and well understood; insisting after the offer hands off);
//! a "yes" to an offer; then the signal thresholds and the failure model. When routing
//! expects a long wait, a handoff driven only by signals becomes an offer.

use crate::event::{Decision, Outcome, Priority, Reason, ReasonCode};
use crate::label::Label;
use crate::policy::{Policy, any_matches};
use crate::signals::SignalState;
use crate::signals::confidence::names_task;
use crate::signals::risk::RiskHit;
use crate::state::{ConversationState, Owner};
use crate::text::Text;

/// What routing expects for the skills a handoff would need.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CapacityView {
    /// Expected wait in the queue, in seconds.
    pub expected_wait_secs: f64,
    /// Agents with those skills available now.
    pub agents_available: u32,
}

/// A reason with the outcome it argues for and whether capacity may soften it.
struct Candidate {
    reason: Reason,
    outcome: Outcome,
    priority: Priority,
    /// Rules the customer or bot asked for, or risk: never softened by capacity.
    hard: bool,
}

/// Decides after an event batch. `trigger_seq` is the batch's last signal-bearing event.
pub fn decide(
    state: &ConversationState,
    signals: &SignalState,
    policy: &Policy,
    trigger_seq: u64,
    capacity: Option<&CapacityView>,
) -> Decision {
    let mut decision = Decision {
        outcome: Outcome::Continue,
        priority: None,
        skills: Vec::new(),
        reasons: Vec::new(),
        trigger_seq,
        policy: policy.label(),
    };
    if state.owner != Owner::Bot {
        return decision;
    }
    let mut found = Vec::with_capacity(4);
    hard_rules(state, signals, policy, &mut found);
    signal_rules(signals, policy, &mut found);
    let Some(outcome) = found.iter().map(|c| c.outcome).max_by_key(|o| rank(*o)) else {
        return decision;
    };
    let mut outcome = outcome;
    let priority = found
        .iter()
        .filter(|c| c.outcome == outcome)
        .map(|c| c.priority)
        .max();
    let hard_handoff = found
        .iter()
        .any(|c| c.hard && c.outcome == Outcome::Handoff);
    if outcome == Outcome::Handoff
        && !hard_handoff
        && let Some(reason) = saturated(policy, capacity, priority)
    {
        found.push(Candidate {
            reason,
            outcome: Outcome::Offer,
            priority: Priority::Normal,
            hard: false,
        });
        outcome = Outcome::Offer;
    }
    if outcome == Outcome::Offer && recently_offered(state, signals, policy) {
        outcome = Outcome::Continue;
    }
    decision.outcome = outcome;
    if outcome != Outcome::Continue {
        decision.priority = priority.or(Some(Priority::Normal));
        decision.skills = skills(state, signals, policy);
    }
    let mut reasons: Vec<Reason> = found.into_iter().map(|c| c.reason).collect();
    reasons.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
    decision.reasons = reasons;
    decision
}

fn rank(o: Outcome) -> u8 {
    match o {
        Outcome::Continue => 0,
        Outcome::Offer => 1,
        Outcome::Handoff => 2,
    }
}

fn hard_rules(state: &ConversationState, s: &SignalState, p: &Policy, out: &mut Vec<Candidate>) {
    let hard = |reason, outcome, priority| Candidate {
        reason,
        outcome,
        priority,
        hard: true,
    };
    if let Some(req) = &s.bot_request {
        let why = req
            .request
            .reason
            .as_ref()
            .map_or_else(String::new, |r| format!(": {}", clip(r.as_str())));
        let r = reason(
            ReasonCode::BotRequest,
            "handoff_requested",
            1.0,
            1.0,
            1.0,
            format!("the bot asked for a human{why}"),
        );
        out.push(hard(
            r,
            Outcome::Handoff,
            req.request.priority.unwrap_or(p.priority.bot_request),
        ));
    }
    match &s.risk {
        Some(RiskHit::Intent {
            intent, confidence, ..
        }) => {
            let msg = format!(
                "risk intent {} ({confidence:.2}) always goes to a human",
                clip(intent)
            );
            let r = reason(
                ReasonCode::RiskIntent,
                "risk.intent",
                *confidence,
                p.risk.min_confidence,
                1.0,
                msg,
            );
            out.push(hard(r, Outcome::Handoff, p.risk.priority));
        }
        Some(RiskHit::Phrase { phrase, .. }) => {
            let msg = format!(
                "the customer wrote \"{}\", a risk topic for a human",
                clip(phrase)
            );
            out.push(hard(
                reason(ReasonCode::RiskPhrase, "risk.phrase", 1.0, 1.0, 1.0, msg),
                Outcome::Handoff,
                p.risk.priority,
            ));
        }
        None => {}
    }
    let offered_at = s.offer.seq.filter(|_| state.offer_pending);
    if let Some(req) = s.explicit.as_ref().filter(|e| e.seq == s.last_customer_seq) {
        let phrase = clip(&req.phrase);
        if offered_at.is_some_and(|o| req.seq > o) {
            let r = reason(
                ReasonCode::OfferInsisted,
                "explicit_request",
                1.0,
                1.0,
                1.0,
                format!("asked again for a human after the offer (\"{phrase}\")"),
            );
            out.push(hard(r, Outcome::Handoff, p.priority.explicit_request));
        } else if let Some(gaming) = gaming(s, p) {
            out.push(Candidate {
                reason: gaming,
                outcome: Outcome::Offer,
                priority: p.priority.explicit_request,
                hard: true,
            });
            let r = reason(
                ReasonCode::ExplicitRequest,
                "explicit_request",
                1.0,
                1.0,
                0.5,
                format!("asked for a human (\"{phrase}\") in a routine request: offering first"),
            );
            out.push(Candidate {
                reason: r,
                outcome: Outcome::Offer,
                priority: p.priority.explicit_request,
                hard: true,
            });
        } else if req.keyword && awaiting_reading(s, p) {
            // The NLU comes in a later call when the bot posts events one at a time: a
            // handoff now would be final before the reading that may show a routine,
            // understood question. An offer answers the customer either way; the
            // reading, when it comes, upgrades it to a handoff or keeps it.
            let r = reason(
                ReasonCode::ExplicitRequest,
                "explicit_request",
                1.0,
                1.0,
                0.5,
                format!(
                    "asked for a human (\"{phrase}\") tacked onto a question: offering until the bot reads it"
                ),
            );
            out.push(Candidate {
                reason: r,
                outcome: Outcome::Offer,
                priority: p.priority.explicit_request,
                hard: true,
            });
        } else {
            let r = reason(
                ReasonCode::ExplicitRequest,
                "explicit_request",
                1.0,
                1.0,
                1.0,
                format!("asked for a human (\"{phrase}\")"),
            );
            out.push(hard(r, Outcome::Handoff, p.priority.explicit_request));
        }
    }
    if offered_at.is_some() && s.offer.accepted_seq == Some(s.last_customer_seq) {
        let r = reason(
            ReasonCode::OfferAccepted,
            "offer.answer",
            1.0,
            1.0,
            1.0,
            "accepted the offer of a human".to_owned(),
        );
        out.push(hard(r, Outcome::Handoff, p.priority.explicit_request));
    }
}

/// The gaming reason when the request looks like a keyword on a routine, understood intent.
fn gaming(s: &SignalState, p: &Policy) -> Option<Reason> {
    let c = &s.confidence;
    // The NLU must have read this very message, not an earlier one.
    let fresh = c.seq > s.last_customer_seq;
    let intent = c.intent.as_ref()?;
    let conf = c.current?;
    let routine = any_matches(&p.gaming.routine_intents, intent.as_str()) && !c.fallback;
    (fresh && routine && calm_and_early(s, p) && conf >= p.gaming.min_confidence).then(|| {
        let msg = format!(
            "routine intent {} understood ({conf:.2}), calm tone: solve now or connect",
            clip(intent.as_str())
        );
        reason(
            ReasonCode::RoutineIntent,
            "nlu.confidence",
            conf,
            p.gaming.min_confidence,
            1.0,
            msg,
        )
    })
}

/// A calm tone in one of the first `gaming.max_turn` messages: what keyword gaming
/// looks like before the intent is known.
fn calm_and_early(s: &SignalState, p: &Policy) -> bool {
    let calm = s.sentiment.last > p.sentiment.calm_floor && s.frustration.last == 0.0;
    calm && s.customer_messages <= p.gaming.max_turn
}

/// The latest customer message could be keyword gaming, but the NLU has not read it
/// yet.
fn awaiting_reading(s: &SignalState, p: &Policy) -> bool {
    s.confidence.seq < s.last_customer_seq && calm_and_early(s, p)
}

fn signal_rules(s: &SignalState, p: &Policy, out: &mut Vec<Candidate>) {
    let soft = |reason, outcome, priority| Candidate {
        reason,
        outcome,
        priority,
        hard: false,
    };
    let sp = &p.sentiment;
    let level = s.sentiment.level;
    if s.sentiment.messages >= sp.min_messages && level <= sp.handoff_level {
        let r = reason(
            ReasonCode::NegativeSentiment,
            "sentiment.level",
            level,
            sp.handoff_level,
            1.0,
            format!(
                "customer sentiment is {level:.2}, at or below {:.2}",
                sp.handoff_level
            ),
        );
        out.push(soft(r, Outcome::Handoff, p.priority.negative_sentiment));
    } else if s.sentiment.messages >= sp.min_messages
        && s.sentiment.slope <= sp.handoff_slope
        && level <= sp.slope_level_gate
    {
        let slope = s.sentiment.slope;
        let r = reason(
            ReasonCode::SentimentDecline,
            "sentiment.slope",
            slope,
            sp.handoff_slope,
            1.0,
            format!("sentiment falling {slope:.2} per message to {level:.2}"),
        );
        out.push(soft(r, Outcome::Handoff, p.priority.negative_sentiment));
    }
    let f = s.frustration.level;
    if f >= p.frustration.handoff_level {
        let m = &s.frustration.markers;
        let what = m
            .repeat_claim
            .as_deref()
            .or(m.insult.as_deref())
            .map_or(String::new(), |w| format!(" (\"{}\")", clip(w)));
        let r = reason(
            ReasonCode::Frustration,
            "frustration.level",
            f,
            p.frustration.handoff_level,
            1.0,
            format!("frustration {f:.2}{what}"),
        );
        out.push(soft(r, Outcome::Handoff, p.priority.frustration));
    }
    let (run, anger) = (s.mood.rising, s.mood.anger());
    if run >= p.frustration.rising_messages && anger >= p.frustration.rising_floor {
        let r = reason(
            ReasonCode::AngerRising,
            "mood.rising",
            f64::from(run),
            f64::from(p.frustration.rising_messages),
            1.0,
            format!("{run} messages in a row, each angrier than the last (now {anger:.2})"),
        );
        out.push(soft(r, Outcome::Handoff, p.priority.frustration));
    }
    let streak = s.confidence.low_streak;
    if streak >= p.confidence.streak_handoff {
        let r = reason(
            ReasonCode::LowConfidence,
            "confidence.low_streak",
            f64::from(streak),
            f64::from(p.confidence.streak_handoff),
            1.0,
            format!(
                "{streak} messages in a row the bot did not understand (confidence below {:.2}, or it asked to rephrase)",
                p.confidence.low
            ),
        );
        out.push(soft(r, Outcome::Handoff, p.priority.low_confidence));
    }
    let l = s.loops.score;
    if l >= p.loops.handoff_score {
        let r = reason(
            ReasonCode::LoopDetected,
            "loops.score",
            l,
            p.loops.handoff_score,
            1.0,
            format!(
                "the conversation is going in circles ({} rephrasings, {} repeated answers)",
                s.loops.rephrasings, s.loops.bot_repeats
            ),
        );
        out.push(soft(r, Outcome::Handoff, p.priority.loop_detected));
    }
    let prob = s.failure;
    let (outcome, threshold) = if prob >= p.failure.handoff {
        (Outcome::Handoff, p.failure.handoff)
    } else if prob >= p.failure.offer {
        (Outcome::Offer, p.failure.offer)
    } else {
        return;
    };
    let top = s
        .features
        .terms(&p.failure)
        .into_iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or("", |t| t.0);
    let r = reason(
        ReasonCode::PredictedFailure,
        "failure.probability",
        prob,
        threshold,
        prob,
        format!("predicted failure {prob:.2} (largest factor: {top})"),
    );
    out.push(soft(r, outcome, p.priority.predicted_failure));
}

fn saturated(
    p: &Policy,
    capacity: Option<&CapacityView>,
    priority: Option<Priority>,
) -> Option<Reason> {
    let c = capacity.filter(|_| p.capacity.enabled)?;
    let busy = c.expected_wait_secs > p.capacity.max_wait_secs || c.agents_available == 0;
    (busy && priority.is_none_or(|pr| pr < Priority::Urgent)).then(|| {
        let msg = format!(
            "agents are saturated (expected wait {:.0} s, {} available): offering instead",
            c.expected_wait_secs, c.agents_available
        );
        reason(
            ReasonCode::CapacitySaturated,
            "capacity.expected_wait_secs",
            c.expected_wait_secs,
            p.capacity.max_wait_secs,
            0.5,
            msg,
        )
    })
}

/// An offer is still fresh: don't ask again every message.
fn recently_offered(state: &ConversationState, s: &SignalState, p: &Policy) -> bool {
    state.offer_pending && s.offer.seq.is_some() && s.offer.messages_since <= p.offer.cooldown_turns
}

fn skills(state: &ConversationState, s: &SignalState, p: &Policy) -> Vec<Label> {
    let mut out: Vec<Label> = Vec::new();
    if let Some(req) = &s.bot_request {
        add_skills(&mut out, &req.request.skills);
    }
    if let Some(intent) = skills_intent(state, s, p)
        && let Some(mapped) = p.skills_for(intent.as_str())
    {
        add_skills(&mut out, mapped);
    }
    if s.risk.is_some() {
        add_skills(&mut out, &p.risk.skills);
    }
    if out.is_empty() {
        add_skills(&mut out, &p.default_skills);
    }
    out
}

/// The intent a handoff is routed by: the newest, unless it names no task ("talk to a
/// human", a fallback) and an earlier, understood intent did.
fn skills_intent<'a>(
    state: &'a ConversationState,
    s: &'a SignalState,
    p: &Policy,
) -> Option<&'a Label> {
    let newest = s
        .confidence
        .intent
        .as_ref()
        .or(state.intent.as_ref().map(|i| &i.intent))?;
    if names_task(newest.as_str(), &p.confidence) {
        return Some(newest);
    }
    s.confidence.task_intent.as_ref().or(Some(newest))
}

fn add_skills(out: &mut Vec<Label>, skills: &[Label]) {
    for skill in skills {
        if !out.contains(skill) {
            out.push(skill.clone());
        }
    }
}

/// The longest quote a reason carries, in characters.
const QUOTE_CHARS: usize = 100;

/// `s` cut to [`QUOTE_CHARS`]. A number the cut would split is left out whole: half a
/// card number is recognised by no redaction rule, so it would be shown to every role.
fn clip(s: &str) -> String {
    let Some((cut, _)) = s.char_indices().nth(QUOTE_CHARS) else {
        return s.to_owned();
    };
    let (head, tail) = s.split_at(cut);
    let in_number = |c: char| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.');
    let kept = head.trim_end_matches(in_number);
    let digits = |run: &str| run.chars().any(|c| c.is_ascii_digit());
    let head_run = &head[kept.len()..];
    let tail_run = &tail[..tail.len() - tail.trim_start_matches(in_number).len()];
    if digits(head_run) && digits(tail_run) {
        kept.trim_end().to_owned()
    } else {
        head.to_owned()
    }
}

#[allow(clippy::expect_used)]
fn reason(
    code: ReasonCode,
    signal: &str,
    value: f64,
    threshold: f64,
    contribution: f64,
    message: String,
) -> Reason {
    // Signals are constants here and messages are short, non-empty and clipped.
    Reason {
        code,
        signal: Label::parse(signal).expect("signal names are labels"),
        value: if value.is_finite() { value } else { 0.0 },
        threshold,
        contribution,
        message: Text::parse(message).expect("reason messages are non-empty"),
    }
}

#[cfg(test)]
mod arrival;
#[cfg(test)]
mod bench;
#[cfg(test)]
mod tests;
