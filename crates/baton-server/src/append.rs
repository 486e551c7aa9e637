//! The append pipeline: decode, authorize, check the ownership rules, fold, derive
//! baton's own events (decisions...), seal the chain, commit in one transaction, apply
//! to memory, publish to subscribers; then return what must happen next
//! ([`AfterCommit`]) as data. It never calls the router: the router calls it.
//!
//! Everything that can refuse a batch runs before the store is touched, and the store
//! writes a batch atomically, so a rejected batch writes nothing.

use baton_core::decode::{NewEvent, decode_new_event};
use baton_core::event::{Decision, EventBody};
use baton_core::id::EventId;
use baton_core::rules::check_append;
use baton_core::{Actor, ConversationId, Event, Timestamp};
use baton_store::{AppendBatch, ConversationSummary, Role, SealedEvent, StoreError};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::app::AppState;
use crate::auth::Principal;
use crate::derive::AfterCommit;
use crate::error::ApiError;
use crate::fanout::Published;
use crate::live::{Live, LiveGuard, with_hash};

/// `POST /v1/conversations/{cid}/events` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppendRequest {
    /// Events in order; see the event types in the README.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<Value>,
    /// The seq the caller believes is last; 409 if the log has moved.
    #[serde(default)]
    pub expected_seq: Option<u64>,
}

/// What an append returns.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppendResponse {
    /// Seq of the last event written by this call (baton's own included).
    pub seq: u64,
    /// Hash of that event.
    pub hash: String,
    /// Owner after the call.
    pub owner: String,
    /// The decision baton made after this batch, if it made one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub decision: Option<Decision>,
}

/// An event about to be written.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Idempotency key, generated when absent.
    pub id: Option<EventId>,
    /// Author.
    pub actor: Actor,
    /// When; now when absent.
    pub at: Option<Timestamp>,
    /// Client metadata.
    pub meta: Option<serde_json::Map<String, Value>>,
    /// The fact.
    pub body: EventBody,
}

impl Draft {
    /// An event baton writes itself.
    pub fn system(body: EventBody) -> Self {
        Self {
            id: None,
            actor: Actor::System,
            at: None,
            meta: None,
            body,
        }
    }
}

/// The outcome of a write.
#[derive(Debug, Clone)]
pub struct Written {
    /// Every event written, in order.
    pub events: Vec<Event>,
    /// Seq and hash of the last.
    pub last_seq: u64,
    /// Hash of the last.
    pub head: String,
    /// What must happen now that it is durable.
    pub after: Vec<AfterCommit>,
}

/// A committed append: the client's answer and what the router must do next.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The answer.
    pub response: AppendResponse,
    /// Work for the router, which `flow::append_events` hands it.
    pub after: Vec<AfterCommit>,
}

/// Why a write failed.
pub enum WriteError {
    /// Refused; nothing written.
    Api(ApiError),
    /// An event id already exists (an idempotent retry, or a mismatched reuse).
    DuplicateId,
    /// The store's log moved on from what memory held (another node wrote to it):
    /// nothing written; the caller reloads and decides again.
    Stale(ApiError),
}

/// How many times a write refused for a stale view is reloaded and tried again
/// before the conflict reaches the caller. Each retry means another node won the same
/// conversation in between; a node that keeps losing is one whose peers have queues
/// of appends to that one conversation, each winning while this one reloads (with
/// three nodes each try wins about one time in three), so the bound is generous:
/// a try costs one read and one refused statement.
pub const STALE_RETRIES: usize = 32;

impl From<ApiError> for WriteError {
    fn from(e: ApiError) -> Self {
        WriteError::Api(e)
    }
}

/// The most events one request may carry.
pub const MAX_BATCH_EVENTS: usize = 500;

fn generated_id() -> EventId {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    EventId::from_random(bytes)
}

/// The actor for an event: the one given, if the key may write as it, or the role's default.
fn resolve_actor(
    principal: &Principal,
    given: Option<Actor>,
    body: &EventBody,
    index: usize,
) -> Result<Actor, ApiError> {
    let field = || format!("events[{index}].actor");
    let default = match (principal.role, body) {
        (Role::Agent, _) => principal.agent.clone().map(Actor::Agent),
        (_, EventBody::CustomerMessage(_)) => Some(Actor::Customer),
        (Role::Bot | Role::Admin, EventBody::AgentMessage(_)) => None,
        (Role::Bot | Role::Admin, _) => Some(Actor::Bot),
        _ => None,
    };
    let actor = given.or(default).ok_or_else(|| {
        ApiError::invalid("missing_field", "say which actor wrote this event").with_field(field())
    })?;
    let allowed = match principal.role {
        Role::Admin => true,
        Role::Bot => matches!(actor, Actor::Customer | Actor::Bot),
        Role::Agent => actor.agent().is_some() && actor.agent() == principal.agent.as_ref(),
        Role::Supervisor | Role::Auditor => false,
    };
    if allowed {
        Ok(actor)
    } else {
        Err(ApiError::forbidden(format!(
            "a {} key may not write as {actor}",
            principal.role.as_str()
        ))
        .with_field(field()))
    }
}

/// Decodes and authorizes a client batch into drafts. Writes nothing.
pub fn prepare(principal: &Principal, request: AppendRequest) -> Result<Vec<Draft>, ApiError> {
    principal.require(&[Role::Bot, Role::Agent, Role::Admin])?;
    if request.events.is_empty() {
        return Err(
            ApiError::invalid("empty_batch", "send at least one event").with_field("events")
        );
    }
    if request.events.len() > MAX_BATCH_EVENTS {
        return Err(ApiError::invalid(
            "batch_too_large",
            format!(
                "at most {MAX_BATCH_EVENTS} events per request, got {}",
                request.events.len()
            ),
        )
        .with_field("events"));
    }
    let mut drafts = Vec::with_capacity(request.events.len());
    let mut seen_ids = std::collections::BTreeSet::new();
    for (index, raw) in request.events.into_iter().enumerate() {
        let NewEvent {
            id,
            actor,
            at,
            meta,
            body,
        } = decode_new_event(raw, &format!("events[{index}]"))?;
        if let Some(id) = &id
            && !seen_ids.insert(id.clone())
        {
            return Err(ApiError::invalid(
                "duplicate_id",
                format!("event id {id} appears twice in this batch"),
            )
            .with_field(format!("events[{index}].id")));
        }
        let actor = resolve_actor(principal, actor, &body, index)?;
        drafts.push(Draft {
            id,
            actor,
            at,
            meta,
            body,
        });
    }
    Ok(drafts)
}

/// Checks, seals and writes drafts to a locked conversation; once the store has
/// committed, publishes the new state and fans out. Run it where a dropped request
/// cannot stop it between the commit and the publish ([`crate::detach`]).
pub async fn write(
    app: &AppState,
    conversation: &ConversationId,
    live: &mut LiveGuard,
    drafts: Vec<Draft>,
    now: Timestamp,
) -> Result<Written, WriteError> {
    let policy = app.policy();
    let mut state = live.state.clone();
    let mut signals = live.signals.clone();
    let mut facts = live.facts.clone();
    let extractor = app.extractor()?;
    let mut repeats = Vec::new();
    let mut prev = live.head;
    let expected_last_seq = state.last_seq;
    let mut events = Vec::with_capacity(drafts.len() + 1);
    let mut sealed = Vec::with_capacity(drafts.len() + 1);
    let client_count = drafts.len();
    // Sealing is the one step between building an event and chaining it: with
    // encryption on, what is stored and hashed is the sealed form.
    let key = match &app.vault {
        Some(vault) => Some(
            vault
                .for_append(conversation, now, !live.exists())
                .await
                .map_err(ApiError::from)?,
        ),
        None => None,
    };
    let mut plain: Vec<Option<String>> = Vec::with_capacity(drafts.len() + 1);
    let mut queue: std::collections::VecDeque<Draft> = drafts.into();
    let mut index = 0;
    while let Some(draft) = queue.pop_front() {
        check_append(&state, &draft.actor, &draft.body)
            .map_err(|refusal| ApiError::from(refusal).with_field(format!("events[{index}]")))?;
        let event = Event {
            erased: false,
            seq: state.last_seq + 1,
            id: draft.id.unwrap_or_else(generated_id),
            actor: draft.actor,
            at: draft.at.unwrap_or(now),
            meta: draft.meta,
            body: draft.body,
        };
        state.apply(&event);
        signals.apply(&event, &policy);
        repeats.extend(facts.observe(&event, &extractor));
        let sealed_event = match &key {
            Some(key) => {
                // Subscribers get the plain event (redacted per reader as ever).
                let (sealed, plain_json) =
                    crate::vault::Vault::seal(conversation, &key.key, &prev, &event)
                        .map_err(ApiError::internal)?;
                plain.push(plain_json);
                sealed
            }
            None => {
                plain.push(None);
                SealedEvent::seal(&prev, &event).map_err(ApiError::internal)?
            }
        };
        prev = sealed_event.hash;
        sealed.push(sealed_event);
        events.push(event);
        index += 1;
        if index == client_count {
            let derived = std::mem::take(&mut repeats)
                .into_iter()
                .chain(app.derive.after_batch(&policy, &state, &signals, &events));
            queue.extend(derived.map(Draft::system));
        }
    }
    let Some(last) = sealed.last() else {
        return Err(ApiError::invalid("empty_batch", "nothing to write").into());
    };
    let (last_seq, head) = (last.seq, last.hash);
    let summary = ConversationSummary {
        owner: state.owner,
        customer: state.customer_id.clone(),
        agent: state.assigned_agent.clone(),
        started_at: state.started_at.unwrap_or(now),
        updated_at: now,
        intent: state.topic().cloned(),
    };
    let published: Vec<Published> = sealed
        .iter()
        .zip(plain)
        .map(|(s, plain)| Published {
            seq: s.seq,
            kind: s.kind,
            json: with_hash(plain.as_deref().unwrap_or(&s.canonical), &s.hash).into(),
        })
        .collect();
    let claim = match assignee(&events) {
        Some(agent) => Some(crate::routing::claim(app, agent).await?),
        None => None,
    };
    let batch = AppendBatch {
        conversation: conversation.clone(),
        expected_last_seq,
        events: sealed,
        summary,
        // The transactional outbox: deliveries commit with the events that cause them.
        outbox: app.webhooks.outbox_for(&state),
        // The agent's capacity is the store's to check: another node may be assigning
        // them another conversation at this very moment.
        claim,
        data_key: key.as_ref().and_then(|k| k.new.clone()),
    };
    let notify_webhooks = batch.outbox.is_some();
    match app.store.append(batch).await {
        Ok(_) => {}
        // The store rolled this batch back alone: nothing was written, memory is right.
        Err(StoreError::DuplicateEventId(_)) => return Err(WriteError::DuplicateId),
        // Refused as a whole before anything was written: memory is right.
        Err(full @ StoreError::AtCapacity { .. }) => return Err(ApiError::from(full).into()),
        // Another node wrote this conversation since memory loaded it: nothing was
        // written, and memory is what is wrong.
        Err(conflict @ StoreError::Conflict { .. }) => {
            live.invalidate();
            if let (Some(vault), Some(key)) = (&app.vault, &key) {
                vault.refused(conversation, key);
            }
            metrics::counter!("baton_stale_view_retries_total").increment(1);
            return Err(WriteError::Stale(ApiError::from(conflict)));
        }
        // A conflict means the log is not what memory holds; any other failure may or
        // may not have committed. Either way only the store knows: reload from it.
        Err(other) => {
            live.invalidate();
            return Err(ApiError::from(other).into());
        }
    }
    if let (Some(vault), Some(key)) = (&app.vault, &key) {
        vault.committed(conversation, key);
    }
    live.commit(Live {
        state,
        head,
        signals,
        facts,
    });
    for event in &events {
        metrics::counter!("baton_events_appended_total", "type" => event.body.kind()).increment(1);
    }
    app.fanout.publish(conversation, &published);
    app.feed.committed();
    let routing = events.iter().any(|e| e.body.moves_routing());
    app.cluster.advanced(conversation, last_seq, routing);
    if notify_webhooks {
        app.webhooks.wake();
    }
    let after = app.derive.after_commit(conversation, &live.state, &events);
    Ok(Written {
        events,
        last_seq,
        head: head.to_hex(),
        after,
    })
}

/// The agent the events make the owner, if they do.
fn assignee(events: &[Event]) -> Option<&baton_core::AgentId> {
    events.iter().rev().find_map(|event| match &event.body {
        EventBody::Assigned(assigned) => Some(&assigned.agent_id),
        _ => None,
    })
}

/// The response for a committed write.
pub fn response(live: &Live, written: &Written) -> AppendResponse {
    let decision = written
        .events
        .iter()
        .rev()
        .find_map(|event| match &event.body {
            EventBody::Decision(decision) => Some(decision.clone()),
            _ => None,
        });
    AppendResponse {
        seq: written.last_seq,
        hash: written.head.clone(),
        owner: live.state.owner.as_str().to_owned(),
        decision,
    }
}

/// Answers a retried batch with the result of its first delivery, or refuses a batch
/// that mixes stored and new ids, or reuses a stored id for a different event.
pub async fn answer_retry(
    app: &AppState,
    conversation: &ConversationId,
    live: &Live,
    drafts: &[Draft],
) -> Result<Option<AppendResponse>, ApiError> {
    let ids: Vec<EventId> = drafts.iter().filter_map(|d| d.id.clone()).collect();
    if ids.is_empty() {
        return Ok(None);
    }
    let found = app.store.find_event_ids(conversation, &ids).await?;
    if found.is_empty() {
        return Ok(None);
    }
    if found.len() != ids.len() {
        let stored: Vec<&str> = found.iter().map(|f| f.id.as_str()).collect();
        return Err(ApiError::conflict(
            "idempotency_conflict",
            format!(
                "ids {} were stored by an earlier request but others in this batch were not",
                stored.join(", ")
            ),
        ));
    }
    crate::idempotency::ensure_same(app, conversation, drafts, &found).await?;
    let Some(last) = found.iter().max_by_key(|f| f.seq) else {
        return Ok(None);
    };
    let mut answer = AppendResponse {
        seq: last.seq,
        hash: last.hash.to_hex(),
        owner: live.state.owner.as_str().to_owned(),
        decision: None,
    };
    // The first delivery's answer ended with baton's own events written right after it.
    // Its decision was triggered by the batch's last signal-bearing event, which need not
    // be its last event (a customer message followed by a bot reply).
    let first_seq = found.iter().map(|f| f.seq).min().unwrap_or(last.seq);
    for stored in app.store.events_after(conversation, last.seq, 8).await? {
        let Ok(event) = serde_json::from_str::<Event>(&stored.canonical) else {
            break;
        };
        match event.body {
            EventBody::Decision(decision)
                if (first_seq..=last.seq).contains(&decision.trigger_seq) =>
            {
                answer.decision = Some(decision)
            }
            EventBody::RepeatAsk(ask) if ask.asked_seq <= last.seq => {}
            EventBody::CustomerRepeated(repeat) if repeat.repeated_seq <= last.seq => {}
            _ => break,
        }
        answer.seq = stored.seq;
        answer.hash = stored.hash.to_hex();
    }
    Ok(Some(answer))
}

/// Decodes and authorizes a client batch before anything is allocated for it.
pub async fn admit(
    app: &AppState,
    principal: &Principal,
    cid: &ConversationId,
    request: AppendRequest,
) -> Result<(Option<u64>, Vec<Draft>), ApiError> {
    let expected = request.expected_seq;
    let drafts = prepare(principal, request)?;
    if principal.role == Role::Agent {
        // An agent writes only where it may read: checked before anything is allocated.
        app.conversations
            .readable(app.store.as_ref(), &app.policy(), principal, cid)
            .await?;
    }
    Ok((expected, drafts))
}

/// The locked part of an append: retry detection, `expected_seq`, write. Run it where
/// a dropped request cannot stop it ([`crate::detach`]), with its [`Committed::after`]
/// handed on in the same task, as `flow::append_events` does.
pub async fn append_locked(
    app: &AppState,
    principal: &Principal,
    cid: &ConversationId,
    expected: Option<u64>,
    drafts: Vec<Draft>,
) -> Result<Committed, ApiError> {
    let mut live = app
        .conversations
        .lock(app.store.as_ref(), &app.policy(), cid)
        .await?;
    let mut stale_retries = 0;
    loop {
        match append_once(app, principal, cid, expected, drafts.clone(), &mut live).await {
            Err(WriteError::Stale(conflict)) => {
                // Memory was behind the store: reload and check and decide the whole
                // batch again on the stored log. The client's own `expected_seq` is
                // compared again too, so only a client that was stale sees a 409.
                stale_retries += 1;
                if stale_retries > STALE_RETRIES {
                    return Err(conflict);
                }
                app.conversations
                    .reload(&mut live, app.store.as_ref(), &app.policy(), cid)
                    .await?;
            }
            Err(WriteError::Api(error)) => return Err(error),
            Err(WriteError::DuplicateId) => {
                return Err(ApiError::internal("a duplicate id escaped the retry check"));
            }
            Ok(committed) => return Ok(committed),
        }
    }
}

/// One try of [`append_locked`] on the state memory holds.
async fn append_once(
    app: &AppState,
    principal: &Principal,
    cid: &ConversationId,
    expected: Option<u64>,
    drafts: Vec<Draft>,
    live: &mut LiveGuard,
) -> Result<Committed, WriteError> {
    let answered = |response| Committed {
        response,
        after: Vec::new(),
    };

    if principal.role == Role::Agent && !crate::access::can_read(principal, &live.state) {
        return Err(refused_unless_stale(
            app,
            cid,
            live,
            ApiError::not_found("no such conversation"),
        )
        .await);
    }
    if let Some(expected) = expected
        && expected != live.state.last_seq
    {
        // Memory may be the stale one (another node wrote): only the store can say
        // the client is. Reloading is cheap next to a wrong 409.
        if is_stale(app, cid, live).await? {
            return Err(WriteError::Stale(ApiError::conflict(
                "seq_conflict",
                "memory is behind the store",
            )));
        }
        if let Some(answer) = answer_retry(app, cid, live, &drafts).await? {
            return Ok(answered(answer));
        }
        return Err(WriteError::Api(
            ApiError::conflict(
                "seq_conflict",
                format!(
                    "expected_seq is {expected} but the conversation is at seq {}",
                    live.state.last_seq
                ),
            )
            .with_field("expected_seq"),
        ));
    }
    // Kept only when a retry is possible: to compare a duplicate id's body with the stored one.
    let retry_key = if drafts.iter().any(|d| d.id.is_some()) {
        drafts.clone()
    } else {
        Vec::new()
    };
    match write(app, cid, live, drafts, app.clock.now()).await {
        Ok(written) => Ok(Committed {
            response: response(live, &written),
            after: written.after,
        }),
        // A retry of a batch that is stored must get its first answer even when the
        // rules would refuse the batch now (a bot's reply retried after an agent took
        // over). A store failure is not a refusal: its outcome is the store's to tell.
        Err(WriteError::Api(error)) if !retry_key.is_empty() && error.status.is_client_error() => {
            match answer_retry(app, cid, live, &retry_key).await? {
                Some(answer) => Ok(answered(answer)),
                None => Err(refused_unless_stale(app, cid, live, error).await),
            }
        }
        // A refusal by the rules is only right if memory is the stored log.
        Err(WriteError::Api(error)) if error.status.is_client_error() => {
            Err(refused_unless_stale(app, cid, live, error).await)
        }
        Err(WriteError::DuplicateId) => match answer_retry(app, cid, live, &retry_key).await? {
            Some(answer) => Ok(answered(answer)),
            None => Err(ApiError::conflict(
                "duplicate_event_id",
                "an event id in this batch is already stored",
            )
            .into()),
        },
        Err(other) => Err(other),
    }
}

/// Whether memory is behind the store for a locked conversation (another node wrote).
pub async fn is_stale(app: &AppState, cid: &ConversationId, live: &Live) -> Result<bool, ApiError> {
    let stored = app.store.conversation(cid).await?;
    Ok(stored.map_or(0, |row| row.last_seq) != live.state.last_seq)
}

/// `refusal` as the answer if memory matches the store; a retry on the stored log if not.
async fn refused_unless_stale(
    app: &AppState,
    cid: &ConversationId,
    live: &Live,
    refusal: ApiError,
) -> WriteError {
    match is_stale(app, cid, live).await {
        Ok(true) => WriteError::Stale(refusal),
        Ok(false) => WriteError::Api(refusal),
        Err(error) => WriteError::Api(error),
    }
}

/// Writes one of baton's own events to a locked conversation and answers as an append.
pub async fn write_system(
    app: &AppState,
    conversation: &ConversationId,
    live: &mut LiveGuard,
    body: EventBody,
) -> Result<AppendResponse, ApiError> {
    let mut stale_retries = 0;
    loop {
        let draft = vec![Draft::system(body.clone())];
        return match write(app, conversation, live, draft, app.clock.now()).await {
            Ok(written) => Ok(response(live, &written)),
            Err(WriteError::Api(error)) => Err(error),
            Err(WriteError::DuplicateId) => Err(ApiError::internal("generated event id collided")),
            // Another node moved the log: baton's own event is checked again on the
            // stored log (the rules may refuse it now, as they should).
            Err(WriteError::Stale(conflict)) => {
                stale_retries += 1;
                if stale_retries > STALE_RETRIES {
                    return Err(conflict);
                }
                app.conversations
                    .reload(live, app.store.as_ref(), &app.policy(), conversation)
                    .await?;
                continue;
            }
        };
    }
}
