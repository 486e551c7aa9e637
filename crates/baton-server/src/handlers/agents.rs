//! Agents: profiles, presence, offers; and the queues with their forecast.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use baton_core::Label;
use baton_core::id::AgentId;
use baton_core::router::{AgentProfile, AgentView, Presence};
use baton_store::Role;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::routing;

/// The most conversations one agent may hold at once.
pub const MAX_CAPACITY: u32 = 100;

/// `PUT /v1/agents/{aid}` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutAgent {
    /// Skill -> proficiency 1 (novice) to 5 (expert).
    #[schema(value_type = Object)]
    pub skills: BTreeMap<String, u8>,
    /// Conversations held at once (owned plus live offers), 1 to 100.
    pub capacity: u32,
}

/// `POST /v1/agents/{aid}/presence` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresenceBody {
    /// `available`, `away` or `offline`.
    pub status: String,
}

fn may_manage(principal: &Principal, agent: &AgentId) -> Result<(), ApiError> {
    match principal.role {
        Role::Supervisor | Role::Admin => Ok(()),
        Role::Agent if principal.agent.as_ref() == Some(agent) => Ok(()),
        _ => Err(ApiError::forbidden(
            "only the agent itself, a supervisor or an admin may do this",
        )),
    }
}

async fn view(app: &AppState, agent: &AgentId) -> Result<AgentView, ApiError> {
    if let Some(view) = crate::routing::read_durable(app, |core| core.router.agent(agent)).await? {
        return Ok(view);
    }
    // Another node may have just created it: the store says, before the next round
    // of agent reads would.
    if app.config.cluster.poll.is_some() && app.store.agent(agent).await?.is_some() {
        crate::routing::reconcile_agents(app).await?;
    }
    crate::routing::read_durable(app, |core| core.router.agent(agent))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no agent {agent}")))
}

/// `PUT /v1/agents/{aid}` (supervisor, admin): creates or updates an agent's skills and capacity.
#[utoipa::path(put, path = "/v1/agents/{aid}", request_body = PutAgent, params(("aid" = String, Path)),
    responses((status = 200, description = "the agent"), (status = 422)))]
pub async fn put(
    State(app): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<AgentId>,
    ApiJson(body): ApiJson<PutAgent>,
) -> Result<Json<AgentView>, ApiError> {
    principal.require(&[Role::Supervisor, Role::Admin])?;
    if body.capacity == 0 || body.capacity > MAX_CAPACITY {
        return Err(ApiError::invalid(
            "invalid_field",
            format!("capacity must be 1 to {MAX_CAPACITY}"),
        )
        .with_field("capacity"));
    }
    let mut skills = BTreeMap::new();
    for (name, level) in body.skills {
        let field = format!("skills.{name}");
        let label = Label::parse(name).map_err(|e| {
            ApiError::invalid("invalid_field", format!("skill {e}")).with_field(&field)
        })?;
        if !(1..=baton_core::router::types::MAX_PROFICIENCY).contains(&level) {
            return Err(
                ApiError::invalid("invalid_field", "proficiency must be 1 to 5").with_field(field),
            );
        }
        skills.insert(label, level);
    }
    routing::put_agent(
        &app,
        AgentProfile {
            id: id.clone(),
            skills,
            capacity: body.capacity,
        },
    )
    .await?;
    Ok(Json(view(&app, &id).await?))
}

/// `GET /v1/agents` (supervisor, admin): every agent with presence and load.
#[utoipa::path(get, path = "/v1/agents", responses((status = 200, description = "{\"agents\": [...]}")))]
pub async fn list(
    State(app): State<AppState>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    principal.require(&[Role::Supervisor, Role::Admin])?;
    let agents = crate::routing::read_durable(&app, |core| core.router.agents()).await?;
    Ok(Json(json!({ "agents": agents })))
}

/// `GET /v1/agents/{aid}`: one agent (itself, supervisor, admin).
#[utoipa::path(get, path = "/v1/agents/{aid}", params(("aid" = String, Path)), responses((status = 200), (status = 404)))]
pub async fn get(
    State(app): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<AgentId>,
) -> Result<Json<AgentView>, ApiError> {
    may_manage(&principal, &id)?;
    Ok(Json(view(&app, &id).await?))
}

/// `POST /v1/agents/{aid}/presence`: `available`, `away` or `offline`.
#[utoipa::path(post, path = "/v1/agents/{aid}/presence", request_body = PresenceBody, params(("aid" = String, Path)),
    responses((status = 200), (status = 404), (status = 422)))]
pub async fn presence(
    State(app): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<AgentId>,
    ApiJson(body): ApiJson<PresenceBody>,
) -> Result<Json<AgentView>, ApiError> {
    may_manage(&principal, &id)?;
    let presence = match body.status.as_str() {
        "available" => Presence::Available,
        "away" => Presence::Away,
        "offline" => Presence::Offline,
        _ => {
            return Err(ApiError::invalid(
                "invalid_field",
                "status must be available, away or offline",
            )
            .with_field("status"));
        }
    };
    routing::set_presence(&app, &id, presence).await?;
    Ok(Json(view(&app, &id).await?))
}

/// One offer as an agent sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OfferCard {
    /// The offer.
    pub offer_id: String,
    /// The conversation.
    pub conversation: String,
    /// When it lapses.
    pub expires_at: String,
    /// The situation in one or two sentences.
    pub situation: String,
    /// Urgency.
    pub priority: String,
    /// How long the customer has waited since the handoff.
    pub waiting_ms: i64,
    /// Skills asked for.
    pub skills: Vec<String>,
}

/// `GET /v1/agents/{aid}/offers`: live offers with the situation line.
#[utoipa::path(get, path = "/v1/agents/{aid}/offers", params(("aid" = String, Path)),
    responses((status = 200, description = "{\"offers\": [...]}"), (status = 404)))]
pub async fn offers(
    State(app): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<AgentId>,
) -> Result<Json<Value>, ApiError> {
    may_manage(&principal, &id)?;
    // An agent baton does not know has no offers to list: 404, as for the agent itself.
    view(&app, &id).await?;
    let offers = crate::routing::offers_for(&app, &id).await?;
    let now = app.clock.now();
    let mut cards = Vec::with_capacity(offers.len());
    for offer in offers {
        let (priority, waiting_ms, skills) = {
            let Some(live) = app
                .conversations
                .snapshot(app.store.as_ref(), &app.policy(), &offer.conversation)
                .await?
            else {
                continue;
            };
            match &live.state.handoff {
                Some(h) => (
                    format!("{:?}", h.priority).to_lowercase(),
                    now.millis_since(h.queued_at),
                    h.skills.iter().map(|s| s.to_string()).collect(),
                ),
                None => ("normal".to_owned(), 0, Vec::new()),
            }
        };
        let situation = crate::package::situation(&app, principal.role, &offer.conversation)
            .await
            .unwrap_or_default();
        cards.push(OfferCard {
            offer_id: offer.offer_id.to_string(),
            conversation: offer.conversation.to_string(),
            expires_at: offer.expires_at.to_string(),
            situation,
            priority,
            waiting_ms,
            skills,
        });
    }
    Ok(Json(json!({ "offers": cards })))
}

/// `GET /v1/queues` (supervisor, admin, bot): waiting per skill and the forecast.
#[utoipa::path(get, path = "/v1/queues", responses((status = 200, description = "{\"queues\": [...]}")))]
pub async fn queues(
    State(app): State<AppState>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    principal.require(&[Role::Supervisor, Role::Admin, Role::Bot])?;
    let now = app.clock.now();
    let (queues, forecasts) = crate::routing::read_durable(&app, |core| {
        let forecasts = core
            .forecaster
            .forecast_all(now, |skill| core.router.staffing(skill));
        (core.router.queues(now), forecasts)
    })
    .await?;
    let mut skills: BTreeMap<String, Value> = BTreeMap::new();
    for queue in queues {
        skills.insert(queue.skill.to_string(), json!({"skill": queue.skill, "waiting": queue.waiting, "longest_wait_ms": queue.longest_wait_ms}));
    }
    for forecast in forecasts {
        let entry = skills.entry(forecast.skill.to_string()).or_insert_with(
            || json!({"skill": forecast.skill, "waiting": 0, "longest_wait_ms": 0}),
        );
        entry["forecast"] = serde_json::to_value(&forecast).map_err(ApiError::internal)?;
    }
    Ok(Json(
        json!({ "queues": skills.into_values().collect::<Vec<_>>() }),
    ))
}
