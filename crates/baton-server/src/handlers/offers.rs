//! Offers: an agent accepts or rejects.

use axum::Json;
use axum::extract::State;
use baton_core::event::ReadBackAnswer;
use baton_store::Role;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use baton_core::id::OfferId;

use crate::extract::{ApiPath, MaybeJson};
use crate::handlers::feedback::read_back_after_accept;
use crate::routing::{accept_offer, reject_offer};

fn agent_of(principal: &Principal) -> Result<baton_core::AgentId, ApiError> {
    principal.require(&[Role::Agent])?;
    principal
        .agent
        .clone()
        .ok_or_else(|| ApiError::forbidden("this agent key has no agent id"))
}

/// `POST /v1/offers/{oid}/accept` body (optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accept {
    /// The agent's read-back of the package, written right after the assignment.
    #[serde(default)]
    pub read_back: Option<ReadBackAnswer>,
}

/// `POST /v1/offers/{oid}/accept` (the offered agent): the agent owns the conversation.
/// An optional `{"read_back": {...}}` (as `POST .../read-back` takes it) is recorded
/// once the agent owns it; it is decoded before the offer is touched.
#[utoipa::path(post, path = "/v1/offers/{oid}/accept", params(("oid" = String, Path)),
    request_body(content = Option<Object>, description = r#"{"read_back"?: {...}}"#),
    responses((status = 200), (status = 404), (status = 409), (status = 422)))]
pub async fn accept(
    State(app): State<AppState>,
    principal: Principal,
    ApiPath(offer): ApiPath<OfferId>,
    MaybeJson(body): MaybeJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let agent = agent_of(&principal)?;
    let read_back = match body {
        Some(body) => baton_core::decode::decode_request::<Accept>(body)?.read_back,
        None => None,
    };
    let conversation = accept_offer(&app, &agent, &offer).await?;
    let read_back_seq = match read_back {
        Some(answer) => Some(
            read_back_after_accept(&app, &principal, &conversation, answer)
                .await?
                .seq,
        ),
        None => None,
    };
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
        "read_back_seq": read_back_seq,
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
