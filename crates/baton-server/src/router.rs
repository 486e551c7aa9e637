//! Every route baton serves, in one list.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};

use crate::app::AppState;
use crate::error::ApiError;
use crate::handlers::{
    agents, conversations, handoff, keys, ledger, offers, package, stream, system,
};

/// Builds the axum router over `state`.
pub fn build(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    Router::new()
        .route("/healthz", get(system::healthz))
        .route("/metrics", get(system::metrics))
        .route("/openapi.json", get(system::openapi))
        .route("/v1/keys", post(keys::create))
        .route(
            "/v1/conversations/{cid}/events",
            post(conversations::append).get(conversations::events),
        )
        .route("/v1/conversations/{cid}", get(conversations::state))
        .route("/v1/conversations/{cid}/stream", get(stream::stream))
        .route("/v1/conversations/{cid}/package", get(package::package))
        .route(
            "/v1/conversations/{cid}/bounce-back",
            post(handoff::bounce_back),
        )
        .route("/v1/conversations/{cid}/resolve", post(handoff::resolve))
        .route("/v1/agents", get(agents::list))
        .route("/v1/agents/{aid}", get(agents::get).put(agents::put))
        .route("/v1/agents/{aid}/presence", post(agents::presence))
        .route("/v1/agents/{aid}/offers", get(agents::offers))
        .route("/v1/offers/{oid}/accept", post(offers::accept))
        .route("/v1/offers/{oid}/reject", post(offers::reject))
        .route("/v1/queues", get(agents::queues))
        .route("/v1/ledger/verify", get(ledger::verify))
        .route("/v1/stats", get(crate::handlers::stats::stats))
        .route("/", get(crate::console::session::index))
        .route("/console/session", post(crate::console::session::create))
        .route("/console/logout", post(crate::console::session::logout))
        .route(
            "/console/check-reply",
            post(crate::console::check::check_reply),
        )
        .route("/console/agent", get(crate::console::pages::agent_home))
        .route(
            "/console/supervisor",
            get(crate::console::pages::supervisor),
        )
        .route(
            "/console/supervisor/charts",
            get(crate::console::pages::supervisor_charts),
        )
        .route(
            "/console/conversations/{cid}",
            get(crate::console::pages::conversation),
        )
        .route("/assets/{name}", get(crate::console::assets::asset))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn(crate::metrics::track))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route; see /openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}
