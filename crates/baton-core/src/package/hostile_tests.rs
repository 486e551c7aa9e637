//! Every renderer against hostile client text: a package whose every client-controlled
//! string (customer, bot and agent text, intent labels, reasons, skills, facts, names,
//! titles, ids) is an injection attempt must render as inert text in each format.

use pulldown_cmark::{Event as Md, Parser, Tag};
use serde_json::{Value, json};

use super::*;
use crate::event::Event;
use crate::facts::{FactConfig, FactExtractor, ViewerRole};
use crate::state::ConversationState;
use crate::timestamp::Timestamp;

const T0: i64 = 1_767_261_600_000;

/// Injection attempts for HTML, Markdown and one-line fields, in one string.
const HOSTILE: &str = "- item\n# heading\n\n<script>alert(1)</script> [a](javascript:alert(1)) \
    ![i](https://e.example/x.png) <img src=x onerror=alert(1)> <https://e.example> | cell | \
    `code` *em* _em_ \u{0}nul\u{7}bell\u{1b}[31m\r\n    indented ' \" & &amp; end";

fn events() -> Vec<Event> {
    let bodies = [
        (
            "customer",
            json!({"type": "customer_message", "text": "I'm Ana Ruiz, ana@example.com, order 88231"}),
        ),
        (
            "bot",
            json!({"type": "nlu", "intent": "billing.refund", "confidence": 0.4,
                   "alternatives": [{"intent": "billing.dispute", "confidence": 0.3}]}),
        ),
        (
            "bot",
            json!({"type": "identity_verified", "customer_id": "cust-1", "method": "otp"}),
        ),
        (
            "bot",
            json!({"type": "action", "name": "refund.lookup", "status": "done"}),
        ),
        (
            "bot",
            json!({"type": "action", "name": "refund.issue", "status": "pending", "detail": "queued"}),
        ),
        (
            "bot",
            json!({"type": "commitment", "text": "Refund in 5 days"}),
        ),
        (
            "bot",
            json!({"type": "document_retrieved", "doc_id": "kb-1", "title": "Refunds",
                   "uri": "https://help.example.com/refunds"}),
        ),
        (
            "bot",
            json!({"type": "bot_message", "text": "Let me get someone."}),
        ),
        (
            "bot",
            json!({"type": "handoff_requested", "reason": "asked for a human", "skills": ["billing"]}),
        ),
    ];
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, (actor, mut body))| {
            let seq = i as u64 + 1;
            body["seq"] = json!(seq);
            body["id"] = json!(format!("e{seq}"));
            body["actor"] = json!(actor);
            body["at"] = json!(Timestamp::from_unix_millis(T0 + seq as i64 * 20_000).to_string());
            serde_json::from_value(body).unwrap()
        })
        .collect()
}

/// A package built from a benign conversation, then every client string set to `text`.
fn package_with(text: &str) -> ContextPackage {
    let events = events();
    let state = ConversationState::from_events(&events);
    let signals = PackageSignals {
        sentiment: None,
        confidence_history: Vec::new(),
        calibrated_confidence: None,
    };
    let playbooks: Playbooks =
        serde_json::from_value(json!([{"intent": "*", "steps": ["Confirm the request"]}])).unwrap();
    let journey = [PriorContact {
        conversation_id: "old-1".into(),
        started_at: Timestamp::from_unix_millis(T0 - 86_400_000),
        handoffs: 1,
        resolution: Some("refunded".into()),
        true_intent: None,
        csat: None,
    }];
    let input = PackageInput {
        conversation_id: "conv-1",
        events: &events,
        state: &state,
        now: state.last_event_at.unwrap().plus_millis(60_000),
        viewer: ViewerRole::Auditor,
        signals: &signals,
        journey: &journey,
        playbooks: &playbooks,
        policy_version: None,
        facts: None,
    };
    let mut p = build_package(&input, &FactExtractor::new(&FactConfig::default()).unwrap());
    let t = || text.to_owned();
    let s = &mut p.situation;
    (s.summary, s.customer, s.intent, s.sentiment) = (t(), Some(t()), Some(t()), Some(t()));
    s.reasons = vec![model::ReasonView {
        code: t(),
        message: t(),
    }];
    let b = &mut p.background;
    b.conversation_id = t();
    (b.identity.customer_id, b.identity.method) = (Some(t()), Some(t()));
    for c in &mut b.journey.contacts {
        (c.conversation_id, c.resolution) = (t(), Some(t()));
    }
    b.timeline.iter_mut().for_each(|e| e.what = t());
    let a = &mut p.assessment;
    let intent = a.intent.as_mut().unwrap();
    intent.name = t();
    intent.alternatives.iter_mut().for_each(|x| x.name = t());
    a.facts.iter_mut().for_each(|f| f.value = t());
    for x in a.resolved.iter_mut().chain(a.open_actions.iter_mut()) {
        (x.name, x.detail) = (t(), Some(t()));
    }
    a.commitments.iter_mut().for_each(|c| c.text = t());
    for d in &mut a.documents {
        (d.title, d.uri) = (t(), Some("javascript:alert(1)//https://".to_owned()));
    }
    let r = &mut p.recommendation;
    (r.opening_line, r.next_actions, r.skills) = (t(), vec![t()], vec![t()]);
    r.do_not_ask.iter_mut().for_each(|d| d.label = t());
    for line in &mut p.transcript {
        (line.actor, line.text) = (t(), t());
    }
    for (what, empty) in [
        ("journey", p.background.journey.contacts.is_empty()),
        ("timeline", p.background.timeline.is_empty()),
        ("facts", p.assessment.facts.is_empty()),
        ("resolved", p.assessment.resolved.is_empty()),
        ("open actions", p.assessment.open_actions.is_empty()),
        ("commitments", p.assessment.commitments.is_empty()),
        ("documents", p.assessment.documents.is_empty()),
        ("do not ask", p.recommendation.do_not_ask.is_empty()),
        ("transcript", p.transcript.is_empty()),
    ] {
        assert!(!empty, "the fixture must exercise {what}");
    }
    p
}

fn has_control(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
}

#[test]
fn html_keeps_hostile_text_inert() {
    let html = render_html(&package_with(HOSTILE));
    let allowed = [
        "section",
        "h2",
        "h3",
        "h4",
        "p",
        "dl",
        "dt",
        "dd",
        "ol",
        "ul",
        "li",
        "time",
        "table",
        "caption",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "a",
        "strong",
        "blockquote",
        "span",
    ];
    for tag in html.split('<').skip(1) {
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        assert!(allowed.contains(&name.as_str()), "tag <{name}> in {html}");
    }
    for bad in ["<script", "<img", "href=\"javascript", "onerror=alert(1)>"] {
        assert!(!html.contains(bad), "{bad} in {html}");
    }
    // Attribute values are quoted and quotes in text are references.
    assert!(html.contains("&#39; &quot; &amp; &amp;amp; end"), "{html}");
    assert!(!has_control(&html), "{html:?}");
}

/// The GitHub-flavoured extensions chat tools and desks commonly enable.
fn gfm() -> pulldown_cmark::Options {
    use pulldown_cmark::Options;
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_GFM
}

/// Headings, links, images and raw HTML a Markdown renderer would produce.
fn markdown_structure(md: &str) -> (Vec<String>, usize) {
    let mut headings = Vec::new();
    let mut active = 0;
    let mut in_heading = false;
    for event in Parser::new_ext(md, gfm()) {
        match event {
            Md::Start(Tag::Heading { .. }) => {
                in_heading = true;
                headings.push(String::new());
            }
            Md::End(pulldown_cmark::TagEnd::Heading(_)) => in_heading = false,
            Md::Text(t) | Md::Code(t) if in_heading => {
                if let Some(h) = headings.last_mut() {
                    h.push_str(&t);
                }
            }
            Md::Start(
                Tag::Link { .. }
                | Tag::Image { .. }
                | Tag::CodeBlock(_)
                | Tag::HtmlBlock
                | Tag::BlockQuote(_)
                | Tag::List(_)
                | Tag::Table(_),
            )
            | Md::Html(_)
            | Md::InlineHtml(_) => active += 1,
            _ => {}
        }
    }
    (headings, active)
}

#[test]
fn markdown_keeps_hostile_text_inert() {
    let benign = render_markdown(&package_with("plain words"));
    let md = render_markdown(&package_with(HOSTILE));
    assert_eq!(md.lines().count(), benign.lines().count(), "{md}");
    let (benign_headings, benign_blocks) = markdown_structure(&benign);
    let (headings, blocks) = markdown_structure(&md);
    // The same sections; the hostile text only appears as heading *text*.
    assert_eq!(headings.len(), benign_headings.len(), "{md}");
    assert!(
        headings
            .iter()
            .skip(1)
            .zip(&benign_headings[1..])
            .all(|(h, b)| h == b)
    );
    // No link, image, HTML, code block, extra quote, list or table appeared.
    assert_eq!(blocks, benign_blocks, "{md}");
    assert!(!md.contains("<javascript"), "{md}");
    assert!(!has_control(&md), "{md:?}");
}

#[test]
fn markdown_escapes_block_markers_at_the_start_of_a_line() {
    for (text, rendered) in [
        ("- item", "\\- item"),
        ("+ item", "\\+ item"),
        ("12. item", "12\\. item"),
        ("3) item", "3\\) item"),
        ("~~~", "\\~~~"),
        ("===", "\\==="),
        ("    indented", "indented"),
        ("#1 fan", "\\#1 fan"),
        ("order 88231. Thanks - bye", "order 88231. Thanks - bye"),
    ] {
        assert_eq!(markdown::escape(text), rendered);
    }
    let md = render_markdown(&package_with("- 1. injected"));
    assert!(md.contains("## Situation\n\n\\- 1. injected\n"), "{md}");
}

#[test]
fn markdown_links_only_http_documents() {
    let mut p = package_with("Refunds");
    p.assessment.documents[0].uri = Some("https://help.example.com/a b<c>".to_owned());
    assert!(!render_markdown(&p).contains("<https://"));
    p.assessment.documents[0].uri = Some("https://help.example.com/refunds".to_owned());
    assert!(render_markdown(&p).contains("Refunds <https://help.example.com/refunds>"));
    p.assessment.documents[0].uri = Some("JavaScript:alert(1)".to_owned());
    assert!(!render_markdown(&p).contains("alert"));
}

#[test]
fn zendesk_subject_is_one_capped_line_and_the_body_is_escaped_html() {
    let body = render_zendesk(&package_with(HOSTILE));
    let ticket = &body["ticket"];
    let subject = ticket["subject"].as_str().unwrap();
    assert!(
        subject.chars().count() <= zendesk::SUBJECT_MAX_CHARS,
        "{subject}"
    );
    assert!(
        !subject.chars().any(|c| c.is_control() || c == '\n'),
        "{subject:?}"
    );
    assert!(subject.ends_with('…'), "{subject}");
    let name = ticket["requester"]["name"].as_str().unwrap();
    assert!(!name.chars().any(char::is_control), "{name:?}");
    let html = ticket["comment"]["html_body"].as_str().unwrap();
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "{html}"
    );
    for tag in ticket["tags"].as_array().unwrap() {
        let tag = tag.as_str().unwrap();
        assert!(
            tag.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_:-".contains(c)),
            "{tag}"
        );
    }
    // serde wrote the JSON: it parses back to the same strings.
    let round: Value = serde_json::from_str(&body.to_string()).unwrap();
    assert_eq!(round, body);
}

#[test]
fn one_line_folds_breaks_and_caps_on_a_character_boundary() {
    assert_eq!(zendesk::one_line("a\nb\r\n\tc\u{0}d  e", 50), "a b c d e");
    assert_eq!(zendesk::one_line("ééééé", 5), "ééééé");
    assert_eq!(zendesk::one_line("éééééé", 5), "éééé…");
    assert_eq!(zendesk::one_line("abc   def", 5), "abc…");
}

#[test]
fn botframework_transcript_is_plain_text() {
    let activity = render_botframework(&package_with(HOSTILE));
    let activities = activity["attachments"][0]["content"]["activities"]
        .as_array()
        .unwrap();
    assert!(!activities.is_empty());
    for a in activities {
        assert_eq!(a["textFormat"], "plain", "{a}");
        assert_eq!(a["text"], HOSTILE);
    }
}
