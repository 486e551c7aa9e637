//! Which conversations a caller may see. Agents see only what is offered or assigned to
//! them; to anyone else a conversation they may not see does not exist (404), so ids
//! cannot be probed.

use baton_core::ConversationState;
use baton_store::Role;

use crate::auth::Principal;
use crate::error::ApiError;

/// Whether `principal` may read a conversation in `state`.
pub fn can_read(principal: &Principal, state: &ConversationState) -> bool {
    match principal.role {
        Role::Agent => {
            let me = principal.agent.as_ref();
            me.is_some()
                && (state.assigned_agent.as_ref() == me
                    || state.offer.as_ref().map(|o| &o.agent_id) == me)
        }
        Role::Bot | Role::Supervisor | Role::Auditor | Role::Admin => true,
    }
}

/// 404 unless the conversation exists and `principal` may read it.
pub fn ensure_readable(
    principal: &Principal,
    exists: bool,
    state: &ConversationState,
) -> Result<(), ApiError> {
    if exists && can_read(principal, state) {
        Ok(())
    } else {
        Err(ApiError::not_found("no such conversation"))
    }
}
