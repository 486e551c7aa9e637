//! Health, metrics and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::app::AppState;

/// `GET /healthz`: 200 while the server can serve.
pub async fn healthz(State(app): State<AppState>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "conversations_in_memory": app.conversations.len(),
        "stream_channels": app.fanout.channel_count(),
    }))
}

/// `GET /metrics`: Prometheus text exposition.
pub async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
}

/// `GET /openapi.json`: the generated OpenAPI document.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::document())
}
