//! The humans' feedback: the agent's read-back of the package (at accept or later) and
//! survey answers (the customer's through the bot, the agent's own).
//!
//! Both are events baton writes as the one who answered, under the conversation's
//! writer lock, so a read-back records the bot's reading as it stood when the agent
//! answered. The rules (who may answer what, when) are core's
//! ([`baton_core::rules::check_append`], [`Survey::check`]).

use axum::Json;
use axum::extract::State;
use baton_core::decode::decode_request;
use baton_core::event::{EventBody, ReadBack, ReadBackAnswer, Survey};
use baton_core::{Actor, ConversationId, ConversationState};
use baton_store::Role;
use serde_json::Value;

use crate::app::AppState;
use crate::append::{AppendResponse, Draft, WriteError, response, write};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};

/// `POST /v1/conversations/{cid}/read-back` (owning agent): confirm or correct the
/// package's intent and key facts.
#[utoipa::path(post, path = "/v1/conversations/{cid}/read-back", params(("cid" = String, Path)),
    request_body(content = Object, description = r#"{"intent": "confirmed" | {"corrected": "label"}, "facts"?: {"confirmed": [kind], "corrected": [{"kind", "value"}]}, "note"?}"#),
    responses((status = 200, body = AppendResponse), (status = 404), (status = 409), (status = 422)))]
pub async fn read_back(
    State(app): State<AppState>,
    principal: Principal,
    ApiPath(cid): ApiPath<ConversationId>,
    ApiJson(answer): ApiJson<Value>,
) -> Result<Json<AppendResponse>, ApiError> {
    let actor = agent_actor(&principal)?;
    let answer: ReadBackAnswer = decode_request(answer)?;
    app.conversations
        .readable(app.store.as_ref(), &app.policy(), &principal, &cid)
        .await?;
    let answer = crate::detach::run(async move {
        write_as(&app, &cid, actor, |state| {
            Ok(EventBody::ReadBack(ReadBack::of(answer.clone(), state)))
        })
        .await
    })
    .await?;
    Ok(Json(answer))
}

/// The read-back carried by an accept, written once the agent owns the conversation.
pub async fn read_back_after_accept(
    app: &AppState,
    principal: &Principal,
    cid: &ConversationId,
    answer: ReadBackAnswer,
) -> Result<AppendResponse, ApiError> {
    let actor = agent_actor(principal)?;
    let (app, cid) = (app.clone(), cid.clone());
    crate::detach::run(async move {
        write_as(&app, &cid, actor, |state| {
            Ok(EventBody::ReadBack(ReadBack::of(answer.clone(), state)))
        })
        .await
    })
    .await
}

/// `POST /v1/conversations/{cid}/survey`: the bot relays the customer's `csat` (1-5)
/// and `ces` (1-7); the agent who handled the conversation gives `lsat` (1-5) and a
/// `comment` about the package. Also after the conversation is closed.
#[utoipa::path(post, path = "/v1/conversations/{cid}/survey", params(("cid" = String, Path)),
    request_body(content = Object, description = r#"bot: {"csat"?: 1-5, "ces"?: 1-7}; agent: {"lsat"?: 1-5, "comment"?}"#),
    responses((status = 200, body = AppendResponse), (status = 404), (status = 409), (status = 422)))]
pub async fn survey(
    State(app): State<AppState>,
    principal: Principal,
    ApiPath(cid): ApiPath<ConversationId>,
    ApiJson(survey): ApiJson<Value>,
) -> Result<Json<AppendResponse>, ApiError> {
    principal.require(&[Role::Bot, Role::Agent])?;
    let survey: Survey = decode_request(survey)?;
    let actor = match principal.role {
        Role::Agent => agent_actor(&principal)?,
        _ => Actor::Bot,
    };
    survey.check(&actor).map_err(|e| {
        let error = ApiError::invalid("invalid_field", e.to_string());
        match e.field() {
            Some(field) => error.with_field(field),
            None => error,
        }
    })?;
    let live = app
        .conversations
        .snapshot(app.store.as_ref(), &app.policy(), &cid)
        .await?;
    if !live.is_some_and(|live| may_survey(&principal, &live.state)) {
        return Err(ApiError::not_found("no such conversation"));
    }
    let answer = crate::detach::run(async move {
        write_as(&app, &cid, actor, |state| {
            if may_survey(&principal, state) {
                Ok(EventBody::Survey(survey.clone()))
            } else {
                Err(ApiError::not_found("no such conversation"))
            }
        })
        .await
    })
    .await?;
    Ok(Json(answer))
}

/// An agent rates the package of a conversation it handled, also once it has moved on.
fn may_survey(principal: &Principal, state: &ConversationState) -> bool {
    state.last_seq > 0
        && (crate::access::can_read(principal, state)
            || (principal.role == Role::Agent
                && principal.agent.is_some()
                && state.last_agent == principal.agent))
}

fn agent_actor(principal: &Principal) -> Result<Actor, ApiError> {
    principal.require(&[Role::Agent])?;
    principal
        .agent
        .clone()
        .map(Actor::Agent)
        .ok_or_else(|| ApiError::forbidden("this agent key has no agent id"))
}

/// Writes one event as `actor`, its body made from the state under the writer lock
/// (after the router's staged effects, so an `assigned` is in place).
async fn write_as(
    app: &AppState,
    cid: &ConversationId,
    actor: Actor,
    body: impl Fn(&ConversationState) -> Result<EventBody, ApiError>,
) -> Result<AppendResponse, ApiError> {
    let mut live = app
        .conversations
        .lock(app.store.as_ref(), &app.policy(), cid)
        .await?;
    let mut stale_retries = 0;
    loop {
        crate::routing::flush_locked(app, cid, &mut live).await;
        if !live.exists() {
            return Err(ApiError::not_found("no such conversation"));
        }
        let body = body(&live.state)?;
        // Checked here too, so a refusal names no batch index: the caller sent no batch.
        baton_core::rules::check_append(&live.state, &actor, &body).map_err(ApiError::from)?;
        let draft = Draft {
            id: None,
            actor: actor.clone(),
            at: None,
            meta: None,
            body,
        };
        return match write(app, cid, &mut live, vec![draft], app.clock.now()).await {
            Ok(written) => {
                let answer = response(&live, &written);
                crate::routing::follow(app, written.after);
                Ok(answer)
            }
            Err(WriteError::Api(error)) => Err(error),
            // Another node wrote since memory loaded: build the event again on the stored log.
            Err(WriteError::Stale(conflict)) => {
                stale_retries += 1;
                if stale_retries > crate::append::STALE_RETRIES {
                    return Err(conflict);
                }
                app.conversations
                    .reload(&mut live, app.store.as_ref(), &app.policy(), cid)
                    .await?;
                continue;
            }
            Err(WriteError::DuplicateId) => Err(ApiError::internal("generated event id collided")),
        };
    }
}
