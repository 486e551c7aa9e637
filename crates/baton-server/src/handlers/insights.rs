//! `GET /v1/insights/...`: what the log says about the handoffs, computed by
//! [`baton_core::insights`] from events read by type. No counters of their own that
//! could drift from the log: every figure is recomputed from the events on each call.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use baton_core::Label;
use baton_core::event::EventKind;
use baton_core::insights::intents::{IntentInsights, intent_insights, labelled_cases};
use baton_core::insights::outcomes::{OutcomeConfig, OutcomeFilter, Outcomes, outcomes, to_csv};
use baton_core::{ConversationId, Event, Timestamp};
use baton_store::{KindEvent, Role};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::ApiQuery;

/// Who reads insights (the console's insights pages too).
pub const READERS: &[Role] = &[Role::Supervisor, Role::Admin];

/// Most events one insights read folds; past it the answer says `truncated`.
const MAX_EVENTS: u32 = 1_000_000;
const DAY_MS: i64 = 86_400_000;
/// The window when `since` is not given.
const DEFAULT_DAYS: i64 = 30;
/// How far before `since` events are read, so a conversation labelled in the window
/// is paired with the bot's reading that came before it.
pub const LOOKBACK_MS: i64 = 7 * DAY_MS;

/// `?since=&until=` (RFC 3339).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WindowQuery {
    /// Start (inclusive); default 30 days before `until`.
    #[serde(default)]
    pub since: Option<String>,
    /// End (exclusive); default now.
    #[serde(default)]
    pub until: Option<String>,
}

/// A window of time, validated.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Start (inclusive).
    pub since: Timestamp,
    /// End (exclusive).
    pub until: Timestamp,
}

impl Window {
    /// The window the query names, ending now by default.
    pub fn of(since: Option<&str>, until: Option<&str>, now: Timestamp) -> Result<Self, ApiError> {
        let until = crate::params::timestamp("until", until)?.unwrap_or(now);
        let since = crate::params::timestamp("since", since)?
            .unwrap_or(until.plus_millis(-DEFAULT_DAYS * DAY_MS));
        if since >= until {
            return Err(
                ApiError::bad_request("invalid_query", "since must be before until")
                    .with_field("since"),
            );
        }
        Ok(Self { since, until })
    }
}

/// `GET /v1/insights/intents` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IntentsAnswer {
    /// Start of the window.
    pub since: String,
    /// End of the window.
    pub until: String,
    /// The matrix and the reliability table.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub insights: IntentInsights,
    /// Whether the window held more events than one read folds (figures are partial).
    pub truncated: bool,
}

/// `GET /v1/insights/intents?since=&until=` (supervisor, admin): per bot intent, how
/// often the humans confirmed it and what they corrected it to; the bot's confidence
/// against its accuracy (bins, counts, expected calibration error).
#[utoipa::path(get, path = "/v1/insights/intents", params(WindowQuery),
    responses((status = 200, body = IntentsAnswer), (status = 400), (status = 403)))]
pub async fn intents(
    State(app): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<WindowQuery>,
) -> Result<Json<IntentsAnswer>, ApiError> {
    principal.require(READERS)?;
    let window = Window::of(
        query.since.as_deref(),
        query.until.as_deref(),
        app.clock.now(),
    )?;
    intents_of(&app, window).await.map(Json)
}

/// The intent insights of `window`.
pub async fn intents_of(app: &AppState, window: Window) -> Result<IntentsAnswer, ApiError> {
    let kinds = [EventKind::Nlu, EventKind::ReadBack, EventKind::Resolved];
    let (conversations, truncated) =
        read_conversations(app, &kinds, window.since.plus_millis(-LOOKBACK_MS)).await?;
    let cases = labelled_cases(
        conversations.iter().map(|(c, e)| (c, e.as_slice())),
        window.since,
        window.until,
    );
    Ok(IntentsAnswer {
        since: window.since.to_string(),
        until: window.until.to_string(),
        insights: intent_insights(&cases),
        truncated,
    })
}

/// Events of `kinds` written since `since`, per conversation in seq order.
pub async fn read_conversations(
    app: &AppState,
    kinds: &[EventKind],
    since: Timestamp,
) -> Result<(BTreeMap<ConversationId, Vec<Event>>, bool), ApiError> {
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let rows = app.store.events_of_kinds(&names, since, MAX_EVENTS).await?;
    let truncated = rows.len() >= MAX_EVENTS as usize;
    Ok((KindEvent::by_conversation(rows)?, truncated))
}

/// `?since=&until=&skill=&intent=&format=&fcr_hours=&bot_cost=&agent_cost_per_minute=`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OutcomesQuery {
    /// Start (inclusive, RFC 3339); default 30 days before `until`.
    #[serde(default)]
    pub since: Option<String>,
    /// End (exclusive); default now.
    #[serde(default)]
    pub until: Option<String>,
    /// Only contacts whose handoff asked for this skill.
    #[serde(default)]
    pub skill: Option<String>,
    /// Only contacts whose bot intent (the last `nlu`) is this.
    #[serde(default)]
    pub intent: Option<String>,
    /// `json` (default) or `csv`.
    #[serde(default)]
    pub format: Option<String>,
    /// First-contact-resolution window in hours (default 168).
    #[serde(default)]
    pub fcr_hours: Option<String>,
    /// Bot cost per conversation (default 0.10).
    #[serde(default)]
    pub bot_cost: Option<String>,
    /// Agent cost per minute of handle time (default 0.75).
    #[serde(default)]
    pub agent_cost_per_minute: Option<String>,
}

fn non_negative(field: &'static str, raw: Option<&str>, default: f64) -> Result<f64, ApiError> {
    match raw {
        None => Ok(default),
        Some(raw) => raw
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| {
                ApiError::bad_request("invalid_query", format!("{field} must be a number >= 0"))
                    .with_field(field)
            }),
    }
}

fn label(field: &'static str, raw: Option<String>) -> Result<Option<Label>, ApiError> {
    raw.map(|raw| {
        Label::parse(raw).map_err(|e| {
            ApiError::bad_request("invalid_query", format!("{field} {e}")).with_field(field)
        })
    })
    .transpose()
}

/// An outcomes query, validated: what [`outcomes_of`] reads, and in which format.
#[derive(Debug, Clone)]
pub struct OutcomesRequest {
    /// The contacts' window.
    pub window: Window,
    /// Which contacts count.
    pub filter: OutcomeFilter,
    /// The FCR window and the cost model.
    pub config: OutcomeConfig,
    /// `format=csv`.
    pub csv: bool,
}

impl OutcomesQuery {
    /// Validates the query (the API's and the console page's), the window ending at
    /// `now` by default; a refusal names the field.
    pub fn parse(self, now: Timestamp) -> Result<OutcomesRequest, ApiError> {
        let window = Window::of(self.since.as_deref(), self.until.as_deref(), now)?;
        let csv = match self.format.as_deref() {
            None | Some("json") => false,
            Some("csv") => true,
            Some(_) => {
                return Err(
                    ApiError::bad_request("invalid_query", "format must be json or csv")
                        .with_field("format"),
                );
            }
        };
        let fcr_hours = non_negative("fcr_hours", self.fcr_hours.as_deref(), 168.0)?;
        let config = OutcomeConfig {
            fcr_window_ms: (fcr_hours * 3_600_000.0) as i64,
            bot_cost_per_conversation: non_negative("bot_cost", self.bot_cost.as_deref(), 0.10)?,
            agent_cost_per_minute: non_negative(
                "agent_cost_per_minute",
                self.agent_cost_per_minute.as_deref(),
                0.75,
            )?,
        };
        let filter = OutcomeFilter {
            skill: label("skill", self.skill)?,
            intent: label("intent", self.intent)?,
        };
        Ok(OutcomesRequest {
            window,
            filter,
            config,
            csv,
        })
    }
}

/// `GET /v1/insights/outcomes` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OutcomesAnswer {
    /// Start of the window.
    pub since: String,
    /// End of the window.
    pub until: String,
    /// The figures.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub outcomes: Outcomes,
    /// Whether the window held more events than one read folds (figures are partial).
    pub truncated: bool,
}

/// `GET /v1/insights/outcomes` (supervisor, admin): containment, handoff rate and
/// reasons, ramp-up, repeated information, handle time, CSAT after a handoff and
/// bot-only, first-contact resolution, CES, LSAT and cost per contact, computed from the
/// log; `format=csv` for a spreadsheet. docs/insights.md defines each.
#[utoipa::path(get, path = "/v1/insights/outcomes", params(OutcomesQuery),
    responses((status = 200, description = "the figures; `format=csv`: one row per figure",
        content((OutcomesAnswer = "application/json"), (String = "text/csv"))),
        (status = 400), (status = 403)))]
pub async fn outcomes_report(
    State(app): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<OutcomesQuery>,
) -> Result<Response, ApiError> {
    principal.require(READERS)?;
    let request = query.parse(app.clock.now())?;
    let answer = outcomes_of(&app, request.window, &request.filter, &request.config).await?;
    if request.csv {
        Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            to_csv(&answer.outcomes),
        )
            .into_response())
    } else {
        Ok(Json(answer).into_response())
    }
}

/// The outcomes of `window`: every event from `since` on (a contact counts in the
/// window of its first event; first-contact resolution looks past `until`).
pub async fn outcomes_of(
    app: &AppState,
    window: Window,
    filter: &OutcomeFilter,
    config: &OutcomeConfig,
) -> Result<OutcomesAnswer, ApiError> {
    let (conversations, truncated) = read_conversations(app, &EventKind::ALL, window.since).await?;
    Ok(OutcomesAnswer {
        since: window.since.to_string(),
        until: window.until.to_string(),
        outcomes: outcomes(
            conversations.iter().map(|(c, e)| (c, e.as_slice())),
            window.since,
            window.until,
            filter,
            config,
        ),
        truncated,
    })
}
