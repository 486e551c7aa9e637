//! Equivalence with the `vader_sentiment` crate, and an ad-hoc timing.

use proptest::prelude::*;

use super::*;

/// The crate's compound score, the reference.
fn reference(text: &str) -> f64 {
    vader_sentiment::SentimentIntensityAnalyzer::new().polarity_scores(text)["compound"]
}

/// Every utterance of the Bitext sample.
fn bitext() -> Vec<String> {
    include_str!("../../../tests/data/bitext_requests_sample.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["text"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// Sentences aimed at each rule: caps, boosters, negation windows, "but", "least",
/// idioms, emoticons, emoji, punctuation, Unicode case folding and whitespace.
const TRICKY: &[&str] = &[
    "VADER is smart, handsome, and funny.",
    "VADER is smart, handsome, and funny!",
    "VADER is very smart, handsome, and funny.",
    "VADER is VERY SMART, handsome, and FUNNY.",
    "VADER is VERY SMART, handsome, and FUNNY!!!",
    "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
    "VADER is not smart, handsome, nor funny.",
    "The book was good.",
    "At least it isn't a horrible book.",
    "The book was only kind of good.",
    "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "Today SUX!",
    "Today only kinda sux! But I'll get by, lol",
    "Make sure you :) or :D today!",
    "Catch utf-8 emoji such as 💘 and 💋 and 😁",
    "Not bad at all",
    "I am never so happy",
    "we are never so happy here",
    "this is never this good",
    "it is without doubt the best",
    "it was without doubt good",
    "I have no doubt it is great",
    "the service was the shit",
    "that movie was the bomb dude",
    "oh yeah right, great service",
    "it was a kiss of death for us",
    "a cake to die for honestly",
    "I also really like it a lot",
    "for some reason I like it",
    "he is a badass guy indeed",
    "I don't love it",
    "I DON'T love it at all",
    "I don't really love it",
    "I don't think it is really good",
    "I mayn't like it",
    "I MAYN'T like it",
    "NOT good",
    "not GOOD",
    "GOOD",
    "good!!!!!!",
    "good???",
    "good?",
    "bad?",
    "where is my order?",
    "where is my order??????",
    "??",
    "!",
    "",
    "   ",
    "a",
    "I",
    "hello !!!",
    "ok :)",
    "sad :(",
    "it's ﬁne",
    "ſo good",
    "\u{212A}IND of bad",
    "KIND of bad",
    "kind of",
    "kind",
    "of kind good",
    "the service was kinda bad but the food was great",
    "BUT why is it bad",
    "but but good",
    "not not good",
    "seldom good",
    "rarely happy despite everything",
    "it's least good",
    "the least bad option",
    "at least good",
    "very at least good",
    "Thank you so much!",
    "This is great, thank you so much!",
    "This is terrible and useless, I hate it",
    "I'm SO ANGRY!!!",
    "I'm so angry!!!",
    "uh-uh, not happy",
    "nope. terrible.",
    "I cannot stand it",
    "I am fed up",
    "GrEaT",
    "GREAT job",
    "GREAT JOB",
    "great job",
    "😀😀 great",
    "great😀",
    "love it 💔",
    "café is great",
    "this is GREAT— really",
    "BAD… service, so bad",
    "I don’t like it, I DON’T",
    "I ❤ it",
    "CAFÉ is GREAT okay",
    "Straße ist gut, STRASSE",
    "¡great!",
    "great.",
    "...great...",
    "-great-",
    "'good'",
    "\"excellent\"",
    "(happy)",
    "happy:",
    "no",
    "No. No. No!",
    "I can't believe how good it is",
    "I won't be happy",
    "wasn't bad",
    "isnt good",
    "ain't nothing wrong",
    "hardly good",
    "barely acceptable",
    "extremely disappointed",
    "EXTREMELY disappointed with this",
    "sort of helpful",
    "sort-of helpful",
    "kind-of helpful",
    "quite helpful",
    "the more the merrier",
    "Worst. Service. Ever.",
    "THIS IS THE THIRD TIME I'M WRITING!! useless bot",
    "good\tbad\nugly",
    "great\u{3000}job",
    "great\u{a0}job",
    "ΣΊΣΥΦΟΣ is good",
    "lol LOL :D :d XD xd",
    ":-Þ nice :-þ",
    "Hi, I was charged twice for order 88231 and I need one of the charges refunded.",
    "I already gave you the order number, it's 88231. My email is maria.lopez@example.com",
    "The second charge of 59.90 EUR is still on my card statement from November 20.",
    "Can you please check again? This is getting really frustrating.",
    "OK thanks, but when will the refund actually arrive on my account?",
];

fn assert_agree(texts: impl IntoIterator<Item = String>) -> usize {
    let mut n = 0;
    for text in texts {
        let (ours, theirs) = (compound(&text), reference(&text));
        assert!(
            (ours - theirs).abs() < 1e-6,
            "{text:?}: ours {ours}, vader_sentiment {theirs}"
        );
        n += 1;
    }
    n
}

#[test]
fn agrees_with_the_crate_on_the_bitext_sample() {
    assert_eq!(assert_agree(bitext()), 728);
}

#[test]
fn agrees_with_the_crate_on_tricky_sentences() {
    assert_agree(TRICKY.iter().map(|s| (*s).to_owned()));
}

#[test]
fn reads_tone() {
    assert!(compound("This is great, thank you so much!") > 0.5);
    assert!(compound("This is terrible and useless, I hate it") < -0.5);
    assert_eq!(compound(""), 0.0);
}

const VOCABULARY: &[&str] = &[
    "good",
    "Good",
    "GOOD",
    "bad",
    "BAD",
    "great",
    "love",
    "hate",
    "terrible",
    "happy",
    "sad",
    "kind",
    "KIND",
    "of",
    "doubt",
    "lol",
    "LOL",
    ":)",
    ":D",
    ":(",
    "very",
    "VERY",
    "so",
    "SO",
    "extremely",
    "kinda",
    "sort",
    "really",
    "barely",
    "just",
    "enough",
    "also",
    "reason",
    "not",
    "NOT",
    "never",
    "don't",
    "isn't",
    "without",
    "nor",
    "mayn't",
    "but",
    "BUT",
    "least",
    "at",
    "this",
    "the",
    "shit",
    "bomb",
    "yeah",
    "right",
    "to",
    "die",
    "for",
    "ass",
    "!",
    "?",
    "!!!",
    "...",
    "😀",
    "💔",
    "👍",
    "I",
    "a",
    "order",
    "refund",
    "12345",
    "ﬁne",
    "ſo",
    "café",
    "no",
];
const AFFIXES: &[&str] = &[
    "", "", "", "!", "?", ",", ".", "!!", "\"", "'", "(", ":", "—", "…", "’",
];

fn sentence() -> impl Strategy<Value = String> {
    let token = (
        prop::sample::select(AFFIXES),
        prop::sample::select(VOCABULARY),
        prop::sample::select(AFFIXES),
        prop::sample::select(&[" ", " ", " ", "  ", "\n", ""][..]),
    )
        .prop_map(|(a, w, b, sep)| format!("{a}{w}{b}{sep}"));
    prop::collection::vec(token, 0..14).prop_map(|t| t.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    #[test]
    fn agrees_with_the_crate_on_random_sentences(text in sentence()) {
        let (ours, theirs) = (compound(&text), reference(&text));
        prop_assert!((ours - theirs).abs() < 1e-6, "{:?}: ours {}, vader_sentiment {}", text, ours, theirs);
    }
}

/// Ad hoc: `cargo test --release -p baton-core vader_timing -- --ignored --nocapture`.
#[test]
#[ignore = "timing, run by hand in release mode"]
fn vader_timing() {
    use std::time::Instant;
    let texts = bitext();
    let _ = (compound("warm up"), reference("warm up"));
    for (name, f) in [
        ("baton vader::compound", compound as fn(&str) -> f64),
        ("vader_sentiment", reference as fn(&str) -> f64),
    ] {
        let rounds = 20;
        let started = Instant::now();
        let mut sum = 0.0;
        for _ in 0..rounds {
            for t in &texts {
                sum += f(std::hint::black_box(t));
            }
        }
        let per = started.elapsed().as_secs_f64() * 1e6 / (rounds * texts.len()) as f64;
        println!("{name}: {per:.2} µs per Bitext message (checksum {sum:.3})");
    }
}
