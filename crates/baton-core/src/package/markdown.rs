//! The package as Markdown, for chat tools and tickets that render it. Every string
//! that comes from a client (customer, bot or agent text, intent labels, reasons, skill
//! names, facts, names, titles) goes through [`escape`], so it stays one line of plain
//! inline text: it cannot open a heading, list, quote, code block, link, image, HTML
//! tag or table cell. Document links are kept only for http(s) URIs.

use std::fmt::Write;

use super::html::safe_uri;
use super::model::ContextPackage;

/// Escapes client text for Markdown (CommonMark and GFM): backslash before every
/// character that opens inline syntax, newlines and tabs folded to spaces, other control
/// characters dropped. The text may land at the start of a line (the situation
/// summary), so leading spaces are dropped and a leading block marker (`-`, `+`, `=`,
/// `~`, `1.`, `1)`) is escaped too; anywhere else such an escape renders the same.
pub fn escape(text: &str) -> String {
    let text = text.trim_start_matches([' ', '\t', '\n', '\r']);
    let mut out = String::with_capacity(text.len() + 2);
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    for (i, c) in text.char_indices() {
        let leading_marker = match i {
            0 => matches!(c, '-' | '+' | '=' | '~'),
            _ => i == digits && digits > 0 && matches!(c, '.' | ')'),
        };
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c if leading_marker => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// A document link as a CommonMark autolink (`<https://...>`), or nothing: only http(s)
/// URIs, and only those an autolink can hold whole (no spaces, controls, `<` or `>`).
fn autolink(uri: &str) -> Option<String> {
    safe_uri(uri)
        .filter(|u| {
            !u.chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        })
        .map(|u| format!(" <{u}>"))
}

/// Renders the package as Markdown.
pub fn render_markdown(p: &ContextPackage) -> String {
    let mut md = String::new();
    // Writing to a String cannot fail; the results are ignored on purpose.
    let _ = writeln!(md, "# Handoff: {}\n", escape(&p.background.conversation_id));
    let _ = writeln!(md, "## Situation\n\n{}\n", escape(&p.situation.summary));

    let _ = writeln!(md, "## Background\n");
    let id = &p.background.identity;
    match (&id.customer_id, &id.method) {
        (Some(c), Some(m)) => {
            let _ = writeln!(
                md,
                "- Identity: customer {} verified by {}",
                escape(c),
                escape(m)
            );
        }
        _ => {
            let _ = writeln!(md, "- Identity: not verified");
        }
    }
    let j = &p.background.journey;
    let _ = writeln!(
        md,
        "- Journey: {} prior contact(s), {} prior handoff(s)",
        j.prior_contacts, j.prior_handoffs
    );
    for c in &j.contacts {
        let how = c
            .resolution
            .as_deref()
            .map(escape)
            .unwrap_or_else(|| "unresolved".to_owned());
        let _ = writeln!(
            md,
            "  - {} ({}): {} handoff(s), {}",
            escape(&c.conversation_id),
            c.started_at,
            c.handoffs,
            how
        );
    }
    let _ = writeln!(md, "\n### Timeline\n");
    for t in &p.background.timeline {
        let _ = writeln!(md, "- #{} {}", t.seq, escape(&t.what));
    }

    let a = &p.assessment;
    let _ = writeln!(md, "\n## Assessment\n");
    if let Some(i) = &a.intent {
        let alts: Vec<String> = i
            .alternatives
            .iter()
            .map(|x| format!("{} {:.2}", escape(&x.name), x.confidence))
            .collect();
        let _ = writeln!(
            md,
            "- Intent: {} ({:.2}){}",
            escape(&i.name),
            i.confidence,
            if alts.is_empty() {
                String::new()
            } else {
                format!("; alternatives: {}", alts.join(", "))
            }
        );
    }
    if let Some(s) = &a.sentiment {
        let _ = writeln!(
            md,
            "- Sentiment: {} ({:.2}), {}",
            s.label.replace('_', " "),
            s.level,
            s.trajectory
        );
    }
    if !a.facts.is_empty() {
        let _ = writeln!(md, "\n| Fact | Value | From message |\n|---|---|---|");
        for f in &a.facts {
            let _ = writeln!(
                md,
                "| {} | {} | #{} |",
                escape(&f.kind.words()),
                escape(&f.value),
                f.seq
            );
        }
    }
    let lists: [(&str, Vec<String>); 4] = [
        (
            "Done",
            a.resolved
                .iter()
                .map(|x| format!("{} (#{})", escape(&x.name), x.seq))
                .collect(),
        ),
        (
            "Open actions",
            a.open_actions
                .iter()
                .map(|x| {
                    format!(
                        "{} {}{}",
                        escape(&x.name),
                        super::words::status_word(x.status),
                        x.detail
                            .as_deref()
                            .map(|d| format!(": {}", escape(d)))
                            .unwrap_or_default()
                    )
                })
                .collect(),
        ),
        (
            "Commitments",
            a.commitments
                .iter()
                .map(|c| {
                    format!(
                        "{}{}{}",
                        escape(&c.text),
                        c.due.map(|d| format!(" by {d}")).unwrap_or_default(),
                        if c.overdue { " (overdue)" } else { "" }
                    )
                })
                .collect(),
        ),
        (
            "Documents",
            a.documents
                .iter()
                .map(|d| {
                    format!(
                        "{}{}{}",
                        escape(&d.title),
                        d.uri.as_deref().and_then(autolink).unwrap_or_default(),
                        d.score
                            .map(|s| format!(" (score {s:.2})"))
                            .unwrap_or_default()
                    )
                })
                .collect(),
        ),
    ];
    for (title, items) in lists {
        if !items.is_empty() {
            let _ = writeln!(md, "\n**{title}**\n");
            for item in items {
                let _ = writeln!(md, "- {item}");
            }
        }
    }

    let r = &p.recommendation;
    let _ = writeln!(md, "\n## Recommendation\n\n> {}\n", escape(&r.opening_line));
    for (i, step) in r.next_actions.iter().enumerate() {
        let _ = writeln!(md, "{}. {}", i + 1, escape(step));
    }
    if !r.skills.is_empty() {
        let _ = writeln!(
            md,
            "\nSkills: {}",
            r.skills
                .iter()
                .map(|s| escape(s))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !r.do_not_ask.is_empty() {
        let _ = writeln!(
            md,
            "\nDo not ask again: {}",
            r.do_not_ask
                .iter()
                .map(|d| escape(&d.label))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    let _ = writeln!(md, "\n## Transcript\n");
    for line in &p.transcript {
        let _ = writeln!(
            md,
            "- **{}** (#{}): {}",
            escape(&line.actor),
            line.seq,
            escape(&line.text)
        );
    }
    md
}
