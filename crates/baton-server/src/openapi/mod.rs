//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::handlers;

#[derive(OpenApi)]
#[openapi(
    info(title = "baton", description = "Lossless handoff between AI assistants and human agents."),
    paths(
        handlers::keys::create,
        handlers::keys::list,
        handlers::keys::revoke,
        handlers::search::search,
        handlers::conversations::append,
        handlers::conversations::events,
        handlers::conversations::state,
        handlers::erasure::erase_conversation,
        handlers::erasure::erase_customer,
        handlers::erasure::export_customer,
        handlers::stream::stream,
        handlers::ledger::verify,
        handlers::audit::access,
        handlers::package::package,
        handlers::handoff::bounce_back,
        handlers::handoff::resolve,
        handlers::feedback::read_back,
        handlers::feedback::survey,
        handlers::insights::intents,
        handlers::insights::outcomes_report,
        handlers::agents::put,
        handlers::agents::list,
        handlers::agents::get,
        handlers::agents::presence,
        handlers::agents::offers,
        handlers::agents::queues,
        handlers::offers::accept,
        handlers::offers::reject,
        handlers::stats::stats,
        handlers::feed::events,
        handlers::feed::stream,
        handlers::webhooks::create,
        handlers::webhooks::list,
        handlers::webhooks::get,
        handlers::webhooks::delete,
        handlers::webhooks::rotate,
        handlers::webhooks::deliveries,
        handlers::webhooks::replay,
    ),
    security(("bearer" = []))
)]
struct ApiDoc;

/// The document, with the bearer scheme every `/v1` call uses.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    doc
}
