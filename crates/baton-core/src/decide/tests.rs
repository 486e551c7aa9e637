//! Rules of `decide`, by example and by property.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::eval::Replay;

fn cm(text: &str) -> Value {
    json!({"type": "customer_message", "text": text})
}

fn nlu(intent: &str, confidence: f64) -> Value {
    json!({"type": "nlu", "intent": intent, "confidence": confidence})
}

fn bot(text: &str) -> Value {
    json!({"type": "bot_message", "text": text})
}

/// Replays batches; returns the replay and the last decision.
fn run(batches: &[Vec<Value>], capacity: Option<&CapacityView>) -> (Replay, Decision) {
    run_under(&Policy::default(), batches, capacity)
}

/// [`run`] under `policy`.
fn run_under(
    policy: &Policy,
    batches: &[Vec<Value>],
    capacity: Option<&CapacityView>,
) -> (Replay, Decision) {
    let mut replay = Replay::default();
    for (i, b) in batches.iter().enumerate() {
        replay.send(i, b, policy, capacity).unwrap();
    }
    let last = replay.decisions.last().map(|d| d.decision.clone()).unwrap();
    (replay, last)
}

fn codes(d: &Decision) -> Vec<&str> {
    d.reasons.iter().map(|r| r.code.as_str()).collect()
}

#[test]
fn calm_routine_conversation_continues() {
    let (_, d) = run(
        &[
            vec![cm("Hi, where is my parcel?"), nlu("track_order", 0.92)],
            vec![bot("It arrives tomorrow.")],
            vec![cm("great, thanks!"), nlu("thanks", 0.9)],
        ],
        None,
    );
    assert_eq!(d.outcome, Outcome::Continue);
    assert!(d.reasons.is_empty());
    assert_eq!(d.policy.unwrap().as_str(), "baton-default@1");
}

#[test]
fn explicit_request_hands_off_with_mapped_skills() {
    let (_, d) = run(
        &[
            vec![cm("my refund never arrived"), nlu("refund_status", 0.4)],
            vec![
                cm("I want to speak to a person"),
                nlu("contact_human_agent", 0.9),
            ],
        ],
        None,
    );
    assert_eq!(d.outcome, Outcome::Handoff);
    assert_eq!(codes(&d)[0], "explicit_request");
    assert_eq!(d.priority, Some(Priority::Normal));
    assert_eq!(d.skills, vec![Label::parse("general").unwrap()]);
}

#[test]
fn a_request_for_a_human_is_routed_by_the_last_task_intent() {
    let (_, d) = run(
        &[
            vec![cm("my refund never arrived"), nlu("refund_status", 0.9)],
            vec![bot("Refunds take up to 5 days.")],
            vec![cm("that makes no sense"), nlu("nlu_fallback", 0.3)],
            vec![
                cm("I want to speak to a person"),
                nlu("contact_human_agent", 0.9),
            ],
        ],
        None,
    );
    assert_eq!(d.outcome, Outcome::Handoff);
    assert_eq!(codes(&d)[0], "explicit_request");
    assert_eq!(d.skills, vec![Label::parse("billing").unwrap()]);
}

#[test]
fn keyword_gaming_gets_an_offer_then_insistence_hands_off() {
    let first = vec![cm("reset password agent"), nlu("password_reset", 0.95)];
    let (replay, d) = run(std::slice::from_ref(&first), None);
    assert_eq!(d.outcome, Outcome::Offer, "{:?}", d.reasons);
    assert_eq!(codes(&d), ["routine_intent", "explicit_request"]);
    assert!(replay.state.offer_pending);
    let (_, d) = run(
        &[
            first,
            vec![bot("I can reset it now or connect you.")],
            vec![cm("human"), nlu("contact_human_agent", 0.9)],
        ],
        None,
    );
    assert_eq!(d.outcome, Outcome::Handoff);
    assert_eq!(codes(&d)[0], "offer_insisted");
    assert!(!d.skills.is_empty());
}

#[test]
fn yes_to_an_offer_hands_off_and_other_answers_do_not() {
    let first = vec![cm("track my order, agent"), nlu("track_order", 0.93)];
    let (_, d) = run(&[first.clone(), vec![cm("yes please")]], None);
    assert_eq!(
        (d.outcome, codes(&d)[0]),
        (Outcome::Handoff, "offer_accepted")
    );
    let (_, d) = run(
        &[
            first,
            vec![cm("no, just tell me where it is"), nlu("track_order", 0.9)],
        ],
        None,
    );
    assert_eq!(d.outcome, Outcome::Continue);
}

#[test]
fn bot_request_carries_skills_and_priority() {
    let req = json!({"type": "handoff_requested", "reason": "card blocked", "skills": ["cards"], "priority": "high"});
    let (_, d) = run(
        &[vec![
            cm("my card is blocked"),
            nlu("card_blocked", 0.9),
            req,
        ]],
        None,
    );
    assert_eq!(
        (d.outcome, d.priority),
        (Outcome::Handoff, Some(Priority::High))
    );
    assert_eq!(d.skills[0].as_str(), "cards");
    assert_eq!(codes(&d)[0], "bot_request");
}

#[test]
fn risk_is_urgent_and_ignores_capacity() {
    let busy = CapacityView {
        expected_wait_secs: 3600.0,
        agents_available: 0,
    };
    let (_, d) = run(
        &[vec![
            cm("there are charges I never made"),
            nlu("card_fraud", 0.7),
        ]],
        Some(&busy),
    );
    assert_eq!(
        (d.outcome, d.priority),
        (Outcome::Handoff, Some(Priority::Urgent))
    );
    assert_eq!(
        d.skills.iter().map(Label::as_str).collect::<Vec<_>>(),
        ["fraud", "risk"]
    );
}

#[test]
fn low_confidence_streak_hands_off_and_capacity_softens_it() {
    let batches: Vec<Vec<Value>> = [
        "do the thing with the stuff",
        "the thingy from before",
        "you know what I mean",
    ]
    .iter()
    .map(|t| vec![cm(t), nlu("nlu_fallback", 0.2)])
    .collect();
    let (_, d) = run(&batches, None);
    assert_eq!(d.outcome, Outcome::Handoff);
    assert!(codes(&d).contains(&"low_confidence"));
    let busy = CapacityView {
        expected_wait_secs: 900.0,
        agents_available: 2,
    };
    let (_, d) = run(&batches, Some(&busy));
    assert_eq!(d.outcome, Outcome::Offer);
    assert!(codes(&d).contains(&"capacity_saturated"));
}

/// The default policy with `calibration = "learned"` and a map fitted on 100 cases in
/// which the bot said 0.9 and was right 40 times.
fn overconfident_bot_calibrated() -> Policy {
    use crate::insights::calibration::{Calibration, DEFAULT_MIN_SAMPLES};
    let cases = (0..100).map(|i| ("billing.refund", 0.9, i % 5 < 2));
    let mut policy = Policy::default();
    policy.confidence.calibration = crate::policy::CalibrationMode::Learned;
    policy.confidence.learned = Calibration::fit(cases, DEFAULT_MIN_SAMPLES);
    assert_eq!(policy.problems(), Vec::<(String, String)>::new());
    policy
}

#[test]
fn learned_calibration_hands_off_a_bot_that_is_sure_and_wrong() {
    let batches: Vec<Vec<Value>> = [
        "I'd like my money back for the jacket",
        "it arrived with a torn sleeve",
        "the order was placed last week",
    ]
    .iter()
    .map(|t| vec![cm(t), nlu("billing.refund", 0.9)])
    .collect();

    // Read as sent, 0.9 is sure: the bot keeps the conversation.
    let (replay, d) = run(&batches, None);
    assert_eq!(d.outcome, Outcome::Continue, "{:?}", codes(&d));
    let raw = replay.signals.snapshot();
    assert_eq!((raw.confidence, raw.raw_confidence), (Some(0.9), None));
    assert_eq!(raw.low_confidence_streak, 0);

    // Calibrated, the same 0.9 means right 40 % of the time, below `low` (0.5): three
    // such readings in a row are the low-confidence streak that hands off.
    let policy = overconfident_bot_calibrated();
    let (replay, d) = run_under(&policy, &batches, None);
    assert_eq!(d.outcome, Outcome::Handoff, "{:?}", codes(&d));
    assert!(codes(&d).contains(&"low_confidence"), "{:?}", codes(&d));
    let learned = replay.signals.snapshot();
    assert_eq!(
        learned.raw_confidence,
        Some(0.9),
        "the bot's own figure is kept"
    );
    let calibrated = learned.confidence.unwrap();
    assert!((calibrated - 0.4).abs() < 1e-12, "{calibrated}");
    assert_eq!(learned.low_confidence_streak, 3);
}

#[test]
fn anger_hands_off_with_high_priority() {
    let (_, d) = run(
        &[
            vec![cm("my package is late")],
            vec![cm("THIS IS THE THIRD TIME I'M WRITING!! useless bot")],
        ],
        None,
    );
    assert_eq!(
        (d.outcome, d.priority),
        (Outcome::Handoff, Some(Priority::High))
    );
    assert!(codes(&d).contains(&"frustration"), "{:?}", codes(&d));
    let contributions: Vec<f64> = d.reasons.iter().map(|r| r.contribution).collect();
    assert!(
        contributions.windows(2).all(|w| w[0] >= w[1]),
        "{contributions:?}"
    );
}

#[test]
fn nothing_is_decided_while_an_agent_has_it() {
    let (replay, _) = run(&[vec![cm("talk to a human")]], None);
    assert_eq!(replay.state.owner, Owner::Queued);
    let d = decide(&replay.state, &replay.signals, &Policy::default(), 9, None);
    assert_eq!((d.outcome, d.reasons.len()), (Outcome::Continue, 0));
}

const WORDS: &[&str] = &[
    "hi", "refund", "order", "agent", "human", "please", "no", "need", "not", "useless", "!!",
    "THANKS", "where", "is", "my", "password", "talk", "to", "a", "third", "time", "great", "bad",
    "person",
];

fn message() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS), 1..8).prop_map(|w| w.join(" "))
}

fn batch() -> impl Strategy<Value = Vec<Value>> {
    (message(), prop::option::of(("[a-z_]{3,12}", 0.0f64..=1.0))).prop_map(|(text, n)| {
        let mut b = vec![cm(&text)];
        if let Some((intent, c)) = n {
            b.push(nlu(&intent, c));
        }
        b
    })
}

proptest! {
    #[test]
    fn decisions_are_deterministic(batches in prop::collection::vec(batch(), 1..6)) {
        let policy = Policy::default();
        let mut a = Replay::default();
        let mut b = Replay::default();
        for (i, x) in batches.iter().enumerate() {
            a.send(i, x, &policy, None).unwrap();
            b.send(i, x, &policy, None).unwrap();
        }
        prop_assert_eq!(&a.decisions, &b.decisions);
        let again = decide(&a.state, &a.signals, &policy, 1, None);
        prop_assert_eq!(again, decide(&a.state, &a.signals, &policy, 1, None));
    }

    #[test]
    fn handoff_requested_always_hands_off(batches in prop::collection::vec(batch(), 0..4), wait in 0.0f64..10_000.0) {
        let policy = Policy::default();
        let mut r = Replay::default();
        for (i, x) in batches.iter().enumerate() {
            r.send(i, x, &policy, None).unwrap();
        }
        prop_assume!(r.state.owner == Owner::Bot);
        let busy = CapacityView { expected_wait_secs: wait, agents_available: 0 };
        let d = r.send(99, &[json!({"type": "handoff_requested"})], &policy, Some(&busy)).unwrap().unwrap();
        prop_assert_eq!(d.decision.outcome, Outcome::Handoff);
    }

    #[test]
    fn risk_intents_always_hand_off(batches in prop::collection::vec(batch(), 0..4), c in 0.3f64..=1.0, which in 0usize..5) {
        let policy = Policy::default();
        let mut r = Replay::default();
        for (i, x) in batches.iter().enumerate() {
            r.send(i, x, &policy, None).unwrap();
        }
        prop_assume!(r.state.owner == Owner::Bot);
        let intent = ["card_fraud", "account_hacked", "legal_threat", "self_harm", "medical_question"][which];
        let d = r.send(99, &[cm("hello"), nlu(intent, c)], &policy, None).unwrap().unwrap();
        prop_assert_eq!(d.decision.outcome, Outcome::Handoff);
        prop_assert_eq!(d.decision.priority, Some(Priority::Urgent));
    }

    #[test]
    fn negated_requests_never_trigger(neg in prop::sample::select(&["no need for", "I don't want", "I do not need", "please don't transfer me to", "without talking to"][..]),
                                      target in prop::sample::select(&["a human", "an agent", "a real person", "your supervisor", "an operator"][..]),
                                      tail in prop::sample::select(&["", " thanks", ", just fix it", " right now"][..])) {
        let text = format!("{neg} {target}{tail}");
        prop_assert!(crate::signals::explicit::detect(&text, &[]).is_none(), "{}", text);
    }
}

#[test]
fn a_quote_never_ends_in_half_a_number() {
    let prefix = "x".repeat(90);
    let card = format!("{prefix} card 4242 4242 4242 4242 please");
    let clipped = clip(&card);
    assert_eq!(
        clipped,
        format!("{prefix} card"),
        "the split card number is left out whole"
    );
    // A cut between words, or right after a whole number, keeps what fits.
    let words = format!("{prefix} and then some more words");
    assert_eq!(clip(&words).chars().count(), 100);
    let whole = format!("{} order 12 is late", "y".repeat(86));
    assert_eq!(clip(&whole), whole.chars().take(100).collect::<String>());
    assert_eq!(clip("short"), "short");
}
