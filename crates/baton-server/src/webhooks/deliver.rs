//! One try of one delivery: the body as the subscription's role may read the event,
//! signed, POSTed; the answer as an [`Attempt`]. No customer text reaches the log.

use baton_core::Timestamp;
use baton_core::webhook::{WebhookState, message_id, payload};
use baton_store::{Attempt, Delivery, WebhookRecord};
use reqwest::header::CONTENT_TYPE;

use crate::app::AppState;
use crate::error::ApiError;
use crate::redaction::ReadView;

/// The body of `delivery` for `hook`: the stored event served for the hook's role,
/// with the conversation's known facts as of now (a later fact only masks more).
pub async fn body(
    app: &AppState,
    hook: &WebhookRecord,
    delivery: &Delivery,
) -> Result<String, ApiError> {
    let cid = &delivery.conversation;
    let live = app
        .conversations
        .snapshot(app.store.as_ref(), &app.policy(), cid)
        .await?;
    let facts = live
        .map(|live| live.facts.package_facts())
        .unwrap_or_default();
    let view = ReadView::new(app, hook.role, facts)?;
    let stored = app
        .store
        .events_after(cid, delivery.seq.saturating_sub(1), 1)
        .await?
        .into_iter()
        .find(|e| e.seq == delivery.seq)
        .ok_or_else(|| ApiError::not_found("the delivery's event is not stored"))?;
    let served = view.stored(&stored)?;
    let event: serde_json::Value = serde_json::from_str(&served).map_err(ApiError::internal)?;
    let state: WebhookState = serde_json::from_str(&delivery.state).map_err(ApiError::internal)?;
    let base = app.webhooks.config.public_url.as_deref().unwrap_or("");
    let package_url = format!(
        "{}/v1/conversations/{cid}/package",
        base.trim_end_matches('/')
    );
    payload(
        &delivery.kind,
        delivery.created_at,
        cid,
        delivery.seq,
        &event,
        &state,
        &package_url,
    )
    .map_err(ApiError::internal)
}

/// Whether a try delivered.
pub fn delivered(attempt: &Attempt) -> bool {
    attempt.error.is_none() && attempt.status.is_some_and(|s| (200..300).contains(&s))
}

/// The innermost cause of a failed connection ("connection refused", "invalid peer
/// certificate: ..."), which says what the receiver's operator must fix.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    std::iter::successors(Some(error), |e| e.source())
        .last()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// Makes one try at `now`.
pub async fn attempt(
    app: &AppState,
    hook: &WebhookRecord,
    delivery: &Delivery,
    now: Timestamp,
) -> Attempt {
    let failed = |error: String| Attempt {
        at: now,
        status: None,
        error: Some(error),
    };
    let body = match body(app, hook, delivery).await {
        Ok(body) => body,
        Err(error) => return failed(format!("cannot build the body: {}", error.message)),
    };
    let id = message_id(hook.id.as_str(), &delivery.conversation, delivery.seq);
    let timestamp = now.unix_millis().div_euclid(1000);
    let signature = match super::sign::signature(hook, &id, timestamp, &body, now) {
        Ok(signature) => signature,
        Err(error) => return failed(format!("cannot sign: {error}")),
    };
    let sent = app
        .webhooks
        .client
        .post(&hook.url)
        .header(CONTENT_TYPE, "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) => {
            let status = response.status();
            let error = if status.is_redirection() {
                Some("redirect not followed".to_owned())
            } else if status.is_success() {
                None
            } else {
                Some(format!("HTTP {}", status.as_u16()))
            };
            Attempt {
                at: now,
                status: Some(status.as_u16()),
                error,
            }
        }
        Err(error) if error.is_timeout() => failed("timed out".to_owned()),
        Err(error) if error.is_connect() => {
            failed(format!("cannot connect: {}", root_cause(&error)))
        }
        Err(error) => failed(format!("request failed: {}", error.without_url())),
    }
}
