//! OpenAPI links: which answer feeds which next call (create a key -> revoke it;
//! append -> read the events, state, package, stream; an agent's offers -> accept or
//! reject one; create a webhook -> read, rotate, list deliveries, replay, delete).

use std::collections::BTreeMap;

use utoipa::openapi::RefOr;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::Operation;

/// A link from one operation's answer to another operation.
struct Link {
    from: (&'static str, &'static str),
    status: &'static str,
    name: &'static str,
    to: &'static str,
    /// Target parameter -> runtime expression.
    parameters: &'static [(&'static str, &'static str)],
    description: &'static str,
}

const CID: &[(&str, &str)] = &[("cid", "$request.path.cid")];
const AID: &[(&str, &str)] = &[("aid", "$request.path.aid")];
const NEW_WEBHOOK: &[(&str, &str)] = &[("id", "$response.body#/id")];
const SAME_WEBHOOK: &[(&str, &str)] = &[("id", "$request.path.id")];
const FIRST_OFFER: &[(&str, &str)] = &[("oid", "$response.body#/offers/0/offer_id")];

const APPEND: (&str, &str) = ("post", "/v1/conversations/{cid}/events");
const CREATE_WEBHOOK: (&str, &str) = ("post", "/v1/webhooks");

const LINKS: &[Link] = &[
    Link {
        from: ("post", "/v1/keys"),
        status: "201",
        name: "RevokeKey",
        to: "revokeKey",
        parameters: &[("id", "$response.body#/id")],
        description: "The new key's id. The key itself (`key`) is the bearer token of later calls.",
    },
    Link {
        from: APPEND,
        status: "200",
        name: "GetEvents",
        to: "getEvents",
        parameters: CID,
        description: "The log the batch was appended to.",
    },
    Link {
        from: APPEND,
        status: "200",
        name: "GetConversation",
        to: "getConversation",
        parameters: CID,
        description: "The state after the batch.",
    },
    Link {
        from: APPEND,
        status: "200",
        name: "GetPackage",
        to: "getPackage",
        parameters: CID,
        description: "The context package, once the decision hands off.",
    },
    Link {
        from: APPEND,
        status: "200",
        name: "StreamConversation",
        to: "streamConversation",
        parameters: CID,
        description: "Live events from here on.",
    },
    Link {
        from: ("get", "/v1/conversations/{cid}"),
        status: "200",
        name: "GetEvents",
        to: "getEvents",
        parameters: CID,
        description: "The events the state folds.",
    },
    Link {
        from: ("put", "/v1/agents/{aid}"),
        status: "200",
        name: "SetPresence",
        to: "setPresence",
        parameters: AID,
        description: "Make the agent available for offers.",
    },
    Link {
        from: ("put", "/v1/agents/{aid}"),
        status: "200",
        name: "AgentOffers",
        to: "agentOffers",
        parameters: AID,
        description: "The agent's live offers.",
    },
    Link {
        from: ("get", "/v1/agents/{aid}/offers"),
        status: "200",
        name: "AcceptOffer",
        to: "acceptOffer",
        parameters: FIRST_OFFER,
        description: "Take the first offer.",
    },
    Link {
        from: ("get", "/v1/agents/{aid}/offers"),
        status: "200",
        name: "RejectOffer",
        to: "rejectOffer",
        parameters: FIRST_OFFER,
        description: "Pass the first offer on.",
    },
    Link {
        from: ("get", "/v1/conversations"),
        status: "200",
        name: "GetConversation",
        to: "getConversation",
        parameters: &[("cid", "$response.body#/conversations/0/id")],
        description: "Open the first conversation found.",
    },
    Link {
        from: CREATE_WEBHOOK,
        status: "201",
        name: "GetWebhook",
        to: "getWebhook",
        parameters: NEW_WEBHOOK,
        description: "The subscription (without its secret).",
    },
    Link {
        from: CREATE_WEBHOOK,
        status: "201",
        name: "RotateWebhookSecret",
        to: "rotateWebhookSecret",
        parameters: NEW_WEBHOOK,
        description: "A new secret; the old one signs beside it for the grace period.",
    },
    Link {
        from: CREATE_WEBHOOK,
        status: "201",
        name: "WebhookDeliveries",
        to: "webhookDeliveries",
        parameters: NEW_WEBHOOK,
        description: "Its deliveries and their tries.",
    },
    Link {
        from: CREATE_WEBHOOK,
        status: "201",
        name: "ReplayWebhook",
        to: "replayWebhook",
        parameters: NEW_WEBHOOK,
        description: "Send delivered or dead deliveries again.",
    },
    Link {
        from: CREATE_WEBHOOK,
        status: "201",
        name: "DeleteWebhook",
        to: "deleteWebhook",
        parameters: NEW_WEBHOOK,
        description: "Unsubscribe.",
    },
    Link {
        from: ("get", "/v1/webhooks/{id}"),
        status: "200",
        name: "WebhookDeliveries",
        to: "webhookDeliveries",
        parameters: SAME_WEBHOOK,
        description: "Its deliveries.",
    },
];

/// Adds the links that start at `method path` to its answers.
pub fn add(method: &str, path: &str, operation: &mut Operation) {
    for link in LINKS.iter().filter(|l| l.from == (method, path)) {
        let Some(RefOr::T(response)) = operation.responses.responses.get_mut(link.status) else {
            continue;
        };
        let parameters: BTreeMap<String, serde_json::Value> = link
            .parameters
            .iter()
            .map(|(name, expression)| ((*name).to_owned(), serde_json::json!(expression)))
            .collect();
        // utoipa 5.5 writes `Link::operation_id` as `operation_id`, which no tool reads:
        // the field goes out under its OpenAPI name through the flattened extensions.
        let target: utoipa::openapi::extensions::Extensions =
            [("operationId", serde_json::json!(link.to))]
                .into_iter()
                .collect();
        let mut builder = LinkBuilder::new()
            .extensions(Some(target))
            .description(link.description);
        for (name, value) in parameters {
            builder = builder.parameter(name, value);
        }
        response
            .links
            .insert(link.name.to_owned(), RefOr::T(builder.build()));
    }
}

/// Every link as (from operation, status, target operationId), for tests.
pub fn all() -> impl Iterator<Item = ((&'static str, &'static str), &'static str, &'static str)> {
    LINKS.iter().map(|l| (l.from, l.status, l.to))
}
