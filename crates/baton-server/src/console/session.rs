//! Signing in and out. The key is checked once and a server-side session opened
//! ([`super::cookie`]); the browser holds only the session's random id, in an
//! HttpOnly, SameSite=Strict cookie that scripts cannot read and other sites cannot
//! send. Logging out deletes the session in the store, not just the cookie.

use askama::Template;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use baton_store::Role;
use serde::{Deserialize, Serialize};

use super::cookie::{self, SESSION_COOKIE, SIGNIN_COOKIE, SIGNIN_TTL_SECS};
use super::{Page, signed_in};
use crate::app::AppState;
use crate::auth::{KeyLookup, Principal, hash_key};
use crate::error::ApiError;

/// The sign-in page.
#[derive(Template)]
#[template(path = "signin.html")]
pub struct SignIn {
    /// What went wrong with the last attempt, if anything.
    pub error: Option<String>,
    /// The form's pre-session CSRF token (also in the `baton_signin` cookie).
    pub csrf: String,
}

/// Where a signed-in role starts.
pub fn home_of(principal: &Principal) -> Option<&'static str> {
    match principal.role {
        Role::Agent => Some("/console/agent"),
        Role::Supervisor | Role::Admin => Some("/console/supervisor"),
        Role::Bot | Role::Auditor => None,
    }
}

/// The sign-in page with a fresh form token, and the cookie that token is checked
/// against. When it shows again after a refusal, it carries that error's status and
/// `Retry-After`, and `words` for the person at the browser.
fn sign_in_page(
    app: &AppState,
    headers: &HeaderMap,
    refused: Option<(&ApiError, String)>,
) -> Result<Response, ApiError> {
    let token = cookie::secret();
    let retry_after_secs = refused.as_ref().and_then(|(e, _)| e.retry_after_secs);
    let page = SignIn {
        error: refused.as_ref().map(|(_, words)| words.clone()),
        csrf: token.clone(),
    };
    let page = match &refused {
        Some((error, _)) => Page::refused(error, &page)?,
        None => Page::render(&page)?,
    };
    let mut response = page.into_response();
    let secure = cookie::over_https(app, headers);
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie::set_cookie(
            SIGNIN_COOKIE,
            &token,
            "/console/session",
            SIGNIN_TTL_SECS,
            secure,
        ),
    );
    if let Some(secs) = retry_after_secs {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, secs.into());
    }
    Ok(response)
}

/// `GET /`: the sign-in page, or the signed-in role's home.
pub async fn index(State(app): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    match signed_in(&app, &headers).await? {
        Some(session) => match home_of(&session.principal) {
            Some(home) => Ok(Redirect::to(home).into_response()),
            None => {
                let words = not_for_console(&session.principal);
                let error = ApiError::forbidden(words.clone());
                sign_in_page(&app, &headers, Some((&error, words)))
            }
        },
        None => sign_in_page(&app, &headers, None),
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
    /// The sign-in form's token (forms only).
    #[serde(default)]
    pub csrf: Option<String>,
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
    /// The session's CSRF token, for the `x-csrf-token` header.
    pub csrf: String,
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// The sign-in page's words for a key that does not work.
fn page_words(lookup: &KeyLookup) -> &'static str {
    match lookup {
        KeyLookup::Dead(baton_store::KeyDeath::Revoked) => "That key has been revoked.",
        KeyLookup::Dead(baton_store::KeyDeath::Expired) => "That key has expired.",
        KeyLookup::Active(_) | KeyLookup::Unknown => {
            "That key is not known. Check it and try again."
        }
    }
}

/// `POST /console/session`: checks the key, opens a session and sets its cookie. A form
/// post (the sign-in page, which must carry its token) is redirected to the role's
/// home; a JSON post gets the role and the session's CSRF token. JSON needs no form
/// token: a page on another origin cannot send `Content-Type: application/json` without
/// a CORS preflight, which baton never grants.
pub async fn create(State(app): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let headers = request.headers().clone();
    let client = crate::limit::client_addr(
        &headers,
        request.extensions(),
        app.config.trust_proxy_headers,
    );
    let json = is_json(&headers);
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
    let refuse = |error: ApiError, words: &str| -> Result<Response, ApiError> {
        if json {
            return Err(error);
        }
        let words = if error.is_unauthorized() || error.code == "forbidden" {
            words.to_owned()
        } else {
            error.message.clone()
        };
        sign_in_page(&app, &headers, Some((&error, words)))
    };
    if !json {
        let expected = cookie::cookie(&headers, SIGNIN_COOKIE);
        let fresh = match (expected, body.csrf.as_deref()) {
            (Some(expected), Some(presented)) => cookie::same_secret(expected, presented),
            _ => false,
        };
        if !fresh {
            let words = "The sign-in form expired or did not come from this page. Try again.";
            return refuse(ApiError::csrf_failed(words), words);
        }
    }
    if let Err(limited) = app.auth_failures.check(client) {
        return refuse(limited, "");
    }
    let key = body.key.trim();
    let lookup = if key.is_empty() {
        KeyLookup::Unknown
    } else {
        app.keys
            .resolve(app.store.as_ref(), key, app.clock.now())
            .await?
    };
    let principal = match lookup {
        KeyLookup::Active(principal) => principal,
        dead => {
            let error = app.auth_failures.failed(client, dead.refusal());
            return refuse(error, page_words(&dead));
        }
    };
    let Some(home) = home_of(&principal) else {
        let words = not_for_console(&principal);
        return refuse(ApiError::forbidden(words.clone()), &words);
    };
    // A fresh id at every sign-in; the browser's previous session, if any, ends here.
    if let Some(previous) = signed_in(&app, &headers).await? {
        cookie::end(&app, &previous).await?;
    }
    let session_id = cookie::open(&app, hash_key(key), app.clock.now()).await?;
    let mut response = if json {
        axum::Json(SessionView {
            role: principal.role.as_str(),
            agent_id: principal.agent.as_ref().map(|a| a.to_string()),
            home,
            csrf: cookie::csrf_token(&session_id),
        })
        .into_response()
    } else {
        Redirect::to(home).into_response()
    };
    let secure = cookie::over_https(&app, &headers);
    let cookies = response.headers_mut();
    cookies.append(
        header::SET_COOKIE,
        cookie::set_cookie(
            SESSION_COOKIE,
            &session_id,
            "/",
            app.config.session_ttl.as_secs(),
            secure,
        ),
    );
    cookies.append(
        header::SET_COOKIE,
        cookie::set_cookie(SIGNIN_COOKIE, "", "/console/session", 0, secure),
    );
    Ok(response)
}

/// `POST /console/logout` form.
#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf: Option<String>,
}

/// `POST /console/logout`: ends the session in the store (its cookie is worthless from
/// now on, wherever a copy of it is), clears the cookie and returns to the sign-in page.
/// The session's CSRF token is required (form field `csrf` or `x-csrf-token`), so
/// another site cannot sign an agent out.
pub async fn logout(State(app): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let headers = request.headers().clone();
    if let Some(session) = signed_in(&app, &headers).await? {
        let from_header = cookie::csrf_header(&headers).map(str::to_owned);
        let from_form = axum::Form::<LogoutForm>::from_request(request, &app)
            .await
            .ok()
            .and_then(|form| form.0.csrf);
        if !session.csrf_matches(from_header.or(from_form).as_deref()) {
            return Err(ApiError::csrf_failed(
                "sign out from the console's own page (the request lacks its CSRF token)",
            ));
        }
        cookie::end(&app, &session).await?;
    }
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        cookie::set_cookie(
            SESSION_COOKIE,
            "",
            "/",
            0,
            cookie::over_https(&app, &headers),
        ),
    );
    Ok(response)
}
