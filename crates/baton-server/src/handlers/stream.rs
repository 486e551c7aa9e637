//! Server-Sent Events: one SSE event per appended event, `id:` = seq.
//!
//! The subscriber joins the live channel *before* replaying from the store, then
//! forwards live events whose seq is past the replay, so nothing falls between replay
//! and live. A subscriber that lags or sees a gap re-reads from the store.
//!
//! Each event is served as the subscriber's role may see it (the same redaction as
//! `GET .../events`). The stream folds the events it forwards into the conversation's
//! state and facts from the moment it subscribed, so redaction knows every fact and
//! access is re-checked on every event: when an event takes the conversation away from
//! an agent (a bounce-back, a rejected or expired offer, a resolution), that event is
//! the last one sent and the stream ends, as a plain GET would now answer 404.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use std::sync::Arc;

use baton_core::access::AccessKind;
use baton_core::facts::redact_event::parse_served;
use baton_core::facts::{FactExtractor, KnownFacts};
use baton_core::ledger::Digest;
use baton_core::{ConversationId, ConversationState, Event};
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use crate::access::can_read;
use crate::app::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::live::with_hash;
use crate::params::{self, Source};
use crate::redaction::ReadView;

/// `?after=SEQ` (an alternative to `Last-Event-ID`).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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
    ApiPath(cid): ApiPath<ConversationId>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<StreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
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
    let live = app
        .conversations
        .readable(app.store.as_ref(), &app.policy(), &principal, &cid)
        .await?;
    let view = ReadView::new(&app, principal.role, live.facts.package_facts())?;
    app.access
        .record(&principal, AccessKind::StreamOpened, Some(&cid))
        .await;
    let follower = Follower {
        principal,
        state: live.state.clone(),
        facts: live.facts.clone(),
        extractor: app.extractor()?,
        view,
    };
    // Events committed after the snapshot and before the subscription are replayed
    // from the store, which runs after subscribing.
    let live_rx = app.fanout.subscribe(&cid);
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(forward(app, cid, after, follower, live_rx, tx));
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

/// The subscriber and what it knows of the conversation: the state and facts as of
/// the last event folded in.
struct Follower {
    principal: Principal,
    state: ConversationState,
    facts: KnownFacts,
    extractor: Arc<FactExtractor>,
    view: ReadView,
}

/// What to do after an event.
#[derive(PartialEq)]
enum Flow {
    /// Keep streaming.
    Go,
    /// The client left, or may no longer read the conversation: end the stream.
    Stop,
}

impl Follower {
    /// Whether events must be read at all: an agent's access can end, and any role
    /// but the auditor's needs the facts; an auditor's stream forwards stored bytes.
    fn folds(&self) -> bool {
        self.principal.role == baton_store::Role::Agent || !self.view.sees_all()
    }

    /// Folds `event` in when it is the next one.
    fn fold(&mut self, event: &Event) {
        if event.seq == self.state.last_seq + 1 {
            self.state.apply(event);
            self.facts.observe(event, &self.extractor);
            self.view.set_known(self.facts.package_facts());
        }
    }

    /// Folds `event` (`json` is its stored form with hash) and sends it unless the
    /// client already has it (`delivered`). Stops once the subscriber may not read on.
    async fn offer(
        &mut self,
        event: &Event,
        hash: &Digest,
        json: &str,
        delivered: &mut u64,
        tx: &Sender,
    ) -> Flow {
        self.fold(event);
        if event.seq <= *delivered {
            return Flow::Go;
        }
        let served = match self.view.serve(event, hash, json) {
            Ok(served) => served,
            Err(error) => {
                tracing::warn!(%error, seq = event.seq, "stream redaction failed");
                return Flow::Stop;
            }
        };
        if tx
            .send(sse(event.seq, event.body.kind(), &served))
            .await
            .is_err()
        {
            return Flow::Stop;
        }
        *delivered = event.seq;
        if can_read(&self.principal, &self.state) {
            Flow::Go
        } else {
            Flow::Stop
        }
    }
}

/// Sends stored events after `delivered` until caught up, reading from the last event
/// folded in when that is earlier (the fold must see every event). Stops when the
/// client is gone or access is lost.
async fn replay(
    app: &AppState,
    cid: &ConversationId,
    follower: &mut Follower,
    delivered: &mut u64,
    tx: &Sender,
) -> Flow {
    let mut last = if follower.folds() {
        (*delivered).min(follower.state.last_seq)
    } else {
        *delivered
    };
    loop {
        let page = match app
            .store
            .events_page(cid, last, REPLAY_PAGE, REPLAY_BYTES)
            .await
        {
            Ok(page) => page,
            Err(error) => {
                tracing::warn!(%error, conversation = %cid, "stream replay failed");
                return Flow::Stop;
            }
        };
        for stored in &page.events {
            last = stored.seq;
            let json = with_hash(&stored.canonical, &stored.hash);
            let event: Event = match serde_json::from_str(&stored.canonical) {
                Ok(event) => event,
                Err(error) => {
                    tracing::warn!(%error, conversation = %cid, seq = stored.seq, "stored event does not parse");
                    return Flow::Stop;
                }
            };
            if follower
                .offer(&event, &stored.hash, &json, delivered, tx)
                .await
                == Flow::Stop
            {
                return Flow::Stop;
            }
        }
        if !page.more {
            return Flow::Go;
        }
    }
}

/// A live event, forwarded as stored when the subscriber reads nothing in it.
async fn live_event(
    follower: &mut Follower,
    event: &crate::fanout::Published,
    delivered: &mut u64,
    tx: &Sender,
) -> Flow {
    if !follower.folds() {
        if tx
            .send(sse(event.seq, event.kind, &event.json))
            .await
            .is_err()
        {
            return Flow::Stop;
        }
        *delivered = event.seq;
        return Flow::Go;
    }
    match parse_served(&event.json) {
        Ok((parsed, hash)) => {
            follower
                .offer(&parsed, &hash, &event.json, delivered, tx)
                .await
        }
        Err(error) => {
            tracing::warn!(%error, seq = event.seq, "published event does not parse");
            Flow::Stop
        }
    }
}

async fn forward(
    app: AppState,
    cid: ConversationId,
    after: u64,
    mut follower: Follower,
    mut live_rx: crate::fanout::Subscription,
    tx: Sender,
) {
    let mut delivered = after;
    'outer: {
        if replay(&app, &cid, &mut follower, &mut delivered, &tx).await == Flow::Stop {
            break 'outer;
        }
        loop {
            // The fold must see every event, even those the client already has.
            let next = if follower.folds() {
                follower.state.last_seq
            } else {
                delivered
            };
            tokio::select! {
                received = live_rx.recv() => match received {
                    Ok(event) if event.seq <= next => {}
                    Ok(event) if event.seq == next + 1 => {
                        if live_event(&mut follower, &event, &mut delivered, &tx).await == Flow::Stop {
                            break 'outer;
                        }
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        if replay(&app, &cid, &mut follower, &mut delivered, &tx).await == Flow::Stop {
                            break 'outer;
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => break 'outer,
                },
                () = tx.closed() => break 'outer,
            }
        }
    }
    metrics::gauge!("baton_sse_subscribers").decrement(1.0);
}
