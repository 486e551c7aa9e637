//! Text normalisation shared by the text signals: lower case, words split on anything
//! that is not a letter, digit or apostrophe, and whole-word phrase search.

/// A message normalised once, then searched by every text signal.
#[derive(Debug, Clone)]
pub struct Words {
    /// `" word word word "`: lower case, single spaces, padded so that
    /// `contains(" phrase ")` is a whole-word search.
    padded: String,
    /// Byte offset in `padded` of each word's first letter.
    starts: Vec<u32>,
}

impl Words {
    /// Normalises `text`.
    pub fn new(text: &str) -> Self {
        let mut padded = String::with_capacity(text.len() + 2);
        let mut starts = Vec::new();
        padded.push(' ');
        let mut space = true;
        for c in text.chars() {
            let c = if c == '\u{2019}' { '\'' } else { c };
            if c.is_alphanumeric() || c == '\'' {
                if space {
                    starts.push(u32::try_from(padded.len()).unwrap_or(u32::MAX));
                }
                padded.extend(c.to_lowercase());
                space = false;
            } else if !space {
                padded.push(' ');
                space = true;
            }
        }
        if !space {
            padded.push(' ');
        }
        Self { padded, starts }
    }

    /// Whether the normalised `phrase` occurs as whole words. Tried at each word start
    /// only: the text signals search dozens of phrases per message, and building a
    /// substring searcher per phrase cost more than the search.
    pub fn has_phrase(&self, phrase: &str) -> bool {
        let needle = phrase.trim().as_bytes();
        let Some(&first) = needle.first() else {
            return false;
        };
        let hay = self.padded.as_bytes();
        self.starts.iter().any(|&s| {
            let s = s as usize;
            hay.get(s) == Some(&first)
                && hay.get(s + needle.len()) == Some(&b' ')
                && hay.get(s..s + needle.len()) == Some(needle)
        })
    }

    /// The first of `phrases` found, if any.
    pub fn first_phrase<'p>(&self, phrases: &'p [String]) -> Option<&'p str> {
        phrases
            .iter()
            .map(String::as_str)
            .find(|p| self.has_phrase(p))
    }

    /// The words, in order.
    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        self.padded.split_ascii_whitespace()
    }

    /// The normalised text without padding.
    pub fn as_str(&self) -> &str {
        self.padded.trim()
    }
}

/// FNV-1a: a fixed, platform-independent hash so loop detection is deterministic.
pub fn fnv1a(word: &str) -> u64 {
    word.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

const STOPWORDS: &[&str] = &[
    "a", "an", "the", "i", "i'm", "im", "me", "my", "you", "your", "it", "it's", "is", "are",
    "was", "to", "of", "and", "or", "in", "on", "for", "with", "this", "that", "be", "do", "does",
    "can", "could", "would", "will", "please", "pls", "just", "so", "at", "have", "has", "hi",
    "hello", "thanks", "thank", "ok", "okay", "yes", "no", "what", "how", "we", "our", "there",
    "again",
];

/// Hashes of the content words of a message, sorted and deduplicated.
pub fn content_words(words: &Words) -> Vec<u64> {
    let mut out: Vec<u64> = words
        .tokens()
        .filter(|t| !STOPWORDS.contains(t))
        .map(fnv1a)
        .collect();
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
