//! The OpenAPI document: generated from the handlers' annotations, then completed with
//! what annotations cannot say from one source of truth: the schemas of validated
//! values ([`schemas`], built from core's constants), the parameters' constraints
//! ([`params`]), who may call each operation ([`operations`]), the error answers every
//! operation can give, and the links between operations ([`links`]) that let a client
//! (or a stateful fuzzer) chain create -> read -> act.

pub mod bodies;
pub mod links;
pub mod operations;
pub mod params;
pub mod schemas;

use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, RefOr, ResponseBuilder};

use crate::handlers;

#[derive(OpenApi)]
#[openapi(
    info(title = "baton", description = "Lossless handoff between AI assistants and human agents. \
        Every `/v1` call takes `Authorization: Bearer KEY`; `x-baton-roles` on each operation \
        lists the key roles that may call it. Errors are `{\"error\": {\"code\", \"message\", \"field\"?}}`."),
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
    bodies::refine(components);
    bodies::create_key_rules(components);
    for (name, schema) in schemas::all() {
        components.schemas.insert(name, schema);
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, operation) in operations_of(item) {
            complete(method, path, operation);
        }
    }
    doc
}

/// Each operation of a path item with its method's lower-case name.
pub fn operations_of(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.map(|o| (method, o)))
    .collect()
}

fn complete(method: &'static str, path: &str, operation: &mut Operation) {
    if let Some(parameters) = operation.parameters.as_mut() {
        parameters.retain(|p| params::taken(path, p));
    }
    for parameter in operation.parameters.iter_mut().flatten() {
        params::constrain(path, parameter);
    }
    if let Some(entry) = operations::find(method, path) {
        operation.operation_id = Some(entry.id.to_owned());
        let roles: Vec<&str> = entry.roles.iter().map(|r| r.as_str()).collect();
        let mut who = format!("Roles: {}.", roles.join(", "));
        if let Some(note) = entry.note {
            who = format!("Roles: {} ({note}).", roles.join(", "));
        }
        operation.description = Some(match operation.description.take() {
            Some(text) => format!("{text}\n\n{who}"),
            None => who,
        });
        let extensions = operation.extensions.get_or_insert_with(Default::default);
        extensions.merge(
            utoipa::openapi::extensions::ExtensionsBuilder::new()
                .add("x-baton-roles", serde_json::json!(roles))
                .build(),
        );
    }
    errors(method, path, operation);
    links::add(method, path, operation);
}

/// The error answers an operation can give beyond what its annotation lists: every
/// `/v1` call can be unauthenticated; anything with a parameter or body can be
/// malformed; a role-restricted call can be forbidden; a body can be too large, of the
/// wrong media type, or well-formed but invalid.
fn errors(method: &str, path: &str, operation: &mut Operation) {
    let mut add = |status: &str, why: &str| {
        let response = operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(ResponseBuilder::new().description(why).build()));
        if let RefOr::T(response) = response {
            if response.description.is_empty() {
                response.description = why.to_owned();
            }
            response.content.insert(
                "application/json".to_owned(),
                Content::new(Some(schemas::reference::<schemas::ErrorSchema>())),
            );
        }
    };
    if !path.starts_with("/v1/") {
        return;
    }
    add(
        "401",
        "no key, or a key that is unknown, revoked or expired",
    );
    add(
        "400",
        "malformed: a query parameter or header out of range, or bad JSON",
    );
    let restricted = operations::find(method, path).is_some_and(|o| o.roles.len() < 5);
    if restricted {
        add("403", "the key's role may not call this");
    }
    if path.contains('{') {
        add("404", "no such object, or one the key may not see");
    }
    if operation.request_body.is_some() {
        add("413", "the body is larger than the server takes");
        add("415", "the body is not `application/json`");
        add(
            "422",
            "well-formed JSON that is not acceptable: the field says where",
        );
    }
    add(
        "429",
        "too many failed authentications from this address: wait `Retry-After`",
    );
    add("503", "the store is unavailable: try again");
    // The refusals the handlers list (409...) have the same body.
    for (status, response) in operation.responses.responses.iter_mut() {
        if let RefOr::T(response) = response
            && status.as_str() >= "400"
            && response.content.is_empty()
        {
            response.content.insert(
                "application/json".to_owned(),
                Content::new(Some(schemas::reference::<schemas::ErrorSchema>())),
            );
        }
    }
}
