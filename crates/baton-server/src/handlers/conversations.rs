//! Conversations: append events, read events, read state.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use baton_core::access::AccessKind;
use baton_core::signals::SignalSnapshot;
use baton_core::state::ActionState;
use baton_core::{ConversationId, ConversationState, Role};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::append::{AppendRequest, AppendResponse};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::flow::append_events;
use crate::params::{self, Source};
use crate::redaction::ReadView;

/// `POST /v1/conversations/{cid}/events` (bot, agent, admin): appends events atomically,
/// in order. A retried batch (same ids) is answered with its first result.
#[utoipa::path(post, path = "/v1/conversations/{cid}/events", request_body = crate::openapi::schemas::AppendRequestSchema,
    params(("cid" = String, Path, description = "conversation id")),
    responses((status = 200, body = AppendResponse), (status = 409), (status = 422)))]
pub async fn append(
    State(app): State<AppState>,
    principal: Principal,
    ApiPath(cid): ApiPath<ConversationId>,
    ApiJson(request): ApiJson<AppendRequest>,
) -> Result<Json<AppendResponse>, ApiError> {
    append_events(&app, &principal, &cid, request)
        .await
        .map(Json)
}

/// `?after=SEQ&limit=N`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Only events after this seq (default 0: from the start).
    #[serde(default)]
    #[param(value_type = Option<u64>)]
    pub after: Option<String>,
    /// At most this many (default 1000, at most 10000).
    #[serde(default)]
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
    /// `sealed` (auditor, admin): the events exactly as stored and hashed, customer
    /// data in its encrypted envelope; the default view decrypts.
    #[serde(default)]
    #[param(value_type = Option<String>)]
    pub view: Option<EventsView>,
}

/// Which form of the events to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventsView {
    /// Decrypted and redacted for the caller's role (the default).
    Default,
    /// As stored: what the ledger hashes.
    Sealed,
}

/// Largest page of events.
pub const MAX_PAGE: u32 = 10_000;

/// A page stops once its events pass this many bytes (it always holds one event), so a
/// log of large events cannot make one read hold it all in memory.
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;

/// `GET /v1/conversations/{cid}/events?after=SEQ&limit=N`: events with seq and hash on
/// each, redacted for the caller's role (a masked event says `"redacted": true`),
/// at most `limit` and about 1 MiB per page; `next_after` is present when more
/// follow (read on with `?after=` it).
#[utoipa::path(get, path = "/v1/conversations/{cid}/events", params(("cid" = String, Path), EventsQuery),
    responses((status = 200, description = "{\"events\": [...], \"next_after\"?: SEQ}"), (status = 400), (status = 404)))]
pub async fn events(
    State(app): State<AppState>,
    principal: Principal,
    ApiPath(cid): ApiPath<ConversationId>,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<Response, ApiError> {
    let after = params::seq(Source::Query, "after", query.after.as_deref())?.unwrap_or(0);
    let limit = params::number(
        Source::Query,
        "limit",
        query.limit.as_deref(),
        1,
        u64::from(MAX_PAGE),
    )?
    .map_or(1000, |n| u32::try_from(n).unwrap_or(MAX_PAGE));
    let sealed = query.view == Some(EventsView::Sealed);
    if sealed {
        principal.require(&[Role::Auditor, Role::Admin])?;
    }
    let live = app
        .conversations
        .readable(app.store.as_ref(), &app.policy(), &principal, &cid)
        .await?;
    let view = ReadView::new(&app, principal.role, live.facts.package_facts())?;
    let last_seq = live.state.last_seq;
    drop(live);
    app.access
        .record(&principal, AccessKind::Events, Some(&cid))
        .await;
    let store = if sealed { &app.raw_store } else { &app.store };
    let mut page = store
        .events_page(&cid, after, limit, MAX_PAGE_BYTES)
        .await?;
    // Events appended since the facts were read could hide a fact they do not hold;
    // the next page serves them.
    if page.events.last().is_some_and(|e| e.seq > last_seq) {
        page.events.retain(|e| e.seq <= last_seq);
        page.more = true;
    }
    let mut body = String::with_capacity(
        page.events
            .iter()
            .map(|e| e.canonical.len() + 80)
            .sum::<usize>()
            + 40,
    );
    body.push_str("{\"events\":[");
    for (i, event) in page.events.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        if sealed {
            body.push_str(&crate::live::with_hash(&event.canonical, &event.hash));
        } else {
            body.push_str(&view.stored(event)?);
        }
    }
    body.push(']');
    if let Some(last) = page.events.last().filter(|_| page.more) {
        body.push_str(&format!(",\"next_after\":{}", last.seq));
    }
    body.push('}');
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
    ApiPath(cid): ApiPath<ConversationId>,
) -> Result<Json<StateView>, ApiError> {
    let live = app
        .conversations
        .readable(app.store.as_ref(), &app.policy(), &principal, &cid)
        .await?;
    let view = ReadView::new(&app, principal.role, live.facts.package_facts())?;
    app.access
        .record(&principal, AccessKind::State, Some(&cid))
        .await;
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
