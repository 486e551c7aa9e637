//! What each path and query parameter accepts, from the constants its parser checks
//! against: ids by kind, whole numbers by range, closed sets by their enums.

use baton_core::Owner;
use baton_core::event::EventKind;
use baton_store::DeliveryStatus;
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::openapi::{RefOr, Required, Schema};

use super::schemas::{
    self, AgentIdSchema, ConversationIdSchema, CustomerIdSchema, KeyIdSchema, LabelSchema,
    OfferIdSchema, WebhookIdSchema, reference,
};
use crate::handlers::{audit, conversations, feed, search, stats, webhooks};
use crate::params::MAX_SEQ;

/// Whether the operation at `path` takes `parameter` at all: the feed's stream shares
/// the page's query struct but refuses `limit` (400 "a stream takes no limit").
pub fn taken(path: &str, parameter: &Parameter) -> bool {
    !(path == "/v1/events/stream" && parameter.name == "limit")
}

/// Sets `parameter`'s schema (and, for path parameters, `required`).
pub fn constrain(path: &str, parameter: &mut Parameter) {
    let schema = match parameter.parameter_in {
        ParameterIn::Path => {
            parameter.required = Required::True;
            path_schema(path, &parameter.name)
        }
        ParameterIn::Query => query_schema(path, &parameter.name),
        _ => None,
    };
    if let Some(schema) = schema {
        parameter.schema = Some(schema);
    }
}

fn path_schema(path: &str, name: &str) -> Option<RefOr<Schema>> {
    Some(match name {
        "cid" => reference::<ConversationIdSchema>(),
        "aid" => reference::<AgentIdSchema>(),
        "oid" => reference::<OfferIdSchema>(),
        "customer_id" => reference::<CustomerIdSchema>(),
        "id" if path.starts_with("/v1/keys/") => reference::<KeyIdSchema>(),
        "id" if path.starts_with("/v1/webhooks/") => reference::<WebhookIdSchema>(),
        _ => return None,
    })
}

fn query_schema(path: &str, name: &str) -> Option<RefOr<Schema>> {
    Some(match name {
        "after" => schemas::integer(
            "Only what comes after this seq (or feed position).",
            0,
            MAX_SEQ,
        ),
        "before" => schemas::integer("Only deliveries older than this one.", 0, MAX_SEQ),
        "limit" => {
            let (max, default) = match path {
                "/v1/conversations/{cid}/events" => (u64::from(conversations::MAX_PAGE), 1000),
                "/v1/events" => (u64::from(feed::MAX_PAGE), 1000),
                "/v1/conversations" => (
                    u64::from(search::MAX_LIMIT),
                    u64::from(search::DEFAULT_LIMIT),
                ),
                "/v1/webhooks/{id}/deliveries" => (webhooks::MAX_DELIVERIES, 100),
                "/v1/audit/access" => (audit::MAX_LIMIT, 100),
                _ => return None,
            };
            schemas::integer(&format!("At most this many (default {default})."), 1, max)
        }
        "cursor" if path == "/v1/audit/access" => {
            schemas::integer("The previous page's `next_cursor`.", 0, MAX_SEQ)
        }
        "hours" => schemas::integer(
            "The window in hours back from now (default 24).",
            1,
            stats::MAX_HOURS,
        ),
        "view" => schemas::one_of_names(
            "`sealed` (auditor, admin): the events as stored and hashed.",
            ["default", "sealed"],
        ),
        "format" if path == "/v1/conversations/{cid}/package" => schemas::one_of_names(
            "How the package is rendered (default `json`).",
            ["json", "markdown", "html", "botframework", "zendesk"],
        ),
        "format" if path == "/v1/insights/outcomes" => {
            schemas::one_of_names("`json` (default) or `csv`.", ["json", "csv"])
        }
        "status" => schemas::one_of_names(
            "Only deliveries in this status.",
            DeliveryStatus::ALL.map(DeliveryStatus::as_str),
        ),
        "owner" => schemas::comma_list(
            "Only these owners, comma-separated (spaces around a name are ignored; empty: all).",
            Owner::ALL.map(Owner::as_str),
            true,
        ),
        "types" => schemas::comma_list(
            "Only these event types, comma-separated (spaces around a name are ignored).",
            EventKind::ALL.map(EventKind::as_str),
            false,
        ),
        "since" => schemas::date_time_example(
            "An RFC 3339 instant; with `until`, before it (else 400).",
            "2026-12-01T00:00:00Z",
        ),
        "until" => schemas::date_time_example(
            "An RFC 3339 instant; with `since`, after it (else 400).",
            "2026-12-02T00:00:00Z",
        ),
        "conversation" => reference::<ConversationIdSchema>(),
        "key" => reference::<KeyIdSchema>(),
        "agent" => reference::<AgentIdSchema>(),
        "customer" => reference::<CustomerIdSchema>(),
        "intent" | "skill" => reference::<LabelSchema>(),
        "fcr_hours" | "bot_cost" | "agent_cost_per_minute" => utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Number)
            .minimum(Some(0.0))
            .description(Some("A finite number, at least 0."))
            .into(),
        _ => return None,
    })
}
