//! Offers: an agent accepts or rejects.

use axum::Json;
use axum::extract::State;
use baton_store::Role;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use baton_core::id::OfferId;

use crate::extract::ApiPath;
use crate::routing::{accept_offer, reject_offer};

fn agent_of(principal: &Principal) -> Result<baton_core::AgentId, ApiError> {
    principal.require(&[Role::Agent])?;
    principal
        .agent
        .clone()
        .ok_or_else(|| ApiError::forbidden("this agent key has no agent id"))
}

/// `POST /v1/offers/{oid}/accept` (the offered agent): the agent owns the conversation.
#[utoipa::path(post, path = "/v1/offers/{oid}/accept", params(("oid" = String, Path)),
    responses((status = 200), (status = 404), (status = 409)))]
pub async fn accept(
    State(app): State<AppState>,
    principal: Principal,
    ApiPath(offer): ApiPath<OfferId>,
) -> Result<Json<Value>, ApiError> {
    let agent = agent_of(&principal)?;
    let conversation = accept_offer(&app, &agent, &offer).await?;
    let live = app
        .conversations
        .snapshot(app.store.as_ref(), &app.policy(), &conversation)
        .await?
        .ok_or_else(|| ApiError::not_found("no such conversation"))?;
    Ok(Json(json!({
        "conversation": conversation,
        "agent_id": agent,
        "owner": live.state.owner.as_str(),
        "seq": live.state.last_seq,
    })))
}

/// `POST /v1/offers/{oid}/reject` (the offered agent): the offer moves to the next agent.
#[utoipa::path(post, path = "/v1/offers/{oid}/reject", params(("oid" = String, Path)),
    responses((status = 200), (status = 404)))]
pub async fn reject(
    State(app): State<AppState>,
    principal: Principal,
    ApiPath(offer): ApiPath<OfferId>,
) -> Result<Json<Value>, ApiError> {
    let agent = agent_of(&principal)?;
    reject_offer(&app, &agent, &offer).await?;
    Ok(Json(json!({ "offer_id": offer, "status": "rejected" })))
}
