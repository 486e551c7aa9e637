//! The agent console: server-rendered pages (askama templates in `templates/`) with a
//! little plain JavaScript (`assets/`) for live updates and actions. Everything is
//! embedded in the binary, so the console works offline.
//!
//! The browser signs in once with an API key ([`session`]) and gets a server-side
//! session ([`cookie`]): a random id in an HttpOnly, SameSite=Strict cookie, with an
//! expiry, ended at logout or when its key is revoked. The `/v1` routes the console
//! calls accept that cookie (with the page's CSRF token on anything but a read), so the
//! page's `fetch` and `EventSource` calls use the public API and nothing else; every
//! other `/v1` route takes bearer keys only.
//!
//! # Layout
//! - [`session`] — `GET /` (sign-in or home), `POST /console/session`, `POST /console/logout`.
//! - [`cookie`] — the session itself: cookie, server-side record, CSRF token.
//! - [`pages`] — the agent home, the conversation view, the supervisor view.
//! - [`insights`] — the supervisor's intents and outcomes pages.
//! - [`form`] — what the filter forms send.
//! - [`package`] — the context package as the console shows it.
//! - [`check`] — `POST /console/check-reply`, the "already known" warning.
//! - [`view`] — the package flattened for the conversation page.
//! - [`charts`] — inline SVG sparklines and bar charts.
//! - [`assets`] — the embedded CSS and JavaScript.

pub mod assets;
pub mod charts;
pub mod check;
pub mod cookie;
pub mod form;
pub mod insights;
pub mod package;
pub mod pages;
pub mod session;
pub mod view;

use askama::Template;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use baton_store::Role;

use crate::app::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
pub use cookie::Session;

/// Who opens the supervisor's pages: the roles the stats and insights APIs answer.
pub const SUPERVISORS: &[Role] = crate::handlers::insights::READERS;

/// A page that refuses the signed-in reader (403), with the way back to their own.
#[derive(Template)]
#[template(path = "refused.html")]
pub struct RefusedPage {
    /// The session's CSRF token.
    pub csrf: String,
    /// Who reads it, in words.
    pub me: String,
    /// Why not.
    pub message: String,
}

/// The signed-in session when its role is one of `roles`; otherwise the page to answer
/// with instead: the sign-in page without a session, 403 for another role.
pub async fn session_of(
    app: &AppState,
    headers: &HeaderMap,
    roles: &[Role],
) -> Result<Result<Session, Page>, ApiError> {
    let Some(session) = signed_in(app, headers).await? else {
        return Ok(Err(Page::sign_in()));
    };
    if roles.contains(&session.principal.role) {
        return Ok(Ok(session));
    }
    let error = ApiError::forbidden(format!(
        "this page is for {}",
        roles
            .iter()
            .map(|r| format!("{}s", r.as_str()))
            .collect::<Vec<_>>()
            .join(" and ")
    ));
    let page = RefusedPage {
        me: me(&session.principal),
        message: error.message.clone(),
        csrf: session.csrf,
    };
    Page::refused(&error, &page).map(Err)
}

/// The reader in words, for the header: `agent ana`, `supervisor`.
pub fn me(principal: &Principal) -> String {
    match &principal.agent {
        Some(agent) => format!("agent {agent}"),
        None => principal.role.as_str().to_owned(),
    }
}

/// The browser's live session, if its cookie names one.
pub async fn signed_in(app: &AppState, headers: &HeaderMap) -> Result<Option<Session>, ApiError> {
    cookie::current(app, headers).await
}

/// A page's outcome: HTML, or a redirect (to sign in, or elsewhere).
pub enum Page {
    /// A rendered page (200).
    Html(String),
    /// A rendered page that refuses what was asked, with the status of the API's error.
    Refused(StatusCode, String),
    /// Go elsewhere (303).
    Redirect(String),
}

impl Page {
    /// Renders `template` (200).
    pub fn render(template: &impl Template) -> Result<Self, ApiError> {
        template
            .render()
            .map(Page::Html)
            .map_err(ApiError::internal)
    }

    /// Renders `template` as the page that shows `error`, with its status.
    pub fn refused(error: &ApiError, template: &impl Template) -> Result<Self, ApiError> {
        template
            .render()
            .map(|html| Page::Refused(error.status, html))
            .map_err(ApiError::internal)
    }

    /// Back to the sign-in page.
    pub fn sign_in() -> Self {
        Page::Redirect("/".to_owned())
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        match self {
            Page::Html(html) => ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
            Page::Refused(status, html) => {
                (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
            }
            Page::Redirect(to) => Redirect::to(&to).into_response(),
        }
    }
}

/// Formats a wait in words: `45 s`, `3 min`, `2 h 5 min`.
pub fn wait_words(millis: i64) -> String {
    let secs = millis.max(0) / 1000;
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        _ => format!("{} h {} min", secs / 3600, (secs % 3600) / 60),
    }
}

/// A time to the minute, as the console's tables show it: `2026-12-02 14:05` (UTC).
pub fn minute_words(t: baton_core::Timestamp) -> String {
    let t = t.to_string();
    format!(
        "{} {}",
        t.get(..10).unwrap_or(&t),
        t.get(11..16).unwrap_or("")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_to_the_minute() {
        let t = baton_core::Timestamp::from_unix_millis(1_767_225_600_000 + 3_725_000);
        assert_eq!(minute_words(t), "2026-01-01 01:02");
    }

    #[test]
    fn waits_read_in_words() {
        assert_eq!(wait_words(-5), "0 s");
        assert_eq!(wait_words(45_000), "45 s");
        assert_eq!(wait_words(180_000), "3 min");
        assert_eq!(wait_words(7_500_000), "2 h 5 min");
    }
}
