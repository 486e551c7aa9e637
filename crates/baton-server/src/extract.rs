//! Request extractors whose rejections are [`ApiError`]s, so malformed input gets the
//! same JSON error shape as everything else.

use axum::extract::{FromRequest, FromRequestParts};
use baton_core::ConversationId;
use baton_core::id::{AgentId, OfferId};

use crate::error::ApiError;

/// A JSON body.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

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
