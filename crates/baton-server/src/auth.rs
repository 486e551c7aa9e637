//! API keys and roles. A key is `baton_` plus 256 random bits in hex; only its SHA-256
//! is stored, beside a public id (`key_...`), an optional label, an optional expiry
//! and, once revoked, the time of revocation.
//!
//! Lookups are cached in memory so the hot append path needs no database round trip.
//! A cached key is still refused the moment it expires (the expiry is cached with it),
//! revoking it here drops it from the cache at once, and every entry is re-read from
//! the store after [`REVALIDATE`], so a revocation made by another node sharing the
//! store takes effect here within that bound.
//!
//! [`Principal`] is the extractor every `/v1` handler takes: a bearer key, or, on the
//! routes the console calls ([`ConsoleRoute`]), the console's session cookie with its
//! CSRF token on anything but a read. Failures count against the caller's address
//! ([`crate::limit`]).

use std::collections::BTreeMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use baton_core::Label;
use baton_core::Timestamp;
use baton_core::id::AgentId;
use baton_store::{KeyDeath, KeyId, KeyRecord, Role, Store};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::console::cookie;
use crate::error::ApiError;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The key's role.
    pub role: Role,
    /// The agent an agent key is bound to.
    pub agent: Option<AgentId>,
    /// The key's public id (what the access log records).
    pub key: KeyId,
    /// The caller's address, as the request came (absent for in-process callers).
    pub address: Option<std::net::IpAddr>,
}

impl Principal {
    /// A caller inside the process (an import, a benchmark) that holds no API key: its
    /// key id is all zeros, so what it wrote or read is told apart from any key's.
    pub fn in_process(role: Role, agent: Option<AgentId>) -> Self {
        Self {
            role,
            agent,
            key: KeyId::from_random([0; 8]),
            address: None,
        }
    }

    /// Refuses with 403 unless the caller holds one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            let allowed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(ApiError::forbidden(format!(
                "this call needs one of the roles {}; the key has role {}",
                allowed.join(", "),
                self.role.as_str()
            )))
        }
    }
}

/// Marks a route the console itself calls: there the session cookie stands in for a
/// bearer key (with the CSRF header on anything but a read). Set in `router.rs` only.
#[derive(Debug, Clone, Copy)]
pub struct ConsoleRoute;

/// A fresh random key.
pub fn generate_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("baton_{}", hex::encode(bytes))
}

/// A fresh random public key id.
pub fn generate_key_id() -> KeyId {
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    KeyId::from_random(bytes)
}

/// SHA-256 of a key, as stored.
pub fn hash_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// What a presented key turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyLookup {
    /// It works: this is who holds it.
    Active(Principal),
    /// Known, but revoked or expired.
    Dead(KeyDeath),
    /// Not a key baton issued (or one whose record is gone).
    Unknown,
}

impl KeyLookup {
    /// The 401 for a key that does not work. Only a caller who holds a once-valid key
    /// learns why; any other string is just unknown.
    pub fn refusal(&self) -> ApiError {
        match self {
            KeyLookup::Dead(KeyDeath::Revoked) => {
                ApiError::unauthorized_because("key_revoked", "this API key has been revoked")
            }
            KeyLookup::Dead(KeyDeath::Expired) => {
                ApiError::unauthorized_because("key_expired", "this API key has expired")
            }
            KeyLookup::Active(_) | KeyLookup::Unknown => ApiError::unauthorized("unknown API key"),
        }
    }
}

/// How long a cached key is trusted before the store is asked again.
pub const REVALIDATE: Duration = Duration::from_secs(10);

struct Cached {
    principal: Principal,
    expires_at: Option<Timestamp>,
    read_at: Instant,
}

/// Working keys by hash (dead and unknown ones are never cached).
#[derive(Default)]
pub struct KeyCache {
    known: RwLock<BTreeMap<[u8; 32], Cached>>,
}

impl KeyCache {
    /// Resolves a presented key at `now`.
    pub async fn resolve(
        &self,
        store: &dyn Store,
        key: &str,
        now: Timestamp,
    ) -> Result<KeyLookup, ApiError> {
        self.resolve_hash(store, &hash_key(key), now).await
    }

    /// Resolves a key by its hash at `now`, asking the store on a miss or once the
    /// cached entry is older than [`REVALIDATE`].
    pub async fn resolve_hash(
        &self,
        store: &dyn Store,
        hash: &[u8; 32],
        now: Timestamp,
    ) -> Result<KeyLookup, ApiError> {
        let cached = self.known.read().ok().and_then(|known| {
            known.get(hash).and_then(|c| {
                (c.read_at.elapsed() < REVALIDATE).then(|| (c.principal.clone(), c.expires_at))
            })
        });
        if let Some((principal, expires_at)) = cached {
            if expires_at.is_some_and(|at| at <= now) {
                self.forget(hash);
                return Ok(KeyLookup::Dead(KeyDeath::Expired));
            }
            return Ok(KeyLookup::Active(principal));
        }
        let Some(record) = store.find_key(hash).await? else {
            self.forget(hash);
            return Ok(KeyLookup::Unknown);
        };
        if let Some(death) = record.dead_at(now) {
            self.forget(hash);
            return Ok(KeyLookup::Dead(death));
        }
        let principal = Principal {
            role: record.role,
            agent: record.agent,
            key: record.id,
            address: None,
        };
        if let Ok(mut known) = self.known.write() {
            known.insert(
                *hash,
                Cached {
                    principal: principal.clone(),
                    expires_at: record.expires_at,
                    read_at: Instant::now(),
                },
            );
        }
        Ok(KeyLookup::Active(principal))
    }

    /// Drops a key from the cache (it was revoked, or found dead).
    pub fn forget(&self, hash: &[u8; 32]) {
        if let Ok(mut known) = self.known.write() {
            known.remove(hash);
        }
    }
}

/// What a new key is for.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// Its role.
    pub role: Role,
    /// The agent an agent key acts as.
    pub agent: Option<AgentId>,
    /// A label.
    pub name: Option<Label>,
    /// When it stops working.
    pub expires_at: Option<Timestamp>,
}

/// Stores a new key and returns it (the only time it is seen in clear) with its record.
pub async fn issue(
    store: &dyn Store,
    new: NewKey,
    now: Timestamp,
) -> Result<(String, KeyRecord), ApiError> {
    let key = generate_key();
    let record = KeyRecord {
        id: generate_key_id(),
        hash: hash_key(&key),
        role: new.role,
        agent: new.agent,
        name: new.name,
        created_at: now,
        expires_at: new.expires_at,
        revoked_at: None,
    };
    store.insert_key(record.clone()).await?;
    Ok((key, record))
}

/// Stores a new key for `role` that never expires and returns it.
pub async fn issue_key(
    store: &dyn Store,
    role: Role,
    agent: Option<AgentId>,
    now: Timestamp,
) -> Result<String, ApiError> {
    let new = NewKey {
        role,
        agent,
        name: None,
        expires_at: None,
    };
    Ok(issue(store, new, now).await?.0)
}

fn bearer(parts: &Parts) -> Option<Result<&str, ApiError>> {
    let header = parts.headers.get(axum::http::header::AUTHORIZATION)?;
    Some(
        header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|key| !key.is_empty())
            .ok_or_else(|| ApiError::unauthorized("the Authorization header must be Bearer <key>")),
    )
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let client = crate::limit::client_addr(
            &parts.headers,
            &parts.extensions,
            state.config.trust_proxy_headers,
        );
        let now = state.clock.now();
        if let Some(key) = bearer(parts) {
            let key = key?;
            state.auth_failures.check(client)?;
            return match state.keys.resolve(state.store.as_ref(), key, now).await? {
                KeyLookup::Active(principal) => Ok(Principal {
                    address: Some(client),
                    ..principal
                }),
                dead => Err(state.auth_failures.failed(client, dead.refusal())),
            };
        }
        let Some(session_id) = cookie::session_id(&parts.headers) else {
            return Err(ApiError::unauthorized("send Authorization: Bearer <key>"));
        };
        if parts.extensions.get::<ConsoleRoute>().is_none() {
            return Err(ApiError::unauthorized(
                "this call takes Authorization: Bearer <key>; the console's session is accepted only on the routes the console uses",
            ));
        }
        state.auth_failures.check(client)?;
        let Some(session) = cookie::resolve(state, session_id, now).await? else {
            let ended = ApiError::unauthorized("the console session has ended; sign in again");
            return Err(state.auth_failures.failed(client, ended));
        };
        if !parts.method.is_safe() && !session.csrf_matches(cookie::csrf_header(&parts.headers)) {
            return Err(ApiError::csrf_failed(
                "console requests that change something must carry the page's x-csrf-token header",
            ));
        }
        Ok(Principal {
            address: Some(client),
            ..session.principal
        })
    }
}
