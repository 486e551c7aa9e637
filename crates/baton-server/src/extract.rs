//! Request extractors whose rejections are [`ApiError`]s, so malformed input gets the
//! same JSON error shape as everything else.

mod duplicate_keys;
pub(crate) mod numbers;

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, MissingJsonContentType};
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use baton_core::ConversationId;
use baton_core::id::{AgentId, OfferId};
use baton_store::{KeyId, WebhookId};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

pub use duplicate_keys::DuplicateKey;

/// A JSON body, as `axum::Json` takes it (same content-type rule, body limit and
/// errors), except that a key repeated in one object, at any depth, is refused with
/// 400 `duplicate_key` naming its path: serde would silently keep the last one.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !json_content_type(req.headers()) {
            return Err(JsonRejection::from(MissingJsonContentType::default()).into());
        }
        let body = Bytes::from_request(req, state)
            .await
            .map_err(JsonRejection::from)?;
        if let Some(DuplicateKey { key, path }) = duplicate_keys::find(&body) {
            return Err(ApiError::bad_request(
                "duplicate_key",
                format!("the key {key:?} appears twice in one JSON object; send each key once"),
            )
            .with_field(path));
        }
        if numbers::may_hold_fractions(&body)
            && let Ok(mut raw) = serde_json::from_slice::<serde_json::Value>(&body)
        {
            numbers::whole_numbers(&mut raw);
            // Through axum again, so that errors read exactly as on the fast path.
            let normalized = serde_json::to_vec(&raw).map_err(ApiError::internal)?;
            let axum::Json(value) = axum::Json::from_bytes(&normalized)?;
            return Ok(Self(value));
        }
        let axum::Json(value) = axum::Json::from_bytes(&body)?;
        Ok(Self(value))
    }
}

/// An optional JSON body: `None` when the request has no body at all, else what
/// [`ApiJson`] makes of it (so a body without a JSON content type is still refused).
pub struct MaybeJson<T>(pub Option<T>);

impl<T, S> FromRequest<S> for MaybeJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let empty = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() == b"0")
            || (!req.headers().contains_key(header::CONTENT_LENGTH)
                && !req.headers().contains_key(header::TRANSFER_ENCODING));
        if empty {
            return Ok(Self(None));
        }
        let ApiJson(value) = ApiJson::from_request(req, state).await?;
        Ok(Self(Some(value)))
    }
}

/// `application/json` or any `application/*+json`, parameters allowed: axum::Json's rule.
fn json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| {
            m.type_() == "application"
                && (m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"))
        })
}

/// A query string.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// A path segment that parses into a typed id: [`ApiPath`] takes any of these.
pub trait PathParam: Sized {
    /// The name the error's `field` gives when the segment is not a valid id.
    const FIELD: &'static str;

    /// Parses the (percent-decoded) segment, refusing it as the API does.
    fn from_path(raw: String) -> Result<Self, ApiError>;
}

/// A route's one path parameter, parsed into a typed id before the handler runs, so no
/// handler sees (or has to remember to validate) the raw string. An invalid id is
/// refused with what its [`PathParam`] impl says: 400 `invalid_id` naming the field.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: PathParam,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| invalid_id(T::FIELD, rejection.body_text()))?;
        T::from_path(raw).map(Self)
    }
}

fn invalid_id(field: &'static str, e: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request("invalid_id", format!("{field} {e}")).with_field(field)
}

/// Parses a conversation id from the path or a body field, as the path does.
pub fn conversation_id(raw: String) -> Result<ConversationId, ApiError> {
    ConversationId::parse(raw).map_err(|e| invalid_id("conversation_id", e))
}

impl PathParam for ConversationId {
    const FIELD: &'static str = "conversation_id";

    fn from_path(raw: String) -> Result<Self, ApiError> {
        conversation_id(raw)
    }
}

impl PathParam for AgentId {
    const FIELD: &'static str = "agent_id";

    fn from_path(raw: String) -> Result<Self, ApiError> {
        AgentId::parse(raw).map_err(|e| invalid_id(Self::FIELD, e))
    }
}

impl PathParam for baton_core::CustomerId {
    const FIELD: &'static str = "customer_id";

    fn from_path(raw: String) -> Result<Self, ApiError> {
        baton_core::CustomerId::parse(raw).map_err(|e| invalid_id(Self::FIELD, e))
    }
}

impl PathParam for OfferId {
    const FIELD: &'static str = "offer_id";

    fn from_path(raw: String) -> Result<Self, ApiError> {
        OfferId::parse(raw).map_err(|e| invalid_id(Self::FIELD, e))
    }
}

impl PathParam for KeyId {
    const FIELD: &'static str = "id";

    /// A key id is never malformed to its caller, only unknown: 404, as for one that
    /// parses but does not exist, so the answer says nothing about the id format.
    fn from_path(raw: String) -> Result<Self, ApiError> {
        KeyId::parse(&raw).map_err(|_| ApiError::not_found("no such key"))
    }
}

impl PathParam for WebhookId {
    const FIELD: &'static str = "id";

    /// Like a key id: never malformed, only unknown (404).
    fn from_path(raw: String) -> Result<Self, ApiError> {
        WebhookId::parse(&raw).map_err(|_| ApiError::not_found("no such webhook"))
    }
}
