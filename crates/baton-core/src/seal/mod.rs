//! The sealed form: which fields of an event are customer data, and how they are
//! encrypted into one envelope per event so the ledger can chain (and an auditor can
//! verify) events whose content nobody without the key can read.
//!
//! An event's JSON is split into its *structure* (type, actor, at, seq, id, intent,
//! confidence, action name and status...: what state, routing and statistics need) and
//! its *customer data* ([`fields::customer_fields`]). Sealed, the customer data is one
//! AES-256-GCM ciphertext under the conversation's data key, with the conversation and
//! seq as associated data (so a ciphertext cannot be moved to another event):
//!
//! ```json
//! {"actor":"customer","at":"...","id":"e1","seq":1,"type":"customer_message",
//!  "sealed":{"alg":"A256GCM","kid":"dk_...","nonce":"<base64>","ct":"<base64>"}}
//! ```
//!
//! An event without customer data is stored as it is, and so is every event written
//! before encryption was turned on: each is its own sealed form. Opened without its key
//! (destroyed by an erasure), an event reads as its structure with `"erased": true` and
//! [`ERASED_TEXT`] in each required text field the sealed data held; optional fields
//! and `meta` are absent.
//!
//! Everything here is pure: keys and nonces come from the caller.

pub mod crypto;
pub mod fields;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::canonical::{self, CanonicalError};
use crate::event::{Event, EventKind};
use crate::id::ConversationId;

pub use crypto::{DataKey, KeyError, MasterKey, NONCE_BYTES};

/// The text an erased event shows where a required text field was.
pub const ERASED_TEXT: &str = "[erased]";

/// The member that holds the envelope.
pub const SEALED_MEMBER: &str = "sealed";

/// The one algorithm baton seals with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Alg {
    /// AES-256-GCM, 96-bit random nonce, 128-bit tag.
    #[serde(rename = "A256GCM")]
    A256Gcm,
}

/// The envelope in place of an event's customer data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Algorithm.
    pub alg: Alg,
    /// The data key's id (`dk_` + hex), as `data_keys` lists it.
    pub kid: String,
    /// Base64 (standard, padded) of the 12-byte nonce.
    pub nonce: String,
    /// Base64 of the ciphertext and its tag.
    pub ct: String,
}

/// Why an event could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// Not canonicalizable.
    #[error(transparent)]
    Canonical(#[from] CanonicalError),
    /// The stored JSON is not an event object.
    #[error("stored event is not a JSON object: {0}")]
    NotAnObject(String),
    /// The envelope is malformed, or its ciphertext does not open with this key (a
    /// wrong key, or a ciphertext moved from another event).
    #[error("sealed data does not open: {0}")]
    Open(String),
    /// The key is not the one the envelope names.
    #[error("event is sealed under {found}, not {expected}")]
    WrongKey {
        /// The key id in the envelope.
        found: String,
        /// The key id given.
        expected: String,
    },
}

/// What the ciphertext is bound to: its conversation and seq.
pub fn associated_data(conversation: &ConversationId, seq: u64) -> Vec<u8> {
    format!("baton/event/v1/{conversation}/{seq}").into_bytes()
}

/// Puts customer-data members back into an opened event object.
pub fn join(object: &mut Map<String, Value>, secret: Map<String, Value>) {
    object.extend(secret);
}

/// An event's canonical forms, written together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forms {
    /// `JCS(event)`: what subscribers read (redacted per reader as ever).
    pub plain: String,
    /// What is stored and hashed, when it differs from `plain`: `None` for an event
    /// without customer data, which is its own sealed form.
    pub sealed: Option<String>,
}

/// The sealed canonical JSON of `event`: what is stored and hashed.
pub fn seal_event(
    event: &Event,
    conversation: &ConversationId,
    key: &DataKey,
    kid: &str,
    nonce: [u8; NONCE_BYTES],
) -> Result<String, SealError> {
    let forms = seal_forms(event, conversation, key, kid, nonce)?;
    Ok(forms.sealed.unwrap_or(forms.plain))
}

/// Both canonical forms of `event`, each top-level member written once: the plain
/// event, its customer data (encrypted) and its structure with the envelope are
/// assembled from the same member texts, so sealing adds the encryption and one
/// small envelope to what the plain path does, not another canonicalization.
pub fn seal_forms(
    event: &Event,
    conversation: &ConversationId,
    key: &DataKey,
    kid: &str,
    nonce: [u8; NONCE_BYTES],
) -> Result<Forms, SealError> {
    let value = serde_json::to_value(event).map_err(|e| CanonicalError(e.to_string()))?;
    let Value::Object(object) = &value else {
        return Err(SealError::NotAnObject("event".into()));
    };
    let members = canonical::members(object)?;
    let secret_names = fields::customer_fields(event.body.event_kind());
    let is_secret = |name: &str| secret_names.contains(&name);
    if !members.spans.iter().any(|(name, _)| is_secret(name)) {
        return Ok(Forms {
            plain: members.text,
            sealed: None,
        });
    }
    let secret = members.object_of(is_secret, None);
    let ct = key.encrypt(
        &nonce,
        secret.as_bytes(),
        &associated_data(conversation, event.seq),
    );
    let envelope = envelope_member(kid, &nonce, &ct)?;
    let sealed = members.object_of(|name| !is_secret(name), Some((SEALED_MEMBER, &envelope)));
    Ok(Forms {
        plain: members.text,
        sealed: Some(sealed),
    })
}

/// `"sealed":{"alg":"A256GCM","ct":…,"kid":…,"nonce":…}`, canonical: members in JCS
/// order, and nothing to escape (base64 and a `dk_` + hex id), which is checked.
fn envelope_member(kid: &str, nonce: &[u8], ct: &[u8]) -> Result<String, SealError> {
    if !kid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(SealError::Canonical(CanonicalError(format!(
            "a data key id must be `dk_` and hex, not {kid:?}"
        ))));
    }
    Ok(format!(
        r#""{SEALED_MEMBER}":{{"alg":"A256GCM","ct":"{}","kid":"{kid}","nonce":"{}"}}"#,
        crypto::b64(ct),
        crypto::b64(nonce),
    ))
}

/// Whether stored JSON may hold an envelope: a cheap test before any parse. A `"sealed"`
/// key can only appear unescaped as a member name, never inside a string.
pub fn may_be_sealed(stored: &str) -> bool {
    stored.contains("\"sealed\":{")
}

/// The key a stored event needs: `Some(kid)` when it holds a top-level envelope.
pub fn envelope_of(stored: &str) -> Result<Option<Envelope>, SealError> {
    if !may_be_sealed(stored) {
        return Ok(None);
    }
    let value: Value =
        serde_json::from_str(stored).map_err(|e| SealError::NotAnObject(e.to_string()))?;
    match value.get(SEALED_MEMBER) {
        Some(envelope) => serde_json::from_value(envelope.clone())
            .map(Some)
            .map_err(|e| SealError::Open(e.to_string())),
        None => Ok(None),
    }
}

/// How a stored event reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// It held no envelope: the stored JSON is the plain event.
    Plain,
    /// Decrypted: the plain canonical JSON (exactly `JCS(event)` as first written).
    Decrypted(String),
    /// The key is gone: structure, `"erased": true` and placeholders.
    Erased(String),
}

/// Opens stored canonical JSON. `key` is the conversation's data key with its id, or
/// `None` when it was destroyed.
pub fn open(
    stored: &str,
    conversation: &ConversationId,
    key: Option<(&DataKey, &str)>,
) -> Result<Opened, SealError> {
    if !may_be_sealed(stored) {
        return Ok(Opened::Plain);
    }
    let mut value: Value =
        serde_json::from_str(stored).map_err(|e| SealError::NotAnObject(e.to_string()))?;
    let Some(object) = value.as_object_mut() else {
        return Err(SealError::NotAnObject("not an object".into()));
    };
    let Some(envelope) = object.remove(SEALED_MEMBER) else {
        return Ok(Opened::Plain);
    };
    let envelope: Envelope =
        serde_json::from_value(envelope).map_err(|e| SealError::Open(e.to_string()))?;
    let Some((key, kid)) = key else {
        erase(object);
        return Ok(Opened::Erased(canonical::value_to_canonical(&value)?));
    };
    if envelope.kid != kid {
        return Err(SealError::WrongKey {
            found: envelope.kid,
            expected: kid.to_owned(),
        });
    }
    let seq = object.get("seq").and_then(Value::as_u64).unwrap_or(0);
    let nonce = crypto::unb64(&envelope.nonce).map_err(SealError::Open)?;
    let nonce: [u8; NONCE_BYTES] = nonce
        .try_into()
        .map_err(|_| SealError::Open("nonce is not 12 bytes".into()))?;
    let ct = crypto::unb64(&envelope.ct).map_err(SealError::Open)?;
    let plain = key
        .decrypt(&nonce, &ct, &associated_data(conversation, seq))
        .map_err(|e| SealError::Open(e.to_string()))?;
    let secret: Map<String, Value> =
        serde_json::from_slice(&plain).map_err(|e| SealError::Open(e.to_string()))?;
    join(object, secret);
    Ok(Opened::Decrypted(canonical::value_to_canonical(&value)?))
}

/// Marks an event object erased: the flag and the placeholders its type requires.
fn erase(object: &mut Map<String, Value>) {
    let kind = object
        .get("type")
        .and_then(Value::as_str)
        .and_then(EventKind::from_wire);
    if let Some(kind) = kind {
        for field in fields::required_text_fields(kind) {
            object.insert((*field).to_owned(), Value::String(ERASED_TEXT.to_owned()));
        }
    }
    object.insert("erased".to_owned(), Value::Bool(true));
}

#[cfg(test)]
mod tests;
