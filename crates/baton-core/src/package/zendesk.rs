//! The package as a Zendesk Support ticket-create body (`POST /api/v2/tickets`), for
//! desks that work in Zendesk: the HTML package as the first comment, kept private
//! (an internal note) because it holds the assessment, not words for the customer.
//!
//! Shape checked against Zendesk's developer documentation (read, not copied): the
//! Tickets API reference (a `ticket` object with `subject`, `comment`, `priority` one
//! of `urgent|high|normal|low`, `tags`, `requester` with `name`/`email` to create the
//! user on the fly, `external_id` to link local records) and the Ticket Comments page
//! (`html_body`, and `public: false` for an internal note).
//!
//! The body is JSON built by serde, so every string is JSON-escaped; the comment is
//! [`render_html`]'s escaped fragment. The subject and the requester's name are plain
//! text that desks show in lists and e-mail subjects, so they are made one line (no
//! control characters, no line breaks) and capped: [`SUBJECT_MAX_CHARS`].

use serde_json::{Map, Value, json};

use crate::event::Priority;
use crate::facts::FactKind;

use super::html::render_html;
use super::model::ContextPackage;
use super::words::humanize;

/// The longest subject baton writes, in characters. Zendesk's reference gives no
/// figure; 150 keeps well inside the 255-character columns ticket subjects are commonly
/// stored in, and is as much as a ticket list or an e-mail subject line shows.
pub const SUBJECT_MAX_CHARS: usize = 150;

/// The longest requester name baton writes, in characters (a user's `name`).
pub const NAME_MAX_CHARS: usize = 255;

/// Client text as one line of at most `max` characters: line breaks, tabs and other
/// control characters become single spaces, runs of spaces fold, and an over-long text
/// ends with `…` inside the cap.
pub fn one_line(text: &str, max: usize) -> String {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect();
    let line = words.join(" ");
    if line.chars().count() <= max {
        return line;
    }
    let mut cut: String = line.chars().take(max.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// Zendesk tags are single words: lowercase, `[a-z0-9_:-]`.
fn tag(raw: &str) -> String {
    raw.to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_:-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Renders the ticket-create body.
pub fn render_zendesk(p: &ContextPackage) -> Value {
    let s = &p.situation;
    let priority = match s.priority {
        Priority::Low => "low",
        Priority::Normal => "normal",
        Priority::High => "high",
        Priority::Urgent => "urgent",
    };
    let what = s
        .intent
        .as_deref()
        .map(humanize)
        .unwrap_or_else(|| "handoff".to_owned());
    let who = s
        .customer
        .clone()
        .or_else(|| p.background.identity.customer_id.clone());
    let subject = match &who {
        Some(who) => format!("{who}: {what}"),
        None => format!(
            "Customer conversation {}: {what}",
            p.background.conversation_id
        ),
    };
    let subject = one_line(&subject, SUBJECT_MAX_CHARS);
    let mut tags: Vec<String> = vec!["baton".to_owned()];
    tags.extend(s.intent.iter().map(|i| tag(i)));
    tags.extend(s.reasons.iter().map(|r| tag(&r.code)));
    tags.extend(
        p.recommendation
            .skills
            .iter()
            .map(|k| format!("skill_{}", tag(k))),
    );
    tags.dedup();

    let mut requester = Map::new();
    requester.insert(
        "name".to_owned(),
        json!(one_line(
            who.as_deref().unwrap_or("Customer"),
            NAME_MAX_CHARS
        )),
    );
    if let Some(email) = p
        .assessment
        .facts
        .iter()
        .find(|f| f.kind == FactKind::Email && !f.redacted)
    {
        requester.insert("email".to_owned(), json!(email.value));
    }
    json!({
        "ticket": {
            "subject": subject,
            "comment": { "html_body": render_html(p), "public": false },
            "priority": priority,
            "tags": tags,
            "requester": requester,
            "external_id": p.background.conversation_id,
        }
    })
}
