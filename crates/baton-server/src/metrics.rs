//! Prometheus metrics: one process-wide recorder, installed on first use, so every app
//! built in the process (tests build many) shares it.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
static NODE: OnceLock<String> = OnceLock::new();

/// Labels every series with `node="<id>"` (one value per process, so bounded): set
/// before the first metric, by `baton serve`. Returns false when too late.
pub fn set_node(node: &str) -> bool {
    NODE.set(node.to_owned()).is_ok() && HANDLE.get().is_none()
}

/// The process's Prometheus handle.
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let mut builder = PrometheusBuilder::new();
            if let Some(node) = NODE.get() {
                builder = builder.add_global_label("node", node);
            }
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (an embedding app's): keep ours
            // for rendering anyway.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// The method as a label: one of a closed set, so a client cannot mint series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts requests and their latency by route and status. Every label comes from a
/// closed set: the matched route template (never the raw path), the method, the status.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = method_label(request.method());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("baton_http_requests_total", "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!("baton_http_request_seconds", "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    response
}
