//! The context package as the conversation page shows it: built by
//! [`crate::package::build_for`] for the signed-in reader, with the conversation's
//! state beside it.

use baton_core::event::ReadBack;
use baton_core::package::ContextPackage;
use baton_core::{ConversationId, ConversationState};

use crate::app::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::live::Live;
use crate::redaction::ReadView;

/// What the conversation page is drawn from.
pub struct Loaded {
    /// The package for the reader.
    pub package: ContextPackage,
    /// The folded state, read just before the package was built.
    pub state: ConversationState,
    /// The reader's own standing read-back (see [`own_read_back`]).
    pub read_back: Option<ReadBack>,
}

/// Loads the package `principal` may read (404 when they may not see the conversation).
///
/// The state is read first, so its `last_seq` never runs ahead of the package: the
/// page's live stream resumes after it and at worst repeats a line the page drops.
pub async fn load(
    app: &AppState,
    principal: &Principal,
    cid: &ConversationId,
) -> Result<Loaded, ApiError> {
    let (state, read_back) = {
        let live = app
            .conversations
            .readable(app.store.as_ref(), &app.policy(), principal, cid)
            .await?;
        (live.state.clone(), own_read_back(app, principal, &live)?)
    };
    let package = crate::package::build_for(app, principal, cid).await?;
    Ok(Loaded {
        package,
        state,
        read_back,
    })
}

/// The conversation's latest read-back when `principal` wrote it, as the page's next
/// read-back must repeat it: the latest read-back stands, so each one the page sends
/// carries the agent's word so far (a fact corrected before a reload stays corrected).
/// A corrected value masked for this reader cannot be sent back as it was typed, so it
/// is left out.
fn own_read_back(
    app: &AppState,
    principal: &Principal,
    live: &Live,
) -> Result<Option<ReadBack>, ApiError> {
    let Some(stored) = live
        .state
        .read_back
        .as_ref()
        .filter(|r| principal.agent.as_ref() == Some(&r.agent_id))
        // Given in this handoff: one from before a bounce-back read another package.
        .filter(|r| {
            live.state
                .handoff
                .as_ref()
                .is_none_or(|h| r.seq > h.decision_seq)
        })
    else {
        return Ok(None);
    };
    let mut read_back = stored.read_back.clone();
    let view = ReadView::new(app, principal.role, live.facts.package_facts())?;
    if let Some(shown) = view.redactor().state(&live.state)
        && let Some(shown) = shown.read_back
    {
        let clear = shown.read_back.facts.corrected;
        let mut index = 0;
        read_back.facts.corrected.retain(|fact| {
            let same = clear.get(index) == Some(fact);
            index += 1;
            same
        });
    }
    Ok(Some(read_back))
}
