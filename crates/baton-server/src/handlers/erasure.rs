//! Erasure and access requests: `DELETE /v1/conversations/{cid}`, `DELETE
//! /v1/customers/{id}` (admin) and `GET /v1/customers/{id}/export` (admin, auditor).

use axum::Json;
use axum::extract::State;
use baton_core::access::AccessKind;
use baton_core::event::ErasedBy;
use baton_core::{ConversationId, CustomerId, Role, Text};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::app::AppState;
use crate::auth::Principal;
use crate::erasure::{Erasure, erase};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::live::with_hash;

/// The body of an erasure.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    /// Why (kept in clear in the `erased` event: do not quote customer data).
    #[schema(value_type = String)]
    pub reason: Text,
}

/// `DELETE /v1/conversations/{cid}` (admin): destroys the conversation's data key,
/// after recording who, when and why as an `erased` event in its chain.
#[utoipa::path(delete, path = "/v1/conversations/{cid}", request_body = EraseRequest,
    params(("cid" = String, Path)),
    responses((status = 200, body = Erasure), (status = 404), (status = 409),
        (status = 503, description = "the store is unavailable, or `erasure_incomplete`: erased, but an old copy of the key is not yet scrubbed; repeat the request")))]
pub async fn erase_conversation(
    State(app): State<AppState>,
    principal: Principal,
    ApiPath(cid): ApiPath<ConversationId>,
    ApiJson(request): ApiJson<EraseRequest>,
) -> Result<Json<Erasure>, ApiError> {
    principal.require(&[Role::Admin])?;
    erase(
        &app,
        &cid,
        request.reason,
        ErasedBy::Admin,
        Some(principal.key.clone()),
    )
    .await
    .map(Json)
}

/// What erasing a customer did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CustomerErasure {
    /// The customer.
    pub customer: String,
    /// Each conversation erased now (those erased before are not listed).
    pub erased: Vec<Erasure>,
}

/// `DELETE /v1/customers/{customer_id}` (admin): erases every conversation bound to
/// the customer (by `identity_verified`), stopping at the first that fails; repeating
/// the request goes on from there.
#[utoipa::path(delete, path = "/v1/customers/{customer_id}", request_body = EraseRequest,
    params(("customer_id" = String, Path)),
    responses((status = 200, body = CustomerErasure), (status = 404), (status = 409),
        (status = 503, description = "the store is unavailable, or `erasure_incomplete` (as for one conversation): repeat the request")))]
pub async fn erase_customer(
    State(app): State<AppState>,
    principal: Principal,
    ApiPath(customer): ApiPath<CustomerId>,
    ApiJson(request): ApiJson<EraseRequest>,
) -> Result<Json<CustomerErasure>, ApiError> {
    principal.require(&[Role::Admin])?;
    let rows = app.raw_store.conversations_of_customer(&customer).await?;
    if rows.is_empty() {
        return Err(ApiError::not_found("no conversation of this customer"));
    }
    let mut erased = Vec::new();
    for row in rows {
        match erase(
            &app,
            &row.id,
            request.reason.clone(),
            ErasedBy::Admin,
            Some(principal.key.clone()),
        )
        .await
        {
            Ok(done) => erased.push(done),
            Err(e) if e.code == "already_erased" => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Json(CustomerErasure {
        customer: customer.to_string(),
        erased,
    }))
}

/// One conversation in an export.
#[derive(Debug, Serialize)]
pub struct ExportedConversation {
    /// Its id.
    pub conversation: String,
    /// Whether it was erased (its events then hold markers, not data).
    pub erased: bool,
    /// The folded state.
    pub state: baton_core::ConversationState,
    /// Facts the customer gave.
    pub facts: Vec<baton_core::facts::Fact>,
    /// Every event, decrypted, with its hash.
    pub events: Vec<Value>,
}

/// The export document.
#[derive(Debug, Serialize)]
pub struct CustomerExport {
    /// The customer.
    pub customer: String,
    /// When it was made.
    pub exported_at: String,
    /// The customer's conversations, oldest first.
    pub conversations: Vec<ExportedConversation>,
}

/// `GET /v1/customers/{customer_id}/export` (admin, auditor): everything baton holds
/// about one customer, decrypted, as one JSON document (GDPR art. 15).
#[utoipa::path(get, path = "/v1/customers/{customer_id}/export",
    params(("customer_id" = String, Path)),
    responses((status = 200, description = "{customer, exported_at, conversations: [{conversation, erased, state, facts, events}]}"), (status = 404)))]
pub async fn export_customer(
    State(app): State<AppState>,
    principal: Principal,
    ApiPath(customer): ApiPath<CustomerId>,
) -> Result<Json<CustomerExport>, ApiError> {
    principal.require(&[Role::Admin, Role::Auditor])?;
    let rows = app.raw_store.conversations_of_customer(&customer).await?;
    if rows.is_empty() {
        return Err(ApiError::not_found("no conversation of this customer"));
    }
    let mut conversations = Vec::with_capacity(rows.len());
    for row in rows {
        app.access
            .record(&principal, AccessKind::CustomerExport, Some(&row.id))
            .await;
        let Some(live) = app
            .conversations
            .snapshot(app.store.as_ref(), &app.policy(), &row.id)
            .await?
        else {
            continue;
        };
        let erased = match &app.vault {
            Some(vault) => vault.is_erased(&row.id).await?,
            None => false,
        };
        let mut events = Vec::new();
        let mut after = 0;
        loop {
            let page = app
                .store
                .events_page(&row.id, after, 1000, 4 * 1024 * 1024)
                .await?;
            for stored in &page.events {
                let json = with_hash(&stored.canonical, &stored.hash);
                events.push(serde_json::from_str(&json).map_err(ApiError::internal)?);
                after = stored.seq;
            }
            if !page.more || page.events.is_empty() {
                break;
            }
        }
        conversations.push(ExportedConversation {
            conversation: row.id.to_string(),
            erased,
            state: live.state.clone(),
            facts: live.facts.package_facts(),
            events,
        });
    }
    Ok(Json(CustomerExport {
        customer: customer.to_string(),
        exported_at: app.clock.now().to_string(),
        conversations,
    }))
}
