//! Supervisor statistics, computed from the log: why conversations are handed off,
//! hour by hour; how long an agent takes from accepting to first reply (ramp-up); and
//! how often agents ask for what the customer already gave (repeat asks).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use baton_core::event::{EventBody, EventKind, Outcome};
use baton_core::{ConversationId, Event, Timestamp};
use baton_store::Role;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::ApiQuery;

/// `?hours=N`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// The window, in hours back from now (1 to 168, default 24).
    #[serde(default)]
    #[param(value_type = Option<u32>)]
    pub hours: Option<String>,
}

/// Most events one statistics read folds.
const MAX_EVENTS: u32 = 200_000;
const HOUR_MS: i64 = 3_600_000;
/// The longest window, in hours (a week).
pub const MAX_HOURS: u64 = 168;

/// `GET /v1/stats` answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Stats {
    /// Start of the window (the first hour's start).
    pub since: String,
    /// Hours in the window.
    pub hours: u32,
    /// Per hour, oldest first: handoff decisions by reason code.
    pub handoff_reasons: Vec<HourReasons>,
    /// Accept-to-first-reply times.
    pub ramp_up: RampUp,
    /// Repeat asks.
    pub repeat_asks: RepeatAsks,
    /// Whether the window held more events than one read folds (figures are partial).
    pub truncated: bool,
}

/// Handoffs in one hour.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HourReasons {
    /// The hour's start.
    pub hour: String,
    /// Handoff decisions in the hour.
    pub handoffs: u32,
    /// Reason code -> how many handoff decisions named it.
    pub reasons: BTreeMap<String, u32>,
}

/// Ramp-up: from `assigned` to that agent's first `agent_message`.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct RampUp {
    /// Assignments in the window.
    pub assignments: u32,
    /// Of those, how many have a reply yet.
    pub replied: u32,
    /// Median seconds.
    pub p50_secs: Option<f64>,
    /// 90th percentile seconds.
    pub p90_secs: Option<f64>,
    /// Mean seconds.
    pub mean_secs: Option<f64>,
    /// One per replied assignment, oldest first.
    pub samples: Vec<RampSample>,
}

/// One handoff's ramp-up.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RampSample {
    /// Conversation.
    pub conversation: String,
    /// Agent.
    pub agent_id: String,
    /// When the agent accepted.
    pub accepted_at: String,
    /// Seconds to the first reply.
    pub secs: f64,
}

/// Repeat asks in the window.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct RepeatAsks {
    /// How many.
    pub total: u32,
    /// Fact kind -> how many.
    pub by_kind: BTreeMap<String, u32>,
    /// Per hour, oldest first.
    pub per_hour: Vec<u32>,
}

/// `GET /v1/stats?hours=N` (supervisor, admin): handoff reasons per hour, ramp-up, repeat asks.
#[utoipa::path(get, path = "/v1/stats", params(StatsQuery),
    responses((status = 200, body = Stats), (status = 403)))]
pub async fn stats(
    State(app): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<StatsQuery>,
) -> Result<Json<Stats>, ApiError> {
    principal.require(&[Role::Supervisor, Role::Admin])?;
    let hours = crate::params::number(
        crate::params::Source::Query,
        "hours",
        query.hours.as_deref(),
        1,
        MAX_HOURS,
    )?
    .map_or(24, |h| u32::try_from(h).unwrap_or(24));
    read(&app, hours, app.clock.now()).await.map(Json)
}

/// Reads the window of `hours` ending at `now` and computes the figures.
pub async fn read(app: &AppState, hours: u32, now: Timestamp) -> Result<Stats, ApiError> {
    let first_hour =
        now.unix_millis().div_euclid(HOUR_MS) * HOUR_MS - i64::from(hours - 1) * HOUR_MS;
    let since = Timestamp::from_unix_millis(first_hour);
    let kinds = [
        EventKind::Decision,
        EventKind::Assigned,
        EventKind::AgentMessage,
        EventKind::RepeatAsk,
    ]
    .map(EventKind::as_str);
    let rows = app.store.events_of_kinds(&kinds, since, MAX_EVENTS).await?;
    let truncated = rows.len() >= MAX_EVENTS as usize;
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        let event: Event = serde_json::from_str(&row.canonical).map_err(|e| {
            ApiError::internal(format!(
                "stored event {}/{} does not parse: {e}",
                row.conversation, row.seq
            ))
        })?;
        events.push((row.conversation, event));
    }
    let mut stats = compute(&events, since, hours);
    stats.truncated = truncated;
    Ok(stats)
}

/// The figures over `events` (each with its conversation, in time order), bucketed by
/// the hour from `since`.
pub fn compute(events: &[(ConversationId, Event)], since: Timestamp, hours: u32) -> Stats {
    let bucket = |at: Timestamp| -> Option<usize> {
        let index = at.millis_since(since).div_euclid(HOUR_MS);
        usize::try_from(index).ok().filter(|i| *i < hours as usize)
    };
    let mut handoff_reasons: Vec<HourReasons> = (0..hours)
        .map(|h| HourReasons {
            hour: since.plus_millis(i64::from(h) * HOUR_MS).to_string(),
            handoffs: 0,
            reasons: BTreeMap::new(),
        })
        .collect();
    let mut repeat_asks = RepeatAsks {
        per_hour: vec![0; hours as usize],
        ..RepeatAsks::default()
    };
    // Assignments waiting for their agent's first reply: (conversation, agent) -> (seq, at).
    let mut open: BTreeMap<(&str, &str), (u64, Timestamp)> = BTreeMap::new();
    let mut ramp = RampUp::default();
    for (cid, event) in events {
        let Some(slot) = bucket(event.at) else {
            continue;
        };
        match &event.body {
            EventBody::Decision(d) if d.outcome == Outcome::Handoff => {
                let hour = &mut handoff_reasons[slot];
                hour.handoffs += 1;
                for reason in &d.reasons {
                    *hour.reasons.entry(reason.code.to_string()).or_default() += 1;
                }
            }
            EventBody::Assigned(a) => {
                ramp.assignments += 1;
                open.insert((cid.as_str(), a.agent_id.as_str()), (event.seq, event.at));
            }
            EventBody::AgentMessage(_) => {
                let Some(agent) = event.actor.agent() else {
                    continue;
                };
                let key = (cid.as_str(), agent.as_str());
                if let Some(&(seq, accepted)) = open.get(&key)
                    && event.seq > seq
                {
                    open.remove(&key);
                    ramp.samples.push(RampSample {
                        conversation: cid.to_string(),
                        agent_id: agent.to_string(),
                        accepted_at: accepted.to_string(),
                        secs: event.at.millis_since(accepted) as f64 / 1000.0,
                    });
                }
            }
            EventBody::RepeatAsk(r) => {
                repeat_asks.total += 1;
                repeat_asks.per_hour[slot] += 1;
                *repeat_asks
                    .by_kind
                    .entry(r.fact_kind.to_string())
                    .or_default() += 1;
            }
            _ => {}
        }
    }
    ramp.replied = ramp.samples.len() as u32;
    let mut secs: Vec<f64> = ramp.samples.iter().map(|s| s.secs).collect();
    secs.sort_by(f64::total_cmp);
    ramp.p50_secs = percentile(&secs, 0.5);
    ramp.p90_secs = percentile(&secs, 0.9);
    ramp.mean_secs = (!secs.is_empty()).then(|| secs.iter().sum::<f64>() / secs.len() as f64);
    Stats {
        since: since.to_string(),
        hours,
        handoff_reasons,
        ramp_up: ramp,
        repeat_asks,
        truncated: false,
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(seq: u64, at_secs: i64, actor: &str, body: serde_json::Value) -> Event {
        let mut value = body;
        value["seq"] = json!(seq);
        value["id"] = json!(format!("e{seq}"));
        value["actor"] = json!(actor);
        value["at"] = json!(Timestamp::from_unix_millis(at_secs * 1000).to_string());
        serde_json::from_value(value).unwrap()
    }

    fn cid(raw: &str) -> ConversationId {
        ConversationId::parse(raw.to_owned()).unwrap()
    }

    #[test]
    fn counts_reasons_ramp_up_and_repeat_asks_per_hour() {
        let reason = |code: &str| json!({"code": code, "signal": "x", "value": 1.0, "threshold": 1.0, "contribution": 1.0, "message": code});
        let log = vec![
            (
                cid("a"),
                event(
                    2,
                    10,
                    "system",
                    json!({"type": "decision", "outcome": "handoff", "trigger_seq": 1,
                "reasons": [reason("explicit_request"), reason("frustration")]}),
                ),
            ),
            (
                cid("a"),
                event(
                    3,
                    20,
                    "system",
                    json!({"type": "decision", "outcome": "continue", "trigger_seq": 1}),
                ),
            ),
            (
                cid("a"),
                event(
                    5,
                    100,
                    "system",
                    json!({"type": "assigned", "agent_id": "ana"}),
                ),
            ),
            (
                cid("a"),
                event(
                    6,
                    112,
                    "agent:bob",
                    json!({"type": "agent_message", "text": "not the assignee"}),
                ),
            ),
            (
                cid("a"),
                event(
                    7,
                    130,
                    "agent:ana",
                    json!({"type": "agent_message", "text": "hi"}),
                ),
            ),
            (
                cid("a"),
                event(
                    8,
                    140,
                    "agent:ana",
                    json!({"type": "agent_message", "text": "again"}),
                ),
            ),
            (
                cid("b"),
                event(
                    4,
                    3700,
                    "system",
                    json!({"type": "decision", "outcome": "handoff", "trigger_seq": 3,
                "reasons": [reason("frustration")]}),
                ),
            ),
            (
                cid("b"),
                event(
                    5,
                    3800,
                    "system",
                    json!({"type": "assigned", "agent_id": "bob"}),
                ),
            ),
            (
                cid("b"),
                event(
                    9,
                    3900,
                    "system",
                    json!({"type": "repeat_ask", "fact_kind": "order_id", "asked_seq": 8, "fact_seq": 2}),
                ),
            ),
        ];
        let stats = compute(&log, Timestamp::from_unix_millis(0), 2);
        assert_eq!(stats.handoff_reasons.len(), 2);
        assert_eq!(stats.handoff_reasons[0].handoffs, 1);
        assert_eq!(stats.handoff_reasons[0].reasons["explicit_request"], 1);
        assert_eq!(stats.handoff_reasons[1].reasons["frustration"], 1);
        assert_eq!(stats.ramp_up.assignments, 2);
        assert_eq!(stats.ramp_up.replied, 1);
        assert_eq!(stats.ramp_up.samples[0].secs, 30.0);
        assert_eq!(stats.ramp_up.p50_secs, Some(30.0));
        assert_eq!(stats.repeat_asks.total, 1);
        assert_eq!(stats.repeat_asks.per_hour, vec![0, 1]);
        assert_eq!(stats.repeat_asks.by_kind["order_id"], 1);
    }

    #[test]
    fn events_outside_the_window_are_ignored() {
        let log = vec![(
            cid("a"),
            event(
                1,
                7300,
                "system",
                json!({"type": "repeat_ask", "fact_kind": "email", "asked_seq": 1, "fact_seq": 1}),
            ),
        )];
        assert_eq!(
            compute(&log, Timestamp::from_unix_millis(0), 2)
                .repeat_asks
                .total,
            0
        );
    }
}
