//! baton's HTTP server: the API, the SSE stream, auth, metrics.
//!
//! Data flows one way: request -> handler (auth, decode) -> core (validate, fold,
//! decide) -> store (append in one transaction) -> fan-out (SSE). Handlers hold no
//! domain rules; those live in baton-core.
//!
//! # Layout
//! - [`app`]: shared state and `serve`; [`router`]: every route in one list.
//! - [`handlers`]: one file per resource.
//! - [`append`]: the append path; [`derive`]: baton's own events on append;
//!   [`idempotency`]: a reused event id must carry the same event.
//! - [`live`]: conversations in memory; [`fanout`]: live subscribers; [`feed`]: the
//!   global feed for a reader; [`webhooks`]: subscriptions, outbox, delivery worker.
//! - [`detach`]: writes that finish even when their client goes away.
//! - [`params`]: numeric query parameters and headers, range-checked.
//! - [`routing`]: the router, its effects as events, the offer timer, the forecast.
//! - [`auth`] and [`access`]: keys, roles, who sees what; [`access_log`]: who read
//!   what, recorded in batches; [`limit`]: failed
//!   authentications per address; [`headers`]: security headers on every response.
//! - [`error`]: the one error-to-HTTP mapping; [`extract`]: extractors using it.
//! - [`package`]: the context package for a reader; [`redaction`]: events as a reader
//!   may see them.
//! - [`cluster`]: several nodes on one store: notifications (NATS JetStream) and
//!   catching up from the store; [`leader`]: which node's router decides.
//! - [`metrics`], [`openapi`], [`clock`].

pub mod access;
pub mod access_log;
pub mod app;
pub mod append;
pub mod auth;
pub mod clock;
pub mod cluster;
pub mod console;
pub mod derive;
pub mod detach;
pub mod erasure;
pub mod error;
pub mod extract;
pub mod fanout;
pub mod feed;
pub mod flow;
pub mod handlers;
pub mod headers;
pub mod http_client;
pub mod idempotency;
pub mod leader;
pub mod limit;
pub mod live;
pub mod metrics;
pub mod openapi;
pub mod package;
pub mod params;
pub mod redaction;
pub mod retention;
pub mod router;
pub mod routing;
pub mod unseal;
pub mod vault;
pub mod webhooks;

pub use app::{AdminBootstrap, AppConfig, AppState, serve};
