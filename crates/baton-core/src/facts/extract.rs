//! The extractor: every pattern compiled once from a [`FactConfig`], then applied to
//! customer messages. Candidates that overlap are settled by rank (emails, then the
//! configured ids and usernames, checksum-valid PII, phones, addresses...),
//! so one stretch of text yields at most one fact.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind};
use regex::Regex;

use super::config::{FactConfig, FactConfigError};
use super::kind::FactKind;
use super::names::NameRules;
use super::pii::{self, PiiKind};
use super::{Fact, FactSource};

/// A candidate found in a message, before overlaps are settled.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub kind: FactKind,
    pub value: String,
    pub start: usize,
    pub end: usize,
    pub rank: u8,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Check {
    None,
    Digit,
    Card,
    Ssn,
    Iban,
    PhoneDigits,
    Word,
}

#[derive(Debug)]
struct Rule {
    kind: FactKind,
    regex: Regex,
    rank: u8,
    check: Check,
    /// Skip the regex when the message has fewer ASCII digits than this.
    min_digits: usize,
    /// Skip it unless the lowercased message holds one of these (empty: no such test).
    /// Most messages hold no fact, and these tests are far cheaper than the regexes.
    needles: &'static [&'static str],
}

const MONTHS: &str = "january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec";

/// Words that are never a username or a bare answer, whatever was asked.
pub(crate) const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "bad", "but", "fine", "for", "good", "great", "hello", "help", "hey",
    "hi", "how", "i", "is", "it", "me", "my", "no", "not", "of", "ok", "okay", "or", "please",
    "sure", "thank", "thanks", "the", "to", "what", "why", "worries", "yes", "you", "your",
    "password", "again", "wait", "sorry", "that", "this", "done", "bye", "cool",
];

/// Finds facts in customer messages.
#[derive(Debug)]
pub struct FactExtractor {
    rules: Vec<Rule>,
    /// Every rule's needles, found in one pass, ASCII case-insensitively.
    needles: AhoCorasick,
    /// For each needle in `needles`, the bit of the rule it belongs to.
    needle_bit: Vec<u64>,
    /// For each rule, its bit if it has needles (built-in rules only, fewer than 64).
    rule_bit: Vec<Option<u64>>,
    names: NameRules,
    answer_name: Regex,
    answer_token: Regex,
}

fn compile(name: &'static str, pattern: &str) -> Result<Regex, FactConfigError> {
    Regex::new(pattern).map_err(|e| FactConfigError::Builtin {
        name,
        message: e.to_string(),
    })
}

/// A built-in rule: `needs` is (the fewest ASCII digits, cue words) that let the regex run.
fn builtin(
    kind: FactKind,
    name: &'static str,
    pattern: &str,
    rank: u8,
    check: Check,
    (min_digits, needles): (usize, &'static [&'static str]),
) -> Result<Rule, FactConfigError> {
    compile(name, pattern).map(|regex| Rule {
        kind,
        regex,
        rank,
        check,
        min_digits,
        needles,
    })
}

impl FactExtractor {
    /// Compiles the configured and built-in patterns.
    pub fn new(config: &FactConfig) -> Result<Self, FactConfigError> {
        let mut rules = Vec::new();
        rules.push(builtin(
            FactKind::Email,
            "email",
            r"(?i)\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b",
            1,
            Check::None,
            (0, &["@"]),
        )?);
        for (index, id) in config.ids.iter().enumerate() {
            if id.kind.trim().is_empty() {
                return Err(FactConfigError::EmptyKind(index));
            }
            let regex = Regex::new(&id.pattern).map_err(|e| FactConfigError::BadPattern {
                index,
                kind: id.kind.clone(),
                message: e.to_string(),
            })?;
            let (check, min_digits) = if id.needs_digit {
                (Check::Digit, 1)
            } else {
                (Check::None, 0)
            };
            rules.push(Rule {
                kind: FactKind::from_name(&id.kind),
                regex,
                rank: 2,
                check,
                min_digits,
                needles: &[],
            });
        }
        rules.push(builtin(
            FactKind::Username,
            "username",
            r"(?i)\buser\s?(?:name|id)\s*(?:is|:|=)?\s*([a-z0-9][a-z0-9._-]{2,31})\b",
            2,
            Check::Word,
            (0, &["user"]),
        )?);
        rules.push(builtin(
            FactKind::CardNumber,
            "card",
            r"\b(?:\d[ -]?){12,18}\d\b",
            3,
            Check::Card,
            (13, &[]),
        )?);
        rules.push(builtin(
            FactKind::NationalId,
            "ssn",
            r"\b\d{3}-\d{2}-\d{4}\b",
            3,
            Check::Ssn,
            (9, &["-"]),
        )?);
        rules.push(builtin(
            FactKind::NationalId,
            "ssn_cue",
            r"(?i)\b(?:ssn|social security(?: number)?)\s*(?:is|:)?\s*(\d{9})\b",
            3,
            Check::Ssn,
            (9, &["ssn", "social"]),
        )?);
        rules.push(builtin(
            FactKind::NationalId,
            "ni",
            r"(?i)\b[a-ceghj-pr-tw-z][a-ceghj-npr-tw-z] ?\d{2} ?\d{2} ?\d{2} ?[a-d]\b",
            3,
            Check::None,
            (6, &[]),
        )?);
        rules.push(builtin(
            FactKind::BankAccount,
            "iban",
            r"(?i)\b[a-z]{2}\d{2}(?: ?[a-z0-9]{4}){2,7}(?: ?[a-z0-9]{1,3})?\b",
            3,
            Check::Iban,
            (8, &[]),
        )?);
        rules.push(builtin(
            FactKind::Phone,
            "phone",
            r"(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?|\b\d{2,4}[\s.-])\d{3,4}[\s.-]?\d{3,4}\b",
            4,
            Check::PhoneDigits,
            (7, &[]),
        )?);
        rules.push(builtin(
            FactKind::Phone,
            "phone_cue",
            r"(?i)\b(?:phone|mobile|cell|tel|telephone|call me(?: at| on)?)(?:\s*(?:number|no\.?|#))?(?:\s*(?:is|:))?\s*(\+?\d{7,15})\b",
            4,
            Check::PhoneDigits,
            (7, &[]),
        )?);
        rules.push(builtin(
            FactKind::Address,
            "address",
            r"(?i)\b\d{2,6}\s+(?:[a-z0-9.'-]+\s+){0,3}(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|terrace|crescent|highway|hwy|parkway|pkwy|court|ct)\b\.?(?:,?\s+[a-z .'-]{2,30},\s*[a-z]{2}\s+\d{5}(?:-\d{4})?\b)?",
            5,
            Check::None,
            (2, &[]),
        )?);
        rules.push(builtin(
            FactKind::Postcode,
            "zip",
            r"(?i)\b(?:zip(?:\s*code)?|post\s?code|postal\s*code)\s*(?:is|:)?\s*(\d{5}(?:-\d{4})?|[a-z]{1,2}\d[a-z\d]?\s*\d[a-z]{2})\b",
            6,
            Check::None,
            (5, &["zip", "post"]),
        )?);
        rules.push(builtin(
            FactKind::Postcode,
            "uk_postcode",
            r"\b[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}\b",
            6,
            Check::None,
            (1, &[]),
        )?);
        rules.push(builtin(
            FactKind::Amount,
            "amount",
            r"(?i)(?:[$€£¥]\s?\d(?:[\d,]*\d)?(?:\.\d{1,2})?|\b(?:usd|eur|gbp|cad|aud)\s?\d(?:[\d,]*\d)?(?:\.\d{1,2})?|\b\d(?:[\d,]*\d)?(?:\.\d{1,2})?\s?(?:dollars?|bucks|usd|eur|euros?|gbp|pounds?|cad|aud)\b|\b\d(?:[\d,]*\d)?(?:\.\d{1,2})?\s?[€£])",
            7,
            Check::None,
            (
                1,
                &[
                    "$", "€", "£", "¥", "usd", "eur", "gbp", "cad", "aud", "dollar", "buck",
                    "pound",
                ],
            ),
        )?);
        rules.push(builtin(
            FactKind::Date,
            "date",
            &format!(
                r"(?i)\b(?:\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}|(?:{MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{MONTHS})\.?(?:,?\s+\d{{4}})?)\b"
            ),
            8,
            Check::None,
            (1, &[]),
        )?);
        rules.push(builtin(
            FactKind::Date,
            "month",
            r"\b(?:in|on|since|by|until|last|this)\s+(January|February|March|April|May|June|July|August|September|October|November|December)\b",
            8,
            Check::None,
            (
                0,
                &[
                    "january",
                    "february",
                    "march",
                    "april",
                    "may",
                    "june",
                    "july",
                    "august",
                    "september",
                    "october",
                    "november",
                    "december",
                ],
            ),
        )?);
        if !config.account_tiers.is_empty() {
            let tiers = config
                .account_tiers
                .iter()
                .map(|t| regex::escape(t))
                .collect::<Vec<_>>()
                .join("|");
            let after = r"(?:account|plan|profile|membership|member|tier|subscription|level|user|customer|status)s?";
            rules.push(builtin(
                FactKind::AccountTier,
                "tier",
                &format!(r"(?i)\b({tiers})\s+{after}\b"),
                10,
                Check::None,
                (
                    0,
                    &[
                        "account",
                        "plan",
                        "profile",
                        "member",
                        "tier",
                        "subscription",
                        "level",
                        "user",
                        "customer",
                        "status",
                    ],
                ),
            )?);
            rules.push(builtin(
                FactKind::AccountTier,
                "tier_after",
                &format!(
                    r"(?i)\b(?:membership|member|tier|level|plan)\s+(?:is\s+|:\s*)?({tiers})\b"
                ),
                10,
                Check::None,
                (0, &["member", "tier", "level", "plan"]),
            )?);
            rules.push(builtin(
                FactKind::AccountTier,
                "tier_im",
                &format!(r"(?i)\b(?:i'?m|i am)\s+an?\s+({tiers})\b"),
                10,
                Check::None,
                (0, &["i'm", "im ", "i am"]),
            )?);
        }
        let mut needle_bit = Vec::new();
        let mut rule_bit = Vec::with_capacity(rules.len());
        let mut needle_patterns: Vec<&str> = Vec::new();
        let mut next_bit = 0u32;
        for rule in &rules {
            if rule.needles.is_empty() {
                rule_bit.push(None);
                continue;
            }
            let bit = 1u64 << next_bit;
            next_bit += 1;
            rule_bit.push(Some(bit));
            for needle in rule.needles {
                needle_patterns.push(needle);
                needle_bit.push(bit);
            }
        }
        let needles = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&needle_patterns)
            .map_err(|e| FactConfigError::Builtin {
                name: "needles",
                message: e.to_string(),
            })?;
        Ok(Self {
            rules,
            needles,
            needle_bit,
            rule_bit,
            names: NameRules::new(config)?,
            answer_name: compile(
                "answer_name",
                r"^\s*(?i:(?:it'?s|i'?m|i am|this is|my name is|name:?)\s+)?([A-Za-z][A-Za-z'’-]*(?:\s+[A-Za-z][A-Za-z'’-]*){0,3})\s*[.!]?\s*$",
            )?,
            answer_token: compile(
                "answer_token",
                r"^\s*(?i:(?:it'?s|it is|sure|yes|ok|okay)[,:]?\s+)?#?([A-Za-z0-9(+][A-Za-z0-9._()+ -]{1,40}[A-Za-z0-9)])\s*[.!]?\s*$",
            )?,
        })
    }

    /// Facts in one customer message.
    pub fn extract(&self, text: &str, seq: u64) -> Vec<Fact> {
        self.scan(text)
            .into_iter()
            .map(|f| to_fact(f, seq))
            .collect()
    }

    /// Facts in a customer message that answers a question for `asked` kinds: a bare
    /// "Crystal Minh" after "may I have your name?" is a name, a bare "7916676427" after
    /// "and your order ID?" an order id.
    pub fn extract_answer(&self, text: &str, seq: u64, asked: &[FactKind]) -> Vec<Fact> {
        let facts = self.extract(text, seq);
        if !facts.is_empty() {
            return facts;
        }
        self.bare_answer(text, seq, asked).into_iter().collect()
    }

    /// The bare answer a message holds when [`Self::extract`] found nothing in it:
    /// [`Self::extract_answer`]'s second half, for callers that already extracted.
    pub fn bare_answer(&self, text: &str, seq: u64, asked: &[FactKind]) -> Option<Fact> {
        if asked.is_empty() || text.len() > 80 {
            return None;
        }
        if asked.contains(&FactKind::PersonName)
            && let Some(m) = self.answer_name.captures(text).and_then(|c| c.get(1))
        {
            let words: Vec<&str> = m.as_str().split_whitespace().collect();
            let stop = words
                .iter()
                .any(|w| STOPWORDS.contains(&w.to_ascii_lowercase().as_str()));
            if !stop && !words.is_empty() {
                let found = Found {
                    kind: FactKind::PersonName,
                    value: m.as_str().to_owned(),
                    start: m.start(),
                    end: m.end(),
                    rank: 9,
                };
                return Some(to_fact(found, seq));
            }
        }
        let m = self.answer_token.captures(text).and_then(|c| c.get(1))?;
        let kind = asked.iter().find(|k| fits(k, m.as_str()))?;
        let found = Found {
            kind: kind.clone(),
            value: m.as_str().to_owned(),
            start: m.start(),
            end: m.end(),
            rank: 2,
        };
        Some(to_fact(found, seq))
    }

    /// Every candidate in `text`, overlaps settled, in text order.
    pub(crate) fn scan(&self, text: &str) -> Vec<Found> {
        self.scan_where(text, &|_| true)
    }

    /// Like [`Self::scan`], but only rules for kinds `wanted` accepts, plus the cued id
    /// rules, which must still claim their spans (an order number is not a card).
    pub(crate) fn scan_where(&self, text: &str, wanted: &dyn Fn(&FactKind) -> bool) -> Vec<Found> {
        self.scan_rules(text, wanted, false)
    }

    /// The candidates of kinds `wanted` accepts, as [`Self::scan_where`] settles them,
    /// without the id candidates that only claim spans. Empty, at the cost of the
    /// prefilters alone, when no rule for a wanted kind can match: what redacting a
    /// message with nothing to hide costs.
    pub(crate) fn scan_only(&self, text: &str, wanted: &dyn Fn(&FactKind) -> bool) -> Vec<Found> {
        let mut found = self.scan_rules(text, wanted, true);
        found.retain(|f| wanted(&f.kind));
        found
    }

    /// The rules whose prefilters pass on `text`: enough digits, and one of their
    /// needles present (rules without needles need only the digits).
    fn eligible(&self, text: &str, digits: usize) -> Vec<bool> {
        let mut present = 0u64;
        for m in self.needles.find_overlapping_iter(text) {
            present |= self.needle_bit[m.pattern().as_usize()];
        }
        // The needles match ASCII letters case-insensitively; the rules' `(?i)` also
        // folds the long s and the Kelvin sign into `s` and `k`: let those through.
        if !text.is_ascii() && (text.contains('\u{17f}') || text.contains('\u{212a}')) {
            present = u64::MAX;
        }
        self.rules
            .iter()
            .zip(&self.rule_bit)
            .map(|(rule, bit)| digits >= rule.min_digits && bit.is_none_or(|b| present & b != 0))
            .collect()
    }

    fn scan_rules(
        &self,
        text: &str,
        wanted: &dyn Fn(&FactKind) -> bool,
        skip_bare_claims: bool,
    ) -> Vec<Found> {
        let claims = |rule: &Rule| rule.rank <= 2 && rule.kind.is_record_id();
        let names = wanted(&FactKind::PersonName);
        let digits = text.bytes().filter(u8::is_ascii_digit).count();
        // Claims alone cannot produce a wanted candidate, only suppress one: with no
        // wanted rule left after the digit test, or after the needles, none is found.
        let could_find = |eligible: &mut dyn Iterator<Item = bool>| {
            names
                || self
                    .rules
                    .iter()
                    .zip(eligible)
                    .any(|(r, ok)| ok && wanted(&r.kind) && !claims(r))
        };
        if skip_bare_claims && !could_find(&mut self.rules.iter().map(|r| digits >= r.min_digits)) {
            return Vec::new();
        }
        let eligible = self.eligible(text, digits);
        if skip_bare_claims && !could_find(&mut eligible.iter().copied()) {
            return Vec::new();
        }
        let mut found = Vec::new();
        for (rule, ok) in self.rules.iter().zip(eligible) {
            if !ok || !(claims(rule) || wanted(&rule.kind)) {
                continue;
            }
            let mut push = |m: regex::Match<'_>| {
                let value = m.as_str().trim();
                if passes(rule.check, value) {
                    found.push(Found {
                        kind: rule.kind.clone(),
                        value: value.to_owned(),
                        start: m.start(),
                        end: m.end(),
                        rank: rule.rank,
                    });
                }
            };
            // Captures cost a second, slower search; most built-in rules need none.
            if rule.regex.captures_len() > 1 {
                rule.regex
                    .captures_iter(text)
                    .filter_map(|c| c.get(1))
                    .for_each(&mut push);
            } else {
                rule.regex.find_iter(text).for_each(&mut push);
            }
        }
        if names {
            self.names.scan(text, &mut found);
        }
        settle(found)
    }
}

fn passes(check: Check, value: &str) -> bool {
    match check {
        Check::None => true,
        Check::Digit => value.bytes().any(|b| b.is_ascii_digit()),
        Check::Card => pii::is_card_number(value),
        Check::Ssn => pii::is_ssn(value),
        Check::Iban => pii::iban_valid(value),
        Check::PhoneDigits => (7..=15).contains(&value.bytes().filter(u8::is_ascii_digit).count()),
        Check::Word => !STOPWORDS.contains(&value.to_ascii_lowercase().as_str()),
    }
}

/// Whether a bare answer can be a value of `kind`.
fn fits(kind: &FactKind, token: &str) -> bool {
    let digits = token.bytes().filter(u8::is_ascii_digit).count();
    let single = !token.contains(' ');
    match kind {
        FactKind::Phone => {
            (7..=15).contains(&digits)
                && token
                    .chars()
                    .all(|c| c.is_ascii_digit() || " ()+-.".contains(c))
        }
        FactKind::Postcode => single && (digits == 5 || digits == 9) && token.len() <= 10,
        FactKind::Username => single && token.len() >= 3 && passes(Check::Word, token),
        FactKind::OrderId
        | FactKind::AccountId
        | FactKind::CaseId
        | FactKind::InvoiceId
        | FactKind::Other(_) => {
            single && digits > 0 && token.len() >= 3 && !token.contains(['(', ')', '+'])
        }
        _ => false,
    }
}

fn settle(mut found: Vec<Found>) -> Vec<Found> {
    found.sort_by_key(|f| (f.rank, f.start));
    let mut kept: Vec<Found> = Vec::with_capacity(found.len());
    for f in found {
        if !kept.iter().any(|k| f.start < k.end && k.start < f.end) {
            kept.push(f);
        }
    }
    kept.sort_by_key(|f| f.start);
    kept
}

fn to_fact(found: Found, seq: u64) -> Fact {
    Fact {
        pii: PiiKind::of(&found.kind),
        kind: found.kind,
        value: found.value,
        seq,
        source: FactSource::Customer,
        redacted: false,
        span: Some((found.start, found.end)),
    }
}
