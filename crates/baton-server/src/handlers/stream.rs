//! Server-Sent Events: one SSE event per appended event, `id:` = seq.
//!
//! The subscriber joins the live channel *before* replaying from the store, then
//! forwards live events whose seq is past the replay, so nothing falls between replay
//! and live. A subscriber that lags or sees a gap re-reads from the store.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use baton_core::ConversationId;
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use crate::app::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::{ApiQuery, conversation_id};
use crate::live::with_hash;
use crate::params::{self, Source};

/// `?after=SEQ` (an alternative to `Last-Event-ID`).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    /// Resume after this seq.
    #[serde(default)]
    #[param(value_type = Option<u64>)]
    pub after: Option<String>,
}

const REPLAY_PAGE: u32 = 1000;
const REPLAY_BYTES: usize = 1024 * 1024;

/// `GET /v1/conversations/{cid}/stream`: SSE; `Last-Event-ID` resumes without gaps.
#[utoipa::path(get, path = "/v1/conversations/{cid}/stream", params(("cid" = String, Path), StreamQuery),
    responses((status = 200, description = "text/event-stream"), (status = 404)))]
pub async fn stream(
    State(app): State<AppState>,
    principal: Principal,
    Path(cid): Path<String>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<StreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let cid = conversation_id(cid)?;
    let resume = match headers.get("last-event-id") {
        Some(value) => {
            let raw = value.to_str().unwrap_or("not text");
            params::seq(Source::Header, "Last-Event-ID", Some(raw))?
        }
        None => None,
    };
    let after = params::seq(Source::Query, "after", query.after.as_deref())?;
    let after = resume.or(after).unwrap_or(0);
    // Unknown conversations are 404 for every role: a stream allocates nothing for them.
    app.conversations
        .readable(app.store.as_ref(), &app.policy(), &principal, &cid)
        .await?;
    let live_rx = app.fanout.subscribe(&cid);
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(forward(app, cid, after, live_rx, tx));
    metrics::gauge!("baton_sse_subscribers").increment(1.0);
    Ok(Sse::new(ReceiverStream::new(rx))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

type Sender = mpsc::Sender<Result<SseEvent, Infallible>>;

fn sse(seq: u64, kind: &str, json: &str) -> Result<SseEvent, Infallible> {
    Ok(SseEvent::default()
        .id(seq.to_string())
        .event(kind)
        .data(json))
}

/// Sends stored events after `last` until caught up; returns the new last seq, or None
/// when the client is gone.
async fn replay(app: &AppState, cid: &ConversationId, mut last: u64, tx: &Sender) -> Option<u64> {
    loop {
        let page = match app
            .store
            .events_page(cid, last, REPLAY_PAGE, REPLAY_BYTES)
            .await
        {
            Ok(page) => page,
            Err(error) => {
                tracing::warn!(%error, conversation = %cid, "stream replay failed");
                return None;
            }
        };
        for event in &page.events {
            let kind = serde_json::from_str::<serde_json::Value>(&event.canonical)
                .ok()
                .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
                .unwrap_or_else(|| "event".to_owned());
            tx.send(sse(
                event.seq,
                &kind,
                &with_hash(&event.canonical, &event.hash),
            ))
            .await
            .ok()?;
            last = event.seq;
        }
        if !page.more {
            return Some(last);
        }
    }
}

async fn forward(
    app: AppState,
    cid: ConversationId,
    after: u64,
    mut live_rx: crate::fanout::Subscription,
    tx: Sender,
) {
    let mut last = after;
    'outer: {
        let Some(caught_up) = replay(&app, &cid, last, &tx).await else {
            break 'outer;
        };
        last = caught_up;
        loop {
            tokio::select! {
                received = live_rx.recv() => match received {
                    Ok(event) if event.seq <= last => {}
                    Ok(event) if event.seq == last + 1 => {
                        if tx.send(sse(event.seq, event.kind, &event.json)).await.is_err() {
                            break 'outer;
                        }
                        last = event.seq;
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        let Some(caught_up) = replay(&app, &cid, last, &tx).await else { break 'outer };
                        last = caught_up;
                    }
                    Err(broadcast::error::RecvError::Closed) => break 'outer,
                },
                () = tx.closed() => break 'outer,
            }
        }
    }
    metrics::gauge!("baton_sse_subscribers").decrement(1.0);
}
