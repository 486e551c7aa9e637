//! The conversation page's view: the context package flattened into what the template
//! shows, arranged to answer at a glance who the customer is, what they want, what has
//! been tried, and what to do next.

use baton_core::event::{ActionStatus, EventKind, FactCorrection, IntentCheck, Priority, ReadBack};
use baton_core::package::ContextPackage;
use baton_core::{ConversationState, Owner};
use serde::Serialize;

use super::charts::sparkline;
use super::wait_words;

/// One fact the customer gave.
pub struct FactLine {
    /// The kind's name (what a read-back confirms).
    pub kind: String,
    /// The kind in words.
    pub label: String,
    /// The value as the reader may see it.
    pub value: String,
    /// The message it came from.
    pub seq: u64,
}

/// An action, a document or a note in "tried so far" or "do next".
pub struct Item {
    /// What.
    pub text: String,
    /// A status word for a badge (`done`, `failed`, `pending`, `overdue`...), if any.
    pub badge: Option<&'static str>,
    /// A link, for documents.
    pub href: Option<String>,
    /// More detail (a document's passage).
    pub detail: Option<String>,
}

/// One transcript line.
pub struct Line {
    /// Seq.
    pub seq: u64,
    /// `customer`, `bot`, `agent`, `system`: the line's style.
    pub class: &'static str,
    /// Who, in words.
    pub who: String,
    /// The text.
    pub text: String,
    /// `HH:MM:SS`.
    pub time: String,
}

/// Everything the conversation template shows.
pub struct ConversationView {
    /// Conversation id.
    pub cid: String,
    /// Owner in words.
    pub owner: &'static str,
    /// Whether the reader owns it (may reply, bounce back, resolve).
    pub can_act: bool,
    /// `low`, `normal`, `high`, `urgent`.
    pub priority: &'static str,
    /// How long the customer waited for a human, in words.
    pub waiting: Option<String>,
    /// The situation in a sentence or two.
    pub summary: String,
    /// The customer's name, customer id and verification, in words.
    pub who: String,
    /// Earlier contacts, in words.
    pub journey: Option<String>,
    /// Sentiment in words, its sparkline.
    pub sentiment: Option<String>,
    /// Sparkline SVG of sentiment.
    pub sentiment_svg: String,
    /// Intent and confidence in words.
    pub intent: Option<String>,
    /// Sparkline SVG of confidence.
    pub confidence_svg: String,
    /// Why it was handed off.
    pub reasons: Vec<String>,
    /// Facts already given.
    pub facts: Vec<FactLine>,
    /// Done, failed, documents used.
    pub tried: Vec<Item>,
    /// Next actions, pending actions, promises to keep.
    pub next: Vec<Item>,
    /// A first message continuing the bot's tone.
    pub opening_line: String,
    /// What the last bounce-back asked the bot to do.
    pub bot_instructions: Option<String>,
    /// Skills asked for.
    pub skills: String,
    /// The transcript.
    pub transcript: Vec<Line>,
    /// The condensed history.
    pub timeline: Vec<(u64, String)>,
    /// Seq of the last event (the live stream resumes after it).
    pub last_seq: u64,
    /// The reader's standing read-back as JSON (`{"intent", "corrected"}`), which the
    /// page's next read-back repeats; empty when there is none.
    pub read_back: String,
}

/// What of a read-back the page carries forward (the console never sends a note).
#[derive(Serialize)]
struct Standing<'a> {
    intent: &'a IntentCheck,
    corrected: &'a [FactCorrection],
}

/// `read_back` as the page's `data-standing` attribute.
fn standing(read_back: Option<&ReadBack>) -> String {
    read_back
        .and_then(|r| {
            serde_json::to_string(&Standing {
                intent: &r.intent,
                corrected: &r.facts.corrected,
            })
            .ok()
        })
        .unwrap_or_default()
}

/// The word for a priority.
pub fn priority_word(priority: Priority) -> &'static str {
    match priority {
        Priority::Low => "low",
        Priority::Normal => "normal",
        Priority::High => "high",
        Priority::Urgent => "urgent",
    }
}

fn status_word(status: ActionStatus) -> &'static str {
    match status {
        ActionStatus::Done => "done",
        ActionStatus::Pending => "pending",
        ActionStatus::Failed => "failed",
    }
}

/// `customer`, `bot`, `agent:ana` -> a style class and words.
pub fn speaker(actor: &str) -> (&'static str, String) {
    match actor {
        "customer" => ("customer", "Customer".to_owned()),
        "bot" => ("bot", "Bot".to_owned()),
        "system" => ("system", "baton".to_owned()),
        other => match other.strip_prefix("agent:") {
            Some(agent) => ("agent", format!("Agent {agent}")),
            None => ("system", other.to_owned()),
        },
    }
}

fn clock(at: &str) -> String {
    at.get(11..19).unwrap_or(at).to_owned()
}

/// Builds the view for a reader who may act when `can_act`; `read_back` is their own
/// standing read-back.
pub fn conversation_view(
    p: &ContextPackage,
    state: &ConversationState,
    read_back: Option<&ReadBack>,
    can_act: bool,
) -> ConversationView {
    let s = &p.situation;
    let a = &p.assessment;
    let b = &p.background;
    let mut who = match (&s.customer, &b.identity.customer_id) {
        (Some(name), Some(id)) => format!("{name} (customer {id})"),
        (Some(name), None) => name.clone(),
        (None, Some(id)) => format!("Customer {id}"),
        (None, None) => "Customer not identified yet".to_owned(),
    };
    match (b.identity.verified, &b.identity.method) {
        (true, Some(method)) => who.push_str(&format!(", verified by {method}")),
        (true, None) => who.push_str(", verified"),
        (false, _) => who.push_str(", not verified"),
    }
    let journey = (b.journey.prior_contacts > 0).then(|| {
        format!(
            "{} earlier contacts, {} reached a human",
            b.journey.prior_contacts, b.journey.prior_handoffs
        )
    });
    let sentiment_values: Vec<f64> = a
        .sentiment
        .iter()
        .flat_map(|v| v.history.iter().map(|h| h.value))
        .collect();
    let confidence_values: Vec<f64> = a.confidence_history.iter().map(|c| c.confidence).collect();

    let mut tried: Vec<Item> = a
        .resolved
        .iter()
        .chain(
            a.open_actions
                .iter()
                .filter(|x| x.status == ActionStatus::Failed),
        )
        .map(|x| Item {
            text: x
                .detail
                .as_ref()
                .map_or_else(|| x.name.clone(), |d| format!("{}: {d}", x.name)),
            badge: Some(status_word(x.status)),
            href: None,
            detail: None,
        })
        .collect();
    tried.extend(a.documents.iter().map(|d| Item {
        text: d.title.clone(),
        badge: Some("doc"),
        href: d.uri.clone().filter(|u| {
            u.starts_with("http://") || u.starts_with("https://") || u.starts_with('/')
        }),
        detail: d.snippet.clone(),
    }));
    if b.counts.bot_messages > 0 {
        tried.push(Item {
            text: match b.counts.bot_messages {
                1 => "The bot answered once".to_owned(),
                n => format!("The bot answered {n} times"),
            },
            badge: None,
            href: None,
            detail: None,
        });
    }

    let mut next: Vec<Item> = p
        .recommendation
        .next_actions
        .iter()
        .map(|t| Item {
            text: t.clone(),
            badge: None,
            href: None,
            detail: None,
        })
        .collect();
    // Promises already lead the package's next actions; flag the ones past due.
    next.extend(a.commitments.iter().filter(|c| c.overdue).map(|c| Item {
        text: format!("Overdue promise: {}", c.text),
        badge: Some("overdue"),
        href: None,
        detail: None,
    }));

    let transcript = p
        .transcript
        .iter()
        .map(|line| {
            let (class, who) = speaker(&line.actor);
            let class = if line.kind == EventKind::Note {
                "note"
            } else {
                class
            };
            Line {
                seq: line.seq,
                class,
                who,
                text: line.text.clone(),
                time: clock(&line.at.to_string()),
            }
        })
        .collect();

    let can_act = can_act && state.owner == Owner::Agent;
    ConversationView {
        cid: b.conversation_id.clone(),
        owner: state.owner.as_str(),
        can_act,
        priority: priority_word(s.priority),
        waiting: s.waiting_seconds.map(|w| wait_words(w * 1000)),
        summary: s.summary.clone(),
        who,
        journey,
        sentiment: a
            .sentiment
            .as_ref()
            .map(|v| format!("{}, {}", v.label.replace('_', " "), v.trajectory)),
        sentiment_svg: sparkline(
            &sentiment_values,
            -1.0,
            1.0,
            "customer sentiment per message, -1 to 1",
        ),
        intent: a
            .intent
            .as_ref()
            .map(|i| format!("{} ({:.0}% sure)", i.name, i.confidence * 100.0)),
        confidence_svg: sparkline(
            &confidence_values,
            0.0,
            1.0,
            "intent confidence per NLU reading, 0 to 1",
        ),
        reasons: s.reasons.iter().map(|r| r.message.clone()).collect(),
        facts: a
            .facts
            .iter()
            .map(|f| FactLine {
                kind: f.kind.as_str().to_owned(),
                label: f.kind.words(),
                value: f.value.clone(),
                seq: f.seq,
            })
            .collect(),
        tried,
        next,
        opening_line: p.recommendation.opening_line.clone(),
        bot_instructions: b.bot_instructions.clone(),
        skills: p.recommendation.skills.join(", "),
        transcript,
        timeline: b.timeline.iter().map(|t| (t.seq, t.what.clone())).collect(),
        last_seq: state.last_seq,
        read_back: if can_act {
            standing(read_back)
        } else {
            String::new()
        },
    }
}
