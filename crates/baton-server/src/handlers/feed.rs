//! The global feed: `GET /v1/events?after=POS` pages it, `GET /v1/events/stream`
//! streams it (SSE, `id:` = position, `Last-Event-ID` resumes). Both serve every event
//! of every conversation the key may read, in commit order, redacted for its role
//! (see [`crate::feed`]).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use baton_core::access::AccessKind;
use baton_core::event::EventKind;
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::app::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::params::{self, Source};

/// `?after=POS&limit=N&types=a,b`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// Only events after this position (default 0 for pages; the head for streams).
    #[serde(default)]
    #[param(value_type = Option<u64>)]
    pub after: Option<String>,
    /// At most this many events per page (default 1000, at most 10000).
    #[serde(default)]
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
    /// Only these event types, comma-separated (`decision,assigned`).
    #[serde(default)]
    pub types: Option<String>,
}

const PAGE: u32 = 1000;
/// Largest page of the feed.
pub const MAX_PAGE: u32 = 10_000;
const PAGE_BYTES: usize = 1024 * 1024;

/// Parses `?types=`: known event type names, comma-separated.
fn types(raw: Option<&str>) -> Result<Vec<&'static str>, ApiError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(|name| {
            EventKind::from_wire(name.trim())
                .map(EventKind::as_str)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_query",
                        format!("types: {name:?} is not an event type"),
                    )
                    .with_field("types")
                })
        })
        .collect()
}

/// `GET /v1/events?after=POS&limit=N&types=...`: every readable event after a global
/// position, as `{"events": [{"position", "conversation", "event"}], "next_after", "more"}`;
/// read on with `?after=next_after`.
#[utoipa::path(get, path = "/v1/events", params(FeedQuery),
    responses((status = 200, description = "{\"events\": [{\"position\", \"conversation\", \"event\"}], \"next_after\": POS, \"more\": bool}"), (status = 400)))]
pub async fn events(
    State(app): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<FeedQuery>,
) -> Result<Response, ApiError> {
    let after = params::seq(Source::Query, "after", query.after.as_deref())?.unwrap_or(0);
    let limit = params::number(
        Source::Query,
        "limit",
        query.limit.as_deref(),
        1,
        u64::from(MAX_PAGE),
    )?
    .map_or(PAGE, |n| u32::try_from(n).unwrap_or(MAX_PAGE));
    let kinds = types(query.types.as_deref())?;
    let served = crate::feed::page(&app, &principal, after, &kinds, limit, PAGE_BYTES).await?;
    app.access.record(&principal, AccessKind::Feed, None).await;
    let mut body = String::from("{\"events\":[");
    for (i, item) in served.items.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&item.json);
    }
    body.push_str(&format!(
        "],\"next_after\":{},\"more\":{}}}",
        served.next_after, served.more
    ));
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `GET /v1/events/stream?types=...`: SSE of every readable event from now on (or
/// after `Last-Event-ID` / `?after=`), `id:` = global position, `event:` = type; a
/// reconnect with `Last-Event-ID` resumes with no gap and no duplicate, across restarts.
#[utoipa::path(get, path = "/v1/events/stream", params(FeedQuery),
    responses((status = 200, description = "text/event-stream; data = {\"position\", \"conversation\", \"event\"}"), (status = 400)))]
pub async fn stream(
    State(app): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<FeedQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let resume = match headers.get("last-event-id") {
        Some(value) => {
            let raw = value.to_str().unwrap_or("not text");
            params::seq(Source::Header, "Last-Event-ID", Some(raw))?
        }
        None => None,
    };
    let after = params::seq(Source::Query, "after", query.after.as_deref())?;
    if query.limit.is_some() {
        return Err(
            ApiError::bad_request("invalid_query", "a stream takes no limit").with_field("limit"),
        );
    }
    let kinds = types(query.types.as_deref())?;
    // Subscribed before the head is read, so no commit falls between the two.
    let signal = app.feed.subscribe();
    let after = match resume.or(after) {
        Some(after) => after,
        None => app.store.feed_head().await?,
    };
    app.access
        .record(&principal, AccessKind::FeedStream, None)
        .await;
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(forward(app, principal, after, kinds, signal, tx));
    metrics::gauge!("baton_feed_subscribers").increment(1.0);
    Ok(Sse::new(ReceiverStream::new(rx))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

async fn forward(
    app: AppState,
    principal: Principal,
    mut after: u64,
    kinds: Vec<&'static str>,
    mut signal: tokio::sync::watch::Receiver<u64>,
    tx: mpsc::Sender<Result<SseEvent, Infallible>>,
) {
    'stream: loop {
        signal.borrow_and_update();
        let served =
            match crate::feed::page(&app, &principal, after, &kinds, PAGE, PAGE_BYTES).await {
                Ok(served) => served,
                Err(error) => {
                    tracing::warn!(code = error.code, "feed stream read failed");
                    break 'stream;
                }
            };
        let moved = served.next_after != after;
        for item in served.items {
            let event = SseEvent::default()
                .id(item.position.to_string())
                .event(item.kind)
                .data(item.json);
            if tx.send(Ok(event)).await.is_err() {
                break 'stream;
            }
        }
        after = served.next_after;
        if served.more && moved {
            continue;
        }
        // Caught up (or the next event's commit is not in memory yet): wait for a
        // commit, briefly when one is known to be landing.
        let wait = if served.more {
            Duration::from_millis(5)
        } else {
            Duration::from_secs(5)
        };
        tokio::select! {
            changed = tokio::time::timeout(wait, signal.changed()) => {
                if matches!(changed, Ok(Err(_))) {
                    break 'stream;
                }
            }
            () = tx.closed() => break 'stream,
        }
    }
    metrics::gauge!("baton_feed_subscribers").decrement(1.0);
}
