//! The one place where errors become HTTP responses.
//!
//! Handlers return [`ApiError`]. Domain refusals (`baton_core::rules::Refusal`), client
//! decoding errors (`baton_core::decode::DecodeError`) and store errors
//! (`baton_store::StoreError`) convert into it here, and only here is a status chosen.
//! Every error body is `{"error": {"code", "message", "field"?}}`.
//!
//! The few statuses that are not errors and not axum's default 200 are chosen here too:
//! [`Created`] for 201. Redirects are axum's `Redirect` (303).

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use baton_core::decode::DecodeError;
use baton_core::rules::Refusal;
use baton_store::StoreError;
use serde::Serialize;

/// An error as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// Plain-words explanation.
    pub message: String,
    /// The request field at fault, e.g. `events[2].text`.
    pub field: Option<String>,
    /// Seconds to wait before trying again (sent as `Retry-After`).
    pub retry_after_secs: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    /// An error with no field.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after_secs: None,
        }
    }

    /// Names the field at fault.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// 400 with a code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 422 with a code.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 401 with a code saying why a presented credential no longer works
    /// (`key_revoked`, `key_expired`).
    pub fn unauthorized_because(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// 403 `csrf_failed`: a console request without its session's CSRF token.
    pub fn csrf_failed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "csrf_failed", message)
    }

    /// 429 `too_many_failures`: this address failed to authenticate too often.
    pub fn too_many_failures(retry_after_secs: u64) -> Self {
        let mut error = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_failures",
            format!(
                "too many failed sign-ins or unknown keys from this address; try again in {retry_after_secs} s"
            ),
        );
        error.retry_after_secs = Some(retry_after_secs);
        error
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 405 `method_not_allowed`: the route exists, the method does not.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this route does not take that method",
        )
    }

    /// Whether this refuses a credential (401: missing, unknown, revoked or expired),
    /// as opposed to refusing what a known caller asked for.
    pub fn is_unauthorized(&self) -> bool {
        self.status == StatusCode::UNAUTHORIZED
    }

    /// 503 with a code: the server is up but cannot serve (its database is unreachable).
    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }

    /// 409 with a code.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 500; the detail is logged, not shown.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the server log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Inner {
                code: self.code,
                message: &self.message,
                field: self.field.as_deref(),
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

/// A JSON answer with 201 Created: something new exists because of this request.
pub struct Created<T>(pub T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, Json(self.0)).into_response()
    }
}

impl From<DecodeError> for ApiError {
    fn from(e: DecodeError) -> Self {
        // Well-formed JSON that is not an acceptable event: 422, never partially written.
        ApiError::invalid(e.kind.code(), e.message).with_field(e.field)
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        let status = match r {
            Refusal::ActorMismatch { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Refusal::NotOwner { .. }
            | Refusal::Closed
            | Refusal::AlreadyHandedOff(_)
            | Refusal::OfferNotOpen { .. }
            | Refusal::NotQueued(_) => StatusCode::CONFLICT,
        };
        ApiError::new(status, r.code(), r.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { .. } => ApiError::conflict("seq_conflict", e.to_string()),
            StoreError::AtCapacity { .. } => ApiError::conflict("agent_at_capacity", e.to_string()),
            StoreError::DuplicateEventId(_) => {
                ApiError::conflict("duplicate_event_id", e.to_string())
            }
            StoreError::Closed => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the store is shutting down",
            ),
            StoreError::Busy(_) => ApiError::unavailable("store_busy", e.to_string()),
            StoreError::Corrupt(_) | StoreError::Engine(_) => ApiError::internal(e),
        }
    }
}

impl From<crate::vault::VaultError> for ApiError {
    fn from(e: crate::vault::VaultError) -> Self {
        use crate::vault::VaultError;
        match e {
            VaultError::Store(e) => e.into(),
            VaultError::Erased(_) => ApiError::conflict("conversation_erased", e.to_string()),
            VaultError::WrongMaster { .. } | VaultError::NoMaster(_) => {
                ApiError::unavailable("master_key", e.to_string())
            }
            VaultError::Unwrap(_) => ApiError::internal(e),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!(
                    "request body is larger than the limit: {}",
                    rejection.body_text()
                ),
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ),
            _ => ApiError::bad_request("invalid_json", rejection.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::bad_request("invalid_query", rejection.body_text())
    }
}
