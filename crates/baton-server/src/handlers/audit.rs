//! The access log over the API, for auditors.

use axum::Json;
use axum::extract::State;
use baton_core::Timestamp;
use baton_core::access::{AccessKind, AccessRecord};
use baton_core::id::{ConversationId, KeyId};
use baton_core::ledger::Digest;
use baton_store::{AccessQuery, Role, StoredAccess};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::params::{self, Source};

/// `?conversation=&key=&since=&cursor=&limit=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AccessLogQuery {
    /// Only reads of this conversation.
    #[serde(default)]
    pub conversation: Option<String>,
    /// Only reads with this key (`key_...`).
    #[serde(default)]
    pub key: Option<String>,
    /// Only reads at or after this RFC 3339 instant.
    #[serde(default)]
    pub since: Option<String>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Entries per page, 1 to 1000 (100 by default).
    #[serde(default)]
    pub limit: Option<String>,
}

/// One entry as served: the hashed record, and its hash.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccessEntryView {
    /// The record exactly as chained (`number`, `at`, `key`, `role`, `agent`?,
    /// `conversation`?, `what`, `address`?).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub record: AccessRecord,
    /// `SHA-256(previous entry's hash || JCS(record))`, hex.
    #[schema(value_type = String)]
    pub hash: Digest,
}

/// A page of the access log.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccessLogPage {
    /// Entries, oldest first.
    pub entries: Vec<AccessEntryView>,
    /// Present when more entries match: pass it as `?cursor=`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

fn invalid(field: &'static str, message: &str) -> ApiError {
    ApiError::bad_request("invalid_query", message).with_field(field)
}

/// Largest page of the access log.
pub const MAX_LIMIT: u64 = 1000;

/// `GET /v1/audit/access?conversation=&key=&since=&cursor=&limit=` (auditor): who read
/// which customer data, when and from where, oldest first. This read is recorded too.
#[utoipa::path(get, path = "/v1/audit/access", params(AccessLogQuery),
    responses((status = 200, body = AccessLogPage), (status = 400), (status = 403)))]
pub async fn access(
    State(app): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<AccessLogQuery>,
) -> Result<Json<AccessLogPage>, ApiError> {
    principal.require(&[Role::Auditor])?;
    let conversation = query
        .conversation
        .map(ConversationId::parse)
        .transpose()
        .map_err(|_| invalid("conversation", "conversation must be a conversation id"))?;
    let key = query
        .key
        .as_deref()
        .map(KeyId::parse)
        .transpose()
        .map_err(|_| invalid("key", "key must be a key id (key_ and 16 hex digits)"))?;
    let since = query
        .since
        .as_deref()
        .map(Timestamp::parse)
        .transpose()
        .map_err(|_| invalid("since", "since must be an RFC 3339 date-time"))?;
    let after = params::seq(Source::Query, "cursor", query.cursor.as_deref())?.unwrap_or(0);
    let limit = params::number(Source::Query, "limit", query.limit.as_deref(), 1, MAX_LIMIT)?
        .map_or(100, |n| u32::try_from(n).unwrap_or(1000));
    app.access
        .record(&principal, AccessKind::AccessLog, conversation.as_ref())
        .await;
    // Everything read before this request is in the answer.
    app.access.flush().await;
    let mut found = app
        .store
        .access_log(AccessQuery {
            conversation,
            key,
            since,
            after,
            limit: limit + 1,
        })
        .await?;
    let more = found.len() > limit as usize;
    found.truncate(limit as usize);
    Ok(Json(AccessLogPage {
        next_cursor: found
            .last()
            .filter(|_| more)
            .map(|e| e.record.number.to_string()),
        entries: found
            .into_iter()
            .map(|StoredAccess { record, hash }| AccessEntryView { record, hash })
            .collect(),
    }))
}
