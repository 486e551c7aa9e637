//! The console's pages. Each reads who is signed in from the session cookie and sends
//! anyone else back to the sign-in page. Every page carries its session's CSRF token
//! (a `<meta>` for `console.js`, a hidden field in the sign-out form).

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use baton_core::access::{AccessKind, ConsolePage};
use baton_core::{ConversationId, Owner};
use baton_store::{ConversationFilter, Role};

use super::charts::{Column, bar_chart, legend};
use super::form::{day_start, given};
use super::package::load;
use super::view::{ConversationView, conversation_view};
use super::{Page, SUPERVISORS, minute_words, session_of, signed_in};
use crate::access_log::ClientAddr;
use crate::app::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::handlers::search::{self, SearchQuery};
use crate::handlers::stats::{self, Stats};

/// One of the agent's conversations.
pub struct MineLine {
    /// Conversation id.
    pub cid: String,
    /// Owner in words.
    pub owner: &'static str,
}

/// The agent's home: presence, live offers, their conversations.
#[derive(Template)]
#[template(path = "agent.html")]
pub struct AgentHome {
    /// The session's CSRF token.
    pub csrf: String,
    /// The signed-in agent.
    pub agent_id: String,
    /// The agent, in words, for the header.
    pub me: String,
    /// Each presence and whether it is the agent's now.
    pub presences: Vec<(&'static str, bool)>,
    /// Conversations the agent holds.
    pub mine: Vec<MineLine>,
}

/// One conversation, package first.
#[derive(Template)]
#[template(path = "conversation.html")]
pub struct ConversationPage {
    /// The session's CSRF token.
    pub csrf: String,
    /// Who reads it, in words.
    pub me: String,
    /// Where "home" is.
    pub home: &'static str,
    /// What it shows.
    pub v: ConversationView,
}

/// The supervisor's charts, as a fragment the page refreshes.
#[derive(Template)]
#[template(path = "charts.html")]
pub struct Charts {
    /// Window in hours.
    pub hours: u32,
    /// Handoffs in the window.
    pub handoffs: u32,
    /// Handoff reasons per hour (SVG).
    pub reasons_svg: String,
    /// Its legend (HTML).
    pub reasons_legend: String,
    /// Ramp-up per handoff (SVG).
    pub ramp_svg: String,
    /// Ramp-up in words.
    pub ramp_words: String,
    /// Repeat asks per hour (SVG).
    pub repeat_svg: String,
    /// Repeat asks in words.
    pub repeat_words: String,
}

/// The supervisor's view.
#[derive(Template)]
#[template(path = "supervisor.html")]
pub struct SupervisorPage {
    /// The session's CSRF token.
    pub csrf: String,
    /// Who reads it, in words.
    pub me: String,
    /// The charts fragment, rendered.
    pub charts_html: String,
}

async fn require(
    app: &AppState,
    headers: &HeaderMap,
    roles: &[Role],
) -> Result<Option<(Principal, String)>, ApiError> {
    Ok(signed_in(app, headers)
        .await?
        .filter(|s| roles.contains(&s.principal.role))
        .map(|s| (s.principal, s.csrf)))
}

/// `GET /console/agent`: the agent's home.
pub async fn agent_home(
    State(app): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
) -> Result<Page, ApiError> {
    let Some((principal, me, csrf)) = require(&app, &headers, &[Role::Agent])
        .await?
        .and_then(|(p, csrf)| Some((p.clone(), p.agent?, csrf)))
    else {
        return Ok(Page::sign_in());
    };
    let reader = Principal {
        address: Some(address),
        ..principal
    };
    app.access
        .record(
            &reader,
            AccessKind::ConsolePage {
                page: ConsolePage::AgentHome,
            },
            None,
        )
        .await;
    let presence = app
        .store
        .agent(&me)
        .await?
        .map_or_else(|| "offline".to_owned(), |a| a.presence);
    let filter = ConversationFilter {
        owners: vec![Owner::Agent],
        agent: Some(me.clone()),
        limit: Some(50),
    };
    let mine = app
        .store
        .conversations(filter)
        .await?
        .into_iter()
        .map(|row| MineLine {
            cid: row.id.to_string(),
            owner: row.summary.owner.as_str(),
        })
        .collect();
    let presences = ["available", "away", "offline"]
        .into_iter()
        .map(|p| (p, p == presence))
        .collect();
    Page::render(&AgentHome {
        agent_id: me.to_string(),
        me: format!("agent {me}"),
        presences,
        mine,
        csrf,
    })
}

/// `GET /console/conversations/{cid}`: the package, the live transcript, the reply box.
pub async fn conversation(
    State(app): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    ApiPath(cid): ApiPath<ConversationId>,
) -> Result<Page, ApiError> {
    let roles = [Role::Agent, Role::Supervisor, Role::Admin];
    let Some((principal, csrf)) = require(&app, &headers, &roles).await? else {
        return Ok(Page::sign_in());
    };
    let loaded = load(&app, &principal, &cid).await?;
    let reader = Principal {
        address: Some(address),
        ..principal.clone()
    };
    app.access
        .record(
            &reader,
            AccessKind::ConsolePage {
                page: ConsolePage::Conversation,
            },
            Some(&cid),
        )
        .await;
    let mine = principal.agent.is_some() && loaded.state.assigned_agent == principal.agent;
    let (me, home) = match &principal.agent {
        Some(agent) => (format!("agent {agent}"), "/console/agent"),
        None => (principal.role.as_str().to_owned(), "/console/supervisor"),
    };
    let v = conversation_view(
        &loaded.package,
        &loaded.state,
        loaded.read_back.as_ref(),
        mine,
    );
    Page::render(&ConversationPage { me, home, v, csrf })
}

/// `GET /console/supervisor`: queues, agents, and the charts.
pub async fn supervisor(State(app): State<AppState>, headers: HeaderMap) -> Result<Page, ApiError> {
    let session = match session_of(&app, &headers, SUPERVISORS).await? {
        Ok(session) => session,
        Err(page) => return Ok(page),
    };
    let (principal, csrf) = (session.principal, session.csrf);
    let charts_html = charts_for(&app)
        .await?
        .render()
        .map_err(ApiError::internal)?;
    Page::render(&SupervisorPage {
        me: principal.role.as_str().to_owned(),
        charts_html,
        csrf,
    })
}

/// One row of the conversation list, in words.
pub struct FoundLine {
    /// Conversation id.
    pub id: String,
    /// Owner.
    pub owner: &'static str,
    /// Assigned agent, or empty.
    pub agent: String,
    /// Verified customer, or empty.
    pub customer: String,
    /// Intent, or empty.
    pub intent: String,
    /// Start, to the minute (UTC).
    pub started_at: String,
    /// Last change, to the minute (UTC).
    pub updated_at: String,
}

/// The supervisor's conversation search: the filters as given, a page of results.
#[derive(Template)]
#[template(path = "conversations.html")]
pub struct ConversationsPage {
    /// The session's CSRF token.
    pub csrf: String,
    /// Who reads it, in words.
    pub me: String,
    /// Each owner choice (empty = any) and whether it is selected.
    pub owners: Vec<(&'static str, bool)>,
    /// The agent filter as typed.
    pub agent: String,
    /// The customer filter as typed.
    pub customer: String,
    /// The intent filter as typed.
    pub intent: String,
    /// The start date filter (YYYY-MM-DD).
    pub since: String,
    /// The end date filter (YYYY-MM-DD).
    pub until: String,
    /// Why the filters were refused, if they were.
    pub problem: Option<String>,
    /// The page.
    pub lines: Vec<FoundLine>,
    /// The next page's address, if one follows.
    pub next: Option<String>,
}

/// `GET /console/supervisor/conversations?owner=&agent=&customer=&intent=&since=&until=&cursor=`:
/// the conversation list, filtered as `GET /v1/conversations` filters; each row opens
/// the conversation. Dates from the form's date pickers are whole UTC days.
pub async fn conversations(
    State(app): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    ApiQuery(form): ApiQuery<SearchQuery>,
) -> Result<Page, ApiError> {
    let session = match session_of(&app, &headers, SUPERVISORS).await? {
        Ok(session) => session,
        Err(page) => return Ok(page),
    };
    let (principal, csrf) = (session.principal, session.csrf);
    let reader = Principal {
        address: Some(address),
        ..principal.clone()
    };
    app.access
        .record(
            &reader,
            AccessKind::ConsolePage {
                page: ConsolePage::ConversationList,
            },
            None,
        )
        .await;
    let query = SearchQuery {
        owner: given(form.owner.as_deref()),
        agent: given(form.agent.as_deref()),
        customer: given(form.customer.as_deref()),
        intent: given(form.intent.as_deref()),
        since: day_start(form.since.as_deref()),
        until: day_start(form.until.as_deref()),
        cursor: given(form.cursor.as_deref()),
        limit: given(form.limit.as_deref()),
    };
    let mut page = ConversationsPage {
        csrf,
        me: principal.role.as_str().to_owned(),
        owners: std::iter::once("")
            .chain(Owner::ALL.iter().map(|o| o.as_str()))
            .map(|o| (o, query.owner.as_deref().unwrap_or("") == o))
            .collect(),
        agent: query.agent.clone().unwrap_or_default(),
        customer: query.customer.clone().unwrap_or_default(),
        intent: query.intent.clone().unwrap_or_default(),
        since: given(form.since.as_deref()).unwrap_or_default(),
        until: given(form.until.as_deref()).unwrap_or_default(),
        problem: None,
        lines: Vec::new(),
        next: None,
    };
    let store_query = match search::parse(&query) {
        Ok(q) => q,
        Err(error) => {
            page.problem = Some(error.message.clone());
            return Page::refused(&error, &page);
        }
    };
    let (rows, next_cursor) = search::page(&app, store_query).await?;
    page.lines = rows
        .iter()
        .map(|row| FoundLine {
            id: row.id.to_string(),
            owner: row.summary.owner.as_str(),
            agent: row
                .summary
                .agent
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            customer: row
                .summary
                .customer
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            intent: row
                .summary
                .intent
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            started_at: minute_words(row.summary.started_at),
            updated_at: minute_words(row.summary.updated_at),
        })
        .collect();
    page.next = next_cursor.map(|cursor| {
        let mut pairs = vec![("cursor", cursor)];
        for (name, value) in [
            ("owner", &query.owner),
            ("agent", &query.agent),
            ("customer", &query.customer),
            ("intent", &query.intent),
            ("since", &form.since),
            ("until", &form.until),
            ("limit", &query.limit),
        ] {
            if let Some(value) = given(value.as_deref()) {
                pairs.push((name, value));
            }
        }
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("/console/supervisor/conversations?{encoded}")
    });
    Page::render(&page)
}

/// `GET /console/supervisor/charts`: the charts alone, for the page to refresh.
pub async fn supervisor_charts(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Page, ApiError> {
    if require(&app, &headers, SUPERVISORS).await?.is_none() {
        return Err(ApiError::unauthorized(
            "sign in with a supervisor or admin key",
        ));
    }
    Page::render(&charts_for(&app).await?)
}

const HOURS: u32 = 24;

async fn charts_for(app: &AppState) -> Result<Charts, ApiError> {
    Ok(charts(&stats::read(app, HOURS, app.clock.now()).await?))
}

fn hour_label(hour: &str) -> String {
    hour.get(11..16).unwrap_or(hour).to_owned()
}

/// The charts over computed statistics.
pub fn charts(stats: &Stats) -> Charts {
    let mut codes: Vec<String> = stats
        .handoff_reasons
        .iter()
        .flat_map(|h| h.reasons.keys().cloned())
        .collect();
    codes.sort();
    codes.dedup();
    let reason_columns: Vec<Column> = stats
        .handoff_reasons
        .iter()
        .map(|h| Column {
            label: hour_label(&h.hour),
            parts: codes
                .iter()
                .enumerate()
                .map(|(i, c)| (i, f64::from(h.reasons.get(c).copied().unwrap_or(0))))
                .collect(),
        })
        .collect();
    let ramp = &stats.ramp_up;
    let recent = &ramp.samples[ramp.samples.len().saturating_sub(30)..];
    let ramp_columns: Vec<Column> = recent
        .iter()
        .map(|s| Column {
            label: format!("{} {}", hour_label(&s.accepted_at), s.agent_id),
            parts: vec![(0, s.secs)],
        })
        .collect();
    let ramp_words = match (ramp.p50_secs, ramp.p90_secs) {
        (Some(p50), Some(p90)) => format!(
            "Median {p50:.0} s, 90th percentile {p90:.0} s, over {} replied of {} accepted.",
            ramp.replied, ramp.assignments
        ),
        _ => format!("No first replies yet ({} accepted).", ramp.assignments),
    };
    let repeat_columns: Vec<Column> = stats
        .handoff_reasons
        .iter()
        .zip(&stats.repeat_asks.per_hour)
        .map(|(h, n)| Column {
            label: hour_label(&h.hour),
            parts: vec![(0, f64::from(*n))],
        })
        .collect();
    let by_kind: Vec<String> = stats
        .repeat_asks
        .by_kind
        .iter()
        .map(|(k, n)| format!("{} {n}", k.replace('_', " ")))
        .collect();
    let repeat_words = if stats.repeat_asks.total == 0 {
        "No repeat asks: nobody asked a customer for something they had already given.".to_owned()
    } else {
        format!(
            "{} repeat asks: {}.",
            stats.repeat_asks.total,
            by_kind.join(", ")
        )
    };
    Charts {
        hours: stats.hours,
        handoffs: stats.handoff_reasons.iter().map(|h| h.handoffs).sum(),
        reasons_svg: bar_chart(
            "Handoffs per hour by reason",
            &reason_columns,
            &codes,
            "handoffs",
        ),
        reasons_legend: legend(&codes),
        ramp_svg: bar_chart(
            "Seconds from accept to first reply, per handoff",
            &ramp_columns,
            &["ramp-up".to_owned()],
            "s",
        ),
        ramp_words,
        repeat_svg: bar_chart(
            "Repeat asks per hour",
            &repeat_columns,
            &["repeat asks".to_owned()],
            "asks",
        ),
        repeat_words,
    }
}
