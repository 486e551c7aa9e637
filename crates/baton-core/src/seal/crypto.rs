//! The AEAD calls (AES-256-GCM from the `aes-gcm` crate) and the two key kinds: a data
//! key per conversation, and the master key that wraps data keys. Pure: nonces and key
//! bytes come from the caller's random source.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroize;

use crate::id::ConversationId;

/// Bytes of an AES-GCM nonce.
pub const NONCE_BYTES: usize = 12;

/// Why a key or a ciphertext was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The ciphertext does not open with this key and associated data.
    #[error("does not decrypt with this key (wrong key, or data moved or altered)")]
    Decrypt,
    /// A key file that is not 64 hex characters.
    #[error("a master key is 64 hexadecimal characters (32 bytes), e.g. `openssl rand -hex 32`")]
    Format,
    /// A wrapped key too short to hold a nonce and a tag.
    #[error("wrapped key is {0} bytes, too short")]
    Short(usize),
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

pub(crate) fn unb64(text: &str) -> Result<Vec<u8>, String> {
    STANDARD.decode(text).map_err(|e| e.to_string())
}

/// A 256-bit AES key, wiped from memory when dropped; `Debug` never shows it.
#[derive(Clone)]
struct Key([u8; 32]);

impl Drop for Key {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl Key {
    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new((&self.0).into())
    }

    fn encrypt(&self, nonce: &[u8; NONCE_BYTES], plain: &[u8], aad: &[u8]) -> Vec<u8> {
        // AES-GCM encryption fails only past 64 GiB per message; events are bounded far below.
        self.cipher()
            .encrypt(Nonce::from_slice(nonce), Payload { msg: plain, aad })
            .unwrap_or_default()
    }

    fn decrypt(
        &self,
        nonce: &[u8; NONCE_BYTES],
        ct: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        self.cipher()
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
            .map_err(|_| KeyError::Decrypt)
    }
}

/// One conversation's data key.
#[derive(Clone)]
pub struct DataKey(Key);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    /// The key made of these random bytes.
    pub fn from_random(bytes: [u8; 32]) -> Self {
        Self(Key(bytes))
    }

    /// Encrypts `plain` bound to `aad`.
    pub fn encrypt(&self, nonce: &[u8; NONCE_BYTES], plain: &[u8], aad: &[u8]) -> Vec<u8> {
        self.0.encrypt(nonce, plain, aad)
    }

    /// Decrypts what [`DataKey::encrypt`] made with the same nonce and `aad`.
    pub fn decrypt(
        &self,
        nonce: &[u8; NONCE_BYTES],
        ct: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        self.0.decrypt(nonce, ct, aad)
    }
}

/// The master key: wraps every data key. Its id is a digest of it, so a store can say
/// which master key its data keys need without holding it.
#[derive(Clone)]
pub struct MasterKey {
    key: Key,
    id: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

fn wrap_aad(conversation: &ConversationId) -> Vec<u8> {
    format!("baton/data-key/v1/{conversation}").into_bytes()
}

impl MasterKey {
    /// The key made of these bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"baton master key id v1\0")
            .chain_update(bytes)
            .finalize();
        Self {
            key: Key(bytes),
            id: format!("mk_{}", hex::encode(&digest[..8])),
        }
    }

    /// Parses a key file's text: 64 hex characters, surrounding whitespace ignored.
    pub fn parse_hex(text: &str) -> Result<Self, KeyError> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut bytes).map_err(|_| KeyError::Format)?;
        let key = Self::from_bytes(bytes);
        bytes.zeroize();
        Ok(key)
    }

    /// The key file's text for these bytes.
    pub fn to_hex_file(bytes: &[u8; 32]) -> String {
        format!("{}\n", hex::encode(bytes))
    }

    /// Its public id (`mk_` + 16 hex digits of a digest).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `nonce || AES-GCM(data key)`, bound to its conversation.
    pub fn wrap(
        &self,
        conversation: &ConversationId,
        key: &DataKey,
        nonce: [u8; NONCE_BYTES],
    ) -> Vec<u8> {
        let mut out = nonce.to_vec();
        out.extend(
            self.key
                .encrypt(&nonce, &(key.0).0, &wrap_aad(conversation)),
        );
        out
    }

    /// The data key [`MasterKey::wrap`] wrapped for `conversation`.
    pub fn unwrap_key(
        &self,
        conversation: &ConversationId,
        wrapped: &[u8],
    ) -> Result<DataKey, KeyError> {
        if wrapped.len() < NONCE_BYTES + 16 {
            return Err(KeyError::Short(wrapped.len()));
        }
        let (nonce, ct) = wrapped.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| KeyError::Decrypt)?;
        let mut plain = self.key.decrypt(&nonce, ct, &wrap_aad(conversation))?;
        let bytes: Result<[u8; 32], _> = plain.as_slice().try_into();
        plain.zeroize();
        bytes
            .map(DataKey::from_random)
            .map_err(|_| KeyError::Decrypt)
    }
}
