//! Secrets and signatures, per the Standard Webhooks specification: a secret is
//! `whsec_` + base64 of 32 random bytes; a delivery carries `webhook-id`,
//! `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,` + base64
//! HMAC-SHA256 of `id.timestamp.body`), one signature per secret in force, separated
//! by spaces, during a rotation.

use base64::Engine;
use baton_core::Timestamp;
use baton_store::{SigningSecret, WebhookRecord};
use rand::RngCore;

/// A fresh secret.
pub fn generate_secret() -> SigningSecret {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    SigningSecret(format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// The `webhook-signature` value for `body`, sent as message `id` at `timestamp`
/// (Unix seconds): signed with the secret, and with the previous one while its grace
/// period runs at `now`.
pub fn signature(
    hook: &WebhookRecord,
    id: &str,
    timestamp: i64,
    body: &str,
    now: Timestamp,
) -> Result<String, standardwebhooks::WebhookError> {
    let mut secrets = vec![&hook.secret];
    if let Some((previous, until)) = &hook.previous
        && *until > now
    {
        secrets.push(previous);
    }
    let mut signatures = Vec::with_capacity(secrets.len());
    for secret in secrets {
        let signer = standardwebhooks::Webhook::new(&secret.0)?;
        signatures.push(signer.sign(id, timestamp, body.as_bytes())?);
    }
    Ok(signatures.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_core::webhook::EventFilter;
    use baton_store::{Role, WebhookId};

    fn hook(secret: &str, previous: Option<(&str, i64)>) -> WebhookRecord {
        WebhookRecord {
            id: WebhookId::from_random([1; 8]),
            url: "http://127.0.0.1/".into(),
            events: EventFilter::All,
            description: None,
            role: Role::Bot,
            secret: SigningSecret(secret.into()),
            previous: previous
                .map(|(s, until)| (SigningSecret(s.into()), Timestamp::from_unix_millis(until))),
            created_at: Timestamp::from_unix_millis(0),
        }
    }

    #[test]
    fn signs_as_the_specification_example_says() {
        // The example of the Standard Webhooks reference implementations.
        let signed = signature(
            &hook("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", None),
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1649367553,
            r#"{"email":"test@example.com","username":"test_user"}"#,
            Timestamp::from_unix_millis(0),
        )
        .unwrap();
        assert_eq!(signed, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
    }

    #[test]
    fn both_secrets_sign_during_the_grace_period_only() {
        let new = generate_secret();
        assert!(new.0.starts_with("whsec_") && new.0.len() == 6 + 44);
        let rotated = hook(
            &new.0,
            Some(("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", 1000)),
        );
        let during =
            signature(&rotated, "msg_1", 1, "{}", Timestamp::from_unix_millis(999)).unwrap();
        let after = signature(
            &rotated,
            "msg_1",
            1,
            "{}",
            Timestamp::from_unix_millis(1000),
        )
        .unwrap();
        assert_eq!(during.split(' ').count(), 2);
        assert_eq!(during.split(' ').next(), Some(after.as_str()));
        assert!(!after.contains(' '));
    }
}
