//! API keys.

use axum::extract::State;
use axum::http::StatusCode;
use baton_core::id::AgentId;
use baton_store::Role;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::{Principal, issue_key};
use crate::error::ApiError;
use crate::extract::ApiJson;

/// `POST /v1/keys` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// `bot`, `agent`, `supervisor`, `auditor` or `admin`.
    pub role: String,
    /// Required for `agent` keys: the agent the key acts as.
    #[serde(default)]
    pub agent_id: Option<String>,
}

/// `POST /v1/keys` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedKey {
    /// The key; shown once, stored only as a hash.
    pub key: String,
    /// Its role.
    pub role: String,
    /// Its agent, for agent keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
}

/// `POST /v1/keys` (admin): issues a key for a role.
#[utoipa::path(post, path = "/v1/keys", request_body = CreateKey,
    responses((status = 201, body = CreatedKey), (status = 403), (status = 422)))]
pub async fn create(
    State(app): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateKey>,
) -> Result<(StatusCode, axum::Json<CreatedKey>), ApiError> {
    principal.require(&[Role::Admin])?;
    let role = Role::parse(&body.role).ok_or_else(|| {
        ApiError::invalid(
            "invalid_field",
            "role must be one of bot, agent, supervisor, auditor, admin",
        )
        .with_field("role")
    })?;
    let agent = match (role, body.agent_id) {
        (Role::Agent, Some(raw)) => Some(AgentId::parse(raw).map_err(|e| {
            ApiError::invalid("invalid_field", format!("agent_id {e}")).with_field("agent_id")
        })?),
        (Role::Agent, None) => {
            return Err(ApiError::invalid(
                "missing_field",
                "agent keys need the agent_id they act as",
            )
            .with_field("agent_id"));
        }
        (_, Some(_)) => {
            return Err(
                ApiError::invalid("invalid_field", "only agent keys carry an agent_id")
                    .with_field("agent_id"),
            );
        }
        (_, None) => None,
    };
    // On its own task: a key the store holds is one the admin gets to see.
    let key = {
        let (app, agent) = (app.clone(), agent.clone());
        crate::detach::run(async move {
            issue_key(app.store.as_ref(), role, agent, crate::clock::now()).await
        })
        .await?
    };
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedKey {
            key,
            role: role.as_str().to_owned(),
            agent_id: agent.map(String::from),
        }),
    ))
}
