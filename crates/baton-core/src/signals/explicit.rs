//! Explicit requests for a human, negation-aware.
//!
//! A request is a request verb ("talk", "speak", "connect me"...) followed closely by a
//! human target ("agent", "a real person", "your supervisor"), or a short message that is
//! little more than the target ("human please", "AGENT"). It is not a request when the
//! clause negates the wish ("no need for a human", "without talking to an agent"), when
//! the target belongs to someone else ("my travel agent"), when the customer asks what
//! they are talking to ("are you a human?"), or when the verb is in the past ("I was
//! talking to an agent"). Common typos of the key words are forgiven ("speakign").

use std::sync::LazyLock;

use super::words::{WordMap, Words, is_word_char};

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
    detect_in(text, &Words::new(text), extra_phrases)
}

/// [`detect`] over `words`, which must be `Words::new(text)`: the fold normalises each
/// message once for every signal.
pub fn detect_in(text: &str, words: &Words, extra_phrases: &[String]) -> Option<ExplicitMatch> {
    if let Some(p) = words.first_phrase(extra_phrases) {
        return Some(ExplicitMatch {
            phrase: p.to_owned(),
        });
    }
    let tokens: Vec<Tok<'_>> = words.tokens().map(Tok::new).collect();
    // The clauses never cross `.,;!?:` or a newline: walk the text for those pieces,
    // counting words as `Words` splits them.
    let (mut start, mut count, mut in_word) = (0, 0, false);
    for c in text.chars().chain(std::iter::once('\n')) {
        if matches!(c, '.' | ',' | ';' | '!' | '?' | ':' | '\n') {
            let piece = &tokens[start..count];
            if let Some(found) = clauses(piece).find_map(in_clause) {
                return Some(found);
            }
            (start, in_word) = (count, false);
        } else {
            let word = is_word_char(c);
            count += usize::from(word && !in_word);
            in_word = word;
        }
    }
    None
}

/// Whether a whole message accepts an offer ("yes please", "connect me").
pub fn is_affirmative(text: &str, accept_phrases: &[String]) -> bool {
    is_affirmative_in(&Words::new(text), accept_phrases)
}

/// [`is_affirmative`] over the message's words.
pub fn is_affirmative_in(words: &Words, accept_phrases: &[String]) -> bool {
    accept_phrases.iter().any(|p| words.as_str() == p.trim())
}

// Which of the word lists above a token is on, one bit per list.
const VERB: u16 = 1;
const WEAK_VERB: u16 = 1 << 1;
const STRONG: u16 = 1 << 2;
const WEAK: u16 = 1 << 3;
const OWNER: u16 = 1 << 4;
const DETERMINER: u16 = 1 << 5;
const FILL: u16 = 1 << 6;
const PAST_WORD: u16 = 1 << 7;
const BREAK: u16 = 1 << 8;
const ME: u16 = 1 << 9;
/// Tokens `correct` leaves alone although they are one edit from a key word.
const KEEP: u16 = 1 << 10;

/// Every listed word with its bits; and the key words a typo may be corrected to
/// (length 5 or more), in list order, by length.
struct Lexicon {
    words: WordMap<u16>,
    /// `by_len[n]`: key words of length `n - 1..=n + 1`, in `VERBS`, `STRONG_TARGETS`,
    /// `WEAK_TARGETS` order.
    by_len: Vec<Vec<&'static str>>,
}

static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| {
    let lists: [(&[&'static str], u16); 11] = [
        (VERBS, VERB),
        (WEAK_VERBS, WEAK_VERB),
        (STRONG_TARGETS, STRONG),
        (WEAK_TARGETS, WEAK),
        (OWNERS, OWNER),
        (DETERMINERS, DETERMINER),
        (FILLER, FILL),
        (PAST, PAST_WORD),
        (CLAUSE_BREAKS, BREAK),
        (&["me"], ME),
        (KEPT, KEEP),
    ];
    let mut words: Vec<(&'static str, u16)> = Vec::new();
    for (list, bit) in lists {
        for w in list {
            match words.iter_mut().find(|(k, _)| k == w) {
                Some((_, bits)) => *bits |= bit,
                None => words.push((w, bit)),
            }
        }
    }
    let keys: Vec<&'static str> = VERBS
        .iter()
        .chain(STRONG_TARGETS)
        .chain(WEAK_TARGETS)
        .copied()
        .filter(|w| w.len() >= 5)
        .collect();
    let longest = keys.iter().map(|w| w.len()).max().unwrap_or(0);
    let by_len = (0..=longest + 1)
        .map(|n| {
            keys.iter()
                .copied()
                .filter(|w| w.len().abs_diff(n) <= 1)
                .collect()
        })
        .collect();
    Lexicon {
        words: WordMap::new(words),
        by_len,
    }
});

const KEPT: &[&str] = &[
    "taking",
    "contract",
    "contracts",
    "parking",
    "walking",
    "falling",
    "persons",
    "personal",
];

/// A word of the message after typo correction, with its list bits.
#[derive(Debug, Clone, Copy)]
struct Tok<'a> {
    text: &'a str,
    bits: u16,
}

impl<'a> Tok<'a> {
    fn new(token: &'a str) -> Self {
        let own = bits(token);
        let text = correct(token, own);
        Self {
            text,
            bits: if std::ptr::eq(text, token) {
                own
            } else {
                bits(text)
            },
        }
    }
}

fn bits(word: &str) -> u16 {
    LEXICON.words.get(word).unwrap_or(0)
}

fn clauses<'t, 'a>(tokens: &'t [Tok<'a>]) -> impl Iterator<Item = &'t [Tok<'a>]> {
    tokens.split(|t| t.bits & BREAK != 0)
}

fn join(tokens: &[Tok<'_>]) -> String {
    let mut out = String::new();
    for (n, t) in tokens.iter().enumerate() {
        if n > 0 {
            out.push(' ');
        }
        out.push_str(t.text);
    }
    out
}

fn in_clause(clause: &[Tok<'_>]) -> Option<ExplicitMatch> {
    let is = |i: usize, bit: u16| clause.get(i).is_some_and(|t| t.bits & bit != 0);
    let word = |i: usize| clause[i].text;
    for j in (0..clause.len()).filter(|&j| is(j, STRONG | WEAK)) {
        let strong = is(j, STRONG);
        if j > 0 && is(j - 1, OWNER)
            || negated_target(clause, j)
            || identity(clause, j)
            || identity_question(clause, j)
            || counted(clause, j)
        {
            continue;
        }
        let verb = (j.saturating_sub(6)..j).rev().find(|&i| {
            is(i, VERB)
                && !(i > 0 && is(i - 1, PAST_WORD))
                && (strong || !is(i, WEAK_VERB) || is(i + 1, ME))
        });
        if let Some(i) = verb {
            // "I need to add a person to my account": another action takes the target.
            let taken = clause[i + 1..j]
                .iter()
                .any(|t| OBJECT_VERBS.contains(&t.text));
            if !negated_before(clause, i + 1) && !taken {
                return Some(ExplicitMatch {
                    phrase: join(&clause[i..=j]),
                });
            }
            continue;
        }
        let short = clause.iter().filter(|t| t.bits & FILL == 0).count() <= 4;
        // "where is my order 123 human": a bare keyword tacked on at the end.
        let tacked_on = j + 1 == clause.len() && j > 0 && !is(j - 1, DETERMINER);
        if strong && (short && clause.len() <= 8 || tacked_on) && !negated_before(clause, j + 1) {
            return Some(ExplicitMatch {
                phrase: word(j).to_owned(),
            });
        }
    }
    // "escalate this", "transfer me", "connect me", with no target named.
    // "transfer my 401k", "transfer me money", "connect it to wifi" name an object:
    // only "escalate" takes one ("escalate my case"); "transfer me" / "connect me" are
    // requests when nothing or a destination follows.
    let bare = clause.windows(2).enumerate().position(|(i, w)| {
        let next = clause.get(i + 2).map(|t| t.text);
        let ends = next.is_none_or(|n| {
            matches!(
                n,
                "please" | "pls" | "now" | "asap" | "right" | "immediately"
            )
        });
        match w[0].text {
            "escalate" => matches!(w[1].text, "me" | "this" | "it" | "my"),
            "transfer" | "connect" => match w[1].text {
                "me" => {
                    ends || next.is_some_and(|n| matches!(n, "to" | "through" | "over" | "with"))
                }
                "this" | "it" => ends,
                _ => false,
            },
            _ => false,
        }
    });
    match bare {
        Some(i) if !negated_before(clause, i + 1) && (i == 0 || !is(i - 1, PAST_WORD)) => {
            Some(ExplicitMatch {
                phrase: join(&clause[i..i + 2]),
            })
        }
        _ => None,
    }
}

/// Whether the words of `phrase` (single spaces) occur in a row in `window`.
fn has_words(window: &[Tok<'_>], phrase: &str) -> bool {
    let n = phrase.split(' ').count();
    window
        .windows(n)
        .any(|w| w.iter().map(|t| t.text).eq(phrase.split(' ')))
}

/// Whether `window` ends with the words of `phrase`.
fn ends_with_words(window: &[Tok<'_>], phrase: &str) -> bool {
    let n = phrase.split(' ').count();
    n <= window.len()
        && window[window.len() - n..]
            .iter()
            .map(|t| t.text)
            .eq(phrase.split(' '))
}

/// A negation among the first `end` words of the clause.
fn negated_before(clause: &[Tok<'_>], end: usize) -> bool {
    let window = &clause[..end.min(clause.len())];
    NEGATIONS.iter().any(|n| has_words(window, n))
}

/// "no agent", "not a real person".
fn negated_target(clause: &[Tok<'_>], j: usize) -> bool {
    let mut i = j;
    while i > 0
        && matches!(
            clause[i - 1].text,
            "a" | "an" | "the" | "real" | "live" | "actual" | "human"
        )
    {
        i -= 1;
    }
    i > 0
        && matches!(clause[i - 1].text, "no" | "not" | "nor")
        && !(i > 1 && matches!(clause[i - 2].text, "want" | "need" | "get" | "give"))
}

/// "are you a human?", "am I talking to a real person", "I'm a human": the identity
/// words followed by nothing but articles and "talking to" before the target.
fn identity(clause: &[Tok<'_>], j: usize) -> bool {
    const BETWEEN: &[&str] = &[
        "a", "an", "the", "real", "actual", "live", "talking", "speaking", "chatting", "to",
        "with", "just", "only", "not", "really", "still", "even", "great", "good", "nice",
        "helpful", "kind", "best", "very",
    ];
    let mut k = j;
    while k > 0 && BETWEEN.contains(&clause[k - 1].text) {
        k -= 1;
    }
    let window = &clause[k.saturating_sub(2)..k];
    IDENTITY.iter().any(|p| ends_with_words(window, p))
}

/// "Are you actually a person", "could you be human", "would you call yourself a
/// human": a question about the bot, with no request verb between it and the target.
fn identity_question(clause: &[Tok<'_>], j: usize) -> bool {
    let text = |k: usize| clause.get(k).map_or("", |t| t.text);
    (j.saturating_sub(6)..j).any(|k| {
        let opens = text(k) == "yourself"
            || matches!(
                (text(k), text(k + 1)),
                ("are", "you") | ("you", "be") | ("u", "be") | ("your", "a") | ("ur", "a")
            );
        opens && clause[k + 1..j].iter().all(|t| t.bits & VERB == 0)
    })
}

/// "An uber for 3 people", "a table for two persons": a count, not someone to talk to.
fn counted(clause: &[Tok<'_>], j: usize) -> bool {
    const NUMBERS: &[&str] = &[
        "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "1", "2", "3", "4",
        "5", "6", "7", "8", "9", "10",
    ];
    j > 0
        && (NUMBERS.contains(&clause[j - 1].text)
            || clause[j - 1].text == "one" && j > 1 && clause[j - 2].text == "for")
}

/// Verbs that make a following human target their object ("add a person", "pay
/// someone"), so the target is not who the customer wants to talk to.
const OBJECT_VERBS: &[&str] = &[
    "add", "remove", "delete", "pay", "send", "invite", "book", "block", "tip", "refer", "share",
    "split", "hire", "order",
];

/// Maps a token within one edit of a key word (length 5 or more) onto that word.
/// `bits` are the token's own.
fn correct(token: &str, bits: u16) -> &str {
    if token.len() < 5 || bits & (VERB | STRONG | WEAK | KEEP) != 0 {
        return token;
    }
    let t = token.as_bytes();
    LEXICON
        .by_len
        .get(token.len())
        .and_then(|keys| {
            keys.iter().find(|w| {
                let w = w.as_bytes();
                // One edit keeps the first or the second byte in place, or swaps them.
                (t[0] == w[0] || t[1] == w[1] || t[1] == w[0] || t[0] == w[1]) && one_edit(t, w)
            })
        })
        .map_or(token, |w| w)
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
    fn pieces_and_shared_words_change_nothing() {
        for t in [
            "no thanks. I want a human",
            "I want a human: no, never mind",
            "my travel agent, sorry. AGENT!",
            "",
            "...",
        ] {
            assert_eq!(detect_in(t, &Words::new(t), &[]), detect(t, &[]), "{t}");
        }
        assert_eq!(
            detect("no thanks. I want a human", &[]).map(|m| m.phrase),
            Some("want a human".to_owned())
        );
    }

    #[test]
    fn edits() {
        assert!(one_edit(b"speakign", b"speaking"));
        assert!(one_edit(b"eprson", b"person"));
        assert!(one_edit(b"somneone", b"someone"));
        assert!(!one_edit(b"persons", b"prison"));
    }

    /// Rows of the banking77 and CLINC150 dev sides (`baton eval handoffs`) that asked
    /// for no human, and the requests their fixes must keep.
    #[test]
    fn objects_counts_and_questions_about_the_bot_are_not_requests() {
        for t in [
            "What are the ways for others to transfer me money?",
            "Can I directly transfer my salary onto here?",
            "how can i transfer my 401k",
            "get me an uber for 3 people uptown",
            "i want an uber for one person to go to bank of america",
            "would you call yourself a human or a computer",
            "would you describe yourself as a cat or dog person",
            "are you actually a person",
            "could you be human",
            "is it true your a real person",
            "i need to add a person to my bank account",
        ] {
            assert_eq!(detect(t, &[]), None, "{t}");
        }
        for t in [
            "transfer me please",
            "transfer me to billing",
            "connect me with a human",
            "escalate my case",
            "escalate this now",
            "are you able to connect me to a person",
            "I need a person",
            "can i talk to someone about my card",
        ] {
            assert!(detect(t, &[]).is_some(), "{t}");
        }
    }
}
