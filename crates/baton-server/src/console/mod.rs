//! The agent console: server-rendered pages (askama templates in `templates/`) with a
//! little plain JavaScript (`assets/`) for live updates and actions. Everything is
//! embedded in the binary, so the console works offline.
//!
//! The browser signs in once with an API key ([`session`]); the key then rides in an
//! HttpOnly, SameSite=Strict cookie that the `/v1` API accepts like a bearer key, so
//! the page's `fetch` and `EventSource` calls use the public API and nothing else.
//!
//! # Layout
//! - [`session`] — `GET /` (sign-in or home), `POST /console/session`, `POST /console/logout`.
//! - [`pages`] — the agent home, the conversation view, the supervisor view.
//! - [`package`] — the context package as the console shows it.
//! - [`check`] — `POST /console/check-reply`, the "already known" warning.
//! - [`view`] — the package flattened for the conversation page.
//! - [`charts`] — inline SVG sparklines and bar charts.
//! - [`assets`] — the embedded CSS and JavaScript.

pub mod assets;
pub mod charts;
pub mod check;
pub mod package;
pub mod pages;
pub mod session;
pub mod view;

use askama::Template;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::app::AppState;
use crate::auth::{Principal, SESSION_COOKIE};
use crate::error::ApiError;

/// The session key carried by the request's cookie, if any.
pub fn cookie_key(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, key)| key.trim())
        .filter(|key| !key.is_empty())
}

/// Who the browser is signed in as, if its cookie holds a known key.
pub async fn signed_in(app: &AppState, headers: &HeaderMap) -> Result<Option<Principal>, ApiError> {
    match cookie_key(headers) {
        Some(key) => app.keys.resolve(app.store.as_ref(), key).await,
        None => Ok(None),
    }
}

/// A page's outcome: HTML, or a redirect (to sign in, or elsewhere).
pub enum Page {
    /// A rendered page with its status.
    Html(StatusCode, String),
    /// Go elsewhere (303).
    Redirect(String),
}

impl Page {
    /// Renders `template` with status 200.
    pub fn render(template: &impl Template) -> Result<Self, ApiError> {
        Self::render_with(StatusCode::OK, template)
    }

    /// Renders `template` with `status`.
    pub fn render_with(status: StatusCode, template: &impl Template) -> Result<Self, ApiError> {
        template
            .render()
            .map(|html| Page::Html(status, html))
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
            Page::Html(status, html) => {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_session_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "theme=dark; baton_key=baton_abc ; x=1".parse().unwrap(),
        );
        assert_eq!(cookie_key(&headers), Some("baton_abc"));
        headers.insert(header::COOKIE, "baton_key=".parse().unwrap());
        assert_eq!(cookie_key(&headers), None);
    }

    #[test]
    fn waits_read_in_words() {
        assert_eq!(wait_words(-5), "0 s");
        assert_eq!(wait_words(45_000), "45 s");
        assert_eq!(wait_words(180_000), "3 min");
        assert_eq!(wait_words(7_500_000), "2 h 5 min");
    }
}
