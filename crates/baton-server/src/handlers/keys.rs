//! API keys: issue, list, revoke. Secrets are shown once, at issue; lists and
//! revocations name keys by their public id.

use axum::extract::State;
use baton_core::id::AgentId;
use baton_core::{Label, Timestamp};
use baton_store::{KeyId, KeyRecord, RevokeOutcome, Role};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::{NewKey, Principal, issue};
use crate::error::{ApiError, Created};
use crate::extract::{ApiJson, ApiPath};

/// `POST /v1/keys` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// `bot`, `agent`, `supervisor`, `auditor` or `admin`.
    pub role: String,
    /// Required for `agent` keys: the agent the key acts as.
    #[serde(default)]
    pub agent_id: Option<String>,
    /// A label to recognise the key by in lists.
    #[serde(default)]
    pub name: Option<String>,
    /// When the key stops working (RFC 3339, in the future).
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Or: how many seconds from now it stops working.
    #[serde(default)]
    pub ttl_secs: Option<u64>,
}

/// A key as listed: never its secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyView {
    /// Public id (`key_...`), for `DELETE /v1/keys/{id}`.
    pub id: String,
    /// Its role.
    pub role: &'static str,
    /// Its agent, for agent keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// Its label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When it was issued.
    pub created_at: String,
    /// When it stops working, if ever.
    pub expires_at: Option<String>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
}

impl From<&KeyRecord> for KeyView {
    fn from(key: &KeyRecord) -> Self {
        Self {
            id: key.id.to_string(),
            role: key.role.as_str(),
            agent_id: key.agent.as_ref().map(ToString::to_string),
            name: key.name.as_ref().map(ToString::to_string),
            created_at: key.created_at.to_string(),
            expires_at: key.expires_at.map(|t| t.to_string()),
            revoked_at: key.revoked_at.map(|t| t.to_string()),
        }
    }
}

/// `POST /v1/keys` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedKey {
    /// The key; shown once, stored only as a hash.
    pub key: String,
    /// Everything else about it, as `GET /v1/keys` lists it.
    #[serde(flatten)]
    pub view: KeyView,
}

/// `GET /v1/keys` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyList {
    /// Every key, oldest first, revoked and expired ones included.
    pub keys: Vec<KeyView>,
}

fn invalid(field: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::invalid("invalid_field", message).with_field(field)
}

/// The expiry `body` asks for, checked against `now`.
fn expiry(body: &CreateKey, now: Timestamp) -> Result<Option<Timestamp>, ApiError> {
    let at = match (&body.expires_at, body.ttl_secs) {
        (Some(_), Some(_)) => {
            return Err(invalid("ttl_secs", "give expires_at or ttl_secs, not both"));
        }
        (Some(raw), None) => Timestamp::parse(raw)
            .map_err(|_| invalid("expires_at", "expires_at must be an RFC 3339 date-time"))?,
        (None, Some(secs)) => {
            let millis = i64::try_from(secs)
                .ok()
                .and_then(|s| s.checked_mul(1000))
                .filter(|m| *m > 0)
                .ok_or_else(|| invalid("ttl_secs", "ttl_secs must be at least 1"))?;
            now.plus_millis(millis)
        }
        (None, None) => return Ok(None),
    };
    if at <= now {
        return Err(invalid("expires_at", "expires_at must be in the future"));
    }
    Ok(Some(at))
}

/// `POST /v1/keys` (admin): issues a key for a role, optionally named and expiring.
#[utoipa::path(post, path = "/v1/keys", request_body = CreateKey,
    responses((status = 201, body = CreatedKey), (status = 403), (status = 422)))]
pub async fn create(
    State(app): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateKey>,
) -> Result<Created<CreatedKey>, ApiError> {
    principal.require(&[Role::Admin])?;
    let now = app.clock.now();
    let role = Role::parse(&body.role).ok_or_else(|| {
        invalid(
            "role",
            "role must be one of bot, agent, supervisor, auditor, admin",
        )
    })?;
    let name = body
        .name
        .clone()
        .map(Label::parse)
        .transpose()
        .map_err(|e| invalid("name", format!("name {e}")))?;
    let expires_at = expiry(&body, now)?;
    let agent = match (role, body.agent_id) {
        (Role::Agent, Some(raw)) => {
            Some(AgentId::parse(raw).map_err(|e| invalid("agent_id", format!("agent_id {e}")))?)
        }
        (Role::Agent, None) => {
            return Err(ApiError::invalid(
                "missing_field",
                "agent keys need the agent_id they act as",
            )
            .with_field("agent_id"));
        }
        (_, Some(_)) => return Err(invalid("agent_id", "only agent keys carry an agent_id")),
        (_, None) => None,
    };
    let new = NewKey {
        role,
        agent,
        name,
        expires_at,
    };
    // On its own task: a key the store holds is one the admin gets to see.
    let (key, record) = {
        let app = app.clone();
        crate::detach::run(async move { issue(app.store.as_ref(), new, now).await }).await?
    };
    Ok(Created(CreatedKey {
        key,
        view: KeyView::from(&record),
    }))
}

/// `GET /v1/keys` (admin): every key, without secrets.
#[utoipa::path(get, path = "/v1/keys", responses((status = 200, body = KeyList), (status = 403)))]
pub async fn list(
    State(app): State<AppState>,
    principal: Principal,
) -> Result<axum::Json<KeyList>, ApiError> {
    principal.require(&[Role::Admin])?;
    let keys = app.store.keys().await?;
    Ok(axum::Json(KeyList {
        keys: keys.iter().map(KeyView::from).collect(),
    }))
}

/// `DELETE /v1/keys/{id}` (admin): revokes a key at once, with its console sessions.
/// Revoking one already revoked changes nothing; the last working admin key cannot be
/// revoked (409), so nobody locks everyone out.
#[utoipa::path(delete, path = "/v1/keys/{id}", params(("id" = String, Path)),
    responses((status = 200, body = KeyView), (status = 403), (status = 404), (status = 409)))]
pub async fn revoke(
    State(app): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<KeyId>,
) -> Result<axum::Json<KeyView>, ApiError> {
    principal.require(&[Role::Admin])?;
    // The revocation and the cache eviction run to the end in their own task: a client
    // that hangs up after the commit must not leave the key alive in the cache.
    let task = app.clone();
    let outcome = tokio::spawn(async move {
        let outcome = task.store.revoke_key(&id, task.clock.now()).await?;
        if let RevokeOutcome::Revoked(key) = &outcome {
            task.keys.forget(&key.hash);
            tracing::info!(key = %key.id, role = key.role.as_str(), "key revoked");
        }
        Ok::<_, baton_store::StoreError>(outcome)
    })
    .await
    .map_err(ApiError::internal)??;
    match outcome {
        RevokeOutcome::Revoked(key) => Ok(axum::Json(KeyView::from(&key))),
        RevokeOutcome::AlreadyRevoked(key) => Ok(axum::Json(KeyView::from(&key))),
        RevokeOutcome::LastAdmin => Err(ApiError::conflict(
            "last_admin_key",
            "this is the last admin key that works; issue another admin key before revoking it",
        )),
        RevokeOutcome::NotFound => Err(ApiError::not_found("no such key")),
    }
}
