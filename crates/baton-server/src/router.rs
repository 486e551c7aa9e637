//! Every route baton serves, in one list.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};

use crate::app::AppState;
use crate::error::ApiError;
use crate::handlers::{conversations, keys, ledger, stream, system};

/// Builds the axum router over `state`.
pub fn build(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    Router::new()
        .route("/healthz", get(system::healthz))
        .route("/metrics", get(system::metrics))
        .route("/openapi.json", get(system::openapi))
        .route("/v1/keys", post(keys::create))
        .route("/v1/conversations/{cid}/events", post(conversations::append).get(conversations::events))
        .route("/v1/conversations/{cid}", get(conversations::state))
        .route("/v1/conversations/{cid}/stream", get(stream::stream))
        .route("/v1/ledger/verify", get(ledger::verify))
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
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take that method")
}
