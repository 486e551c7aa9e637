//! Health, metrics and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::error::ApiError;

/// How long `/healthz` waits for the database before calling it unreachable.
const DATABASE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// `GET /healthz`: 200 while the server can serve, with `"database": "ok"` once the
/// store answered and `"nats": "ok"` while the notification link (when configured) is
/// up, `"leader"` whether this node's router is the one deciding; 503 `database_unreachable` when the store does not answer within two seconds,
/// or `nats_unreachable` when NATS is configured and down, so a load balancer sends
/// clients to another node.
pub async fn healthz(State(app): State<AppState>) -> Result<Json<Value>, ApiError> {
    match tokio::time::timeout(DATABASE_TIMEOUT, app.store.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            tracing::warn!(%error, "health check: the database does not answer");
            return Err(ApiError::unavailable(
                "database_unreachable",
                "the database does not answer",
            ));
        }
        Err(_) => {
            tracing::warn!("health check: the database did not answer within 2 s");
            return Err(ApiError::unavailable(
                "database_unreachable",
                "the database did not answer within 2 s",
            ));
        }
    }
    let nats = match &app.cluster.notifier {
        Some(notifier) if notifier.connected() => "ok",
        Some(_) => {
            tracing::warn!("health check: NATS is not connected");
            return Err(ApiError::unavailable(
                "nats_unreachable",
                "the NATS connection is down",
            ));
        }
        None => "not_configured",
    };
    Ok(Json(json!({
        "status": "ok",
        "node": app.cluster.node_id,
        "database": "ok",
        "nats": nats,
        "leader": app.leader.is_leading(),
        "conversations_in_memory": app.conversations.len(),
        "stream_channels": app.fanout.channel_count(),
    })))
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
