//! Conversations: append events, read events, read state.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use baton_core::ConversationState;
use baton_core::signals::SignalSnapshot;
use baton_core::state::ActionState;
use serde::{Deserialize, Serialize};

use crate::access::ensure_readable;
use crate::app::AppState;
use crate::append::{AppendRequest, AppendResponse, append_events};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, conversation_id};
use crate::redaction::ReadView;

/// `POST /v1/conversations/{cid}/events` (bot, agent, admin): appends events atomically,
/// in order. A retried batch (same ids) is answered with its first result.
#[utoipa::path(post, path = "/v1/conversations/{cid}/events", request_body = AppendRequest,
    params(("cid" = String, Path, description = "conversation id")),
    responses((status = 200, body = AppendResponse), (status = 409), (status = 422)))]
pub async fn append(
    State(app): State<AppState>,
    principal: Principal,
    Path(cid): Path<String>,
    ApiJson(request): ApiJson<AppendRequest>,
) -> Result<Json<AppendResponse>, ApiError> {
    let cid = conversation_id(cid)?;
    append_events(&app, &principal, &cid, request)
        .await
        .map(Json)
}

/// `?after=SEQ&limit=N`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Only events after this seq (default 0: from the start).
    #[serde(default)]
    pub after: u64,
    /// At most this many (default 1000, at most 10000).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// Largest page of events.
pub const MAX_PAGE: u32 = 10_000;

/// `GET /v1/conversations/{cid}/events?after=SEQ`: events with seq and hash on each,
/// redacted for the caller's role (a masked event says `"redacted": true`).
#[utoipa::path(get, path = "/v1/conversations/{cid}/events", params(("cid" = String, Path), EventsQuery),
    responses((status = 200, description = "{\"events\": [...]}"), (status = 404)))]
pub async fn events(
    State(app): State<AppState>,
    principal: Principal,
    Path(cid): Path<String>,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<Response, ApiError> {
    let cid = conversation_id(cid)?;
    let limit = query.limit.unwrap_or(1000);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("limit must be 1 to {MAX_PAGE}"),
        )
        .with_field("limit"));
    }
    let (view, last_seq) = {
        let live = app
            .conversations
            .lock(app.store.as_ref(), &app.policy(), &cid)
            .await?;
        ensure_readable(&principal, live.exists(), &live.state)?;
        let view = ReadView::new(&app, principal.role, live.facts.package_facts())?;
        (view, live.state.last_seq)
    };
    let mut page = app.store.events_after(&cid, query.after, limit).await?;
    // Events appended since the facts were read could hide a fact they do not hold;
    // the next page serves them.
    page.retain(|e| e.seq <= last_seq);
    let mut body =
        String::with_capacity(page.iter().map(|e| e.canonical.len() + 80).sum::<usize>() + 16);
    body.push_str("{\"events\":[");
    for (i, event) in page.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&view.stored(event)?);
    }
    body.push_str("]}");
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// The state as the API shows it.
#[derive(Debug, Serialize)]
pub struct StateView {
    /// Conversation.
    pub conversation: String,
    /// The folded state.
    #[serde(flatten)]
    pub state: ConversationState,
    /// Actions pending or failed, oldest first.
    pub pending_actions: Vec<ActionState>,
    /// The customer's smoothed sentiment (-1 to 1), once they have written.
    pub sentiment: Option<f64>,
    /// The decision engine's signals.
    pub signals: SignalSnapshot,
}

/// `GET /v1/conversations/{cid}`: owner, assigned agent, intent, confidence, actions,
/// commitments, last decision; their texts redacted for the caller's role.
#[utoipa::path(get, path = "/v1/conversations/{cid}", params(("cid" = String, Path)),
    responses((status = 200, description = "the conversation state"), (status = 404)))]
pub async fn state(
    State(app): State<AppState>,
    principal: Principal,
    Path(cid): Path<String>,
) -> Result<Json<StateView>, ApiError> {
    let cid = conversation_id(cid)?;
    let live = app
        .conversations
        .lock(app.store.as_ref(), &app.policy(), &cid)
        .await?;
    ensure_readable(&principal, live.exists(), &live.state)?;
    let view = ReadView::new(&app, principal.role, live.facts.package_facts())?;
    let state = view
        .redactor()
        .state(&live.state)
        .unwrap_or_else(|| live.state.clone());
    let pending_actions = state.open_actions().cloned().collect();
    let signals = live.signals.snapshot();
    let sentiment = (!signals.sentiment_history.is_empty()).then_some(signals.sentiment_level);
    Ok(Json(StateView {
        conversation: cid.to_string(),
        state,
        pending_actions,
        sentiment,
        signals,
    }))
}
