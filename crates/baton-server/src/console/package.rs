//! The context package as the conversation page shows it: built by
//! [`crate::package::build_for`] for the signed-in reader, with the conversation's
//! state beside it.

use baton_core::package::ContextPackage;
use baton_core::{ConversationId, ConversationState};

use crate::app::AppState;
use crate::auth::Principal;
use crate::error::ApiError;

/// What the conversation page is drawn from.
pub struct Loaded {
    /// The package for the reader.
    pub package: ContextPackage,
    /// The folded state, read just before the package was built.
    pub state: ConversationState,
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
    let state = {
        let live = app
            .conversations
            .readable(app.store.as_ref(), &app.policy(), principal, cid)
            .await?;
        live.state.clone()
    };
    let package = crate::package::build_for(app, principal, cid).await?;
    Ok(Loaded { package, state })
}
