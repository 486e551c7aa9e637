//! The package as a Twilio TaskRouter task, for desks that route in Twilio Flex: the
//! parameters of a Task create request (`POST /v1/Workspaces/{WorkspaceSid}/Tasks`),
//! with the task attributes as an object the desk's integration JSON-encodes into the
//! `Attributes` form parameter.
//!
//! Shape checked against Twilio's documentation (read, not copied):
//! - the TaskRouter Task resource (docs/taskrouter/api/task, and the helper libraries'
//!   reference of the same): `Attributes` is a JSON string of whatever the application
//!   needs to route the task; `Priority` is an integer from 0 to 2,147,483,647, and
//!   higher priorities are assigned first; `TaskChannel` names a task channel by its
//!   unique name (`voice`, `sms`, `chat`...);
//! - TaskRouter in Flex (docs/flex/developer/routing): workflows route on task
//!   attributes, so a filter such as `skills HAS "billing"` selects on the array baton
//!   writes;
//! - Flex Insights (docs/flex/developer/insights/enhance-integration and .../labels):
//!   Insights reads a `conversations` object in the task attributes, and
//!   `conversation_label_1..10`, `customer_label_1..3` hold identifiers (labels do not
//!   count against Insights' unique-value limit, which is why ids go there); the Flex
//!   Interactions API's own task attributes carry `conversations.initiated_by`,
//!   `communication_channel` and `direction`, and `customerName` and `channelType` at
//!   the top level, which is what Flex UI shows.
//!
//! Everything baton adds beyond those names sits under one `baton` member so it cannot
//! collide with a desk's own attributes.

use serde_json::{Value, json};

use crate::event::Priority;

use super::model::ContextPackage;
use super::zendesk::{NAME_MAX_CHARS, one_line};

/// The task channel baton's conversations arrive on.
pub const TASK_CHANNEL: &str = "chat";

/// baton's priorities on TaskRouter's integer scale (higher is assigned first). The
/// gaps leave room for a desk's own workflow targets to sit in between.
pub fn task_priority(priority: Priority) -> u32 {
    match priority {
        Priority::Low => 0,
        Priority::Normal => 10,
        Priority::High => 50,
        Priority::Urgent => 100,
    }
}

/// Renders the Task create parameters.
pub fn render_taskrouter(p: &ContextPackage) -> Value {
    let s = &p.situation;
    let who = s
        .customer
        .clone()
        .or_else(|| p.background.identity.customer_id.clone());
    let mut conversations = json!({
        "initiated_by": "Customer",
        "communication_channel": "Chat",
        "direction": "Inbound",
        "conversation_label_1": p.background.conversation_id,
    });
    if let Some(customer_id) = &p.background.identity.customer_id {
        conversations["customer_label_1"] = json!(customer_id);
    }
    let intent = p.assessment.intent.as_ref().map(|i| {
        json!({
            "name": i.name,
            "confidence": i.confidence,
            "calibrated_confidence": i.calibrated_confidence,
        })
    });
    json!({
        "task_channel": TASK_CHANNEL,
        "priority": task_priority(s.priority),
        "attributes": {
            "type": "baton_handoff",
            "customerName": one_line(who.as_deref().unwrap_or("Customer"), NAME_MAX_CHARS),
            "channelType": TASK_CHANNEL,
            "skills": p.recommendation.skills,
            "conversations": conversations,
            "baton": {
                "conversation_id": p.background.conversation_id,
                "summary": s.summary,
                "intent": intent,
                "sentiment": s.sentiment,
                "reasons": s.reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
                "priority": s.priority,
                "waiting_seconds": s.waiting_seconds,
                "prior_contacts": p.background.journey.prior_contacts,
                "opening_line": p.recommendation.opening_line,
                "do_not_ask": p.recommendation.do_not_ask.iter().map(|d| d.label.as_str()).collect::<Vec<_>>(),
                "package_version": p.version,
            },
        },
    })
}
