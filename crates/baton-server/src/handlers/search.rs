//! `GET /v1/conversations`: find conversations by owner, agent, customer, intent and
//! start time, newest started first, a page at a time.
//!
//! Supervisors, admins and auditors search every conversation; an agent searches only
//! the conversations assigned to it (asking for another agent's is a 403, not an empty
//! page). The cursor is opaque to clients: the start time and id of the last row
//! served, which never change, so paging neither skips nor repeats a conversation
//! however the list moves meanwhile.

use axum::Json;
use axum::extract::State;
use baton_core::access::AccessKind;
use baton_core::{AgentId, ConversationId, CustomerId, Label, Owner, Timestamp};
use baton_store::{ConversationCursor, ConversationQuery, ConversationRow, Role};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::params::{self, Source};

/// Largest page.
pub const MAX_LIMIT: u32 = 500;
/// Page size when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 50;

/// `?owner=&agent=&customer=&intent=&since=&until=&cursor=&limit=`
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Only these owners, comma-separated: `bot`, `queued`, `offered`, `agent`, `closed`.
    #[serde(default)]
    pub owner: Option<String>,
    /// Only conversations assigned to this agent (an agent key: itself only).
    #[serde(default)]
    pub agent: Option<String>,
    /// Only this verified customer's.
    #[serde(default)]
    pub customer: Option<String>,
    /// Only those about this intent (the resolving human's judgement, else the NLU's
    /// latest read).
    #[serde(default)]
    pub intent: Option<String>,
    /// Started at or after (RFC 3339).
    #[serde(default)]
    pub since: Option<String>,
    /// Started before (RFC 3339).
    #[serde(default)]
    pub until: Option<String>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// At most this many (default 50, at most 500).
    #[serde(default)]
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
}

/// One conversation in a search result.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConversationLine {
    /// Conversation id.
    pub id: String,
    /// Who holds it.
    pub owner: &'static str,
    /// The assigned agent, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The verified customer, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// What it is about, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it last changed (RFC 3339).
    pub updated_at: String,
    /// Seq of its last event.
    pub last_seq: u64,
}

/// `GET /v1/conversations` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchAnswer {
    /// The page, newest started first.
    pub conversations: Vec<ConversationLine>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `GET /v1/conversations` (supervisor, admin, auditor; an agent: its own): one page of
/// conversations matching every filter given, newest started first.
#[utoipa::path(get, path = "/v1/conversations", params(SearchQuery),
    responses((status = 200, body = SearchAnswer), (status = 400), (status = 403)))]
pub async fn search(
    State(app): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Json<SearchAnswer>, ApiError> {
    principal.require(&[Role::Supervisor, Role::Admin, Role::Auditor, Role::Agent])?;
    let mut store_query = parse(&query)?;
    if principal.role == Role::Agent {
        let me = principal
            .agent
            .clone()
            .ok_or_else(|| ApiError::forbidden("this agent key is bound to no agent"))?;
        match &store_query.agent {
            Some(asked) if *asked != me => {
                return Err(ApiError::forbidden(
                    "an agent key searches only the conversations assigned to its agent",
                )
                .with_field("agent"));
            }
            _ => store_query.agent = Some(me),
        }
    }
    app.access
        .record(&principal, AccessKind::ConversationSearch, None)
        .await;
    let (rows, next_cursor) = page(&app, store_query).await?;
    Ok(Json(SearchAnswer {
        conversations: rows.iter().map(line).collect(),
        next_cursor,
    }))
}

/// One page of `query`, and the cursor of the next page if one follows.
pub async fn page(
    app: &AppState,
    mut query: ConversationQuery,
) -> Result<(Vec<ConversationRow>, Option<String>), ApiError> {
    let limit = query.limit;
    // One more than the page says whether another page follows.
    query.limit = limit + 1;
    let mut rows = app.store.search_conversations(query).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = rows.last().filter(|_| more).map(cursor_after);
    Ok((rows, next_cursor))
}

fn line(row: &ConversationRow) -> ConversationLine {
    let s = &row.summary;
    ConversationLine {
        id: row.id.to_string(),
        owner: s.owner.as_str(),
        agent: s.agent.as_ref().map(ToString::to_string),
        customer: s.customer.as_ref().map(ToString::to_string),
        intent: s.intent.as_ref().map(ToString::to_string),
        started_at: s.started_at.to_string(),
        updated_at: s.updated_at.to_string(),
        last_seq: row.last_seq,
    }
}

/// The store query the parameters describe, every value validated.
pub fn parse(query: &SearchQuery) -> Result<ConversationQuery, ApiError> {
    let owners = match query.owner.as_deref().map(str::trim) {
        None | Some("") => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|raw| {
                Owner::parse(raw.trim()).ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_query",
                        "owner must be a comma-separated list of bot, queued, offered, agent, closed",
                    )
                    .with_field("owner")
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let since = params::timestamp("since", query.since.as_deref())?;
    let until = params::timestamp("until", query.until.as_deref())?;
    if let (Some(since), Some(until)) = (since, until)
        && since >= until
    {
        return Err(
            ApiError::bad_request("invalid_query", "since must be before until")
                .with_field("since"),
        );
    }
    let limit = params::number(
        Source::Query,
        "limit",
        query.limit.as_deref(),
        1,
        u64::from(MAX_LIMIT),
    )?
    .map_or(DEFAULT_LIMIT, |n| u32::try_from(n).unwrap_or(MAX_LIMIT));
    Ok(ConversationQuery {
        owners,
        agent: id_param("agent", query.agent.as_deref(), AgentId::parse)?,
        customer: id_param("customer", query.customer.as_deref(), CustomerId::parse)?,
        intent: id_param("intent", query.intent.as_deref(), Label::parse)?,
        since,
        until,
        after: query.cursor.as_deref().map(decode_cursor).transpose()?,
        limit,
    })
}

fn id_param<T, E: std::fmt::Display>(
    field: &'static str,
    raw: Option<&str>,
    parse: impl Fn(String) -> Result<T, E>,
) -> Result<Option<T>, ApiError> {
    raw.map(|raw| {
        parse(raw.to_owned()).map_err(|e| {
            ApiError::bad_request("invalid_query", format!("{field}: {e}")).with_field(field)
        })
    })
    .transpose()
}

/// The cursor that continues after `row`.
fn cursor_after(row: &ConversationRow) -> String {
    encode_cursor(row.summary.started_at, &row.id)
}

/// The cursor after the conversation `id` that started at `started_at`.
fn encode_cursor(started_at: Timestamp, id: &ConversationId) -> String {
    let mut bytes = started_at.unix_millis().to_be_bytes().to_vec();
    bytes.extend_from_slice(id.as_str().as_bytes());
    hex::encode(bytes)
}

fn decode_cursor(raw: &str) -> Result<ConversationCursor, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "invalid_query",
            "cursor is not one this server handed out; pass next_cursor as it came",
        )
        .with_field("cursor")
    };
    let bytes = hex::decode(raw).map_err(|_| bad())?;
    if bytes.len() <= 8 {
        return Err(bad());
    }
    let (millis, id) = bytes.split_at(8);
    let millis = i64::from_be_bytes(millis.try_into().map_err(|_| bad())?);
    let id = String::from_utf8(id.to_vec()).map_err(|_| bad())?;
    Ok(ConversationCursor {
        started_at: Timestamp::from_unix_millis(millis),
        id: ConversationId::parse(id).map_err(|_| bad())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_a_forged_one_is_refused() {
        let id = ConversationId::parse("conv-7").unwrap();
        let at = Timestamp::from_unix_millis(1_764_000_000_123);
        let cursor = decode_cursor(&encode_cursor(at, &id)).unwrap();
        assert_eq!((cursor.started_at, cursor.id), (at, id));
        for forged in [
            "",
            "zz",
            "0011",
            &hex::encode([0u8; 8]),
            &hex::encode(b"12345678 bad id"),
        ] {
            let error = decode_cursor(forged).unwrap_err();
            assert_eq!(error.field.as_deref(), Some("cursor"), "{forged}");
        }
    }

    #[test]
    fn every_bad_parameter_names_its_field() {
        let cases = [
            (
                SearchQuery {
                    owner: Some("bot,nobody".into()),
                    ..Default::default()
                },
                "owner",
            ),
            (
                SearchQuery {
                    agent: Some("no spaces".into()),
                    ..Default::default()
                },
                "agent",
            ),
            (
                SearchQuery {
                    since: Some("yesterday".into()),
                    ..Default::default()
                },
                "since",
            ),
            (
                SearchQuery {
                    since: Some("2026-12-02T00:00:00Z".into()),
                    until: Some("2026-12-01T00:00:00Z".into()),
                    ..Default::default()
                },
                "since",
            ),
            (
                SearchQuery {
                    limit: Some("0".into()),
                    ..Default::default()
                },
                "limit",
            ),
            (
                SearchQuery {
                    limit: Some("501".into()),
                    ..Default::default()
                },
                "limit",
            ),
        ];
        for (query, field) in cases {
            let error = parse(&query).unwrap_err();
            assert_eq!(error.field.as_deref(), Some(field), "{query:?}");
        }
        let ok = parse(&SearchQuery {
            owner: Some("agent, queued".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(ok.owners, [Owner::Agent, Owner::Queued]);
        assert_eq!(ok.limit, DEFAULT_LIMIT);
    }
}
