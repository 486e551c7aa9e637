//! Text normalisation shared by the text signals: lower case, words split on anything
//! that is not a letter, digit or apostrophe, and whole-word phrase search.

use std::sync::LazyLock;

/// A message normalised once, then searched by every text signal.
#[derive(Debug, Clone)]
pub struct Words {
    /// `" word word word "`: lower case, single spaces, padded so that
    /// `contains(" phrase ")` is a whole-word search.
    padded: String,
    /// Byte offset in `padded` of each word's first letter.
    starts: Vec<u32>,
    /// Bit [`head`] of each word's first two bytes: most phrases a signal looks for are
    /// ruled out by their first two bytes alone.
    heads: [u64; 4],
}

impl Words {
    /// Normalises `text`.
    pub fn new(text: &str) -> Self {
        let mut padded = String::with_capacity(text.len() + 2);
        let mut starts = Vec::with_capacity(text.len() / 4 + 1);
        let mut heads = [0u64; 4];
        padded.push(' ');
        let mut space = true;
        for c in text.chars() {
            if is_word_char(c) {
                if space {
                    starts.push(u32::try_from(padded.len()).unwrap_or(u32::MAX));
                }
                push_lower(&mut padded, c);
                space = false;
            } else if !space {
                padded.push(' ');
                space = true;
            }
        }
        if !space {
            padded.push(' ');
        }
        let bytes = padded.as_bytes();
        for &s in &starts {
            let s = s as usize;
            set(&mut heads, head(bytes[s], bytes[s + 1]));
        }
        Self {
            padded,
            starts,
            heads,
        }
    }

    /// Whether the normalised `phrase` occurs as whole words. Tried at each word start
    /// only: the text signals search dozens of phrases per message, and building a
    /// substring searcher per phrase cost more than the search.
    pub fn has_phrase(&self, phrase: &str) -> bool {
        let needle = trimmed(phrase).as_bytes();
        let Some(&first) = needle.first() else {
            return false;
        };
        let second = needle.get(1).copied().unwrap_or(b' ');
        if !is_set(&self.heads, head(first, second)) {
            return false;
        }
        let hay = self.padded.as_bytes();
        self.starts.iter().any(|&s| {
            let s = s as usize;
            hay.get(s) == Some(&first)
                && hay.get(s + needle.len()) == Some(&b' ')
                && hay.get(s..s + needle.len()) == Some(needle)
        })
    }

    /// Word `i`: it ends one byte (the space) before the next word starts.
    fn word(&self, i: usize) -> &str {
        let start = self.starts[i] as usize;
        let end = self
            .starts
            .get(i + 1)
            .map_or(self.padded.len(), |&next| next as usize)
            - 1;
        &self.padded[start..end]
    }

    /// The first of `phrases` found, if any.
    pub fn first_phrase<'p>(&self, phrases: &'p [String]) -> Option<&'p str> {
        phrases
            .iter()
            .map(String::as_str)
            .find(|p| self.has_phrase(p))
    }

    /// How many words.
    pub fn word_count(&self) -> usize {
        self.starts.len()
    }

    /// The words, in order.
    pub fn tokens(&self) -> impl ExactSizeIterator<Item = &str> {
        (0..self.starts.len()).map(|i| self.word(i))
    }

    /// The normalised text without padding.
    pub fn as_str(&self) -> &str {
        self.padded.trim()
    }
}

/// Whether `c` belongs to a word: a letter, a digit or an apostrophe (`'` or `’`).
pub(crate) fn is_word_char(c: char) -> bool {
    // ASCII needs no Unicode tables: same classes, same lower case.
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || c == '\''
    } else {
        c == '\u{2019}' || c.is_alphanumeric()
    }
}

/// A word's first two bytes (a one-byte word's second is the space after it), hashed to
/// one of 256 bits.
fn head(first: u8, second: u8) -> u8 {
    first.wrapping_mul(31).wrapping_add(second)
}

fn set(bits: &mut [u64; 4], bit: u8) {
    bits[usize::from(bit >> 6)] |= 1 << (bit & 63);
}

fn is_set(bits: &[u64; 4], bit: u8) -> bool {
    bits[usize::from(bit >> 6)] & (1 << (bit & 63)) != 0
}

/// Appends `c` lower-cased, with `’` as `'`.
fn push_lower(out: &mut String, c: char) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
    } else if c == '\u{2019}' {
        out.push('\'');
    } else {
        out.extend(c.to_lowercase());
    }
}

/// `phrase.trim()`, without the Unicode scan when both ends are plainly not spaces
/// (policy phrases nearly always are).
fn trimmed(phrase: &str) -> &str {
    let plain = |b: Option<&u8>| b.is_some_and(|&b| b.is_ascii() && !(b as char).is_whitespace());
    let bytes = phrase.as_bytes();
    if plain(bytes.first()) && plain(bytes.last()) {
        phrase
    } else {
        phrase.trim()
    }
}

/// FNV-1a: a fixed, platform-independent hash so loop detection is deterministic.
pub fn fnv1a(word: &str) -> u64 {
    word.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A fixed set of words with a value each, looked up by FNV-1a with open addressing:
/// one hash and usually one comparison, where a list scan costs one per entry. Built
/// once from constant lists and never iterated, so its layout cannot leak into output.
#[derive(Debug)]
pub(crate) struct WordMap<V> {
    /// 1 + index into `entries`, or 0 for an empty slot; a power of two long.
    slots: Vec<u16>,
    entries: Vec<(&'static str, V)>,
}

impl<V: Copy> WordMap<V> {
    /// The map of `entries`; a word listed twice keeps its first value.
    pub(crate) fn new(entries: impl IntoIterator<Item = (&'static str, V)>) -> Self {
        let mut map = Self {
            slots: Vec::new(),
            entries: Vec::new(),
        };
        let entries: Vec<(&'static str, V)> = entries.into_iter().collect();
        let len = (entries.len() * 2).next_power_of_two().max(2);
        map.slots = vec![0; len];
        for (word, value) in entries {
            if map.get(word).is_some() {
                continue;
            }
            let mut i = (fnv1a(word) as usize) & (len - 1);
            while map.slots[i] != 0 {
                i = (i + 1) & (len - 1);
            }
            map.entries.push((word, value));
            map.slots[i] = u16::try_from(map.entries.len()).unwrap_or(0);
        }
        map
    }

    /// The value of `word`, if listed.
    pub(crate) fn get(&self, word: &str) -> Option<V> {
        let len = self.slots.len();
        if len == 0 {
            return None;
        }
        let mut i = (fnv1a(word) as usize) & (len - 1);
        loop {
            let n = usize::from(self.slots[i].checked_sub(1)?);
            let (w, value) = self.entries[n];
            if w == word {
                return Some(value);
            }
            i = (i + 1) & (len - 1);
        }
    }
}

const STOPWORDS: &[&str] = &[
    "a", "an", "the", "i", "i'm", "im", "me", "my", "you", "your", "it", "it's", "is", "are",
    "was", "to", "of", "and", "or", "in", "on", "for", "with", "this", "that", "be", "do", "does",
    "can", "could", "would", "will", "please", "pls", "just", "so", "at", "have", "has", "hi",
    "hello", "thanks", "thank", "ok", "okay", "yes", "no", "what", "how", "we", "our", "there",
    "again",
];

static STOPWORD_SET: LazyLock<WordMap<()>> =
    LazyLock::new(|| WordMap::new(STOPWORDS.iter().map(|w| (*w, ()))));

/// Hashes of the content words of a message, sorted and deduplicated.
pub fn content_words(words: &Words) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::with_capacity(words.word_count());
    out.extend(
        words
            .tokens()
            .filter(|t| STOPWORD_SET.get(t).is_none())
            .map(fnv1a),
    );
    out.sort_unstable();
    out.dedup();
    out
}

/// Jaccard overlap of two sorted, deduplicated sets.
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    both as f64 / (a.len() + b.len() - both) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_finds_whole_words() {
        let w = Words::new("I’m SO tired...of this!!  Third-time");
        assert_eq!(w.as_str(), "i'm so tired of this third time");
        assert!(w.has_phrase("third time"));
        assert!(!w.has_phrase("hird time"));
        assert!(!w.has_phrase("tire"));
        assert!(w.has_phrase("i'm so"));
        assert!(!w.has_phrase(""));
        let w = Words::new("xa a a");
        assert!(
            w.has_phrase("a a"),
            "a later, overlapping occurrence counts"
        );
    }

    #[test]
    fn jaccard_of_sets() {
        let a = content_words(&Words::new("where is my parcel 123"));
        let b = content_words(&Words::new("my parcel 123 where is it"));
        assert_eq!(jaccard(&a, &b), 1.0);
        let c = content_words(&Words::new("cancel subscription"));
        assert_eq!(jaccard(&a, &c), 0.0);
    }
}
