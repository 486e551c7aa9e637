//! The package's sentences: the situation in plain language and an opening line that
//! continues the bot's tone. Deterministic templates, so the same log always reads the
//! same and a snapshot test can hold it.

use crate::event::Priority;
use crate::facts::{Fact, FactKind};

use super::model::SentimentView;

/// `billing.duplicate_charge` -> `billing duplicate charge`.
pub fn humanize(label: &str) -> String {
    label
        .replace(['_', '.', '-', ':', '/'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `200` -> `3 min 20 s`.
pub fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// `done`, `pending`, `failed`.
pub fn status_word(status: crate::event::ActionStatus) -> &'static str {
    use crate::event::ActionStatus as S;
    match status {
        S::Done => "done",
        S::Pending => "pending",
        S::Failed => "failed",
    }
}

/// The sentiment label for a -1..1 level.
pub fn sentiment_label(level: f64) -> &'static str {
    match level {
        l if l <= -0.5 => "very_negative",
        l if l <= -0.05 => "negative",
        l if l < 0.05 => "neutral",
        l if l < 0.5 => "positive",
        _ => "very_positive",
    }
}

/// The trajectory for a per-message slope (of the mood when known, else of sentiment).
pub fn trajectory(slope: f64) -> &'static str {
    match slope {
        s if s < -0.05 => "worsening",
        s if s > 0.05 => "improving",
        _ => "steady",
    }
}

/// "negative and getting worse".
pub fn sentiment_words(s: &SentimentView) -> String {
    let feel = s.label.replace('_', " ");
    match s.trajectory {
        "worsening" => format!("{feel} and getting worse"),
        "improving" => format!("{feel} but improving"),
        _ => feel,
    }
}

fn priority_word(p: Priority) -> &'static str {
    match p {
        Priority::Low => "low",
        Priority::Normal => "normal",
        Priority::High => "high",
        Priority::Urgent => "urgent",
    }
}

/// The parts of the situation sentence.
pub struct SituationParts<'a> {
    /// Customer name, if visible.
    pub name: Option<&'a str>,
    /// Verified customer id.
    pub customer_id: Option<&'a str>,
    /// Current intent and confidence.
    pub intent: Option<(&'a str, f64)>,
    /// Sentiment.
    pub sentiment: Option<&'a SentimentView>,
    /// Reasons in words.
    pub reasons: Vec<String>,
    /// Priority.
    pub priority: Priority,
    /// Seconds waiting, if queued.
    pub waiting: Option<i64>,
}

/// One or two sentences: who wants what and how they feel; why now, how urgent, how long.
pub fn situation(p: &SituationParts<'_>) -> String {
    let who = match (p.name, p.customer_id) {
        (Some(name), Some(id)) => format!("{name} (verified customer {id})"),
        (Some(name), None) => name.to_owned(),
        (None, Some(id)) => format!("Verified customer {id}"),
        (None, None) => "The customer".to_owned(),
    };
    let want = match p.intent {
        Some((intent, c)) if c < 0.5 => format!(
            "probably wants help with {} (confidence {:.0} %)",
            humanize(intent),
            c * 100.0
        ),
        Some((intent, c)) => format!(
            "wants help with {} (confidence {:.0} %)",
            humanize(intent),
            c * 100.0
        ),
        None => "has not stated a clear request yet".to_owned(),
    };
    let feel = p
        .sentiment
        .map(|s| format!(" and feels {}", sentiment_words(s)))
        .unwrap_or_default();
    let why = if p.reasons.is_empty() {
        "No handoff reason was recorded".to_owned()
    } else {
        format!("Handed off because {}", p.reasons.join("; "))
    };
    let wait = p
        .waiting
        .map(|w| format!(", waiting {}", duration(w)))
        .unwrap_or_default();
    format!(
        "{who} {want}{feel}. {why} (priority {}{wait}).",
        priority_word(p.priority)
    )
}

/// How a known fact is named in a sentence: "order 88231", "your email a@b.co".
fn mention(f: &Fact) -> Option<String> {
    let v = &f.value;
    Some(match f.kind {
        FactKind::OrderId => format!("order {v}"),
        FactKind::InvoiceId => format!("invoice {v}"),
        FactKind::CaseId => format!("case {v}"),
        FactKind::AccountId => format!("account {v}"),
        FactKind::Email => format!("your email {v}"),
        FactKind::Phone => format!("your phone number {v}"),
        FactKind::Username => format!("your username {v}"),
        FactKind::Amount => format!("the amount of {v}"),
        FactKind::Product => format!("the {v}"),
        _ => return None,
    })
}

/// Whether the bot wrote casually (exclamations, "hey", "no worries"): the agent should
/// not answer a warm bot in a cold script.
pub fn casual_tone(bot_lines: &[&str]) -> bool {
    let mut score = 0i32;
    for line in bot_lines {
        score += i32::from(line.contains('!'));
        let (casual, formal) = tone_words(line);
        score += i32::from(casual);
        score -= i32::from(formal);
    }
    score > 0
}

const CASUAL: &[&str] = &[
    "hey",
    "no worries",
    "awesome",
    "great!",
    "sure!",
    "cool",
    "hi!",
    ":)",
    "😊",
];
const FORMAL: &[&str] = &["kindly", "regards", "dear", "please be advised"];

/// Whether a line, lower-cased, holds a casual word and a formal one. One pass over
/// ASCII lines (most), where ASCII case-insensitive matching is lower-casing; other
/// lines are lower-cased first, as `to_lowercase` folds more than ASCII letters.
fn tone_words(line: &str) -> (bool, bool) {
    static WORDS: std::sync::LazyLock<Option<aho_corasick::AhoCorasick>> =
        std::sync::LazyLock::new(|| {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                .build(CASUAL.iter().chain(FORMAL))
                .ok()
        });
    match WORDS.as_ref().filter(|_| line.is_ascii()) {
        Some(words) => {
            let (mut casual, mut formal) = (false, false);
            for m in words.find_overlapping_iter(line) {
                if m.pattern().as_usize() < CASUAL.len() {
                    casual = true;
                } else {
                    formal = true;
                }
            }
            (casual, formal)
        }
        None => {
            let lower = line.to_lowercase();
            (
                CASUAL.iter().any(|c| lower.contains(c)),
                FORMAL.iter().any(|c| lower.contains(c)),
            )
        }
    }
}

/// The suggested first message.
pub fn opening_line(
    first_name: Option<&str>,
    casual: bool,
    facts: &[Fact],
    intent: Option<&str>,
    upset: bool,
) -> String {
    let greeting = match (casual, first_name) {
        (true, Some(n)) => format!("Hi {n}!"),
        (true, None) => "Hi there!".to_owned(),
        (false, Some(n)) => format!("Hello {n},"),
        (false, None) => "Hello,".to_owned(),
    };
    let mut known: Vec<String> = Vec::new();
    // Record ids first: they are what the customer most dreads spelling out again.
    for f in facts
        .iter()
        .filter(|f| f.kind.is_record_id())
        .chain(facts.iter().filter(|f| !f.kind.is_record_id()))
    {
        if f.redacted || known.len() >= 3 {
            continue;
        }
        if let Some(m) = mention(f).filter(|m| !known.contains(m)) {
            known.push(m);
        }
    }
    let mut body =
        String::from(" I've read your conversation so far, so you won't need to repeat anything.");
    match (known.is_empty(), intent) {
        (false, Some(i)) => {
            body += &format!(
                " I can see {} and that you need help with {}.",
                list(&known),
                humanize(i)
            )
        }
        (false, None) => body += &format!(" I can see {}.", list(&known)),
        (true, Some(i)) => body += &format!(" I can see you need help with {}.", humanize(i)),
        (true, None) => {}
    }
    if upset {
        body += if casual {
            " I'm sorry this has been such a hassle."
        } else {
            " I apologise for the trouble so far."
        };
    }
    body += if casual {
        " Let me take it from here!"
    } else {
        " I will take it from here."
    };
    greeting + &body
}

fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [init @ .., last] => format!("{}, and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::FactSource;

    fn fact(kind: FactKind, value: &str) -> Fact {
        Fact {
            kind,
            value: value.into(),
            seq: 1,
            source: FactSource::Customer,
            pii: None,
            redacted: false,
            span: None,
        }
    }

    #[test]
    fn opening_line_names_what_is_known() {
        let facts = [
            fact(FactKind::Email, "ana@example.com"),
            fact(FactKind::OrderId, "88231"),
        ];
        let line = opening_line(
            Some("Ana"),
            true,
            &facts,
            Some("billing.duplicate_charge"),
            true,
        );
        assert_eq!(
            line,
            "Hi Ana! I've read your conversation so far, so you won't need to repeat anything. \
             I can see order 88231 and your email ana@example.com and that you need help with \
             billing duplicate charge. I'm sorry this has been such a hassle. Let me take it from here!"
        );
        let formal = opening_line(None, false, &[], None, false);
        assert!(formal.starts_with("Hello, ") && formal.ends_with("I will take it from here."));
    }

    #[test]
    fn tone_and_durations() {
        assert!(casual_tone(&["Hey! No worries, I can help."]));
        assert!(!casual_tone(&["Kindly provide your account number."]));
        for line in [
            "HEY, No Worries",
            "Best Regards",
            "\u{212a}indly note",
            "Thanks 😊",
            "Dear Sir, COOL",
            "plain",
        ] {
            let lower = line.to_lowercase();
            let naive = (
                CASUAL.iter().any(|c| lower.contains(c)),
                FORMAL.iter().any(|c| lower.contains(c)),
            );
            assert_eq!(tone_words(line), naive, "{line}");
        }
        assert_eq!(duration(200), "3 min 20 s");
        assert_eq!(duration(7260), "2 h 1 min");
        assert_eq!(
            humanize("billing.duplicate_charge"),
            "billing duplicate charge"
        );
    }
}
