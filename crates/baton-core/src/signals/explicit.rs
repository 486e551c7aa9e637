//! Explicit requests for a human, negation-aware.
//!
//! A request is a request verb ("talk", "speak", "connect me"...) followed closely by a
//! human target ("agent", "a real person", "your supervisor"), or a short message that is
//! little more than the target ("human please", "AGENT"). It is not a request when the
//! clause negates the wish ("no need for a human", "without talking to an agent"), when
//! the target belongs to someone else ("my travel agent"), when the customer asks what
//! they are talking to ("are you a human?"), or when the verb is in the past ("I was
//! talking to an agent"). Common typos of the key words are forgiven ("speakign").

use super::words::Words;

const VERBS: &[&str] = &[
    "speak",
    "talk",
    "chat",
    "contact",
    "connect",
    "transfer",
    "reach",
    "call",
    "escalate",
    "speaking",
    "talking",
    "chatting",
    "contacting",
    "connecting",
    "transferring",
    "reaching",
    "calling",
    "escalating",
    "put",
    "pass",
    "get",
    "give",
    "bring",
    "want",
    "need",
    "wanna",
    "send",
    "forward",
    "route",
    "hablar",
    "parler",
    "sprechen",
    "mit",
    "contactar",
    "falar",
];
/// Verbs that only count with a strong target or "me" ("transfer money to someone" is
/// not a request).
const WEAK_VERBS: &[&str] = &[
    "transfer", "send", "forward", "route", "get", "give", "bring", "call", "need", "want",
];
const STRONG_TARGETS: &[&str] = &[
    "agent",
    "agents",
    "human",
    "humans",
    "operator",
    "representative",
    "rep",
    "supervisor",
    "manager",
    "person",
    "employee",
    "advisor",
    "adviser",
    "agente",
    "humano",
    "persona",
    "conseiller",
    "humain",
    "mitarbeiter",
    "menschen",
    "mensch",
    "atendente",
];
const WEAK_TARGETS: &[&str] = &[
    "someone",
    "somebody",
    "assistant",
    "staff",
    "people",
    "anyone",
    "anybody",
];
/// Words that make the target someone else's or something else ("my travel agent").
const OWNERS: &[&str] = &[
    "my",
    "his",
    "her",
    "their",
    "travel",
    "insurance",
    "estate",
    "shipping",
    "user",
    "secret",
    "virtual",
    "ai",
    "voice",
    "digital",
    "google",
    "booking",
    "customs",
    "free",
    "double",
    "chemical",
    "cleaning",
    "release",
    "that",
    "this",
    "which",
];
/// Words that make a target part of a noun phrase rather than a bare keyword.
const DETERMINERS: &[&str] = &[
    "a", "an", "the", "to", "with", "your", "our", "for", "real", "live", "actual", "any", "some",
    "one", "no", "not", "is", "am", "are", "be", "as", "of", "from", "by", "like", "human",
    "every", "each", "another", "other", "same", "good", "nice", "kind", "helpful", "great",
    "best",
];
const FILLER: &[&str] = &[
    "a",
    "an",
    "the",
    "please",
    "pls",
    "plz",
    "now",
    "just",
    "real",
    "live",
    "actual",
    "i",
    "want",
    "need",
    "me",
    "give",
    "to",
    "with",
    "talk",
    "speak",
    "get",
    "can",
    "could",
    "may",
    "a",
    "some",
    "right",
    "asap",
    "immediately",
    "thanks",
    "thank",
    "you",
    "hey",
    "hi",
    "human",
    "connect",
    "transfer",
    "an",
    "one",
    "of",
    "your",
    "by",
    "un",
    "una",
    "ein",
    "einen",
    "einem",
];
const NEGATIONS: &[&str] = &[
    "don't want",
    "dont want",
    "do not want",
    "don't need",
    "dont need",
    "do not need",
    "no need",
    "not necessary",
    "doesn't need",
    "don't have to",
    "dont have to",
    "no thanks",
    "no thank you",
    "never mind",
    "nevermind",
    "not looking for",
    "not asking",
    "didn't ask",
    "did not ask",
    "don't wanna",
    "dont wanna",
    "rather not",
    "won't need",
    "wouldn't want",
    "instead of",
    "without",
    "no longer",
    "not want",
    "not need",
    "don't bother",
    "no more",
    "don't transfer",
    "dont transfer",
    "don't connect",
    "do not transfer",
    "do not connect",
    "stop",
    "avoid",
];
const IDENTITY: &[&str] = &[
    "are you", "r u", "is this", "am i", "you are", "you're", "youre", "is that", "are u",
    "was that", "were you", "you were", "i'm", "i am", "im", "we are", "we're",
];
const PAST: &[&str] = &[
    "was",
    "were",
    "been",
    "already",
    "had",
    "once",
    "previously",
];
const CLAUSE_BREAKS: &[&str] = &["but", "however", "pero", "mais", "aber", "so"];

/// A detected request: the words that made it one.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplicitMatch {
    /// The matched words, e.g. `speak to a human`.
    pub phrase: String,
}

/// Detects an explicit request for a human in customer text.
pub fn detect(text: &str, extra_phrases: &[String]) -> Option<ExplicitMatch> {
    let words = Words::new(text);
    if let Some(p) = words.first_phrase(extra_phrases) {
        return Some(ExplicitMatch {
            phrase: p.to_owned(),
        });
    }
    text.split(['.', ',', ';', '!', '?', ':', '\n'])
        .find_map(|piece| {
            let tokens: Vec<String> = Words::new(piece).tokens().map(correct).collect();
            clauses(&tokens).find_map(in_clause)
        })
}

/// Whether a whole message accepts an offer ("yes please", "connect me").
pub fn is_affirmative(text: &str, accept_phrases: &[String]) -> bool {
    let words = Words::new(text);
    accept_phrases.iter().any(|p| words.as_str() == p.trim())
}

fn clauses(tokens: &[String]) -> impl Iterator<Item = &[String]> {
    tokens.split(|t| CLAUSE_BREAKS.contains(&t.as_str()))
}

fn in_clause(clause: &[String]) -> Option<ExplicitMatch> {
    let is = |i: usize, set: &[&str]| clause.get(i).is_some_and(|t| set.contains(&t.as_str()));
    for (j, _) in clause
        .iter()
        .enumerate()
        .filter(|(j, _)| is(*j, STRONG_TARGETS) || is(*j, WEAK_TARGETS))
    {
        let strong = is(j, STRONG_TARGETS);
        if j > 0 && is(j - 1, OWNERS) || negated_target(clause, j) || identity(clause, j) {
            continue;
        }
        let verb = (j.saturating_sub(6)..j).rev().find(|&i| {
            is(i, VERBS)
                && !(i > 0 && is(i - 1, PAST))
                && (strong || !is(i, WEAK_VERBS) || is(i + 1, &["me"]))
        });
        if let Some(i) = verb {
            if !negated_before(clause, i + 1) {
                return Some(ExplicitMatch {
                    phrase: clause[i..=j].join(" "),
                });
            }
            continue;
        }
        let short = clause
            .iter()
            .filter(|t| !FILLER.contains(&t.as_str()))
            .count()
            <= 4;
        // "where is my order 123 human": a bare keyword tacked on at the end.
        let tacked_on = j + 1 == clause.len() && j > 0 && !is(j - 1, DETERMINERS);
        if strong && (short && clause.len() <= 8 || tacked_on) && !negated_before(clause, j + 1) {
            return Some(ExplicitMatch {
                phrase: clause[j].clone(),
            });
        }
    }
    // "escalate this", "transfer me", "connect me", with no target named.
    let bare = clause.windows(2).position(|w| {
        matches!(w[0].as_str(), "escalate" | "transfer" | "connect")
            && matches!(w[1].as_str(), "me" | "this" | "it" | "my")
    });
    match bare {
        Some(i) if !negated_before(clause, i + 1) && (i == 0 || !is(i - 1, PAST)) => {
            Some(ExplicitMatch {
                phrase: clause[i..i + 2].join(" "),
            })
        }
        _ => None,
    }
}

fn window_text(clause: &[String], end: usize) -> String {
    let mut s = String::from(" ");
    for t in &clause[..end.min(clause.len())] {
        s.push_str(t);
        s.push(' ');
    }
    s
}

fn negated_before(clause: &[String], end: usize) -> bool {
    let text = window_text(clause, end);
    NEGATIONS.iter().any(|n| text.contains(&format!(" {n} ")))
}

/// "no agent", "not a real person".
fn negated_target(clause: &[String], j: usize) -> bool {
    let mut i = j;
    while i > 0
        && matches!(
            clause[i - 1].as_str(),
            "a" | "an" | "the" | "real" | "live" | "actual" | "human"
        )
    {
        i -= 1;
    }
    i > 0
        && matches!(clause[i - 1].as_str(), "no" | "not" | "nor")
        && !(i > 1 && matches!(clause[i - 2].as_str(), "want" | "need" | "get" | "give"))
}

/// "are you a human?", "am I talking to a real person", "I'm a human": the identity
/// words followed by nothing but articles and "talking to" before the target.
fn identity(clause: &[String], j: usize) -> bool {
    const BETWEEN: &[&str] = &[
        "a", "an", "the", "real", "actual", "live", "talking", "speaking", "chatting", "to",
        "with", "just", "only", "not", "really", "still", "even", "great", "good", "nice",
        "helpful", "kind", "best", "very",
    ];
    let mut k = j;
    while k > 0 && BETWEEN.contains(&clause[k - 1].as_str()) {
        k -= 1;
    }
    let text = window_text(&clause[k.saturating_sub(2)..], k.min(2));
    IDENTITY.iter().any(|p| text.ends_with(&format!(" {p} ")))
}

/// Maps a token within one edit of a key word (length 5 or more) onto that word.
fn correct(token: &str) -> String {
    if token.len() < 5
        || VERBS.contains(&token)
        || STRONG_TARGETS.contains(&token)
        || WEAK_TARGETS.contains(&token)
    {
        return token.to_owned();
    }
    if matches!(
        token,
        "taking"
            | "contract"
            | "contracts"
            | "parking"
            | "walking"
            | "falling"
            | "persons"
            | "personal"
    ) {
        return token.to_owned();
    }
    VERBS
        .iter()
        .chain(STRONG_TARGETS)
        .chain(WEAK_TARGETS)
        .find(|w| w.len() >= 5 && one_edit(token.as_bytes(), w.as_bytes()))
        .map_or_else(|| token.to_owned(), |w| (*w).to_owned())
}

/// Within one insertion, deletion, substitution or adjacent transposition.
fn one_edit(a: &[u8], b: &[u8]) -> bool {
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    match (ra.len(), rb.len()) {
        (0, 0) => true,
        (x, y) if x == y => {
            ra[1..] == rb[1..] || (x >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..])
        }
        (x, y) if x > y => ra[1..] == *rb,
        _ => *ra == rb[1..],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yes(t: &str) -> bool {
        detect(t, &[]).is_some()
    }

    #[test]
    fn requests() {
        for t in [
            "I want to talk to a human",
            "AGENT",
            "human please!!",
            "can I speak with your supervisor?",
            "let me speak to someone",
            "I have got to speak with a eprson",
            "i need assistance speakign to a human agent",
            "connect me to a real person now",
            "I don't know how I can talk with a human agent",
            "I can't speak to a live agent",
            "I don't want a bot, I want a human",
            "escalate this please",
            "quiero hablar con un agente",
            "reset password agent",
            "where is my order 99812 human",
        ] {
            assert!(yes(t), "{t}");
        }
    }

    #[test]
    fn not_requests() {
        for t in [
            "no need for a human, thanks",
            "I don't need to talk to an agent",
            "my travel agent booked it",
            "are you a human?",
            "I was talking to an agent yesterday and he said it's fine",
            "please do it without transferring me to a person",
            "I want to transfer money to someone",
            "what hours can I call customer service?",
            "my manager needs the invoice",
            "someone used my card",
            "no agent please, just fix it",
            "I'm a human",
            "thanks, you were a great agent",
        ] {
            assert!(!yes(t), "{t}");
        }
    }

    #[test]
    fn affirmative_is_the_whole_message() {
        let accept = vec!["yes please".to_owned(), "yes".to_owned()];
        assert!(is_affirmative("Yes, please!", &accept));
        assert!(!is_affirmative("yes but first tell me the fee", &accept));
    }

    #[test]
    fn edits() {
        assert!(one_edit(b"speakign", b"speaking"));
        assert!(one_edit(b"eprson", b"person"));
        assert!(one_edit(b"somneone", b"someone"));
        assert!(!one_edit(b"persons", b"prison"));
    }
}
