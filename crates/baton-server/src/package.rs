//! Building the context package for a reader: gather the log, the fold, the signals,
//! the customer's journey and the policy's playbooks, then let baton-core build it.

use baton_core::facts::ViewerRole;
use baton_core::package::{
    ContextPackage, PackageInput, PackageSignals, Playbook, Playbooks, PriorContact,
    SentimentSignal, build_package,
};
use baton_core::{ConversationId, Event};
use baton_store::Role;

use crate::app::AppState;
use crate::auth::Principal;
use crate::error::ApiError;

pub use crate::derive::ExtractorSlot;

/// What a role may see of personal data.
pub fn viewer(role: Role) -> ViewerRole {
    match role {
        Role::Bot => ViewerRole::Bot,
        Role::Agent => ViewerRole::Agent,
        Role::Supervisor => ViewerRole::Supervisor,
        Role::Auditor => ViewerRole::Auditor,
        Role::Admin => ViewerRole::Admin,
    }
}

/// The package reads at most this many of the latest events (the transcript, timeline
/// and documents cover them; facts, state and signals are kept whole on append), and at
/// most this many bytes of them, so a long log of large events costs a bounded read.
pub const PACKAGE_EVENTS: u32 = 2_000;
/// See [`PACKAGE_EVENTS`].
pub const PACKAGE_BYTES: usize = 2 * 1024 * 1024;

/// The latest events of a conversation up to `last_seq`, parsed, bounded as above.
pub async fn load_events(
    app: &AppState,
    cid: &ConversationId,
    last_seq: u64,
) -> Result<Vec<Event>, ApiError> {
    let tail = app
        .store
        .events_tail(cid, PACKAGE_EVENTS, PACKAGE_BYTES)
        .await?;
    tail.iter()
        // Events appended after the snapshot are not in its state or facts.
        .filter(|stored| stored.seq <= last_seq)
        .map(|stored| crate::live::parse_stored(cid, stored))
        .collect()
}

/// The most earlier contacts shown in the journey.
const JOURNEY_LIMIT: usize = 10;

/// Builds the package of `cid` as `role` may see it.
pub async fn build(
    app: &AppState,
    role: Role,
    cid: &ConversationId,
) -> Result<ContextPackage, ApiError> {
    build_checked(app, None, role, cid).await
}

/// Builds the package for a caller, 404 unless they may read the conversation.
pub async fn build_for(
    app: &AppState,
    principal: &Principal,
    cid: &ConversationId,
) -> Result<ContextPackage, ApiError> {
    build_checked(app, Some(principal), principal.role, cid).await
}

async fn build_checked(
    app: &AppState,
    principal: Option<&Principal>,
    role: Role,
    cid: &ConversationId,
) -> Result<ContextPackage, ApiError> {
    let policy = app.policy();
    let live = match principal {
        Some(p) => {
            app.conversations
                .readable(app.store.as_ref(), &policy, p, cid)
                .await?
        }
        None => app
            .conversations
            .snapshot(app.store.as_ref(), &policy, cid)
            .await?
            .ok_or_else(|| ApiError::not_found("no such conversation"))?,
    };
    let (state, snapshot, facts) = (
        &live.state,
        live.signals.snapshot(),
        live.facts.package_facts(),
    );
    let events = load_events(app, cid, state.last_seq).await?;
    let mut journey = Vec::new();
    if let Some(customer) = &state.customer_id {
        let mut rows = app.store.conversations_of_customer(customer).await?;
        // Only what came before: a later conversation is not this one's history, and
        // listing it would show a conversation bound later, by anyone, to this customer.
        let started = state.started_at;
        rows.retain(|row| &row.id != cid && started.is_some_and(|s| row.summary.started_at < s));
        let skip = rows.len().saturating_sub(JOURNEY_LIMIT);
        for row in rows.into_iter().skip(skip) {
            let Some(prior) = app
                .conversations
                .snapshot(app.store.as_ref(), &policy, &row.id)
                .await?
            else {
                continue;
            };
            journey.push(PriorContact {
                conversation_id: row.id.to_string(),
                started_at: row.summary.started_at,
                handoffs: prior.state.counts.handoffs,
                resolution: prior.state.resolution.as_ref().map(|r| r.to_string()),
                true_intent: prior.state.true_intent.as_ref().map(|i| i.to_string()),
                csat: prior.state.csat,
            });
        }
    }
    // Left empty, the confidence history is read from the log's `nlu` events by the
    // builder itself.
    let signals = PackageSignals {
        sentiment: SentimentSignal::from_snapshot(&snapshot),
        confidence_history: Vec::new(),
        calibrated_confidence: snapshot.raw_confidence.and(snapshot.confidence),
    };
    let playbooks = Playbooks(
        policy
            .playbooks
            .iter()
            .map(|p| Playbook {
                intent: p.intent.as_str().to_owned(),
                steps: p.steps.clone(),
            })
            .collect(),
    );
    let label = policy.label().map(|l| l.to_string());
    let input = PackageInput {
        conversation_id: cid.as_str(),
        events: &events,
        state,
        now: app.clock.now(),
        viewer: viewer(role),
        signals: &signals,
        journey: &journey,
        playbooks: &playbooks,
        policy_version: label.as_deref(),
        facts: Some(&facts),
    };
    let started = std::time::Instant::now();
    let package = build_package(&input, &*app.extractor()?);
    metrics::histogram!("baton_package_build_seconds").record(started.elapsed().as_secs_f64());
    Ok(package)
}

/// The situation line of an offer, as a reader with `role` may see it.
pub async fn situation(
    app: &AppState,
    role: Role,
    cid: &ConversationId,
) -> Result<String, ApiError> {
    Ok(build(app, role, cid).await?.situation.summary)
}
