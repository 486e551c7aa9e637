//! The reply box's warning: before an agent sends a message, the console asks whether
//! it requests something the customer already gave. The rule is baton-core's
//! `detect_repeat_ask`, the same one that records `repeat_ask` events afterwards.

use axum::Json;
use axum::extract::State;
use baton_core::facts::redact::redact_fact;
use baton_core::facts::repeat::detect_repeat_ask;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::{ApiJson, conversation_id};
use crate::package::viewer;

/// `POST /console/check-reply` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckReply {
    /// The conversation the reply is for.
    pub conversation: String,
    /// The draft reply.
    pub text: String,
}

/// A fact the draft asks for although the customer already gave it.
#[derive(Debug, Serialize)]
pub struct Known {
    /// Fact kind, e.g. `order_id`.
    pub kind: String,
    /// The kind in words.
    pub label: String,
    /// The value, as the reader may see it.
    pub value: String,
    /// Seq of the message that gave it.
    pub seq: u64,
}

/// `POST /console/check-reply` answer.
#[derive(Debug, Serialize)]
pub struct CheckAnswer {
    /// What the draft asks for that is already known (empty: fine to send).
    pub already_known: Vec<Known>,
}

/// `POST /console/check-reply`: what a draft reply asks for that the package holds.
pub async fn check_reply(
    State(app): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CheckReply>,
) -> Result<Json<CheckAnswer>, ApiError> {
    let cid = conversation_id(body.conversation)?;
    // The facts the package shows, as kept on append: no log read per keystroke check.
    let facts = {
        let live = app
            .conversations
            .readable(app.store.as_ref(), &app.policy(), &principal, &cid)
            .await?;
        live.facts.package_facts()
    };
    let role = viewer(principal.role);
    let already_known = detect_repeat_ask(&body.text, &facts)
        .into_iter()
        .filter_map(|repeat| {
            let fact = facts
                .iter()
                .find(|f| f.kind == repeat.kind && f.seq == repeat.fact_seq)?;
            let shown = redact_fact(fact, role);
            Some(Known {
                kind: repeat.kind.as_str().to_owned(),
                label: repeat.kind.words(),
                value: shown.value,
                seq: repeat.fact_seq,
            })
        })
        .collect();
    Ok(Json(CheckAnswer { already_known }))
}
