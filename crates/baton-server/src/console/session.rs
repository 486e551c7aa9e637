//! Signing in and out. The key is checked once, then kept in an HttpOnly,
//! SameSite=Strict cookie: scripts cannot read it and other sites cannot send it.

use askama::Template;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use baton_store::Role;
use serde::{Deserialize, Serialize};

use super::{Page, signed_in};
use crate::app::AppState;
use crate::auth::{Principal, SESSION_COOKIE};
use crate::error::ApiError;

/// The sign-in page.
#[derive(Template)]
#[template(path = "signin.html")]
pub struct SignIn {
    /// What went wrong with the last attempt, if anything.
    pub error: Option<String>,
}

/// Where a signed-in role starts.
pub fn home_of(principal: &Principal) -> Option<&'static str> {
    match principal.role {
        Role::Agent => Some("/console/agent"),
        Role::Supervisor | Role::Admin => Some("/console/supervisor"),
        Role::Bot | Role::Auditor => None,
    }
}

/// `GET /`: the sign-in page, or the signed-in role's home.
pub async fn index(State(app): State<AppState>, headers: HeaderMap) -> Result<Page, ApiError> {
    match signed_in(&app, &headers).await? {
        Some(principal) => match home_of(&principal) {
            Some(home) => Ok(Page::Redirect(home.to_owned())),
            None => Page::render_with(
                StatusCode::FORBIDDEN,
                &SignIn {
                    error: Some(not_for_console(&principal)),
                },
            ),
        },
        None => Page::render(&SignIn { error: None }),
    }
}

fn not_for_console(principal: &Principal) -> String {
    format!(
        "A {} key cannot use the console; sign in with an agent or supervisor key.",
        principal.role.as_str()
    )
}

/// `POST /console/session` body, as a form or JSON.
#[derive(Debug, Deserialize)]
pub struct SessionRequest {
    /// The API key.
    pub key: String,
}

/// `POST /console/session` JSON answer.
#[derive(Debug, Serialize)]
pub struct SessionView {
    /// The key's role.
    pub role: &'static str,
    /// The agent, for agent keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// Where the console starts for this role.
    pub home: &'static str,
}

fn session_cookie(key: &str) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={key}; HttpOnly; SameSite=Strict; Path=/"
    ))
    .map_err(|_| {
        ApiError::invalid(
            "invalid_field",
            "the key has characters a cookie cannot hold",
        )
        .with_field("key")
    })
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// `POST /console/session`: checks the key and sets the session cookie. A form post
/// (the sign-in page) is redirected to the role's home; a JSON post gets the role.
pub async fn create(State(app): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let json = is_json(request.headers());
    let body: SessionRequest = if json {
        axum::Json::<SessionRequest>::from_request(request, &app)
            .await?
            .0
    } else {
        axum::Form::<SessionRequest>::from_request(request, &app)
            .await
            .map_err(|e| ApiError::bad_request("invalid_form", e.body_text()))?
            .0
    };
    let key = body.key.trim();
    let principal = if key.is_empty() {
        None
    } else {
        app.keys.resolve(app.store.as_ref(), key).await?
    };
    let refuse = |status: StatusCode, message: String| -> Result<Response, ApiError> {
        if json {
            Err(ApiError::new(
                status,
                if status == StatusCode::FORBIDDEN {
                    "forbidden"
                } else {
                    "unauthorized"
                },
                message,
            ))
        } else {
            Ok(Page::render_with(
                status,
                &SignIn {
                    error: Some(message),
                },
            )?
            .into_response())
        }
    };
    let Some(principal) = principal else {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "That key is not known. Check it and try again.".to_owned(),
        );
    };
    let Some(home) = home_of(&principal) else {
        return refuse(StatusCode::FORBIDDEN, not_for_console(&principal));
    };
    let cookie = session_cookie(key)?;
    let mut response = if json {
        axum::Json(SessionView {
            role: principal.role.as_str(),
            agent_id: principal.agent.as_ref().map(|a| a.to_string()),
            home,
        })
        .into_response()
    } else {
        Redirect::to(home).into_response()
    };
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// `POST /console/logout`: forgets the session cookie and returns to the sign-in page.
pub async fn logout() -> Response {
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("baton_key=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    response
}
