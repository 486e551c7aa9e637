//! Outcome metrics, computed from the log alone: containment, handoffs and their
//! reasons, ramp-up, repeated information, handle time, CSAT with and without a human,
//! first-contact resolution, effort, agent satisfaction and cost per contact.
//!
//! A contact is one conversation, counted in the window its first event falls in (so
//! the log must be read from `since`, and for first-contact resolution up to the FCR
//! window past `until`). docs/insights.md defines each figure and its caveats.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::event::{Event, EventBody, Outcome};
use crate::id::{ConversationId, CustomerId};
use crate::label::Label;
use crate::timestamp::Timestamp;

/// The knobs: the FCR window and the cost model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutcomeConfig {
    /// A resolution counts as first-contact when nothing reopens it within this long.
    pub fcr_window_ms: i64,
    /// What the bot costs per conversation.
    pub bot_cost_per_conversation: f64,
    /// What an agent costs per minute of handle time.
    pub agent_cost_per_minute: f64,
}

impl Default for OutcomeConfig {
    fn default() -> Self {
        Self {
            fcr_window_ms: 7 * 86_400_000,
            bot_cost_per_conversation: 0.10,
            agent_cost_per_minute: 0.75,
        }
    }
}

/// Which contacts to count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutcomeFilter {
    /// Only contacts whose handoff asked for this skill.
    pub skill: Option<Label>,
    /// Only contacts whose bot intent (the last `nlu`) is this.
    pub intent: Option<Label>,
}

/// A mean over some samples.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Mean {
    /// Samples.
    pub count: u64,
    /// Their mean, when there are any.
    pub mean: Option<f64>,
}

impl Mean {
    fn of(values: &[f64]) -> Self {
        Self {
            count: values.len() as u64,
            mean: (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64),
        }
    }
}

/// A share of some whole.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Rate {
    /// The part.
    pub count: u64,
    /// The whole.
    pub of: u64,
    /// `count / of`, when `of` is not zero.
    pub rate: Option<f64>,
}

impl Rate {
    fn of(count: u64, of: u64) -> Self {
        Self {
            count,
            of,
            rate: (of > 0).then(|| count as f64 / of as f64),
        }
    }
}

/// `GET /v1/insights/outcomes`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Outcomes {
    /// Contacts counted.
    pub contacts: u64,
    /// Contacts resolved without a human (no handoff decision), of all contacts.
    pub containment: Rate,
    /// Contacts handed off at least once, of all contacts.
    pub handoff_rate: Rate,
    /// Reason code -> handoff decisions naming it.
    pub handoff_reasons: BTreeMap<String, u64>,
    /// Seconds from `assigned` to that agent's first message.
    pub ramp_up_secs: Mean,
    /// Handed-off contacts in which the customer restated a fact or an agent asked
    /// for a known one, of handed-off contacts.
    pub repeat_information: Rate,
    /// Seconds from `assigned` to the agent's bounce-back or resolution.
    pub handle_secs: Mean,
    /// CSAT (1-5) of contacts that reached a human.
    pub csat_after_handoff: Mean,
    /// CSAT (1-5) of contacts the bot handled alone.
    pub csat_bot_only: Mean,
    /// Resolved contacts neither reopened nor followed by a contact from the same
    /// customer on the same intent within the FCR window, of resolved contacts.
    pub first_contact_resolution: Rate,
    /// Customer effort (1-7, lower is easier).
    pub ces: Mean,
    /// Agents' satisfaction with the package (1-5).
    pub lsat: Mean,
    /// Cost per contact under the cost model.
    pub cost_per_contact: Option<f64>,
    /// The cost model and FCR window used.
    pub config: ConfigView,
}

/// The knobs, as reported.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ConfigView {
    /// FCR window in hours.
    pub fcr_window_hours: f64,
    /// Bot cost per conversation.
    pub bot_cost_per_conversation: f64,
    /// Agent cost per minute.
    pub agent_cost_per_minute: f64,
}

/// What one conversation's log says.
#[derive(Debug, Default)]
struct Contact {
    started: Option<Timestamp>,
    customer: Option<CustomerId>,
    intent: Option<Label>,
    true_intent: Option<Label>,
    skills: Vec<Label>,
    handoffs: u64,
    reasons: Vec<String>,
    ramp_ups: Vec<f64>,
    handles: Vec<f64>,
    repeated: bool,
    resolved_at: Option<Timestamp>,
    reopened_at: Option<Timestamp>,
    csat: Option<f64>,
    ces: Option<f64>,
    lsat: Vec<f64>,
}

fn secs(later: Timestamp, earlier: Timestamp) -> f64 {
    later.millis_since(earlier).max(0) as f64 / 1000.0
}

fn contact_of(events: &[Event]) -> Contact {
    let mut c = Contact::default();
    // The assignment in progress: when, by whom, and whether they have spoken yet.
    let mut assigned: Option<(Timestamp, crate::id::AgentId, bool)> = None;
    for event in events {
        if event.seq == 1 {
            c.started = Some(event.at);
        }
        match &event.body {
            EventBody::IdentityVerified(v) => c.customer = Some(v.customer_id.clone()),
            EventBody::Nlu(n) => c.intent = Some(n.intent.clone()),
            EventBody::Decision(d) if d.outcome == Outcome::Handoff => {
                c.handoffs += 1;
                c.skills.extend(d.skills.iter().cloned());
                c.reasons
                    .extend(d.reasons.iter().map(|r| r.code.as_str().to_owned()));
            }
            EventBody::Assigned(a) => assigned = Some((event.at, a.agent_id.clone(), false)),
            EventBody::AgentMessage(_) => {
                if let Some((at, agent, spoken)) = &mut assigned
                    && !*spoken
                    && event.actor.agent() == Some(agent)
                {
                    c.ramp_ups.push(secs(event.at, *at));
                    *spoken = true;
                }
            }
            EventBody::RepeatAsk(_) | EventBody::CustomerRepeated(_)
                if assigned.is_some() || c.handoffs > 0 =>
            {
                c.repeated = true;
            }
            EventBody::BouncedBack(_) => {
                if let Some((at, _, _)) = assigned.take() {
                    c.handles.push(secs(event.at, at));
                }
            }
            EventBody::Resolved(r) => {
                if let Some((at, _, _)) = assigned.take() {
                    c.handles.push(secs(event.at, at));
                }
                c.resolved_at.get_or_insert(event.at);
                if r.true_intent.is_some() {
                    c.true_intent = r.true_intent.clone();
                }
                if let Some(csat) = r.csat {
                    c.csat = Some(f64::from(csat));
                }
            }
            EventBody::CustomerMessage(_) if c.resolved_at.is_some() && c.reopened_at.is_none() => {
                c.reopened_at = Some(event.at);
            }
            EventBody::Survey(s) => {
                if let Some(csat) = s.csat {
                    c.csat = Some(f64::from(csat.get()));
                }
                if let Some(ces) = s.ces {
                    c.ces = Some(f64::from(ces.get()));
                }
                if let Some(lsat) = s.lsat {
                    c.lsat.push(f64::from(lsat.get()));
                }
            }
            _ => {}
        }
    }
    c
}

/// The outcomes of the contacts that started in `[since, until)`, from every
/// conversation's events (each in seq order, read from `since` to `until` plus the FCR
/// window).
pub fn outcomes<'a>(
    conversations: impl IntoIterator<Item = (&'a ConversationId, &'a [Event])>,
    since: Timestamp,
    until: Timestamp,
    filter: &OutcomeFilter,
    config: &OutcomeConfig,
) -> Outcomes {
    let all: Vec<Contact> = conversations
        .into_iter()
        .map(|(_, events)| contact_of(events))
        .collect();
    let counted: Vec<&Contact> = all
        .iter()
        .filter(|c| c.started.is_some_and(|s| s >= since && s < until))
        .filter(|c| filter.skill.as_ref().is_none_or(|s| c.skills.contains(s)))
        .filter(|c| {
            filter
                .intent
                .as_ref()
                .is_none_or(|i| c.intent.as_ref() == Some(i))
        })
        .collect();
    let n = counted.len() as u64;
    let handed: Vec<&&Contact> = counted.iter().filter(|c| c.handoffs > 0).collect();
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    for code in counted.iter().flat_map(|c| &c.reasons) {
        *reasons.entry(code.clone()).or_default() += 1;
    }
    let collect = |f: &dyn Fn(&Contact) -> Vec<f64>| -> Vec<f64> {
        counted.iter().flat_map(|c| f(c)).collect()
    };
    let ramp = collect(&|c| c.ramp_ups.clone());
    let handles = collect(&|c| c.handles.clone());
    let resolved: Vec<&&Contact> = counted.iter().filter(|c| c.resolved_at.is_some()).collect();
    let first_contact = resolved
        .iter()
        .filter(|c| {
            let Some(done) = c.resolved_at else {
                return false;
            };
            let limit = done.plus_millis(config.fcr_window_ms);
            let reopened = c.reopened_at.is_some_and(|at| at <= limit);
            let intent = c.true_intent.as_ref().or(c.intent.as_ref());
            let again = c.customer.as_ref().is_some_and(|customer| {
                all.iter().any(|other| {
                    other.customer.as_ref() == Some(customer)
                        && other.started.is_some_and(|s| s > done && s <= limit)
                        && other.true_intent.as_ref().or(other.intent.as_ref()) == intent
                })
            });
            !reopened && !again
        })
        .count() as u64;
    let csat_after: Vec<f64> = handed.iter().filter_map(|c| c.csat).collect();
    let csat_bot: Vec<f64> = counted
        .iter()
        .filter(|c| c.handoffs == 0)
        .filter_map(|c| c.csat)
        .collect();
    let cost = (n > 0).then(|| {
        let minutes: f64 = handles.iter().sum::<f64>() / 60.0;
        (n as f64 * config.bot_cost_per_conversation + minutes * config.agent_cost_per_minute)
            / n as f64
    });
    Outcomes {
        contacts: n,
        containment: Rate::of(
            counted
                .iter()
                .filter(|c| c.handoffs == 0 && c.resolved_at.is_some())
                .count() as u64,
            n,
        ),
        handoff_rate: Rate::of(handed.len() as u64, n),
        handoff_reasons: reasons,
        ramp_up_secs: Mean::of(&ramp),
        repeat_information: Rate::of(
            handed.iter().filter(|c| c.repeated).count() as u64,
            handed.len() as u64,
        ),
        handle_secs: Mean::of(&handles),
        csat_after_handoff: Mean::of(&csat_after),
        csat_bot_only: Mean::of(&csat_bot),
        first_contact_resolution: Rate::of(first_contact, resolved.len() as u64),
        ces: Mean::of(&counted.iter().filter_map(|c| c.ces).collect::<Vec<_>>()),
        lsat: Mean::of(
            &counted
                .iter()
                .flat_map(|c| c.lsat.clone())
                .collect::<Vec<_>>(),
        ),
        cost_per_contact: cost,
        config: ConfigView {
            fcr_window_hours: config.fcr_window_ms as f64 / 3_600_000.0,
            bot_cost_per_conversation: config.bot_cost_per_conversation,
            agent_cost_per_minute: config.agent_cost_per_minute,
        },
    }
}

/// The figures as CSV rows `metric,count,of,value` (what `?format=csv` serves).
pub fn to_csv(o: &Outcomes) -> String {
    let mut out = String::from("metric,count,of,value\n");
    let mut rate = |name: &str, r: &Rate| {
        out.push_str(&format!("{name},{},{},{}\n", r.count, r.of, opt(r.rate)));
    };
    rate("containment", &o.containment);
    rate("handoff_rate", &o.handoff_rate);
    rate("repeat_information", &o.repeat_information);
    rate("first_contact_resolution", &o.first_contact_resolution);
    let mut mean = |name: &str, m: &Mean| {
        out.push_str(&format!("{name},{},,{}\n", m.count, opt(m.mean)));
    };
    mean("ramp_up_secs", &o.ramp_up_secs);
    mean("handle_secs", &o.handle_secs);
    mean("csat_after_handoff", &o.csat_after_handoff);
    mean("csat_bot_only", &o.csat_bot_only);
    mean("ces", &o.ces);
    mean("lsat", &o.lsat);
    out.push_str(&format!("contacts,{},,\n", o.contacts));
    out.push_str(&format!(
        "cost_per_contact,{},,{}\n",
        o.contacts,
        opt(o.cost_per_contact)
    ));
    for (code, count) in &o.handoff_reasons {
        out.push_str(&format!("handoff_reason:{code},{count},,\n"));
    }
    out
}

fn opt(value: Option<f64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const DAY: i64 = 86_400_000;

    /// One conversation's log from `(at ms, actor, body)` rows.
    fn log(rows: Vec<(i64, &str, Value)>) -> Vec<Event> {
        rows.into_iter()
            .enumerate()
            .map(|(i, (at, actor, body))| {
                let mut event = body;
                event["seq"] = json!(i + 1);
                event["id"] = json!(format!("e{}", i + 1));
                event["actor"] = json!(actor);
                event["at"] = json!(Timestamp::from_unix_millis(at).to_string());
                serde_json::from_value(event).unwrap()
            })
            .collect()
    }

    fn handoff(codes: &[&str], skills: &[&str]) -> Value {
        let reasons: Vec<Value> = codes
            .iter()
            .map(|c| json!({"code": c, "signal": "s", "value": 1.0, "threshold": 1.0, "contribution": 1.0, "message": "m"}))
            .collect();
        json!({"type": "decision", "outcome": "handoff", "skills": skills, "reasons": reasons, "trigger_seq": 1})
    }

    /// c1 bot-only, resolved, surveyed csat 5, ces 2.
    /// c2 customer K, handed off (low_confidence, explicit_request; accounts), assigned
    ///    at 60 s, first reply at 90 s (ramp-up 30 s), the customer repeats a fact,
    ///    resolved at 360 s (handle 300 s) as reset_password, csat 2, the agent's lsat 4.
    /// c3 customer K again on reset_password a day after c2's resolution: c2 is not a
    ///    first-contact resolution; c3, bot-only and resolved without csat, is.
    /// c4 handed off (negative_sentiment; billing), assigned at 10 s, reply at 15 s
    ///    (5 s), bounced back at 70 s (handle 60 s), resolved, then reopened; ces 6.
    /// c5 started before the window: not counted.
    fn fixture() -> Vec<(ConversationId, Vec<Event>)> {
        let msg = |text: &str| json!({"type": "customer_message", "text": text});
        let nlu = |intent: &str| json!({"type": "nlu", "intent": intent, "confidence": 0.5});
        let verified = json!({"type": "identity_verified", "customer_id": "K", "method": "otp"});
        let resolved = |truth: Option<&str>| match truth {
            Some(t) => json!({"type": "resolved", "resolution": "done", "true_intent": t}),
            None => json!({"type": "resolved", "resolution": "done"}),
        };
        let c = |s: &str| ConversationId::parse(s).unwrap();
        let t3 = 360_000 + DAY;
        vec![
            (
                c("c1"),
                log(vec![
                    (1_000, "customer", msg("hi")),
                    (2_000, "bot", nlu("billing")),
                    (10_000, "system", resolved(None)),
                    (
                        20_000,
                        "bot",
                        json!({"type": "survey", "csat": 5, "ces": 2}),
                    ),
                ]),
            ),
            (
                c("c2"),
                log(vec![
                    (0, "customer", msg("locked out")),
                    (1_000, "bot", verified.clone()),
                    (2_000, "bot", nlu("reset_password")),
                    (
                        3_000,
                        "system",
                        handoff(&["low_confidence", "explicit_request"], &["accounts"]),
                    ),
                    (
                        60_000,
                        "system",
                        json!({"type": "assigned", "agent_id": "ana"}),
                    ),
                    (
                        90_000,
                        "agent:ana",
                        json!({"type": "agent_message", "text": "hello"}),
                    ),
                    (
                        100_000,
                        "system",
                        json!({"type": "customer_repeated", "fact_kind": "email", "repeated_seq": 6, "fact_seq": 1}),
                    ),
                    (360_000, "system", resolved(Some("reset_password"))),
                    (400_000, "bot", json!({"type": "survey", "csat": 2})),
                    (410_000, "agent:ana", json!({"type": "survey", "lsat": 4})),
                ]),
            ),
            (
                c("c3"),
                log(vec![
                    (t3, "customer", msg("locked out again")),
                    (t3 + 1_000, "bot", verified),
                    (t3 + 2_000, "bot", nlu("reset_password")),
                    (t3 + 9_000, "system", resolved(None)),
                ]),
            ),
            (
                c("c4"),
                log(vec![
                    (0, "customer", msg("this is awful")),
                    (
                        1_000,
                        "system",
                        handoff(&["negative_sentiment"], &["billing"]),
                    ),
                    (
                        10_000,
                        "system",
                        json!({"type": "assigned", "agent_id": "bob"}),
                    ),
                    (
                        15_000,
                        "agent:bob",
                        json!({"type": "agent_message", "text": "sorry"}),
                    ),
                    (
                        70_000,
                        "system",
                        json!({"type": "bounced_back", "agent_id": "bob", "instructions": "finish"}),
                    ),
                    (100_000, "system", resolved(None)),
                    (200_000, "customer", msg("it broke again")),
                    (210_000, "bot", json!({"type": "survey", "ces": 6})),
                ]),
            ),
            (c("c5"), log(vec![(-DAY, "customer", msg("old"))])),
        ]
    }

    fn run(filter: &OutcomeFilter) -> Outcomes {
        let conversations = fixture();
        outcomes(
            conversations.iter().map(|(c, e)| (c, e.as_slice())),
            Timestamp::from_unix_millis(0),
            Timestamp::from_unix_millis(2 * DAY),
            filter,
            &OutcomeConfig::default(),
        )
    }

    #[test]
    fn every_metric_matches_the_hand_count() {
        let o = run(&OutcomeFilter::default());
        assert_eq!(o.contacts, 4);
        assert_eq!((o.containment.count, o.containment.of), (2, 4), "c1, c3");
        assert_eq!((o.handoff_rate.count, o.handoff_rate.of), (2, 4), "c2, c4");
        assert_eq!(o.handoff_reasons["low_confidence"], 1);
        assert_eq!(o.handoff_reasons["explicit_request"], 1);
        assert_eq!(o.handoff_reasons["negative_sentiment"], 1);
        assert_eq!(
            o.ramp_up_secs,
            Mean {
                count: 2,
                mean: Some(17.5)
            },
            "(30 + 5) / 2"
        );
        assert_eq!(
            (o.repeat_information.count, o.repeat_information.of),
            (1, 2)
        );
        assert_eq!(
            o.handle_secs,
            Mean {
                count: 2,
                mean: Some(180.0)
            },
            "(300 + 60) / 2"
        );
        assert_eq!(
            o.csat_after_handoff,
            Mean {
                count: 1,
                mean: Some(2.0)
            }
        );
        assert_eq!(
            o.csat_bot_only,
            Mean {
                count: 1,
                mean: Some(5.0)
            }
        );
        assert_eq!(
            (
                o.first_contact_resolution.count,
                o.first_contact_resolution.of
            ),
            (2, 4),
            "c1 and c3; c2 was followed by c3, c4 reopened"
        );
        assert_eq!(
            o.ces,
            Mean {
                count: 2,
                mean: Some(4.0)
            }
        );
        assert_eq!(
            o.lsat,
            Mean {
                count: 1,
                mean: Some(4.0)
            }
        );
        // 4 x 0.10 for the bot + 6 agent minutes x 0.75 = 4.9, over 4 contacts.
        assert!((o.cost_per_contact.unwrap() - 1.225).abs() < 1e-12);
    }

    #[test]
    fn a_short_fcr_window_forgives_the_later_contact() {
        let conversations = fixture();
        let config = OutcomeConfig {
            fcr_window_ms: 3_600_000,
            ..OutcomeConfig::default()
        };
        let o = outcomes(
            conversations.iter().map(|(c, e)| (c, e.as_slice())),
            Timestamp::from_unix_millis(0),
            Timestamp::from_unix_millis(2 * DAY),
            &OutcomeFilter::default(),
            &config,
        );
        assert_eq!(
            o.first_contact_resolution.count, 3,
            "c2 counts now; c4 reopened within the hour"
        );
    }

    #[test]
    fn filters_pick_contacts_by_skill_and_intent() {
        let skill = OutcomeFilter {
            skill: Some(Label::parse("accounts").unwrap()),
            intent: None,
        };
        assert_eq!(run(&skill).contacts, 1);
        let intent = OutcomeFilter {
            skill: None,
            intent: Some(Label::parse("reset_password").unwrap()),
        };
        let o = run(&intent);
        assert_eq!(o.contacts, 2);
        assert_eq!(o.handoff_rate.count, 1);
    }

    #[test]
    fn csv_has_one_row_per_metric() {
        let csv = to_csv(&run(&OutcomeFilter::default()));
        assert!(csv.starts_with("metric,count,of,value\n"));
        assert!(csv.contains("containment,2,4,0.5\n"), "{csv}");
        assert!(csv.contains("ramp_up_secs,2,,17.5\n"), "{csv}");
        assert!(
            csv.contains("handoff_reason:negative_sentiment,1,,\n"),
            "{csv}"
        );
    }
}
