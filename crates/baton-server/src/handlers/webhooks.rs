//! Webhook subscriptions (admin): create (the secret is shown once), list, read,
//! delete, rotate the secret, list deliveries, replay.

use axum::Json;
use axum::extract::State;
use baton_core::Timestamp;
use baton_core::webhook::{EventFilter, message_id};
use baton_store::{Delivery, DeliveryQuery, DeliveryStatus, Role, WebhookId, WebhookRecord};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, Created};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::params::{self, Source};
use crate::webhooks::{sign, target};

/// The longest description.
pub const MAX_DESCRIPTION: usize = 256;
/// The most subscriptions one baton keeps (each costs every append an outbox check).
pub const MAX_WEBHOOKS: usize = 100;
/// How long the old secret signs beside the new one after a rotation, by default.
pub const DEFAULT_GRACE_SECS: u64 = 24 * 3600;
/// The longest grace period a rotation may ask for.
pub const MAX_GRACE_SECS: u64 = 7 * 24 * 3600;
/// Largest page of deliveries.
pub const MAX_DELIVERIES: u64 = 1000;

/// `POST /v1/webhooks` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where deliveries go: an `http` or `https` URL.
    pub url: String,
    /// Event types to deliver, or `["*"]` for all.
    #[schema(example = json!(["decision", "assigned", "bounced_back", "resolved"]))]
    pub events: Vec<String>,
    /// What it is for.
    #[serde(default)]
    pub description: Option<String>,
    /// The role deliveries are redacted for: `bot` (default), `supervisor`,
    /// `auditor` or `admin`.
    #[serde(default)]
    #[schema(example = "bot")]
    pub role: Option<String>,
}

/// A subscription as listed: never its secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    /// Its id (`wh_...`).
    pub id: String,
    /// Where deliveries go.
    pub url: String,
    /// Event types delivered (`["*"]`: all).
    pub events: Vec<&'static str>,
    /// What it is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The role deliveries are redacted for.
    pub role: &'static str,
    /// When it was created.
    pub created_at: String,
    /// After a rotation: until when the previous secret signs too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret_until: Option<String>,
}

impl From<&WebhookRecord> for WebhookView {
    fn from(hook: &WebhookRecord) -> Self {
        Self {
            id: hook.id.to_string(),
            url: hook.url.clone(),
            events: hook.events.names(),
            description: hook.description.clone(),
            role: hook.role.as_str(),
            created_at: hook.created_at.to_string(),
            previous_secret_until: hook.previous.as_ref().map(|(_, until)| until.to_string()),
        }
    }
}

/// A subscription with its secret: the answer to create and rotate, shown once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookWithSecret {
    /// The signing secret (`whsec_` + base64); keep it, it is not shown again.
    pub secret: String,
    /// The subscription.
    #[serde(flatten)]
    pub view: WebhookView,
}

/// `GET /v1/webhooks` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookList {
    /// Every subscription, oldest first.
    pub webhooks: Vec<WebhookView>,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
    ApiError::invalid("invalid_field", message).with_field(field)
}

fn new_id() -> WebhookId {
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    WebhookId::from_random(bytes)
}

async fn find(app: &AppState, id: &WebhookId) -> Result<WebhookRecord, ApiError> {
    app.store
        .webhooks()
        .await?
        .into_iter()
        .find(|h| &h.id == id)
        .ok_or_else(|| ApiError::not_found("no such webhook"))
}

async fn changed(app: &AppState) -> Result<(), ApiError> {
    app.webhooks.reload(app.store.as_ref()).await?;
    Ok(())
}

/// `POST /v1/webhooks` (admin): subscribes a URL to event types; answers with the
/// signing secret, shown this once.
#[utoipa::path(post, path = "/v1/webhooks", request_body = CreateWebhook,
    responses((status = 201, body = WebhookWithSecret), (status = 403), (status = 422)))]
pub async fn create(
    State(app): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateWebhook>,
) -> Result<Created<WebhookWithSecret>, ApiError> {
    principal.require(&[Role::Admin])?;
    let url = target::check(&body.url).map_err(|e| invalid("url", e.to_string()))?;
    let events = EventFilter::parse(&body.events).map_err(|e| match e.index() {
        Some(i) => invalid(format!("events[{i}]"), e.to_string()),
        None => invalid("events", e.to_string()),
    })?;
    if let Some(description) = &body.description
        && (description.len() > MAX_DESCRIPTION || description.chars().any(char::is_control))
    {
        return Err(invalid(
            "description",
            format!("description must be one line of at most {MAX_DESCRIPTION} bytes"),
        ));
    }
    let role = match body.role.as_deref() {
        None => Role::Bot,
        Some(raw) => match Role::parse(raw) {
            Some(role) if role != Role::Agent => role,
            _ => {
                return Err(invalid(
                    "role",
                    "role must be bot, supervisor, auditor or admin",
                ));
            }
        },
    };
    if app.webhooks.subscriptions().len() >= MAX_WEBHOOKS {
        return Err(ApiError::conflict(
            "too_many_webhooks",
            format!("at most {MAX_WEBHOOKS} webhooks; delete one first"),
        ));
    }
    let hook = WebhookRecord {
        id: new_id(),
        url,
        events,
        description: body.description,
        role,
        secret: sign::generate_secret(),
        previous: None,
        created_at: app.clock.now(),
    };
    app.store.put_webhook(hook.clone()).await?;
    changed(&app).await?;
    Ok(Created(WebhookWithSecret {
        secret: hook.secret.0.clone(),
        view: WebhookView::from(&hook),
    }))
}

/// `GET /v1/webhooks` (admin): every subscription, without secrets.
#[utoipa::path(get, path = "/v1/webhooks", responses((status = 200, body = WebhookList), (status = 403)))]
pub async fn list(
    State(app): State<AppState>,
    principal: Principal,
) -> Result<Json<WebhookList>, ApiError> {
    principal.require(&[Role::Admin])?;
    let webhooks = app.store.webhooks().await?;
    Ok(Json(WebhookList {
        webhooks: webhooks.iter().map(WebhookView::from).collect(),
    }))
}

/// `GET /v1/webhooks/{id}` (admin): one subscription, without its secret.
#[utoipa::path(get, path = "/v1/webhooks/{id}", params(("id" = String, Path)),
    responses((status = 200, body = WebhookView), (status = 404)))]
pub async fn get(
    State(app): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<WebhookId>,
) -> Result<Json<WebhookView>, ApiError> {
    principal.require(&[Role::Admin])?;
    Ok(Json(WebhookView::from(&find(&app, &id).await?)))
}

/// `DELETE /v1/webhooks/{id}` (admin): unsubscribes; pending deliveries are dropped.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", params(("id" = String, Path)),
    responses((status = 200, body = WebhookView), (status = 404)))]
pub async fn delete(
    State(app): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<WebhookId>,
) -> Result<Json<WebhookView>, ApiError> {
    principal.require(&[Role::Admin])?;
    let hook = find(&app, &id).await?;
    if !app.store.delete_webhook(&id).await? {
        return Err(ApiError::not_found("no such webhook"));
    }
    changed(&app).await?;
    Ok(Json(WebhookView::from(&hook)))
}

/// `POST /v1/webhooks/{id}/rotate-secret` body.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rotate {
    /// How long the old secret keeps signing beside the new one (default 86400 s, at
    /// most 7 days; 0 ends it at once).
    #[serde(default)]
    pub grace_secs: Option<u64>,
}

/// `POST /v1/webhooks/{id}/rotate-secret` (admin): a new secret, shown once; the old
/// one signs beside it (two signatures per delivery) for the grace period.
#[utoipa::path(post, path = "/v1/webhooks/{id}/rotate-secret", request_body = Option<Rotate>,
    params(("id" = String, Path)),
    responses((status = 200, body = WebhookWithSecret), (status = 404), (status = 422)))]
pub async fn rotate(
    State(app): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<WebhookId>,
    raw: axum::body::Bytes,
) -> Result<Json<WebhookWithSecret>, ApiError> {
    principal.require(&[Role::Admin])?;
    // The body is optional: an empty one (or `null`) rotates with the default grace period.
    let body: Rotate = if raw.iter().all(u8::is_ascii_whitespace) {
        Rotate::default()
    } else {
        let mut value: serde_json::Value = serde_json::from_slice(&raw)
            .map_err(|e| ApiError::bad_request("invalid_json", e.to_string()))?;
        crate::extract::numbers::whole_numbers(&mut value);
        if value.is_null() {
            Rotate::default()
        } else {
            serde_json::from_value(value)
                .map_err(|e| ApiError::bad_request("invalid_json", e.to_string()))?
        }
    };
    let grace = body.grace_secs.unwrap_or(DEFAULT_GRACE_SECS);
    if grace > MAX_GRACE_SECS {
        return Err(invalid(
            "grace_secs",
            "grace_secs must be at most 604800 (7 days)",
        ));
    }
    let mut hook = find(&app, &id).await?;
    let now = app.clock.now();
    let grace_ms = i64::try_from(grace).unwrap_or(0) * 1000;
    hook.previous = (grace > 0).then(|| (hook.secret.clone(), now.plus_millis(grace_ms)));
    hook.secret = sign::generate_secret();
    app.store.put_webhook(hook.clone()).await?;
    changed(&app).await?;
    Ok(Json(WebhookWithSecret {
        secret: hook.secret.0.clone(),
        view: WebhookView::from(&hook),
    }))
}

/// `?status=pending|delivered|dead&before=ID&limit=N`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// Only deliveries in this status.
    #[serde(default)]
    pub status: Option<String>,
    /// Only deliveries older than this one (the next page).
    #[serde(default)]
    #[param(value_type = Option<u64>)]
    pub before: Option<String>,
    /// At most this many (default 100, at most 1000).
    #[serde(default)]
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
}

/// One try as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    /// When.
    pub at: String,
    /// The receiver's HTTP status, if it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// What went wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A delivery as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    /// Its number, for `?before=`.
    pub id: u64,
    /// The `webhook-id` it is sent with (the same on every try).
    pub message_id: String,
    /// The event's conversation.
    pub conversation: String,
    /// The event's seq.
    pub seq: u64,
    /// The event's type.
    #[serde(rename = "type")]
    pub kind: String,
    /// `pending`, `delivered` or `dead`.
    pub status: &'static str,
    /// When the event was committed.
    pub created_at: String,
    /// When it is next tried, while pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<String>,
    /// Its tries, oldest first.
    pub attempts: Vec<AttemptView>,
}

impl From<&Delivery> for DeliveryView {
    fn from(d: &Delivery) -> Self {
        Self {
            id: d.id,
            message_id: message_id(d.webhook.as_str(), &d.conversation, d.seq),
            conversation: d.conversation.to_string(),
            seq: d.seq,
            kind: d.kind.clone(),
            status: d.status.as_str(),
            created_at: d.created_at.to_string(),
            next_attempt_at: (d.status == DeliveryStatus::Pending).then(|| d.next_at.to_string()),
            attempts: d
                .attempts
                .iter()
                .map(|a| AttemptView {
                    at: a.at.to_string(),
                    status: a.status,
                    error: a.error.clone(),
                })
                .collect(),
        }
    }
}

/// `GET /v1/webhooks/{id}/deliveries` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryList {
    /// Newest first.
    pub deliveries: Vec<DeliveryView>,
    /// Present when more follow: read on with `?before=` it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<u64>,
}

/// `GET /v1/webhooks/{id}/deliveries?status=` (admin): deliveries, newest first, with
/// each try's status code or error.
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries",
    params(("id" = String, Path), DeliveriesQuery),
    responses((status = 200, body = DeliveryList), (status = 400), (status = 404)))]
pub async fn deliveries(
    State(app): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<WebhookId>,
    ApiQuery(query): ApiQuery<DeliveriesQuery>,
) -> Result<Json<DeliveryList>, ApiError> {
    principal.require(&[Role::Admin])?;
    find(&app, &id).await?;
    let status = match query.status.as_deref() {
        None => None,
        Some(raw) => Some(DeliveryStatus::parse(raw).ok_or_else(|| {
            ApiError::bad_request("invalid_query", "status must be pending, delivered or dead")
                .with_field("status")
        })?),
    };
    let before = params::seq(Source::Query, "before", query.before.as_deref())?;
    let limit = params::number(
        Source::Query,
        "limit",
        query.limit.as_deref(),
        1,
        MAX_DELIVERIES,
    )?
    .map_or(100, |n| u32::try_from(n).unwrap_or(1000));
    let mut found = app
        .store
        .deliveries(DeliveryQuery {
            webhook: id,
            status,
            before,
            limit: limit + 1,
        })
        .await?;
    let more = found.len() > limit as usize;
    found.truncate(limit as usize);
    Ok(Json(DeliveryList {
        next_before: found.last().filter(|_| more).map(|d| d.id),
        deliveries: found.iter().map(DeliveryView::from).collect(),
    }))
}

/// `POST /v1/webhooks/{id}/replay` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Replay {
    /// Resend every delivery of events committed at or after this instant (RFC 3339)
    /// that is delivered or dead.
    #[schema(example = "2026-12-01T00:00:00Z")]
    pub since: String,
}

/// `POST /v1/webhooks/{id}/replay` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Replayed {
    /// How many deliveries go out again.
    pub replayed: u64,
}

/// `POST /v1/webhooks/{id}/replay` (admin): sends again, with their first
/// `webhook-id`, the deliveries of events committed since `since`.
#[utoipa::path(post, path = "/v1/webhooks/{id}/replay", request_body = Replay,
    params(("id" = String, Path)),
    responses((status = 200, body = Replayed), (status = 404), (status = 422)))]
pub async fn replay(
    State(app): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<WebhookId>,
    ApiJson(body): ApiJson<Replay>,
) -> Result<Json<Replayed>, ApiError> {
    principal.require(&[Role::Admin])?;
    let since = Timestamp::parse(&body.since)
        .map_err(|_| invalid("since", "since must be an RFC 3339 date-time"))?;
    find(&app, &id).await?;
    let replayed = app
        .store
        .replay_deliveries(&id, since, app.clock.now())
        .await?;
    app.webhooks.wake();
    Ok(Json(Replayed { replayed }))
}
