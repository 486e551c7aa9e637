//! The console session: a random 256-bit id in an `HttpOnly; SameSite=Strict` cookie,
//! recorded in the store only as its SHA-256 (so it survives a restart and serves any
//! node sharing the store), with an absolute expiry. It resolves through the key it was
//! opened with, so revoking or expiring that key ends the session too.
//!
//! CSRF: each session's token is derived from its id (`SHA-256("baton-csrf" || id)`),
//! rendered into every page and sent back by `console.js` as `x-csrf-token` (or by a
//! form as the `csrf` field). A page on another origin can neither read it nor compute
//! it. The sign-in form, which has no session yet, is a double submit: a random token in
//! a short-lived `baton_signin` cookie and the same token in a hidden field.

use axum::http::{HeaderMap, HeaderValue, header};
use baton_core::Timestamp;
use baton_store::SessionRecord;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::auth::{KeyLookup, Principal};
use crate::error::ApiError;

/// The session cookie.
pub const SESSION_COOKIE: &str = "baton_session";
/// The sign-in form's pre-session CSRF cookie.
pub const SIGNIN_COOKIE: &str = "baton_signin";
/// The header `console.js` sends the session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a sign-in form stays valid.
pub const SIGNIN_TTL_SECS: u64 = 30 * 60;

/// A fresh 256-bit secret in hex (a session id or a sign-in token).
pub fn secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// The session's CSRF token.
pub fn csrf_token(session_id: &str) -> String {
    hex::encode(sha256(&[b"baton-csrf\0", session_id.as_bytes()]))
}

/// Compares secrets without stopping at the first differing byte.
pub fn same_secret(expected: &str, presented: &str) -> bool {
    expected.len() == presented.len()
        && expected
            .bytes()
            .zip(presented.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// The value of cookie `name`, if the request carries one.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// The session id the request's cookie carries, if any.
pub fn session_id(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, SESSION_COOKIE)
}

/// The `x-csrf-token` header, if any.
pub fn csrf_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok())
}

/// A live session.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who is signed in.
    pub principal: Principal,
    /// The token its pages and requests carry.
    pub csrf: String,
    hash: [u8; 32],
}

impl Session {
    /// Whether `presented` is this session's CSRF token.
    pub fn csrf_matches(&self, presented: Option<&str>) -> bool {
        presented.is_some_and(|p| same_secret(&self.csrf, p))
    }
}

/// The session `id` names at `now`, if it is live and its key still works. An expired
/// session is deleted on sight.
pub async fn resolve(
    app: &AppState,
    id: &str,
    now: Timestamp,
) -> Result<Option<Session>, ApiError> {
    let hash = sha256(&[id.as_bytes()]);
    let Some(record) = app.store.find_session(&hash).await? else {
        return Ok(None);
    };
    if record.expires_at <= now {
        app.store.delete_session(&hash).await?;
        return Ok(None);
    }
    match app
        .keys
        .resolve_hash(app.store.as_ref(), &record.key_hash, now)
        .await?
    {
        KeyLookup::Active(principal) => Ok(Some(Session {
            principal,
            csrf: csrf_token(id),
            hash,
        })),
        KeyLookup::Dead(_) | KeyLookup::Unknown => Ok(None),
    }
}

/// The request's live session, if it has one.
pub async fn current(app: &AppState, headers: &HeaderMap) -> Result<Option<Session>, ApiError> {
    match session_id(headers) {
        Some(id) => resolve(app, id, app.clock.now()).await,
        None => Ok(None),
    }
}

/// Opens a session for the key with hash `key_hash`; returns its id (for the cookie).
pub async fn open(app: &AppState, key_hash: [u8; 32], now: Timestamp) -> Result<String, ApiError> {
    let id = secret();
    let ttl_millis = i64::try_from(app.config.session_ttl.as_millis()).unwrap_or(i64::MAX);
    app.store
        .insert_session(SessionRecord {
            hash: sha256(&[id.as_bytes()]),
            key_hash,
            created_at: now,
            expires_at: now.plus_millis(ttl_millis),
        })
        .await?;
    Ok(id)
}

/// Ends `session` in the store.
pub async fn end(app: &AppState, session: &Session) -> Result<(), ApiError> {
    app.store.delete_session(&session.hash).await?;
    Ok(())
}

/// Whether the browser reached baton over HTTPS: only a trusted proxy can say so
/// (baton itself serves plain HTTP).
pub fn over_https(app: &AppState, headers: &HeaderMap) -> bool {
    app.config.trust_proxy_headers
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

/// `Set-Cookie` for `name=value` living `max_age_secs` (0 deletes it) on `path`.
pub fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age_secs: u64,
    secure: bool,
) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    // Every part is ours: hex values, fixed names and paths.
    HeaderValue::from_str(&format!(
        "{name}={value}; HttpOnly; SameSite=Strict; Path={path}; Max-Age={max_age_secs}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("baton_invalid=; Max-Age=0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_session_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "theme=dark; baton_session=abc ; x=1".parse().unwrap(),
        );
        assert_eq!(session_id(&headers), Some("abc"));
        headers.insert(header::COOKIE, "baton_session=".parse().unwrap());
        assert_eq!(session_id(&headers), None);
        headers.insert(header::COOKIE, "baton_key=baton_abc".parse().unwrap());
        assert_eq!(
            session_id(&headers),
            None,
            "the old key cookie is not a session"
        );
    }

    #[test]
    fn csrf_tokens_belong_to_their_session() {
        let (a, b) = (secret(), secret());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(csrf_token(&a), csrf_token(&a));
        assert_ne!(csrf_token(&a), csrf_token(&b));
        assert_ne!(csrf_token(&a), a, "the token is not the session id");
        assert!(same_secret(&csrf_token(&a), &csrf_token(&a)));
        assert!(!same_secret(&csrf_token(&a), &csrf_token(&b)));
        assert!(!same_secret("abc", "ab"));
    }
}
