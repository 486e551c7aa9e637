//! The package as an HTML fragment the agent console embeds: one `<section>` with a
//! heading per SBAR part, lists and a captioned table, no inline script or style.
//! Every piece of text goes through [`escape`]; URIs are kept only for http(s).
//! Zendesk embeds this fragment as a ticket's `html_body`, so it is the Zendesk body's
//! escaping too.

use std::fmt::Write;

use super::model::ContextPackage;
use super::words::status_word;

/// Escapes text for HTML element content and quoted attribute values: `&<>"'` become
/// references, and control characters other than tab and newline (HTML forbids most in
/// text, and some desks refuse them) are dropped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' | '\n' => out.push(c),
            c if c.is_control() => {}
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The URI when it is http(s): no `javascript:`, `data:` or other scheme reaches a link.
pub(super) fn safe_uri(uri: &str) -> Option<&str> {
    let lower = uri.trim_start().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then_some(uri)
}

/// Renders the package as an accessible HTML fragment.
pub fn render_html(p: &ContextPackage) -> String {
    let mut h = String::new();
    let s = &p.situation;
    // Writing to a String cannot fail; the results are ignored on purpose.
    let _ = write!(
        h,
        "<section class=\"baton-package\" aria-labelledby=\"baton-pkg-title\" data-version=\"{}\">",
        escape(p.version)
    );
    let _ = write!(
        h,
        "<h2 id=\"baton-pkg-title\">Handoff: {}</h2>",
        escape(&p.background.conversation_id)
    );

    let _ = write!(
        h,
        "<section aria-labelledby=\"baton-situation\"><h3 id=\"baton-situation\">Situation</h3><p>{}</p>",
        escape(&s.summary)
    );
    let _ = write!(
        h,
        "<dl><dt>Priority</dt><dd>{}</dd>",
        escape(&format!("{:?}", s.priority).to_lowercase())
    );
    if let Some(w) = s.waiting_seconds {
        let _ = write!(
            h,
            "<dt>Waiting</dt><dd>{}</dd>",
            escape(&super::words::duration(w))
        );
    }
    if let Some(feel) = &s.sentiment {
        let _ = write!(h, "<dt>Sentiment</dt><dd>{}</dd>", escape(feel));
    }
    h.push_str("</dl></section>");

    let b = &p.background;
    let _ = write!(
        h,
        "<section aria-labelledby=\"baton-background\"><h3 id=\"baton-background\">Background</h3><dl>"
    );
    match (&b.identity.customer_id, &b.identity.method) {
        (Some(c), Some(m)) => {
            let _ = write!(
                h,
                "<dt>Identity</dt><dd>customer {} verified by {}</dd>",
                escape(c),
                escape(m)
            );
        }
        _ => h.push_str("<dt>Identity</dt><dd>not verified</dd>"),
    }
    let _ = write!(
        h,
        "<dt>Journey</dt><dd>{} prior contact(s), {} prior handoff(s)</dd></dl>",
        b.journey.prior_contacts, b.journey.prior_handoffs
    );
    h.push_str("<h4>Timeline</h4><ol class=\"baton-timeline\">");
    for t in &b.timeline {
        let _ = write!(
            h,
            "<li><time datetime=\"{}\">#{}</time> {}</li>",
            t.at,
            t.seq,
            escape(&t.what)
        );
    }
    h.push_str("</ol></section>");

    let a = &p.assessment;
    h.push_str("<section aria-labelledby=\"baton-assessment\"><h3 id=\"baton-assessment\">Assessment</h3><dl>");
    if let Some(i) = &a.intent {
        let _ = write!(
            h,
            "<dt>Intent</dt><dd>{} ({:.0} %)</dd>",
            escape(&i.name),
            i.confidence * 100.0
        );
    }
    h.push_str("</dl>");
    if !a.facts.is_empty() {
        h.push_str("<table class=\"baton-facts\"><caption>Facts the customer already gave</caption><thead><tr><th scope=\"col\">Fact</th><th scope=\"col\">Value</th><th scope=\"col\">Message</th></tr></thead><tbody>");
        for f in &a.facts {
            let class = if f.redacted {
                " class=\"redacted\""
            } else {
                ""
            };
            let _ = write!(
                h,
                "<tr><th scope=\"row\">{}</th><td{class}>{}</td><td>#{}</td></tr>",
                escape(&f.kind.words()),
                escape(&f.value),
                f.seq
            );
        }
        h.push_str("</tbody></table>");
    }
    let mut list = |title: &str, items: Vec<String>| {
        if !items.is_empty() {
            let _ = write!(h, "<h4>{}</h4><ul>", escape(title));
            for item in items {
                let _ = write!(h, "<li>{item}</li>");
            }
            h.push_str("</ul>");
        }
    };
    list("Done", a.resolved.iter().map(|x| escape(&x.name)).collect());
    list(
        "Open actions",
        a.open_actions
            .iter()
            .map(|x| {
                format!(
                    "{} ({}){}",
                    escape(&x.name),
                    status_word(x.status),
                    x.detail
                        .as_deref()
                        .map(|d| format!(": {}", escape(d)))
                        .unwrap_or_default()
                )
            })
            .collect(),
    );
    list(
        "Commitments",
        a.commitments
            .iter()
            .map(|c| {
                format!(
                    "{}{}",
                    escape(&c.text),
                    if c.overdue {
                        " <strong>(overdue)</strong>"
                    } else {
                        ""
                    }
                )
            })
            .collect(),
    );
    list(
        "Documents",
        a.documents
            .iter()
            .map(|d| match d.uri.as_deref().and_then(safe_uri) {
                Some(u) => format!("<a href=\"{}\">{}</a>", escape(u), escape(&d.title)),
                None => escape(&d.title),
            })
            .collect(),
    );
    h.push_str("</section>");

    let r = &p.recommendation;
    let _ = write!(
        h,
        "<section aria-labelledby=\"baton-recommendation\"><h3 id=\"baton-recommendation\">Recommendation</h3><blockquote class=\"baton-opening\">{}</blockquote>",
        escape(&r.opening_line)
    );
    if !r.next_actions.is_empty() {
        h.push_str("<ol class=\"baton-next\">");
        for step in &r.next_actions {
            let _ = write!(h, "<li>{}</li>", escape(step));
        }
        h.push_str("</ol>");
    }
    if !r.do_not_ask.is_empty() {
        let labels: Vec<String> = r.do_not_ask.iter().map(|d| escape(&d.label)).collect();
        let _ = write!(
            h,
            "<p class=\"baton-do-not-ask\"><strong>Do not ask again:</strong> {}</p>",
            labels.join(", ")
        );
    }
    h.push_str("</section>");

    h.push_str("<section aria-labelledby=\"baton-transcript\"><h3 id=\"baton-transcript\">Transcript</h3><ol class=\"baton-transcript\">");
    for line in &p.transcript {
        let _ = write!(
            h,
            "<li class=\"{}\"><span class=\"actor\">{}</span> <time datetime=\"{}\">#{}</time> <span class=\"text\">{}</span></li>",
            line.kind,
            escape(&line.actor),
            line.at,
            line.seq,
            escape(&line.text)
        );
    }
    h.push_str("</ol></section></section>");
    h
}
