//! Decisions that must hold up however the events arrive: in the natural batches (a
//! customer message with its `nlu`, then the bot's reply) and one event per request
//! (the message first, its `nlu` in the next call). Each scenario runs both ways.

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

/// The two ways a client sends the same events.
#[derive(Debug, Clone, Copy)]
enum Arrival {
    Batched,
    OnePerRequest,
}

const BOTH: [Arrival; 2] = [Arrival::Batched, Arrival::OnePerRequest];

fn replay(batches: &[Vec<Value>], arrival: Arrival) -> Replay {
    let policy = Policy::default();
    let mut r = Replay::default();
    let calls: Vec<Vec<Value>> = match arrival {
        Arrival::Batched => batches.to_vec(),
        Arrival::OnePerRequest => batches.iter().flatten().map(|e| vec![e.clone()]).collect(),
    };
    for (i, call) in calls.iter().enumerate() {
        r.send(i, call, &policy, None).unwrap();
    }
    r
}

/// The strongest outcome of the conversation and the turn it first came at.
fn strongest(r: &Replay) -> (Outcome, u32) {
    let best = r
        .decisions
        .iter()
        .map(|d| d.decision.outcome)
        .max_by_key(|o| rank(*o))
        .unwrap_or(Outcome::Continue);
    let turn = r
        .decisions
        .iter()
        .find(|d| d.decision.outcome == best)
        .map_or(0, |d| d.turn);
    (best, turn)
}

fn codes_of(r: &Replay, outcome: Outcome) -> Vec<&'static str> {
    r.decisions
        .iter()
        .find(|d| d.decision.outcome == outcome)
        .map(|d| d.decision.reasons.iter().map(|x| x.code.as_str()).collect())
        .unwrap_or_default()
}

const TACKED_ON: &str = "I forgot my password, can you reset it? manager";

#[test]
fn a_keyword_on_a_routine_question_the_bot_is_sure_of_gets_an_offer() {
    for arrival in BOTH {
        let r = replay(
            &[
                vec![cm(TACKED_ON), nlu("password_reset", 0.95)],
                vec![bot("I can send you a reset link now, or connect you.")],
            ],
            arrival,
        );
        assert_eq!(strongest(&r), (Outcome::Offer, 1), "{arrival:?}");
        assert_eq!(r.state.owner, Owner::Bot, "{arrival:?}");
        assert!(r.state.offer_pending, "{arrival:?}");
        assert!(
            codes_of(&r, Outcome::Offer).contains(&"explicit_request"),
            "{arrival:?}"
        );
    }
    // One per request, the offer is made at the message and the reading keeps it.
    let r = replay(
        &[vec![cm(TACKED_ON), nlu("password_reset", 0.95)]],
        Arrival::OnePerRequest,
    );
    let outcomes: Vec<Outcome> = r.decisions.iter().map(|d| d.decision.outcome).collect();
    assert_eq!(outcomes, [Outcome::Offer, Outcome::Continue]);
    assert_eq!(
        r.decisions[1].decision.reasons[0].code,
        ReasonCode::RoutineIntent
    );
}

#[test]
fn the_reading_that_arrives_later_revisits_the_decision() {
    // Unsure, not routine, or a human-request intent: the keyword is a real request.
    for reading in [
        nlu("password_reset", 0.4),
        nlu("billing_dispute", 0.95),
        nlu("contact_human_agent", 0.97),
    ] {
        for arrival in BOTH {
            let r = replay(&[vec![cm(TACKED_ON), reading.clone()]], arrival);
            assert_eq!(
                strongest(&r),
                (Outcome::Handoff, 1),
                "{arrival:?} {reading}"
            );
            assert_eq!(r.state.owner, Owner::Queued, "{arrival:?} {reading}");
            assert_eq!(
                r.decisions.last().map(|d| d.decision.outcome),
                Some(Outcome::Handoff),
                "decided at the reading, not frozen at the message: {arrival:?} {reading}"
            );
        }
    }
}

#[test]
fn a_plain_request_or_an_angry_one_hands_off_at_the_message() {
    for text in [
        "I want to talk to a human",
        "this is useless!! where is my parcel, manager",
    ] {
        let r = replay(&[vec![cm(text)]], Arrival::OnePerRequest);
        assert_eq!(strongest(&r), (Outcome::Handoff, 1), "{text}");
    }
}

#[test]
fn a_keyword_without_any_reading_is_offered_and_insisting_hands_off() {
    // A bot that never annotates still answers the customer.
    let r = replay(
        &[
            vec![cm(TACKED_ON)],
            vec![bot("I can reset it for you now.")],
            vec![cm("no, get me the manager")],
        ],
        Arrival::OnePerRequest,
    );
    let outcomes: Vec<Outcome> = r.decisions.iter().map(|d| d.decision.outcome).collect();
    assert_eq!(outcomes, [Outcome::Offer, Outcome::Handoff]);
    assert_eq!(codes_of(&r, Outcome::Handoff)[0], "offer_insisted");
}

const REPHRASE: &str = "Sorry, I didn't get that. Could you say it another way?";

/// Each customer turn with its reading, then the bot asking to rephrase.
fn rephrased(turns: &[(&str, f64)]) -> Vec<Vec<Value>> {
    turns
        .iter()
        .flat_map(|(t, c)| {
            [
                vec![cm(t), nlu("account_statement", *c)],
                vec![bot(REPHRASE)],
            ]
        })
        .collect()
}

#[test]
fn a_run_of_low_confidence_turns_with_rephrase_prompts_hands_off() {
    let turns = [
        ("I need the thing for my account", 0.31),
        ("the form thing, for the account", 0.42),
        ("the paper you send for the account", 0.38),
    ];
    let batches = rephrased(&turns);
    for arrival in BOTH {
        let r = replay(&batches, arrival);
        assert_eq!(strongest(&r), (Outcome::Handoff, 3), "{arrival:?}");
        assert!(
            codes_of(&r, Outcome::Handoff).contains(&"low_confidence"),
            "{arrival:?} {:?}",
            codes_of(&r, Outcome::Handoff)
        );
    }
    // Two such turns are not yet a run.
    for arrival in BOTH {
        let r = replay(&batches[..4], arrival);
        assert_eq!(strongest(&r).0, Outcome::Continue, "{arrival:?}");
    }
}

#[test]
fn a_rephrase_prompt_counts_the_turn_as_not_understood_whatever_the_score() {
    // The middle reading is above `confidence.low`, but the bot still had to ask.
    let turns = [
        ("I need the thing for my account", 0.31),
        ("the form thing, for the account", 0.62),
        ("the paper you send for the account", 0.38),
    ];
    let batches = rephrased(&turns);
    for arrival in BOTH {
        let r = replay(&batches, arrival);
        assert_eq!(strongest(&r).0, Outcome::Handoff, "{arrival:?}");
        assert!(
            codes_of(&r, Outcome::Handoff).contains(&"low_confidence"),
            "{arrival:?}"
        );
    }
    // The same scores with answers instead of prompts: the bot understood turn 2.
    let answered: Vec<Vec<Value>> = turns
        .iter()
        .flat_map(|(t, c)| {
            [
                vec![cm(t), nlu("account_statement", *c)],
                vec![bot("Here is how to download your statement.")],
            ]
        })
        .collect();
    for arrival in BOTH {
        let r = replay(&answered, arrival);
        assert_eq!(strongest(&r).0, Outcome::Continue, "{arrival:?}");
    }
}

/// Each angrier than the last; none alone crosses a rule.
const GROWING: [&str; 3] = [
    "well that's not ideal",
    "why is it late??",
    "it's late, which is a problem",
];

#[test]
fn anger_that_grows_over_turns_hands_off() {
    for arrival in BOTH {
        let batches: Vec<Vec<Value>> = GROWING
            .iter()
            .flat_map(|t| {
                [
                    vec![cm(t), nlu("track_order", 0.9)],
                    vec![bot("It is on its way.")],
                ]
            })
            .collect();
        let r = replay(&batches, arrival);
        assert_eq!(strongest(&r), (Outcome::Handoff, 3), "{arrival:?}");
        assert_eq!(
            codes_of(&r, Outcome::Handoff),
            ["anger_rising"],
            "{arrival:?}"
        );
        assert_eq!(
            r.decisions.last().map(|d| d.decision.priority),
            Some(Some(Priority::High))
        );
    }
}

#[test]
fn each_growing_message_alone_and_the_same_anger_flat_stay_with_the_bot() {
    for text in GROWING {
        let r = replay(&[vec![cm(text)]], Arrival::OnePerRequest);
        assert_eq!(strongest(&r).0, Outcome::Continue, "{text}");
    }
    // As angry as the last message, three times: a steady mood, not a growing one.
    let flat = replay(
        &[
            vec![cm("it's late, which is a problem")],
            vec![cm("that is a little inconvenient")],
            vec![cm("it's late, which is a problem")],
        ],
        Arrival::OnePerRequest,
    );
    assert!(
        !flat.decisions.iter().any(|d| d
            .decision
            .reasons
            .iter()
            .any(|r| r.code == ReasonCode::AngerRising)),
        "{:?}",
        flat.decisions
    );
}

#[test]
fn rising_frustration_reads_as_worsening_though_the_words_got_warmer() {
    let r = replay(
        &[
            vec![cm("I have been waiting for a week")],
            vec![cm("thanks, any update?")],
            vec![cm("ok, why is it late??")],
            vec![cm("great, thanks... still waiting!!")],
        ],
        Arrival::OnePerRequest,
    );
    let s = r.signals.snapshot();
    assert!(
        s.sentiment_slope > 0.05,
        "VADER alone reads it as improving: {}",
        s.sentiment_slope
    );
    assert!(s.mood_slope < -0.05, "{}", s.mood_slope);
    assert_eq!(crate::package::words::trajectory(s.mood_slope), "worsening");
}

proptest! {
    /// Whatever the confidence, one event per request and batched agree on the
    /// outcome of a keyword on a routine question: an offer when the bot is sure, a
    /// handoff when it is not.
    #[test]
    fn arrival_does_not_change_the_keyword_outcome(c in 0.0f64..=1.0, routine in prop::sample::select(&["password_reset", "track_order", "get_invoice", "check_balance"][..])) {
        let batches = [vec![cm(TACKED_ON), nlu(routine, c)]];
        let sure = c >= Policy::default().gaming.min_confidence;
        for arrival in BOTH {
            let r = replay(&batches, arrival);
            let want = if sure { Outcome::Offer } else { Outcome::Handoff };
            prop_assert_eq!(strongest(&r).0, want, "{:?} {}", arrival, c);
        }
    }

    /// A run of strictly angrier messages reaching the floor always hands off, one
    /// event per request or batched alike.
    #[test]
    fn a_growing_temper_always_hands_off(steps in 3usize..6, text in prop::sample::select(&["where is my order", "any news on my order", "my order is not here"][..])) {
        let angers = ["well that's not ideal", "why is it late??", "it's late, which is a problem", "that is bad news", "ugh, this is annoying"];
        let mut batches = vec![vec![cm(text)]];
        batches.extend(angers.iter().take(steps).map(|t| vec![cm(t)]));
        for arrival in BOTH {
            let r = replay(&batches, arrival);
            prop_assert_eq!(strongest(&r).0, Outcome::Handoff, "{:?}", arrival);
        }
    }
}
