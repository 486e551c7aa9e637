//! Schemas of the values baton validates, built from the constants the validators use
//! (`baton_core::id::ID_PATTERN`, `MAX_TEXT_BYTES`...), so the document cannot promise
//! what the parser refuses. Handlers name them with `value_type = ...`; the document
//! lists each once under `components/schemas`.

use std::borrow::Cow;

use baton_core::event::EventKind;
use baton_core::id::{ID_PATTERN, KeyId, MAX_ID_LEN, random_hex_pattern};
use baton_core::label::{LABEL_PATTERN, MAX_LABEL_LEN};
use baton_core::router::types::MAX_PROFICIENCY;
use baton_core::rules::actor_fits_kind;
use baton_core::text::{MAX_TEXT_BYTES, TEXT_PATTERN};
use baton_core::{Actor, AgentId, Owner, Role};
use baton_store::WebhookId;
use serde_json::json;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{AllOfBuilder, ArrayBuilder, OneOfBuilder, Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::append::MAX_BATCH_EVENTS;

/// A named schema: `$ref`ed by handlers, defined once.
macro_rules! named {
    ($(#[$doc:meta])* $ty:ident, $name:literal, $body:expr) => {
        $(#[$doc])*
        pub struct $ty;

        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                $body
            }
        }

        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

/// A `$ref` to the named schema `T`.
pub fn reference<T: ToSchema>() -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(T::name()))
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn client_id(description: &str, example: &str) -> RefOr<Schema> {
    string()
        .description(Some(format!(
            "{description} `[A-Za-z0-9._:-]`, 1 to {MAX_ID_LEN} characters, not only dots."
        )))
        .pattern(Some(ID_PATTERN))
        .min_length(Some(1))
        .max_length(Some(MAX_ID_LEN))
        .examples([json!(example)])
        .into()
}

fn random_id(description: &str, prefix: &str, example: &str) -> RefOr<Schema> {
    string()
        .description(Some(format!(
            "{description} `{prefix}` and 16 lowercase hex digits."
        )))
        .pattern(Some(random_hex_pattern(prefix)))
        .examples([json!(example)])
        .into()
}

/// A string schema that is one of `names`.
pub fn one_of_names<'a>(
    description: &str,
    names: impl IntoIterator<Item = &'a str>,
) -> RefOr<Schema> {
    string()
        .description(Some(description))
        .enum_values(Some(names))
        .into()
}

/// A comma-separated list of `names`, spaces allowed around each; empty too when
/// `empty` (the parser then reads "no filter").
pub fn comma_list<'a>(
    description: &str,
    names: impl IntoIterator<Item = &'a str>,
    empty: bool,
) -> RefOr<Schema> {
    let one = format!(" *({}) *", names.into_iter().collect::<Vec<_>>().join("|"));
    let list = format!("{one}(,{one})*");
    let pattern = if empty {
        format!("^(|{list})$")
    } else {
        format!("^{list}$")
    };
    string()
        .description(Some(description))
        .pattern(Some(pattern))
        .into()
}

/// A whole number in `min..=max`.
pub fn integer(description: &str, min: u64, max: u64) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .description(Some(description))
        .minimum(Some(whole(min)))
        .maximum(Some(whole(max)))
        .into()
}

/// `n` as a JSON integer (a float bound reads `1000.0`, and fuzzers step past it badly).
fn whole(n: u64) -> utoipa::Number {
    utoipa::Number::UInt(usize::try_from(n).unwrap_or(usize::MAX))
}

/// An RFC 3339 instant.
pub fn date_time(description: &str) -> RefOr<Schema> {
    date_time_example(description, "2026-12-01T09:30:00Z")
}

/// An RFC 3339 instant with its example.
pub fn date_time_example(description: &str, example: &str) -> RefOr<Schema> {
    string()
        .description(Some(description))
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::DateTime,
        )))
        .examples([json!(example)])
        .into()
}

named!(
    /// `ConversationId`.
    ConversationIdSchema,
    "ConversationId",
    client_id("A conversation, chosen by the client:", "conv-1")
);
named!(
    /// `AgentId`.
    AgentIdSchema,
    "AgentId",
    client_id("A human agent:", "ana")
);
named!(
    /// `EventId`.
    EventIdSchema,
    "EventId",
    client_id(
        "An event's idempotency key (the same id twice is stored once):",
        "m1"
    )
);
named!(
    /// `CustomerId`.
    CustomerIdSchema,
    "CustomerId",
    client_id("A customer across conversations:", "cust-7")
);
named!(
    /// `OfferId`.
    OfferIdSchema,
    "OfferId",
    client_id("An offer of a queued conversation to one agent:", "of_1")
);
named!(
    /// `KeyId`.
    KeyIdSchema,
    "KeyId",
    random_id(
        "An API key's public id:",
        KeyId::PREFIX,
        "key_0123456789abcdef"
    )
);
named!(
    /// `WebhookId`.
    WebhookIdSchema,
    "WebhookId",
    random_id(
        "A webhook subscription's id:",
        WebhookId::PREFIX,
        "wh_0123456789abcdef"
    )
);
named!(
    /// `Text`.
    TextSchema,
    "Text",
    string()
        .description(Some(format!(
            "Text: not only white space, no NUL, at most {MAX_TEXT_BYTES} bytes of UTF-8."
        )))
        .pattern(Some(TEXT_PATTERN))
        .min_length(Some(1))
        .max_length(Some(MAX_TEXT_BYTES))
        .into()
);
named!(
    /// `Label`.
    LabelSchema,
    "Label",
    string()
        .description(Some(format!(
            "A short name (intent, skill, method...): one line, not only white space, \
             at most {MAX_LABEL_LEN} bytes."
        )))
        .pattern(Some(LABEL_PATTERN))
        .min_length(Some(1))
        .max_length(Some(MAX_LABEL_LEN))
        .examples([json!("billing")])
        .into()
);
named!(
    /// `Role`.
    RoleSchema,
    "Role",
    one_of_names("An API key's role.", Role::ALL.map(Role::as_str))
);
named!(
    /// The roles a webhook's deliveries may be redacted for.
    WebhookRoleSchema,
    "WebhookRole",
    one_of_names(
        "Whom deliveries are redacted for (not `agent`).",
        Role::ALL
            .into_iter()
            .filter(|r| *r != Role::Agent)
            .map(Role::as_str)
    )
);
named!(
    /// An owner.
    OwnerSchema,
    "Owner",
    one_of_names("Who holds a conversation.", Owner::ALL.map(Owner::as_str))
);
named!(
    /// `{skill: proficiency}`.
    SkillsSchema,
    "Skills",
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(format!(
            "Skill -> proficiency, 1 (novice) to {MAX_PROFICIENCY} (expert)."
        )))
        .property_names(Some(
            string()
                .pattern(Some(LABEL_PATTERN))
                .min_length(Some(1))
                .max_length(Some(MAX_LABEL_LEN)),
        ))
        .additional_properties(Some(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(whole(1)))
                .maximum(Some(whole(u64::from(MAX_PROFICIENCY)))),
        ))
        .examples([json!({"billing": 3, "general": 1})])
        .into()
);
named!(
    /// The error body every refusal has.
    ErrorSchema,
    "Error",
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("Every error: `{\"error\": {\"code\", \"message\", \"field\"?}}`."))
        .property(
            "error",
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("code", string().description(Some("Stable, machine-readable.")))
                .property("message", string().description(Some("Plain words.")))
                .property(
                    "field",
                    string().description(Some("The request field at fault: `events[2].text`.")),
                )
                .required("code")
                .required("message"),
        )
        .required("error")
        .examples([json!({"error": {"code": "missing_field", "message": "missing field `text`", "field": "events[0].text"}})])
        .into()
);

/// The wire names of `all`, as serde writes them.
fn wire_names<T: serde::Serialize>(all: &[T]) -> Vec<String> {
    all.iter()
        .filter_map(|v| serde_json::to_value(v).ok()?.as_str().map(str::to_owned))
        .collect()
}

/// Every priority's wire name.
pub fn priorities() -> Vec<String> {
    use baton_core::event::Priority as P;
    // Exhaustive: a new priority does not compile until it is listed below too.
    let _ = |p: P| match p {
        P::Low | P::Normal | P::High | P::Urgent => (),
    };
    wire_names(&[P::Low, P::Normal, P::High, P::Urgent])
}

/// Every action status's wire name.
fn action_statuses() -> Vec<String> {
    use baton_core::event::ActionStatus as S;
    let _ = |s: S| match s {
        S::Done | S::Pending | S::Failed => (),
    };
    wire_names(&[S::Done, S::Pending, S::Failed])
}

/// The event kinds a client may send.
pub fn client_kinds() -> impl Iterator<Item = EventKind> {
    EventKind::ALL.into_iter().filter(|k| !k.is_server_only())
}

/// A date-time schema as a builder (for properties).
fn instant() -> RefOr<Schema> {
    date_time("RFC 3339.")
}

/// What every event a client sends may carry, and its `type`.
fn envelope(kind: EventKind) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("type", string().enum_values(Some([kind.as_str()])))
        .required("type")
        .property("id", reference::<EventIdSchema>())
        .property("actor", actor(kind))
        .property("at", instant())
        .property(
            "meta",
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some("Client metadata, stored (sealed) with the event.")),
        )
        .additional_properties(Some(closed()))
}

/// The actors that may write `kind` (`rules::actor_fits_kind`), as a pattern.
fn actor(kind: EventKind) -> ObjectBuilder {
    let id = ID_PATTERN.trim_start_matches('^').trim_end_matches('$');
    let forms: Vec<String> = [
        (Some(Actor::Customer), "customer".to_owned()),
        (Some(Actor::Bot), "bot".to_owned()),
        (Some(Actor::System), "system".to_owned()),
        (
            AgentId::parse("a").ok().map(Actor::Agent),
            format!("agent:{id}"),
        ),
    ]
    .into_iter()
    .filter(|(actor, _)| actor.as_ref().is_some_and(|a| actor_fits_kind(a, kind)))
    .map(|(_, form)| form)
    .collect();
    string()
        .description(Some(
            "Who wrote it: `customer`, `bot`, `system` or `agent:<id>`, as the type allows. \
             By default the key's own (an agent key: its agent; a bot or admin key: \
             `customer` for customer messages, else `bot`; an `agent_message` from a bot \
             or admin key must name its agent).",
        ))
        .pattern(Some(format!("^({})$", forms.join("|"))))
        .max_length(Some("agent:".len() + MAX_ID_LEN))
}

fn text() -> RefOr<Schema> {
    reference::<TextSchema>()
}

fn label() -> RefOr<Schema> {
    reference::<LabelSchema>()
}

fn confidence() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Number)
        .minimum(Some(0.0))
        .maximum(Some(1.0))
}

fn list(items: impl Into<RefOr<Schema>>) -> ArrayBuilder {
    ArrayBuilder::new().items(items.into())
}

/// `additionalProperties: false`.
fn closed() -> utoipa::openapi::schema::AdditionalProperties<Schema> {
    utoipa::openapi::schema::AdditionalProperties::FreeForm(false)
}

/// One event type's own fields on top of the envelope.
fn event_schema(kind: EventKind) -> ObjectBuilder {
    let base = envelope(kind);
    match kind {
        EventKind::CustomerMessage | EventKind::BotMessage | EventKind::Note => {
            base.property("text", text()).required("text")
        }
        // Only an agent key has an agent to default to: the schema asks for it always.
        EventKind::AgentMessage => base
            .property("text", text())
            .required("text")
            .required("actor"),
        EventKind::Nlu => base
            .property("intent", label())
            .property("confidence", confidence())
            .property(
                "alternatives",
                list(
                    ObjectBuilder::new()
                        .schema_type(Type::Object)
                        .property("intent", label())
                        .property("confidence", confidence())
                        .required("intent")
                        .required("confidence")
                        .additional_properties(Some(closed())),
                ),
            )
            .property(
                "entities",
                list(
                    ObjectBuilder::new()
                        .schema_type(Type::Object)
                        .property("kind", label())
                        .property("value", text())
                        .property(
                            "start",
                            integer("Character offset.", 0, u64::from(u32::MAX)),
                        )
                        .property("end", integer("Character offset.", 0, u64::from(u32::MAX)))
                        .required("kind")
                        .required("value")
                        .additional_properties(Some(closed())),
                ),
            )
            .required("intent")
            .required("confidence"),
        EventKind::IdentityVerified => base
            .property("customer_id", reference::<CustomerIdSchema>())
            .property("method", label())
            .required("customer_id")
            .required("method"),
        EventKind::DocumentRetrieved => base
            .property("doc_id", label())
            .property("title", text())
            .property("uri", text())
            .property("score", ObjectBuilder::new().schema_type(Type::Number))
            .property("snippet", text())
            .required("doc_id")
            .required("title"),
        EventKind::Action => base
            .property("name", label())
            .property("status", string().enum_values(Some(action_statuses())))
            .property("detail", text())
            .required("name")
            .required("status"),
        EventKind::Commitment => base
            .property("text", text())
            .property("due", instant())
            .required("text"),
        EventKind::HandoffRequested => base
            .property("reason", text())
            .property("skills", list(label()))
            .property("priority", string().enum_values(Some(priorities()))),
        // Written by baton only: a client sending one gets 422 `reserved_type`.
        _ => base,
    }
}

named!(
    /// One event as a client appends it.
    NewEventSchema,
    "NewEvent",
    {
        let mut one_of = OneOfBuilder::new().description(Some(
            "One event, by `type`. Unknown types, missing fields, oversize text and bad ids \
             are 400/422; types baton writes itself (decision, offered, assigned...) are \
             422 `reserved_type`.",
        ));
        for kind in client_kinds() {
            one_of = one_of.item(event_schema(kind));
        }
        one_of.into()
    }
);
named!(
    /// `POST /v1/conversations/{cid}/events` body.
    AppendRequestSchema,
    "AppendRequest",
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property(
            "events",
            list(reference::<NewEventSchema>())
                .min_items(Some(1))
                .max_items(Some(MAX_BATCH_EVENTS))
                .description(Some("Appended atomically, in order.")),
        )
        .property(
            "expected_seq",
            nullable(integer(
                "The seq the caller believes is last; 409 `seq_conflict` if the log moved.",
                0,
                crate::params::MAX_SEQ,
            )),
        )
        .required("events")
        .additional_properties(Some(closed()))
        .examples([json!({"events": [
            {"id": "m1", "type": "customer_message", "text": "I was charged twice for order 88231"},
            {"id": "n1", "type": "nlu", "intent": "billing.double_charge", "confidence": 0.64}
        ]})])
        .into()
);

/// Every schema this module defines, for `components/schemas`.
pub fn all() -> Vec<(String, RefOr<Schema>)> {
    fn entry<T: ToSchema>() -> (String, RefOr<Schema>) {
        (T::name().into_owned(), T::schema())
    }
    vec![
        entry::<ConversationIdSchema>(),
        entry::<AgentIdSchema>(),
        entry::<EventIdSchema>(),
        entry::<CustomerIdSchema>(),
        entry::<OfferIdSchema>(),
        entry::<KeyIdSchema>(),
        entry::<WebhookIdSchema>(),
        entry::<TextSchema>(),
        entry::<LabelSchema>(),
        entry::<RoleSchema>(),
        entry::<WebhookRoleSchema>(),
        entry::<OwnerSchema>(),
        entry::<SkillsSchema>(),
        entry::<ErrorSchema>(),
        entry::<NewEventSchema>(),
        entry::<AppendRequestSchema>(),
    ]
}

/// `schema` or `null` (serde reads `null` as an absent optional field).
pub fn nullable(schema: RefOr<Schema>) -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(schema)
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

/// `allOf` around a `$ref`, so a property can add its own description.
pub fn described(inner: RefOr<Schema>, description: &str) -> RefOr<Schema> {
    AllOfBuilder::new()
        .item(inner)
        .description(Some(description))
        .into()
}
