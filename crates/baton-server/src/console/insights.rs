//! The supervisor's insights pages: `GET /console/supervisor/intents` (the mismatch
//! matrix and the reliability diagram) and `GET /console/supervisor/outcomes` (every
//! outcome figure, charted where a chart says more, with the CSV download). Both read
//! their figures through the functions `GET /v1/insights/...` answers with, so a page
//! and the API cannot disagree; this module only turns figures into words and SVG.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use baton_core::insights::intents::IntentInsights;
use baton_core::insights::outcomes::{Mean, Outcomes, Rate};

use super::charts::{HBar, bin_range, hbar_chart, reliability_diagram};
use super::form::{day_start, given};
use super::{Page, SUPERVISORS, minute_words, session_of};
use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::handlers::insights::{
    OutcomesAnswer, OutcomesQuery, Window, WindowQuery, intents_of, outcomes_of,
};

/// One cell of the matrix.
pub struct MatrixCell {
    /// Conversations the bot read as the row's intent that the human held to be the
    /// column's.
    pub count: u64,
    /// The row's own intent: the bot was right.
    pub diagonal: bool,
    /// Shading, 0 (none) to 4, by the cell's share of its row.
    pub heat: u8,
    /// The cell in words, for its tooltip.
    pub title: String,
}

/// One row of the matrix: a bot intent.
pub struct MatrixLine {
    /// The bot's intent.
    pub bot_intent: String,
    /// One cell per column.
    pub cells: Vec<MatrixCell>,
    /// Labelled conversations with this bot intent.
    pub total: u64,
    /// Of which the human confirmed it.
    pub confirmed: u64,
    /// `confirmed / total` in words.
    pub share: String,
}

/// One bin of the reliability table.
pub struct BinLine {
    /// Its confidence range, e.g. `0.8-0.9`.
    pub range: String,
    /// Cases in it.
    pub count: u64,
    /// Share confirmed, in words (empty for an empty bin).
    pub accuracy: String,
    /// Mean confidence, in words (empty for an empty bin).
    pub mean_confidence: String,
}

/// What the intents page shows once its window is valid.
pub struct IntentsView {
    /// The window in words.
    pub window: String,
    /// Labelled conversations.
    pub labelled: u64,
    /// Of which the bot was right.
    pub correct: u64,
    /// `correct / labelled` in words.
    pub accuracy: String,
    /// The human intents, one column each.
    pub columns: Vec<String>,
    /// One line per bot intent.
    pub rows: Vec<MatrixLine>,
    /// The reliability diagram (SVG).
    pub diagram_svg: String,
    /// The reliability table.
    pub bins: Vec<BinLine>,
    /// Expected calibration error, in words.
    pub ece: String,
    /// The figures are partial.
    pub truncated: bool,
}

/// `GET /console/supervisor/intents`.
#[derive(Template)]
#[template(path = "intents.html")]
pub struct IntentsPage {
    /// The session's CSRF token.
    pub csrf: String,
    /// Who reads it, in words.
    pub me: String,
    /// The start date filter as picked (YYYY-MM-DD).
    pub since: String,
    /// The end date filter as picked.
    pub until: String,
    /// Why the filters were refused, if they were.
    pub problem: Option<String>,
    /// The figures, when the filters hold.
    pub view: Option<IntentsView>,
}

/// `GET /console/supervisor/intents?since=&until=` (supervisor, admin): per bot intent,
/// what the humans found it to be, and the bot's confidence against its accuracy.
/// Dates from the date pickers are whole UTC days; `until`'s day is not included.
pub async fn intents(
    State(app): State<AppState>,
    headers: HeaderMap,
    ApiQuery(form): ApiQuery<WindowQuery>,
) -> Result<Page, ApiError> {
    let session = match session_of(&app, &headers, SUPERVISORS).await? {
        Ok(session) => session,
        Err(page) => return Ok(page),
    };
    let mut page = IntentsPage {
        me: super::me(&session.principal),
        csrf: session.csrf,
        since: given(form.since.as_deref()).unwrap_or_default(),
        until: given(form.until.as_deref()).unwrap_or_default(),
        problem: None,
        view: None,
    };
    let since = day_start(form.since.as_deref());
    let until = day_start(form.until.as_deref());
    let window = match Window::of(since.as_deref(), until.as_deref(), app.clock.now()) {
        Ok(window) => window,
        Err(error) => {
            page.problem = Some(error.message.clone());
            return Page::refused(&error, &page);
        }
    };
    let answer = intents_of(&app, window).await?;
    page.view = Some(intents_view(window, &answer.insights, answer.truncated));
    Page::render(&page)
}

fn window_words(window: Window) -> String {
    format!(
        "{} to {} UTC",
        minute_words(window.since),
        minute_words(window.until)
    )
}

fn percent(rate: f64) -> String {
    format!("{:.0} %", rate * 100.0)
}

/// The intents page's figures.
pub fn intents_view(window: Window, insights: &IntentInsights, truncated: bool) -> IntentsView {
    let mut columns: Vec<String> = insights
        .matrix
        .iter()
        .flat_map(|row| row.true_intents.keys().map(ToString::to_string))
        .collect();
    columns.sort();
    columns.dedup();
    let rows = insights
        .matrix
        .iter()
        .map(|row| {
            let bot_intent = row.bot_intent.to_string();
            let cells = columns
                .iter()
                .map(|column| {
                    let count = row
                        .true_intents
                        .iter()
                        .find(|(label, _)| label.as_str() == column)
                        .map_or(0, |(_, n)| *n);
                    let share = if row.total == 0 {
                        0.0
                    } else {
                        count as f64 / row.total as f64
                    };
                    MatrixCell {
                        count,
                        diagonal: *column == bot_intent,
                        heat: if count == 0 {
                            0
                        } else {
                            1 + (share * 3.0).round() as u8
                        },
                        title: format!(
                            "bot read {bot_intent}, the human found {column}: {count} of {}",
                            row.total
                        ),
                    }
                })
                .collect();
            MatrixLine {
                bot_intent,
                cells,
                total: row.total,
                confirmed: row.confirmed,
                share: percent(row.accuracy),
            }
        })
        .collect();
    let reliability = &insights.reliability;
    let ece = format!("{:.3}", reliability.ece);
    let bins = reliability
        .bins
        .iter()
        .map(|bin| BinLine {
            range: bin_range(bin),
            count: bin.count,
            accuracy: if bin.count == 0 {
                String::new()
            } else {
                percent(bin.accuracy)
            },
            mean_confidence: if bin.count == 0 {
                String::new()
            } else {
                format!("{:.2}", bin.mean_confidence)
            },
        })
        .collect();
    IntentsView {
        window: window_words(window),
        labelled: insights.labelled,
        correct: insights.correct,
        accuracy: if insights.labelled == 0 {
            "no labelled conversations".to_owned()
        } else {
            percent(insights.correct as f64 / insights.labelled as f64)
        },
        columns,
        rows,
        diagram_svg: reliability_diagram(
            &format!(
                "Reliability: the bot's confidence against the share the humans confirmed, {} cases, ECE {ece}",
                reliability.count
            ),
            reliability,
        ),
        bins,
        ece,
        truncated,
    }
}

/// One line of the outcomes table.
pub struct MetricLine {
    /// Its element id suffix (`m-<id>`), the API's field name.
    pub id: &'static str,
    /// Its name.
    pub name: &'static str,
    /// The figure, in words.
    pub value: String,
    /// What it is measured over, in words.
    pub basis: String,
}

/// What the outcomes page shows once its filters hold.
pub struct OutcomesView {
    /// The window in words.
    pub window: String,
    /// Every figure, in the order of the API's answer.
    pub lines: Vec<MetricLine>,
    /// Reason code and handoff decisions naming it, most first.
    pub reasons: Vec<(String, u64)>,
    /// Rates (SVG).
    pub rates_svg: String,
    /// Handoff reasons (SVG).
    pub reasons_svg: String,
    /// CSAT bot-only against after a handoff (SVG).
    pub csat_svg: String,
    /// Ramp-up and handle time (SVG).
    pub times_svg: String,
    /// Cost per contact, bot and agents (SVG).
    pub cost_svg: String,
    /// The same figures as CSV, from the API.
    pub csv_href: String,
    /// The cost model and FCR window, in words.
    pub model: String,
    /// The figures are partial.
    pub truncated: bool,
}

/// `GET /console/supervisor/outcomes`.
#[derive(Template)]
#[template(path = "outcomes.html")]
pub struct OutcomesPage {
    /// The session's CSRF token.
    pub csrf: String,
    /// Who reads it, in words.
    pub me: String,
    /// The filters as typed: since, until, skill, intent, fcr_hours, bot_cost,
    /// agent_cost_per_minute.
    pub since: String,
    /// End date filter.
    pub until: String,
    /// Skill filter.
    pub skill: String,
    /// Intent filter.
    pub intent: String,
    /// FCR window in hours, as typed.
    pub fcr_hours: String,
    /// Bot cost per conversation, as typed.
    pub bot_cost: String,
    /// Agent cost per minute, as typed.
    pub agent_cost_per_minute: String,
    /// Why the filters were refused, if they were.
    pub problem: Option<String>,
    /// The figures, when the filters hold.
    pub view: Option<OutcomesView>,
}

/// `GET /console/supervisor/outcomes?since=&until=&skill=&intent=&fcr_hours=&bot_cost=&agent_cost_per_minute=`
/// (supervisor, admin): the figures of `GET /v1/insights/outcomes` for the same query,
/// charted, with a link to its CSV. Dates as on the intents page.
pub async fn outcomes(
    State(app): State<AppState>,
    headers: HeaderMap,
    ApiQuery(form): ApiQuery<OutcomesQuery>,
) -> Result<Page, ApiError> {
    let session = match session_of(&app, &headers, SUPERVISORS).await? {
        Ok(session) => session,
        Err(page) => return Ok(page),
    };
    let typed = |field: &Option<String>| given(field.as_deref()).unwrap_or_default();
    let mut page = OutcomesPage {
        me: super::me(&session.principal),
        csrf: session.csrf,
        since: typed(&form.since),
        until: typed(&form.until),
        skill: typed(&form.skill),
        intent: typed(&form.intent),
        fcr_hours: typed(&form.fcr_hours),
        bot_cost: typed(&form.bot_cost),
        agent_cost_per_minute: typed(&form.agent_cost_per_minute),
        problem: None,
        view: None,
    };
    let query = OutcomesQuery {
        since: day_start(form.since.as_deref()),
        until: day_start(form.until.as_deref()),
        skill: given(form.skill.as_deref()),
        intent: given(form.intent.as_deref()),
        // The page is HTML whatever the address says; the CSV is the API's.
        format: None,
        fcr_hours: given(form.fcr_hours.as_deref()),
        bot_cost: given(form.bot_cost.as_deref()),
        agent_cost_per_minute: given(form.agent_cost_per_minute.as_deref()),
    };
    let request = match query.clone().parse(app.clock.now()) {
        Ok(request) => request,
        Err(error) => {
            page.problem = Some(error.message.clone());
            return Page::refused(&error, &page);
        }
    };
    let answer = outcomes_of(&app, request.window, &request.filter, &request.config).await?;
    page.view = Some(outcomes_view(request.window, &query, &answer));
    Page::render(&page)
}

fn mean_value(mean: &Mean, words: impl Fn(f64) -> String) -> String {
    mean.mean.map_or_else(|| "no data".to_owned(), words)
}

fn rate_value(rate: &Rate) -> String {
    rate.rate.map_or_else(|| "no data".to_owned(), percent)
}

fn seconds(secs: f64) -> String {
    if secs < 10.0 {
        format!("{secs:.1} s")
    } else {
        format!("{secs:.0} s")
    }
}

fn score(of: u8) -> impl Fn(f64) -> String {
    move |v| format!("{v:.1} of {of}")
}

fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The outcomes page's figures; `query` is the one answered, for the CSV link.
pub fn outcomes_view(
    window: Window,
    query: &OutcomesQuery,
    answer: &OutcomesAnswer,
) -> OutcomesView {
    let o: &Outcomes = &answer.outcomes;
    let rate_line = |id, name, rate: &Rate, whole: &str| MetricLine {
        id,
        name,
        value: rate_value(rate),
        basis: format!("{} of {} {whole}", rate.count, rate.of),
    };
    let mean_line =
        |id, name, mean: &Mean, words: &dyn Fn(f64) -> String, what: (&str, &str)| MetricLine {
            id,
            name,
            value: mean_value(mean, words),
            basis: format!("over {}", counted(mean.count, what.0, what.1)),
        };
    let config = &o.config;
    let bot_cost = config.bot_cost_per_conversation;
    let lines = vec![
        MetricLine {
            id: "contacts",
            name: "Contacts",
            value: o.contacts.to_string(),
            basis: "conversations that started in the window".to_owned(),
        },
        rate_line("containment", "Containment", &o.containment, "contacts"),
        rate_line("handoff_rate", "Handoff rate", &o.handoff_rate, "contacts"),
        mean_line(
            "ramp_up_secs",
            "Agent ramp-up",
            &o.ramp_up_secs,
            &seconds,
            ("first reply", "first replies"),
        ),
        rate_line(
            "repeat_information",
            "Repeated information",
            &o.repeat_information,
            "handed-off contacts",
        ),
        mean_line(
            "handle_secs",
            "Handle time",
            &o.handle_secs,
            &seconds,
            ("assignment", "assignments"),
        ),
        mean_line(
            "csat_after_handoff",
            "CSAT after a handoff",
            &o.csat_after_handoff,
            &score(5),
            ("answer", "answers"),
        ),
        mean_line(
            "csat_bot_only",
            "CSAT, bot only",
            &o.csat_bot_only,
            &score(5),
            ("answer", "answers"),
        ),
        rate_line(
            "first_contact_resolution",
            "First-contact resolution",
            &o.first_contact_resolution,
            "resolved contacts",
        ),
        mean_line(
            "ces",
            "Customer effort (lower is easier)",
            &o.ces,
            &score(7),
            ("answer", "answers"),
        ),
        mean_line(
            "lsat",
            "Agents' satisfaction with the package",
            &o.lsat,
            &score(5),
            ("answer", "answers"),
        ),
        MetricLine {
            id: "cost_per_contact",
            name: "Cost per contact",
            value: o
                .cost_per_contact
                .map_or_else(|| "no data".to_owned(), |c| format!("{c:.2}")),
            basis: format!(
                "{bot_cost:.2} per conversation + {:.2} per agent minute",
                config.agent_cost_per_minute
            ),
        },
    ];
    let mut reasons: Vec<(String, u64)> = o
        .handoff_reasons
        .iter()
        .map(|(code, n)| (code.clone(), *n))
        .collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let rate_bar = |label: &str, rate: &Rate| HBar {
        label: label.to_owned(),
        value: rate.rate,
        figure: format!("{} ({} of {})", rate_value(rate), rate.count, rate.of),
    };
    let mean_bar = |label: &str, mean: &Mean, words: &dyn Fn(f64) -> String| HBar {
        label: label.to_owned(),
        value: mean.mean,
        figure: format!("{} (n={})", mean_value(mean, words), mean.count),
    };
    let reason_bars: Vec<HBar> = reasons
        .iter()
        .map(|(code, n)| HBar {
            label: code.clone(),
            value: Some(*n as f64),
            figure: n.to_string(),
        })
        .collect();
    let cost_bars = match o.cost_per_contact {
        Some(cost) => vec![
            HBar {
                label: "bot".to_owned(),
                value: Some(bot_cost),
                figure: format!("{bot_cost:.2}"),
            },
            HBar {
                label: "agents".to_owned(),
                value: Some((cost - bot_cost).max(0.0)),
                figure: format!("{:.2}", (cost - bot_cost).max(0.0)),
            },
            HBar {
                label: "per contact".to_owned(),
                value: Some(cost),
                figure: format!("{cost:.2}"),
            },
        ],
        None => Vec::new(),
    };
    OutcomesView {
        window: window_words(window),
        rates_svg: hbar_chart(
            "Share of contacts: containment, handoffs, repeated information, first-contact resolution",
            &[
                rate_bar("containment", &o.containment),
                rate_bar("handoff rate", &o.handoff_rate),
                rate_bar("repeated information", &o.repeat_information),
                rate_bar("first-contact resolution", &o.first_contact_resolution),
            ],
            Some(1.0),
        ),
        reasons_svg: hbar_chart("Handoff decisions by reason", &reason_bars, None),
        csat_svg: hbar_chart(
            "CSAT (1-5): bot only against after a handoff",
            &[
                mean_bar("bot only", &o.csat_bot_only, &score(5)),
                mean_bar("after a handoff", &o.csat_after_handoff, &score(5)),
            ],
            Some(5.0),
        ),
        times_svg: hbar_chart(
            "Mean seconds: agent ramp-up and handle time",
            &[
                mean_bar("ramp-up", &o.ramp_up_secs, &seconds),
                mean_bar("handle time", &o.handle_secs, &seconds),
            ],
            None,
        ),
        cost_svg: hbar_chart("Cost per contact: bot and agents", &cost_bars, None),
        csv_href: csv_href(window, query),
        model: format!(
            "Cost model: {bot_cost:.2} per conversation for the bot, {:.2} per minute of agent handle time. First-contact resolution window: {} h.",
            config.agent_cost_per_minute, config.fcr_window_hours
        ),
        lines,
        reasons,
        truncated: answer.truncated,
    }
}

/// `GET /v1/insights/outcomes?format=csv` for the window answered (its exact times, so
/// the file holds the page's figures even when the window was the default) and the
/// same filters and cost model.
fn csv_href(window: Window, query: &OutcomesQuery) -> String {
    let mut pairs = vec![
        ("format", "csv".to_owned()),
        ("since", window.since.to_string()),
        ("until", window.until.to_string()),
    ];
    for (name, value) in [
        ("skill", &query.skill),
        ("intent", &query.intent),
        ("fcr_hours", &query.fcr_hours),
        ("bot_cost", &query.bot_cost),
        ("agent_cost_per_minute", &query.agent_cost_per_minute),
    ] {
        if let Some(value) = value {
            pairs.push((name, value.clone()));
        }
    }
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("/v1/insights/outcomes?{encoded}")
}
