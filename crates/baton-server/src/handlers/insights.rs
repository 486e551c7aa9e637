//! `GET /v1/insights/...`: what the log says about the handoffs, computed by
//! [`baton_core::insights`] from events read by type. No counters of their own that
//! could drift from the log: every figure is recomputed from the events on each call.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use baton_core::event::EventKind;
use baton_core::insights::intents::{IntentInsights, intent_insights, labelled_cases};
use baton_core::{ConversationId, Event, Timestamp};
use baton_store::Role;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::ApiQuery;

/// Most events one insights read folds; past it the answer says `truncated`.
const MAX_EVENTS: u32 = 1_000_000;
const DAY_MS: i64 = 86_400_000;
/// The window when `since` is not given.
const DEFAULT_DAYS: i64 = 30;
/// How far before `since` events are read, so a conversation labelled in the window
/// is paired with the bot's reading that came before it.
pub const LOOKBACK_MS: i64 = 7 * DAY_MS;

/// `?since=&until=` (RFC 3339).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
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

fn timestamp(field: &'static str, raw: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    raw.map(|raw| {
        Timestamp::parse(raw).map_err(|_| {
            ApiError::bad_request("invalid_query", format!("{field} must be an RFC 3339 time"))
                .with_field(field)
        })
    })
    .transpose()
}

impl Window {
    /// The window the query names, ending now by default.
    pub fn of(since: Option<&str>, until: Option<&str>, now: Timestamp) -> Result<Self, ApiError> {
        let until = timestamp("until", until)?.unwrap_or(now);
        let since = timestamp("since", since)?.unwrap_or(until.plus_millis(-DEFAULT_DAYS * DAY_MS));
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
    principal.require(&[Role::Supervisor, Role::Admin])?;
    let window = Window::of(
        query.since.as_deref(),
        query.until.as_deref(),
        crate::clock::now(),
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
    let mut out: BTreeMap<ConversationId, Vec<Event>> = BTreeMap::new();
    for row in rows {
        let event: Event = serde_json::from_str(&row.canonical).map_err(|e| {
            ApiError::internal(format!(
                "stored event {}/{} does not parse: {e}",
                row.conversation, row.seq
            ))
        })?;
        out.entry(row.conversation).or_default().push(event);
    }
    for events in out.values_mut() {
        events.sort_by_key(|e| e.seq);
    }
    Ok((out, truncated))
}
