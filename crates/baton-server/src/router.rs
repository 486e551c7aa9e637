//! Every route baton serves, in one list.

use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, delete, get, post};
use axum::{Extension, Router};

use crate::app::AppState;
use crate::auth::ConsoleRoute;
use crate::error::ApiError;
use crate::handlers::{
    agents, audit, conversations, erasure, feed, feedback, handoff, keys, ledger, offers, package,
    search, stream, system, webhooks,
};

/// A route the console calls: it takes the console's session cookie as well as a bearer
/// key (with the CSRF header, for anything but a read). Every other `/v1` route takes
/// bearer keys only. Methods added to the result afterwards are not marked.
fn console(route: MethodRouter<AppState>) -> MethodRouter<AppState> {
    route.route_layer(Extension(ConsoleRoute))
}

/// Builds the axum router over `state`.
pub fn build(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    Router::new()
        .route("/healthz", get(system::healthz))
        .route("/metrics", get(system::metrics))
        .route("/openapi.json", get(system::openapi))
        .route("/v1/keys", post(keys::create).get(keys::list))
        .route("/v1/keys/{id}", delete(keys::revoke))
        .route("/v1/conversations", console(get(search::search)))
        .route(
            "/v1/conversations/{cid}/events",
            console(post(conversations::append)).get(conversations::events),
        )
        .route(
            "/v1/conversations/{cid}",
            get(conversations::state).delete(erasure::erase_conversation),
        )
        .route(
            "/v1/customers/{customer_id}",
            delete(erasure::erase_customer),
        )
        .route(
            "/v1/customers/{customer_id}/export",
            get(erasure::export_customer),
        )
        .route(
            "/v1/conversations/{cid}/stream",
            console(get(stream::stream)),
        )
        .route("/v1/conversations/{cid}/package", get(package::package))
        .route(
            "/v1/conversations/{cid}/bounce-back",
            console(post(handoff::bounce_back)),
        )
        .route(
            "/v1/conversations/{cid}/resolve",
            console(post(handoff::resolve)),
        )
        .route(
            "/v1/conversations/{cid}/read-back",
            console(post(feedback::read_back)),
        )
        .route(
            "/v1/conversations/{cid}/survey",
            console(post(feedback::survey)),
        )
        .route("/v1/agents", console(get(agents::list)))
        .route(
            "/v1/agents/{aid}",
            console(get(agents::get)).put(agents::put),
        )
        .route("/v1/agents/{aid}/presence", console(post(agents::presence)))
        .route("/v1/agents/{aid}/offers", console(get(agents::offers)))
        .route("/v1/offers/{oid}/accept", console(post(offers::accept)))
        .route("/v1/offers/{oid}/reject", console(post(offers::reject)))
        .route("/v1/queues", console(get(agents::queues)))
        .route("/v1/events", get(feed::events))
        .route("/v1/events/stream", get(feed::stream))
        .route("/v1/webhooks", post(webhooks::create).get(webhooks::list))
        .route(
            "/v1/webhooks/{id}",
            get(webhooks::get).delete(webhooks::delete),
        )
        .route("/v1/webhooks/{id}/rotate-secret", post(webhooks::rotate))
        .route("/v1/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route("/v1/webhooks/{id}/replay", post(webhooks::replay))
        .route("/v1/ledger/verify", get(ledger::verify))
        .route("/v1/audit/access", get(audit::access))
        .route("/v1/stats", get(crate::handlers::stats::stats))
        .route(
            "/v1/insights/intents",
            get(crate::handlers::insights::intents),
        )
        // The console's outcomes page links to its CSV.
        .route(
            "/v1/insights/outcomes",
            console(get(crate::handlers::insights::outcomes_report)),
        )
        .route("/", get(crate::console::session::index))
        .route("/console/session", post(crate::console::session::create))
        .route("/console/logout", post(crate::console::session::logout))
        .route(
            "/console/check-reply",
            console(post(crate::console::check::check_reply)),
        )
        .route("/console/agent", get(crate::console::pages::agent_home))
        .route(
            "/console/supervisor",
            get(crate::console::pages::supervisor),
        )
        .route(
            "/console/supervisor/conversations",
            get(crate::console::pages::conversations),
        )
        .route(
            "/console/supervisor/intents",
            get(crate::console::insights::intents),
        )
        .route(
            "/console/supervisor/outcomes",
            get(crate::console::insights::outcomes),
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
        .layer(axum::middleware::from_fn(crate::headers::secure))
        .layer(axum::middleware::from_fn(crate::metrics::track))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route; see /openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}
