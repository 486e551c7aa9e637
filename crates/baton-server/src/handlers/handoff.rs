//! Handing back: the owning agent returns the conversation to the bot, or it is resolved.

use axum::Json;
use axum::extract::State;
use baton_core::event::{BouncedBack, EventBody, Resolved};
use baton_core::{ConversationId, Label, Owner, Text};
use baton_store::Role;
use serde::Deserialize;

use crate::app::AppState;
use crate::append::AppendResponse;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};

/// `POST /v1/conversations/{cid}/bounce-back` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BounceBack {
    /// What the bot should do next.
    pub instructions: String,
}

/// `POST /v1/conversations/{cid}/resolve` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolve {
    /// What resolved it.
    pub resolution: String,
    /// The intent as the human judged it.
    #[serde(default)]
    pub true_intent: Option<String>,
    /// Customer satisfaction, 1 to 5.
    #[serde(default)]
    pub csat: Option<u8>,
}

fn text(field: &'static str, raw: String) -> Result<Text, ApiError> {
    Text::parse(raw)
        .map_err(|e| ApiError::invalid("invalid_field", format!("{field} {e}")).with_field(field))
}

/// `POST /v1/conversations/{cid}/bounce-back` (owning agent): back to the bot with
/// instructions; a later handoff prefers this agent.
#[utoipa::path(post, path = "/v1/conversations/{cid}/bounce-back", request_body = BounceBack, params(("cid" = String, Path)),
    responses((status = 200, body = AppendResponse), (status = 404), (status = 409)))]
pub async fn bounce_back(
    State(app): State<AppState>,
    principal: Principal,
    ApiPath(cid): ApiPath<ConversationId>,
    ApiJson(body): ApiJson<BounceBack>,
) -> Result<Json<AppendResponse>, ApiError> {
    principal.require(&[Role::Agent])?;
    let instructions = text("instructions", body.instructions)?;
    let agent = principal
        .agent
        .clone()
        .ok_or_else(|| ApiError::forbidden("this agent key has no agent id"))?;
    // 404 before anything is allocated for a conversation the caller cannot see.
    app.conversations
        .readable(app.store.as_ref(), &app.policy(), &principal, &cid)
        .await?;
    let answer = crate::detach::run(async move {
        bounce_back_now(app, principal, cid, agent, instructions).await
    })
    .await?;
    Ok(Json(answer))
}

/// The bounce-back once decoded: the event, then the router, on a task of its own.
async fn bounce_back_now(
    app: AppState,
    principal: Principal,
    cid: baton_core::ConversationId,
    agent: baton_core::AgentId,
    instructions: Text,
) -> Result<AppendResponse, ApiError> {
    let (answer, staged) = {
        let mut live = app
            .conversations
            .lock(app.store.as_ref(), &app.policy(), &cid)
            .await?;
        let now = app.clock.now();
        crate::routing::write_decided(&app, &cid, &mut live, |core, state, exists| {
            crate::access::ensure_readable(&principal, exists, state)?;
            if state.owner != Owner::Agent || state.assigned_agent.as_ref() != Some(&agent) {
                return Err(ApiError::conflict(
                    "not_owner",
                    "only the agent who owns the conversation can bounce it back",
                ));
            }
            let effects = crate::routing::release(core, &agent, &cid, state, now)?;
            let skills = state
                .handoff
                .as_ref()
                .map(|h| h.skills.clone())
                .unwrap_or_default();
            core.forecaster
                .observe_handled(&skills, assigned_for_ms(state));
            let back = EventBody::BouncedBack(BouncedBack {
                agent_id: agent.clone(),
                instructions: instructions.clone(),
            });
            Ok((back, effects))
        })
        .await?
    };
    metrics::counter!("baton_bounce_backs_total").increment(1);
    app.routing.write(&app, staged).await?;
    Ok(answer)
}

fn assigned_for_ms(state: &baton_core::ConversationState) -> i64 {
    match (&state.handoff, state.last_event_at) {
        (Some(handoff), Some(last)) => last.millis_since(handoff.queued_at).max(0),
        _ => 0,
    }
}

/// `POST /v1/conversations/{cid}/resolve`: the owning agent, a bot owning it, or a
/// supervisor/admin records the resolution and closes the conversation.
#[utoipa::path(post, path = "/v1/conversations/{cid}/resolve", request_body = Resolve, params(("cid" = String, Path)),
    responses((status = 200, body = AppendResponse), (status = 404), (status = 409), (status = 422)))]
pub async fn resolve(
    State(app): State<AppState>,
    principal: Principal,
    ApiPath(cid): ApiPath<ConversationId>,
    ApiJson(body): ApiJson<Resolve>,
) -> Result<Json<AppendResponse>, ApiError> {
    principal.require(&[Role::Agent, Role::Bot, Role::Supervisor, Role::Admin])?;
    let resolution = text("resolution", body.resolution)?;
    let true_intent = body
        .true_intent
        .map(|raw| {
            Label::parse(raw).map_err(|e| {
                ApiError::invalid("invalid_field", format!("true_intent {e}"))
                    .with_field("true_intent")
            })
        })
        .transpose()?;
    if let Some(csat) = body.csat
        && !(1..=5).contains(&csat)
    {
        return Err(ApiError::invalid("invalid_field", "csat must be 1 to 5").with_field("csat"));
    }
    // 404 before anything is allocated for a conversation the caller cannot see.
    app.conversations
        .readable(app.store.as_ref(), &app.policy(), &principal, &cid)
        .await?;
    let event = Resolved {
        resolution,
        true_intent,
        csat: body.csat,
    };
    let answer =
        crate::detach::run(async move { resolve_now(app, principal, cid, event).await }).await?;
    Ok(Json(answer))
}

/// The resolution once decoded: the event, then the router, on a task of its own.
async fn resolve_now(
    app: AppState,
    principal: Principal,
    cid: baton_core::ConversationId,
    event: Resolved,
) -> Result<AppendResponse, ApiError> {
    let (answer, staged) = {
        let mut live = app
            .conversations
            .lock(app.store.as_ref(), &app.policy(), &cid)
            .await?;
        let now = app.clock.now();
        crate::routing::write_decided(&app, &cid, &mut live, |core, state, exists| {
            crate::access::ensure_readable(&principal, exists, state)?;
            let owner = state.owner;
            let allowed = match principal.role {
                Role::Agent => owner == Owner::Agent && state.assigned_agent == principal.agent,
                Role::Bot => owner == Owner::Bot,
                _ => true,
            };
            if owner == Owner::Closed {
                return Err(ApiError::conflict(
                    "conversation_closed",
                    "the conversation is already resolved",
                ));
            }
            if !allowed {
                return Err(ApiError::conflict(
                    "not_owner",
                    format!("the conversation is owned by {}", owner.as_str()),
                ));
            }
            let effects = match (owner, &state.assigned_agent) {
                (Owner::Agent, Some(agent)) => {
                    crate::routing::release(core, agent, &cid, state, now)?
                }
                (Owner::Queued | Owner::Offered, _) => core.router.withdraw(&cid, now),
                _ => Vec::new(),
            };
            if owner == Owner::Agent {
                let skills = state
                    .handoff
                    .as_ref()
                    .map(|h| h.skills.clone())
                    .unwrap_or_default();
                core.forecaster
                    .observe_handled(&skills, assigned_for_ms(state));
            }
            Ok((EventBody::Resolved(event.clone()), effects))
        })
        .await?
    };
    app.routing.write(&app, staged).await?;
    metrics::counter!("baton_resolutions_total").increment(1);
    Ok(answer)
}
