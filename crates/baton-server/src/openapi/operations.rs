//! Every documented operation: its `operationId` (what links point at) and the roles
//! that may call it (`x-baton-roles`). The roles are what the handlers' `require`
//! calls and the BOLA matrix (`tests/it/bola.rs`, `docs/security.md`) say; a test
//! compares this table with that matrix, and another that every operation is here.

use baton_core::Role;

use Role::{Admin, Agent, Auditor, Bot, Supervisor};

/// One operation.
pub struct Operation {
    /// `get`, `post`, `put` or `delete`.
    pub method: &'static str,
    /// The path template, as in the document.
    pub path: &'static str,
    /// Its `operationId`.
    pub id: &'static str,
    /// Who may call it (on some object: an agent only on its own).
    pub roles: &'static [Role],
    /// What limits a role, when more than the list says.
    pub note: Option<&'static str>,
}

const ALL_ROLES: &[Role] = &Role::ALL;

const fn op(
    method: &'static str,
    path: &'static str,
    id: &'static str,
    roles: &'static [Role],
    note: Option<&'static str>,
) -> Operation {
    Operation {
        method,
        path,
        id,
        roles,
        note,
    }
}

const AGENT_OWN: Option<&str> = Some("an agent only for conversations offered or assigned to it");

/// The table.
pub const OPERATIONS: &[Operation] = &[
    op("post", "/v1/keys", "createKey", &[Admin], None),
    op("get", "/v1/keys", "listKeys", &[Admin], None),
    op("delete", "/v1/keys/{id}", "revokeKey", &[Admin], None),
    op(
        "get",
        "/v1/conversations",
        "searchConversations",
        &[Agent, Supervisor, Auditor, Admin],
        Some("an agent sees only its own conversations"),
    ),
    op(
        "post",
        "/v1/conversations/{cid}/events",
        "appendEvents",
        &[Bot, Agent, Admin],
        Some("an agent only to a conversation offered or assigned to it"),
    ),
    op(
        "get",
        "/v1/conversations/{cid}/events",
        "getEvents",
        ALL_ROLES,
        Some(
            "an agent only for conversations offered or assigned to it; `view=sealed`: auditor, admin",
        ),
    ),
    op(
        "get",
        "/v1/conversations/{cid}",
        "getConversation",
        ALL_ROLES,
        AGENT_OWN,
    ),
    op(
        "delete",
        "/v1/conversations/{cid}",
        "eraseConversation",
        &[Admin],
        None,
    ),
    op(
        "delete",
        "/v1/customers/{customer_id}",
        "eraseCustomer",
        &[Admin],
        None,
    ),
    op(
        "get",
        "/v1/customers/{customer_id}/export",
        "exportCustomer",
        &[Auditor, Admin],
        None,
    ),
    op(
        "get",
        "/v1/conversations/{cid}/stream",
        "streamConversation",
        ALL_ROLES,
        AGENT_OWN,
    ),
    op(
        "get",
        "/v1/ledger/verify",
        "verifyLedger",
        &[Auditor, Admin],
        None,
    ),
    op(
        "get",
        "/v1/audit/access",
        "accessLog",
        &[Auditor],
        Some("not even an admin"),
    ),
    op(
        "get",
        "/v1/conversations/{cid}/package",
        "getPackage",
        ALL_ROLES,
        AGENT_OWN,
    ),
    op(
        "post",
        "/v1/conversations/{cid}/bounce-back",
        "bounceBack",
        &[Agent],
        Some("the owning agent"),
    ),
    op(
        "post",
        "/v1/conversations/{cid}/resolve",
        "resolveConversation",
        &[Bot, Agent, Supervisor, Admin],
        Some("the owning agent, or the bot while it owns the conversation"),
    ),
    op(
        "post",
        "/v1/conversations/{cid}/read-back",
        "readBack",
        &[Agent],
        Some("the owning agent"),
    ),
    op(
        "post",
        "/v1/conversations/{cid}/survey",
        "survey",
        &[Bot, Agent],
        Some("the agent who handled the conversation"),
    ),
    op(
        "get",
        "/v1/insights/intents",
        "intentInsights",
        &[Supervisor, Admin],
        None,
    ),
    op(
        "get",
        "/v1/insights/outcomes",
        "outcomeInsights",
        &[Supervisor, Admin],
        None,
    ),
    op(
        "put",
        "/v1/agents/{aid}",
        "putAgent",
        &[Supervisor, Admin],
        None,
    ),
    op(
        "get",
        "/v1/agents",
        "listAgents",
        &[Supervisor, Admin],
        None,
    ),
    op(
        "get",
        "/v1/agents/{aid}",
        "getAgent",
        &[Agent, Supervisor, Admin],
        Some("an agent only itself"),
    ),
    op(
        "post",
        "/v1/agents/{aid}/presence",
        "setPresence",
        &[Agent, Supervisor, Admin],
        Some("an agent only itself"),
    ),
    op(
        "get",
        "/v1/agents/{aid}/offers",
        "agentOffers",
        &[Agent, Supervisor, Admin],
        Some("an agent only its own"),
    ),
    op(
        "get",
        "/v1/queues",
        "queues",
        &[Bot, Supervisor, Admin],
        None,
    ),
    op(
        "post",
        "/v1/offers/{oid}/accept",
        "acceptOffer",
        &[Agent],
        Some("the agent offered"),
    ),
    op(
        "post",
        "/v1/offers/{oid}/reject",
        "rejectOffer",
        &[Agent],
        Some("the agent offered"),
    ),
    op("get", "/v1/stats", "stats", &[Supervisor, Admin], None),
    op("get", "/v1/events", "feedPage", ALL_ROLES, AGENT_OWN),
    op(
        "get",
        "/v1/events/stream",
        "feedStream",
        ALL_ROLES,
        AGENT_OWN,
    ),
    op("post", "/v1/webhooks", "createWebhook", &[Admin], None),
    op("get", "/v1/webhooks", "listWebhooks", &[Admin], None),
    op("get", "/v1/webhooks/{id}", "getWebhook", &[Admin], None),
    op(
        "delete",
        "/v1/webhooks/{id}",
        "deleteWebhook",
        &[Admin],
        None,
    ),
    op(
        "post",
        "/v1/webhooks/{id}/rotate-secret",
        "rotateWebhookSecret",
        &[Admin],
        None,
    ),
    op(
        "get",
        "/v1/webhooks/{id}/deliveries",
        "webhookDeliveries",
        &[Admin],
        None,
    ),
    op(
        "post",
        "/v1/webhooks/{id}/replay",
        "replayWebhook",
        &[Admin],
        None,
    ),
];

/// The entry for `method path`.
pub fn find(method: &str, path: &str) -> Option<&'static Operation> {
    OPERATIONS
        .iter()
        .find(|o| o.method == method && o.path == path)
}
