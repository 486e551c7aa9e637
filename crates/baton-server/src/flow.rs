//! One client batch end to end: the append pipeline ([`crate::append`]) commits it and
//! returns what it leaves to do as data, and the router ([`crate::routing`]) takes that
//! data. The only module that knows both, so neither knows the other's caller.

use baton_core::ConversationId;

use crate::app::AppState;
use crate::append::{AppendRequest, AppendResponse, admit, append_locked};
use crate::auth::Principal;
use crate::error::ApiError;

/// The whole append call, as the HTTP handler and in-process callers (benchmarks,
/// demo) run it: decode, authorize, retry detection, `expected_seq`, write, then the
/// router's part.
///
/// The locked part and the hand-over to the router run on their own task: a caller
/// that gives up (a client timeout) cannot stop it between the store's commit and the
/// in-memory update, nor lose a handoff's place in the queue.
pub async fn append_events(
    app: &AppState,
    principal: &Principal,
    cid: &ConversationId,
    request: AppendRequest,
) -> Result<AppendResponse, ApiError> {
    let started = std::time::Instant::now();
    let (expected, drafts) = admit(app, principal, cid, request).await?;
    let (app, principal, cid) = (app.clone(), principal.clone(), cid.clone());
    let result = crate::detach::run(async move {
        let committed = append_locked(&app, &principal, &cid, expected, drafts).await?;
        crate::routing::follow(&app, committed.after);
        Ok(committed.response)
    })
    .await;
    metrics::histogram!("baton_append_seconds").record(started.elapsed().as_secs_f64());
    result
}
