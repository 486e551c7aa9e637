//! The package as Markdown, for chat tools and tickets that render it. Customer text is
//! escaped, so a message cannot inject links, HTML or table breaks.

use std::fmt::Write;

use super::model::ContextPackage;

/// Escapes Markdown's active characters and folds newlines.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
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
                        d.uri
                            .as_deref()
                            .map(|u| format!(" <{}>", u.replace(['<', '>', ' '], "")))
                            .unwrap_or_default(),
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
