//! Ledger verification over the API.

use axum::Json;
use axum::extract::State;
use baton_core::ledger::{Break, Verified};
use baton_store::Role;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::{ApiQuery, conversation_id};

/// `?conversation=CID`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VerifyQuery {
    /// Verify only this conversation (its chain and its checkpointed head).
    #[serde(default)]
    pub conversation: Option<String>,
}

/// The verdict.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VerifyReport {
    /// Whether every chain verified.
    pub ok: bool,
    /// Totals, when it verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub verified: Option<Verified>,
    /// The first break, when it did not.
    #[serde(rename = "break", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub first_break: Option<Break>,
}

/// `GET /v1/ledger/verify[?conversation=CID]` (auditor, admin): recomputes the chains
/// (without a conversation, the access log's too).
#[utoipa::path(get, path = "/v1/ledger/verify", params(VerifyQuery), responses((status = 200, body = VerifyReport)))]
pub async fn verify(
    State(app): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<VerifyQuery>,
) -> Result<Json<VerifyReport>, ApiError> {
    principal.require(&[Role::Auditor, Role::Admin])?;
    let only = query.conversation.map(conversation_id).transpose()?;
    // The access log's chain is verified with the ledger: write what is queued first.
    app.access.flush().await;
    let report = match app.store.verify(only).await? {
        Ok(verified) => VerifyReport {
            ok: true,
            verified: Some(verified),
            first_break: None,
        },
        Err(first_break) => VerifyReport {
            ok: false,
            verified: None,
            first_break: Some(first_break),
        },
    };
    Ok(Json(report))
}
