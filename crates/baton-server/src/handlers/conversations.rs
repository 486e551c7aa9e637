//! Conversations: append events, read events, read state.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use baton_core::id::EventId;
use baton_core::state::ActionState;
use baton_core::ConversationState;
use baton_store::Role;
use serde::{Deserialize, Serialize};

use crate::access::{can_read, ensure_readable};
use crate::app::AppState;
use crate::append::{AppendRequest, AppendResponse, WriteError, answer_retry, prepare, response, write};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, conversation_id};
use crate::live::with_hash;

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
    let started = std::time::Instant::now();
    let cid = conversation_id(cid)?;
    let expected = request.expected_seq;
    let drafts = prepare(&principal, request)?;
    let ids: Vec<EventId> = drafts.iter().filter_map(|d| d.id.clone()).collect();
    let mut live = app.conversations.lock(app.store.as_ref(), &cid).await?;
    if principal.role == Role::Agent && !can_read(&principal, &live.state) {
        return Err(ApiError::not_found("no such conversation"));
    }
    if let Some(expected) = expected
        && expected != live.state.last_seq
    {
        if let Some(answer) = answer_retry(&app, &cid, &live, &ids).await? {
            return Ok(Json(answer));
        }
        return Err(ApiError::conflict(
            "seq_conflict",
            format!("expected_seq is {expected} but the conversation is at seq {}", live.state.last_seq),
        )
        .with_field("expected_seq"));
    }
    let result = match write(&app, &cid, &mut live, drafts, crate::clock::now()).await {
        Ok(written) => Ok(Json(response(&live, &written))),
        Err(WriteError::Api(error)) => Err(error),
        Err(WriteError::DuplicateId) => match answer_retry(&app, &cid, &live, &ids).await? {
            Some(answer) => Ok(Json(answer)),
            None => Err(ApiError::conflict("duplicate_event_id", "an event id in this batch is already stored")),
        },
    };
    metrics::histogram!("baton_append_seconds").record(started.elapsed().as_secs_f64());
    result
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

/// `GET /v1/conversations/{cid}/events?after=SEQ`: events with seq and hash on each.
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
        return Err(ApiError::bad_request("invalid_query", format!("limit must be 1 to {MAX_PAGE}")).with_field("limit"));
    }
    {
        let live = app.conversations.lock(app.store.as_ref(), &cid).await?;
        ensure_readable(&principal, live.exists(), &live.state)?;
    }
    let page = app.store.events_after(&cid, query.after, limit).await?;
    let mut body = String::with_capacity(page.iter().map(|e| e.canonical.len() + 80).sum::<usize>() + 16);
    body.push_str("{\"events\":[");
    for (i, event) in page.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&with_hash(&event.canonical, &event.hash));
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
}

/// `GET /v1/conversations/{cid}`: owner, assigned agent, intent, confidence, actions,
/// commitments, last decision.
#[utoipa::path(get, path = "/v1/conversations/{cid}", params(("cid" = String, Path)),
    responses((status = 200, description = "the conversation state"), (status = 404)))]
pub async fn state(
    State(app): State<AppState>,
    principal: Principal,
    Path(cid): Path<String>,
) -> Result<Json<StateView>, ApiError> {
    let cid = conversation_id(cid)?;
    let live = app.conversations.lock(app.store.as_ref(), &cid).await?;
    ensure_readable(&principal, live.exists(), &live.state)?;
    let pending_actions = live.state.open_actions().cloned().collect();
    Ok(Json(StateView { conversation: cid.to_string(), state: live.state.clone(), pending_actions }))
}
