//! The constraints of request bodies' fields, from the constants their handlers check:
//! one table of (schema, property) -> schema, applied to the derived components.

use baton_core::Role;
use baton_core::event::EventKind;
use baton_core::router::types::Presence;
use baton_core::webhook::EventFilter;
use utoipa::openapi::schema::AnyOfBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{AllOfBuilder, Components, OneOfBuilder, RefOr};

use super::schemas::{
    self, AgentIdSchema, LabelSchema, RoleSchema, SkillsSchema, TextSchema, WebhookRoleSchema,
    reference,
};
use crate::handlers::{agents, webhooks};
use crate::webhooks::target::MAX_URL_LEN;

/// `["*"]`, or event types.
fn webhook_events() -> RefOr<Schema> {
    let every = ArrayBuilder::new()
        .items(schemas::one_of_names("Every type.", [EventFilter::EVERY]))
        .min_items(Some(1))
        .max_items(Some(1));
    let some = ArrayBuilder::new()
        .items(schemas::one_of_names(
            "An event type.",
            EventKind::ALL.map(EventKind::as_str),
        ))
        .min_items(Some(1));
    OneOfBuilder::new()
        .item(every)
        .item(some)
        .description(Some("Event types to deliver, or `[\"*\"]` for all."))
        .into()
}

fn refinements() -> Vec<(&'static str, &'static str, RefOr<Schema>)> {
    let presence = [Presence::Available, Presence::Away, Presence::Offline];
    vec![
        ("CreateKey", "role", reference::<RoleSchema>()),
        ("CreateKey", "agent_id", reference::<AgentIdSchema>()),
        ("CreateKey", "name", reference::<LabelSchema>()),
        (
            "CreateKey",
            "expires_at",
            schemas::date_time("When the key stops working (in the future)."),
        ),
        (
            "CreateKey",
            "ttl_secs",
            schemas::integer(
                "Seconds from now until it stops working.",
                1,
                i64::MAX as u64 / 1000,
            ),
        ),
        ("PutAgent", "skills", reference::<SkillsSchema>()),
        (
            "PutAgent",
            "capacity",
            schemas::integer(
                "Conversations held at once (owned plus live offers).",
                1,
                u64::from(agents::MAX_CAPACITY),
            ),
        ),
        (
            "PresenceBody",
            "status",
            schemas::one_of_names("Presence.", presence.map(Presence::as_str)),
        ),
        ("BounceBack", "instructions", reference::<TextSchema>()),
        ("Resolve", "resolution", reference::<TextSchema>()),
        ("Resolve", "true_intent", reference::<LabelSchema>()),
        (
            "Resolve",
            "csat",
            schemas::integer("Customer satisfaction.", 1, 5),
        ),
        ("EraseRequest", "reason", reference::<TextSchema>()),
        (
            "CreateWebhook",
            "url",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(
                    "An `http` or `https` URL with a host and no credentials.",
                ))
                .pattern(Some("^[hH][tT][tT][pP][sS]?://"))
                .max_length(Some(MAX_URL_LEN))
                .examples([serde_json::json!("https://desk.example.com/baton")])
                .into(),
        ),
        ("CreateWebhook", "events", webhook_events()),
        (
            "CreateWebhook",
            "description",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("What it is for: one line."))
                .pattern(Some("^[^\\u0000-\\u001f\\u007f-\\u009f]*$"))
                .max_length(Some(webhooks::MAX_DESCRIPTION))
                .into(),
        ),
        ("CreateWebhook", "role", reference::<WebhookRoleSchema>()),
        (
            "Rotate",
            "grace_secs",
            schemas::integer(
                "How long the old secret keeps signing beside the new one (default 86400; 0 ends it now).",
                0,
                webhooks::MAX_GRACE_SECS,
            ),
        ),
        (
            "Replay",
            "since",
            schemas::date_time("Resend deliveries of events committed at or after this."),
        ),
    ]
}

/// Replaces the listed properties' schemas, keeping their descriptions.
pub fn refine(components: &mut Components) {
    for (schema, property, replacement) in refinements() {
        let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(schema) else {
            continue;
        };
        let description = match object.properties.get(property) {
            Some(RefOr::T(Schema::Object(old))) => old.description.clone(),
            Some(RefOr::T(Schema::OneOf(old))) => old.description.clone(),
            _ => None,
        };
        let optional = !object.required.iter().any(|r| r == property);
        let replacement = match (description, replacement) {
            (Some(text), RefOr::Ref(r)) => schemas::described(RefOr::Ref(r), &text),
            (Some(text), RefOr::T(Schema::Object(mut new))) => {
                new.description = Some(text);
                RefOr::T(Schema::Object(new))
            }
            (_, other) => other,
        };
        // serde reads `null` as absent for an optional field.
        let replacement = if optional {
            OneOfBuilder::new()
                .item(replacement)
                .item(ObjectBuilder::new().schema_type(Type::Null))
                .into()
        } else {
            replacement
        };
        object.properties.insert(property.to_owned(), replacement);
    }
}

/// `POST /v1/keys`'s rules across fields: an agent key names its agent and no other
/// key does; `expires_at` and `ttl_secs` are not both given.
pub fn create_key_rules(components: &mut Components) {
    let Some(RefOr::T(object)) = components.schemas.remove("CreateKey") else {
        return;
    };
    let null = || ObjectBuilder::new().schema_type(Type::Null);
    let agent = ObjectBuilder::new()
        .property(
            "role",
            schemas::one_of_names("An agent key...", [Role::Agent.as_str()]),
        )
        .property("agent_id", reference::<AgentIdSchema>())
        .required("role")
        .required("agent_id");
    let others = ObjectBuilder::new()
        .property(
            "role",
            schemas::one_of_names(
                "...or any other, without an agent.",
                Role::ALL
                    .into_iter()
                    .filter(|r| *r != Role::Agent)
                    .map(Role::as_str),
            ),
        )
        .property("agent_id", null())
        .required("role");
    let one_expiry = AnyOfBuilder::new()
        .item(ObjectBuilder::new().property("expires_at", null()))
        .item(ObjectBuilder::new().property("ttl_secs", null()));
    let rules = AllOfBuilder::new()
        .item(object)
        .item(OneOfBuilder::new().item(agent).item(others))
        .item(one_expiry)
        .description(Some(
            "An agent key names the agent it acts as; no other key does. Give `expires_at` \
             (in the future) or `ttl_secs`, not both.",
        ));
    components
        .schemas
        .insert("CreateKey".to_owned(), RefOr::T(rules.build().into()));
}

/// The (schema, property) pairs refined, for the test that each still exists.
pub fn refined() -> Vec<(&'static str, &'static str)> {
    refinements().into_iter().map(|(s, p, _)| (s, p)).collect()
}
