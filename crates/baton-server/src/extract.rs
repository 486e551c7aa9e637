//! Request extractors whose rejections are [`ApiError`]s, so malformed input gets the
//! same JSON error shape as everything else.

mod duplicate_keys;

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, MissingJsonContentType};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, header};
use baton_core::ConversationId;
use baton_core::id::{AgentId, OfferId};
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
        let axum::Json(value) = axum::Json::from_bytes(&body)?;
        Ok(Self(value))
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

fn invalid_id(field: &'static str, e: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request("invalid_id", format!("{field} {e}")).with_field(field)
}

/// Parses a conversation id from the path.
pub fn conversation_id(raw: String) -> Result<ConversationId, ApiError> {
    ConversationId::parse(raw).map_err(|e| invalid_id("conversation_id", e))
}

/// Parses an agent id from the path.
pub fn agent_id(raw: String) -> Result<AgentId, ApiError> {
    AgentId::parse(raw).map_err(|e| invalid_id("agent_id", e))
}

/// Parses an offer id from the path.
pub fn offer_id(raw: String) -> Result<OfferId, ApiError> {
    OfferId::parse(raw).map_err(|e| invalid_id("offer_id", e))
}
