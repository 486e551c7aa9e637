//! API keys and roles. A key is `baton_` plus 256 random bits in hex; only its SHA-256
//! is stored. Lookups are cached in memory: keys are high-entropy and never change
//! role, so a hit needs no database round trip on the hot append path.

use std::collections::BTreeMap;
use std::sync::RwLock;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use baton_core::id::AgentId;
use baton_store::{KeyRecord, Role, Store};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::error::ApiError;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The key's role.
    pub role: Role,
    /// The agent an agent key is bound to.
    pub agent: Option<AgentId>,
}

impl Principal {
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

/// A fresh random key.
pub fn generate_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("baton_{}", hex::encode(bytes))
}

/// SHA-256 of a key, as stored.
pub fn hash_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Known keys by hash.
#[derive(Default)]
pub struct KeyCache {
    known: RwLock<BTreeMap<[u8; 32], Principal>>,
}

impl KeyCache {
    /// Resolves a presented key, asking the store on a cache miss.
    pub async fn resolve(
        &self,
        store: &dyn Store,
        key: &str,
    ) -> Result<Option<Principal>, ApiError> {
        let hash = hash_key(key);
        if let Some(found) = self
            .known
            .read()
            .ok()
            .and_then(|known| known.get(&hash).cloned())
        {
            return Ok(Some(found));
        }
        let Some(record) = store.find_key(&hash).await? else {
            return Ok(None);
        };
        let principal = Principal {
            role: record.role,
            agent: record.agent,
        };
        if let Ok(mut known) = self.known.write() {
            known.insert(hash, principal.clone());
        }
        Ok(Some(principal))
    }
}

/// Stores a new key for `role` and returns it (the only time it is seen in clear).
pub async fn issue_key(
    store: &dyn Store,
    role: Role,
    agent: Option<AgentId>,
    now: baton_core::Timestamp,
) -> Result<String, ApiError> {
    let key = generate_key();
    store
        .insert_key(KeyRecord {
            hash: hash_key(&key),
            role,
            agent,
            created_at: now,
        })
        .await?;
    Ok(key)
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = match parts.headers.get(axum::http::header::AUTHORIZATION) {
            Some(header) => header
                .to_str()
                .ok()
                .and_then(|value| value.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|key| !key.is_empty())
                .ok_or_else(|| {
                    ApiError::unauthorized("the Authorization header must be Bearer <key>")
                })?
                .to_owned(),
            // The console's EventSource cannot send headers; it signs in once and
            // carries the key in an HttpOnly, SameSite=Strict cookie instead.
            None => cookie_key(parts)
                .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <key>"))?,
        };
        let key = key.as_str();
        state
            .keys
            .resolve(state.store.as_ref(), key)
            .await?
            .ok_or_else(|| ApiError::unauthorized("unknown API key"))
    }
}

/// The name of the console's session cookie.
pub const SESSION_COOKIE: &str = "baton_key";

fn cookie_key(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, key)| key.trim().to_owned())
        .filter(|key| !key.is_empty())
}
