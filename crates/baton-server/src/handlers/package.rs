//! The context package in every format.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use baton_core::ConversationId;
use baton_core::access::{AccessKind, PackageFormat};
use baton_core::package::{
    render_botframework, render_html, render_markdown, render_taskrouter, render_zendesk,
};
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};

/// `?format=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PackageQuery {
    /// `json` (default), `markdown`, `html`, `botframework`, `zendesk` or `taskrouter`.
    #[serde(default)]
    pub format: Option<String>,
}

/// `GET /v1/conversations/{cid}/package[?format=json|markdown|html|botframework|zendesk|taskrouter]`:
/// the SBAR context package, redacted for the caller's role.
#[utoipa::path(get, path = "/v1/conversations/{cid}/package", params(("cid" = String, Path), PackageQuery),
    responses((status = 200, description = "the package: JSON (`json`, `botframework`, `zendesk`), Markdown or HTML",
        content((Object = "application/json"), (String = "text/markdown"), (String = "text/html"))),
        (status = 400), (status = 404)))]
pub async fn package(
    State(app): State<AppState>,
    principal: Principal,
    ApiPath(cid): ApiPath<ConversationId>,
    ApiQuery(query): ApiQuery<PackageQuery>,
) -> Result<Response, ApiError> {
    let format = query.format.as_deref().unwrap_or("json");
    let Some(format) = PackageFormat::parse(format) else {
        return Err(ApiError::bad_request(
            "invalid_query",
            "format must be json, markdown, html, botframework, zendesk or taskrouter",
        )
        .with_field("format"));
    };
    let package = crate::package::build_for(&app, &principal, &cid).await?;
    app.access
        .record(&principal, AccessKind::Package { format }, Some(&cid))
        .await;
    let json = |value: serde_json::Value| axum::Json(value).into_response();
    Ok(match format {
        PackageFormat::Markdown => (
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            render_markdown(&package),
        )
            .into_response(),
        PackageFormat::Html => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            render_html(&package),
        )
            .into_response(),
        PackageFormat::Botframework => json(render_botframework(&package)),
        PackageFormat::Zendesk => json(render_zendesk(&package)),
        PackageFormat::Taskrouter => json(render_taskrouter(&package)),
        PackageFormat::Json => axum::Json(&package).into_response(),
    })
}
