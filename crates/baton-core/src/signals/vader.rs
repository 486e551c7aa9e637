//! VADER sentiment, scored without per-call set-up: the compound score of
//! `vader_sentiment::SentimentIntensityAnalyzer::polarity_scores`, the same number to
//! within float rounding, at a fraction of the cost.
//!
//! A port of the `vader_sentiment` crate 0.1.1 (MIT licence, © Chris Wong and Mariana
//! Meireles, <https://github.com/ckw017/vader-sentiment-rust>), itself a port of VADER
//! (Hutto, C.J. & Gilbert, E.E. (2014). VADER: A Parsimonious Rule-based Model for
//! Sentiment Analysis of Social Media Text. ICWSM-14). The word and emoji lexicons are
//! the crate's own exports (`LEXICON`, `EMOJI_LEXICON`); its booster, negation and idiom
//! lists are private, so they are copied here. Everything is looked up in one sorted
//! table built on first use.
//!
//! The crate's behaviour is kept where it differs from the Python original, so that
//! scores do not move: a single `?` already amplifies; a total of exactly 0 still gets
//! the punctuation amplifier subtracted; "at least" negates like "least"; with three
//! words before a sentiment word, "so"/"this" one or two words back boosts by 1.25 and
//! booster words are found as substrings of those three words ("also" contains "so");
//! a token of punctuation only ("!!!", ":)") counts as ALL CAPS; words match keys under
//! Unicode case folding. Where the crate's outcome depends on `HashMap` iteration order
//! (two idioms in one window, the order booster values are added), this module uses
//! the crate's source order.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use super::words::fnv1a;

const B_INCR: f64 = 0.293;
const B_DECR: f64 = -0.293;
const C_INCR: f64 = 0.733;
const N_SCALAR: f64 = -0.74;
const QMARK_INCR: f64 = 0.18;
const EMARK_INCR: f64 = 0.292;
const MAX_EMARK: usize = 4;
const MAX_QMARK: usize = 3;
const MAX_QMARK_INCR: f64 = 0.96;
const ALPHA: f64 = 15.0;

/// Words that flip the valence of a sentiment word up to three words later.
const NEGATIONS: &[&str] = &[
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

const INCR: &[&str] = &[
    "absolutely",
    "amazingly",
    "awfully",
    "completely",
    "considerable",
    "considerably",
    "decidedly",
    "deeply",
    "effing",
    "enormous",
    "enormously",
    "entirely",
    "especially",
    "exceptional",
    "exceptionally",
    "extreme",
    "extremely",
    "fabulously",
    "flipping",
    "flippin",
    "frackin",
    "fracking",
    "fricking",
    "frickin",
    "frigging",
    "friggin",
    "fully",
    "fuckin",
    "fucking",
    "fuggin",
    "fugging",
    "greatly",
    "hella",
    "highly",
    "hugely",
    "incredible",
    "incredibly",
    "intensely",
    "major",
    "majorly",
    "more",
    "most",
    "particularly",
    "purely",
    "quite",
    "really",
    "remarkably",
    "so",
    "substantially",
    "thoroughly",
    "total",
    "totally",
    "tremendous",
    "tremendously",
    "uber",
    "unbelievably",
    "unusually",
    "utter",
    "utterly",
    "very",
];

const DECR: &[&str] = &[
    "almost",
    "barely",
    "hardly",
    "just enough",
    "kind of",
    "kinda",
    "kindof",
    "kind-of",
    "less",
    "little",
    "marginal",
    "marginally",
    "occasional",
    "occasionally",
    "partly",
    "scarce",
    "scarcely",
    "slight",
    "slightly",
    "somewhat",
    "sort of",
    "sorta",
    "sortof",
    "sort-of",
];

/// Idioms that replace the valence of a word near them.
const IDIOMS: &[(&str, f64)] = &[
    ("the shit", 3.0),
    ("the bomb", 3.0),
    ("bad ass", 1.5),
    ("badass", 1.5),
    ("yeah right", -2.0),
    ("kiss of death", -1.5),
    ("to die for", 3.0),
];

/// Words the rules name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Word {
    Other,
    But,
    Kind,
    Of,
    Never,
    So,
    This,
    Without,
    Doubt,
    Least,
}

const WORDS: &[(&str, Word)] = &[
    ("but", Word::But),
    ("kind", Word::Kind),
    ("of", Word::Of),
    ("never", Word::Never),
    ("so", Word::So),
    ("this", Word::This),
    ("without", Word::Without),
    ("doubt", Word::Doubt),
    ("least", Word::Least),
];

/// What the lexicon and the lists say about one (case-folded) word.
#[derive(Debug, Clone, Copy)]
struct Entry {
    valence: Option<f64>,
    booster: Option<f64>,
    negation: bool,
    word: Word,
}

const UNKNOWN: Entry = Entry {
    valence: None,
    booster: None,
    negation: false,
    word: Word::Other,
};

struct Tables {
    /// Every word any rule knows, by case-folded key.
    words: WordTable,
    /// Single characters the crate replaces by their description, sorted.
    emoji: Vec<(char, &'static str)>,
    /// [`IDIOMS`], for substring search.
    idioms: Needles,
    /// The booster words, for substring search.
    boosters: Needles,
}

/// An open-addressing table over FNV-1a: one hash and usually one comparison per
/// lookup, where a binary search over the 7,500 words costs thirteen. Built once, never
/// iterated, so its order does not matter.
struct WordTable {
    /// 1 + index into `entries`, or 0 for an empty slot; a power of two long.
    slots: Vec<u32>,
    entries: Vec<(Box<str>, Entry)>,
}

impl WordTable {
    fn new(entries: Vec<(Box<str>, Entry)>) -> Self {
        let len = (entries.len() * 2).next_power_of_two();
        let mut slots = vec![0u32; len];
        for (n, (key, _)) in entries.iter().enumerate() {
            let mut i = slot(key, len);
            while slots[i] != 0 {
                i = (i + 1) & (len - 1);
            }
            slots[i] = u32::try_from(n + 1).unwrap_or(0);
        }
        Self { slots, entries }
    }

    fn get(&self, key: &str) -> &Entry {
        let len = self.slots.len();
        let mut i = slot(key, len);
        loop {
            let Some(n) = self.slots[i].checked_sub(1) else {
                return &UNKNOWN;
            };
            let (k, entry) = &self.entries[n as usize];
            if k.as_ref() == key {
                return entry;
            }
            i = (i + 1) & (len - 1);
        }
    }
}

fn slot(key: &str, len: usize) -> usize {
    (fnv1a(key) as usize) & (len - 1)
}

/// A few short needles searched at once in a short haystack: by first byte, then
/// `starts_with`, which beats one `str::contains` per needle by an order of magnitude.
struct Needles {
    /// (needle, value), in the order given.
    needles: Vec<(&'static str, f64)>,
    /// Indices into `needles`, sorted by first byte.
    by_first: Vec<u8>,
    /// `by_first[start[b]..start[b + 1]]` are the needles that begin with byte `b`.
    start: [u8; 257],
}

impl Needles {
    fn new(needles: Vec<(&'static str, f64)>) -> Self {
        let first = |i: &u8| needles[usize::from(*i)].0.as_bytes().first().copied();
        let mut by_first: Vec<u8> = (0..needles.len())
            .filter_map(|i| u8::try_from(i).ok())
            .collect();
        by_first.sort_by_key(first);
        let mut start = [0u8; 257];
        for b in 0..=255u8 {
            let n = by_first.partition_point(|i| first(i) < Some(b));
            start[usize::from(b)] = u8::try_from(n).unwrap_or(u8::MAX);
        }
        start[256] = u8::try_from(by_first.len()).unwrap_or(u8::MAX);
        Self {
            needles,
            by_first,
            start,
        }
    }

    /// A bit per needle found in `hay` (needle `i` is bit `i`).
    fn found(&self, hay: &str) -> u128 {
        let hay = hay.as_bytes();
        let mut bits = 0u128;
        for p in 0..hay.len() {
            let b = usize::from(hay[p]);
            let range = usize::from(self.start[b])..usize::from(self.start[b + 1]);
            for &i in &self.by_first[range] {
                if hay[p..].starts_with(self.needles[usize::from(i)].0.as_bytes()) {
                    bits |= 1 << i;
                }
            }
        }
        bits
    }
}

static TABLES: LazyLock<Tables> = LazyLock::new(build);

/// ALL CAPS as the crate tests it; used for tokens that are not ASCII.
#[allow(clippy::expect_used)]
static ALL_CAPS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Z\W]+$").expect("a constant pattern"));

fn build() -> Tables {
    let mut map: BTreeMap<String, Entry> = BTreeMap::new();
    fn entry<'m>(map: &'m mut BTreeMap<String, Entry>, word: &str) -> &'m mut Entry {
        let mut key = String::new();
        fold(word, &mut key);
        map.entry(key).or_insert(UNKNOWN)
    }
    for (word, valence) in vader_sentiment::LEXICON.iter() {
        entry(&mut map, word.as_ref()).valence = Some(*valence);
    }
    for (list, value) in [(INCR, B_INCR), (DECR, B_DECR)] {
        for word in list {
            entry(&mut map, word).booster = Some(value);
        }
    }
    for word in NEGATIONS {
        entry(&mut map, word).negation = true;
    }
    for (word, w) in WORDS {
        entry(&mut map, word).word = *w;
    }
    let mut emoji: Vec<(char, &'static str)> = vader_sentiment::EMOJI_LEXICON
        .iter()
        .filter_map(|(k, v)| {
            let mut chars = k.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Some((c, *v)),
                _ => None,
            }
        })
        .collect();
    emoji.sort_unstable_by_key(|e| e.0);
    let boosters = INCR
        .iter()
        .map(|w| (*w, B_INCR))
        .chain(DECR.iter().map(|w| (*w, B_DECR)))
        .collect();
    Tables {
        words: WordTable::new(
            map.into_iter()
                .map(|(k, e)| (k.into_boxed_str(), e))
                .collect(),
        ),
        emoji,
        idioms: Needles::new(IDIOMS.to_vec()),
        boosters: Needles::new(boosters),
    }
}

/// Unicode case folding as the crate's `unicase` keys compare, exact for every
/// character whose folding can reach a lexicon key (ASCII and "þ"); other characters
/// fold to themselves lower-cased, which can match no key either way.
fn fold(word: &str, out: &mut String) {
    out.clear();
    if word.is_ascii() {
        out.extend(word.bytes().map(|b| char::from(b.to_ascii_lowercase())));
        return;
    }
    for c in word.chars() {
        match c {
            'ß' | 'ẞ' | '\u{1DF95}' => out.push_str("ss"),
            'ſ' => out.push('s'),
            'ﬀ' => out.push_str("ff"),
            'ﬁ' => out.push_str("fi"),
            'ﬂ' => out.push_str("fl"),
            'ﬃ' => out.push_str("ffi"),
            'ﬄ' => out.push_str("ffl"),
            'ﬅ' | 'ﬆ' => out.push_str("st"),
            _ => out.extend(c.to_lowercase()),
        }
    }
}

/// One token: the text as written and what the tables say about it.
struct Token<'a> {
    raw: &'a str,
    entry: &'static Entry,
    caps: bool,
}

impl Token<'_> {
    fn negated(&self) -> bool {
        self.entry.negation || self.raw.contains("n't")
    }
}

/// VADER's compound score of `text`, in [-1, 1].
pub fn compound(text: &str) -> f64 {
    let tables = &*TABLES;
    let text = describe_emoji(text, &tables.emoji);
    let mut key = String::with_capacity(32);
    // Sized up front: tokens are two bytes or longer, with whitespace between.
    let mut tokens: Vec<Token<'_>> = Vec::with_capacity(text.len() / 3 + 1);
    tokens.extend(text.split_whitespace().filter(|s| s.len() > 1).map(|s| {
        let stripped = s.trim_matches(|c: char| c.is_ascii_punctuation());
        let raw = if stripped.len() <= 1 { s } else { stripped };
        fold(raw, &mut key);
        Token {
            raw,
            entry: tables.words.get(&key),
            caps: all_caps(raw),
        }
    }));
    if tokens.is_empty() {
        return 0.0;
    }
    let mixed = tokens.iter().any(|t| t.caps) && tokens.iter().any(|t| !t.caps);
    let but = tokens.iter().position(|t| t.entry.word == Word::But);
    let mut window = String::with_capacity(64);
    let mut total = 0.0;
    for i in 0..tokens.len() {
        let mut v = valence(&tokens, i, mixed, &mut window);
        match but {
            Some(b) if i < b => v *= 0.5,
            Some(b) if i > b => v *= 1.5,
            _ => {}
        }
        total += v;
    }
    let punctuation = emphasis(&text);
    if total > 0.0 {
        total += punctuation;
    } else {
        total -= punctuation;
    }
    (total / (total * total + ALPHA).sqrt()).clamp(-1.0, 1.0)
}

/// The crate's emoji step: each emoji character becomes its description, preceded by a
/// space unless one precedes it already (none follows).
fn describe_emoji<'a>(text: &'a str, emoji: &[(char, &'static str)]) -> Cow<'a, str> {
    if text.is_ascii() {
        return Cow::Borrowed(text);
    }
    let find = |c: char| {
        emoji
            .binary_search_by_key(&c, |e| e.0)
            .ok()
            .map(|i| emoji[i].1)
    };
    if !text.chars().any(|c| find(c).is_some()) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 32);
    let mut prev_space = true;
    for c in text.chars() {
        match find(c) {
            Some(description) => {
                if !prev_space {
                    out.push(' ');
                }
                out.push_str(description);
                prev_space = false;
            }
            None => {
                prev_space = c == ' ';
                out.push(c);
            }
        }
    }
    Cow::Owned(out)
}

/// `^[A-Z\W]+$` (Unicode `\W`), as the crate tests ALL CAPS.
fn all_caps(token: &str) -> bool {
    if token.is_ascii() {
        !token.is_empty()
            && token
                .bytes()
                .all(|b| b.is_ascii_uppercase() || !(b.is_ascii_alphanumeric() || b == b'_'))
    } else {
        ALL_CAPS.is_match(token)
    }
}

/// `!` (up to 4) and `?` marks amplify whichever way the text leans.
fn emphasis(text: &str) -> f64 {
    let bytes = text.as_bytes();
    let emarks = bytes.iter().filter(|b| **b == b'!').count();
    let qmarks = bytes.iter().filter(|b| **b == b'?').count();
    let q = if qmarks > MAX_QMARK {
        MAX_QMARK_INCR
    } else {
        qmarks as f64 * QMARK_INCR
    };
    q + emarks.min(MAX_EMARK) as f64 * EMARK_INCR
}

/// The valence of token `i` in its context, before the "but" weighting.
fn valence(tokens: &[Token<'_>], i: usize, mixed: bool, window: &mut String) -> f64 {
    let t = &tokens[i];
    if t.entry.booster.is_some()
        || (t.entry.word == Word::Kind
            && tokens.get(i + 1).is_some_and(|n| n.entry.word == Word::Of))
    {
        return 0.0;
    }
    let Some(mut v) = t.entry.valence else {
        return 0.0;
    };
    if t.caps && mixed {
        v += if v > 0.0 { C_INCR } else { -C_INCR };
    }
    for back in 0..3 {
        if i <= back || tokens[i - back - 1].entry.valence.is_some() {
            continue;
        }
        let mut s = scalar(&tokens[i - back - 1], v, mixed);
        if back == 1 {
            s *= 0.95;
        } else if back == 2 {
            s *= 0.9;
        }
        v += s;
        v = negation(v, tokens, back, i);
        if back == 2 {
            v = idioms(v, tokens, i, window);
        }
    }
    if i > 0 && tokens[i - 1].entry.word == Word::Least {
        v *= N_SCALAR;
    }
    v
}

/// A booster's push on valence `v`, stronger in ALL CAPS.
fn scalar(t: &Token<'_>, v: f64, mixed: bool) -> f64 {
    let Some(mut s) = t.entry.booster else {
        return 0.0;
    };
    if v < 0.0 {
        s = -s;
    }
    if t.caps && mixed {
        s += if v > 0.0 { C_INCR } else { -C_INCR };
    }
    s
}

/// Negation `back + 1` words before token `i`, with the crate's special cases (its
/// operator precedence included).
fn negation(v: f64, tokens: &[Token<'_>], back: usize, i: usize) -> f64 {
    let w = |k: usize| tokens[i - k].entry.word;
    let flip = |k: usize| {
        if tokens[i - k].negated() {
            v * N_SCALAR
        } else {
            v
        }
    };
    match back {
        0 => flip(1),
        1 if w(2) == Word::Never && (w(1) == Word::So || w(1) == Word::This) => v * 1.25,
        1 if w(2) == Word::Without && w(1) == Word::Doubt => v,
        1 => flip(2),
        _ if (w(3) == Word::Never && w(2) == Word::So)
            || w(2) == Word::This
            || w(1) == Word::So
            || w(1) == Word::This =>
        {
            v * 1.25
        }
        _ if (w(3) == Word::Without && w(2) == Word::Doubt) || w(1) == Word::Doubt => v,
        _ => flip(3),
    }
}

/// The crate's idiom check for token `i` (which has three words before it): an idiom in
/// the words from `i - 3` to `i + 2` sets the valence; each booster found as a substring
/// of the three words before adds its value.
fn idioms(mut v: f64, tokens: &[Token<'_>], i: usize, window: &mut String) -> f64 {
    let end = if tokens.len() - 1 > i {
        (i + 3).min(tokens.len())
    } else {
        i + 1
    };
    window.clear();
    let mut before = 0;
    for (k, t) in tokens[i - 3..end].iter().enumerate() {
        if k > 0 {
            window.push(' ');
        }
        if k == 3 {
            before = window.len() - 1;
        }
        if t.raw.is_ascii() {
            window.extend(t.raw.bytes().map(|b| char::from(b.to_ascii_lowercase())));
        } else {
            window.extend(t.raw.chars().flat_map(char::to_lowercase));
        }
    }
    let tables = &*TABLES;
    let idioms = tables.idioms.found(window);
    if idioms != 0 {
        v = tables.idioms.needles[idioms.trailing_zeros() as usize].1;
    }
    let mut boosters = tables.boosters.found(&window[..before]);
    while boosters != 0 {
        v += tables.boosters.needles[boosters.trailing_zeros() as usize].1;
        boosters &= boosters - 1;
    }
    v
}

#[cfg(test)]
mod tests;
