//! Personal data: which kinds baton recognises, the checksums that tell a card number
//! or an IBAN from any long number, and the masked form a redacted value takes.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::kind::FactKind;

/// A category of personal data, as the redaction table ([`super::redact`]) knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    /// A person's name.
    PersonName,
    /// An email address.
    Email,
    /// A phone number.
    Phone,
    /// A postal address or postcode.
    Address,
    /// A payment card number (Luhn-valid).
    CardNumber,
    /// A national identifier: US SSN, UK National Insurance number.
    NationalId,
    /// A bank account number (IBAN, checksum-valid).
    BankAccount,
}

impl PiiKind {
    /// Every kind, in the redaction table's order.
    pub const ALL: [PiiKind; 7] = [
        PiiKind::PersonName,
        PiiKind::Email,
        PiiKind::Phone,
        PiiKind::Address,
        PiiKind::CardNumber,
        PiiKind::NationalId,
        PiiKind::BankAccount,
    ];

    /// The kind of an NLU entity's value: its fact kind's, or a card number when the
    /// checksum says so whatever the NLU called it (`payment_info`).
    pub fn of_entity(kind: &FactKind, value: &str) -> Option<Self> {
        Self::of(kind).or_else(|| is_card_number(value).then_some(PiiKind::CardNumber))
    }

    /// The PII category a fact kind always carries, if any.
    pub fn of(kind: &FactKind) -> Option<Self> {
        match kind {
            FactKind::PersonName => Some(PiiKind::PersonName),
            FactKind::Email => Some(PiiKind::Email),
            FactKind::Phone => Some(PiiKind::Phone),
            FactKind::Address | FactKind::Postcode => Some(PiiKind::Address),
            FactKind::CardNumber => Some(PiiKind::CardNumber),
            FactKind::NationalId => Some(PiiKind::NationalId),
            FactKind::BankAccount => Some(PiiKind::BankAccount),
            _ => None,
        }
    }

    /// The short word shown in a masked value: `[card ••••4242]`.
    pub fn tag(self) -> &'static str {
        match self {
            PiiKind::PersonName => "name",
            PiiKind::Email => "email",
            PiiKind::Phone => "phone",
            PiiKind::Address => "address",
            PiiKind::CardNumber => "card",
            PiiKind::NationalId => "national id",
            PiiKind::BankAccount => "iban",
        }
    }
}

impl fmt::Display for PiiKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// The masked form of a value: its kind and its last characters, never more than a
/// third of it, so a short value does not leak whole.
pub fn mask(kind: PiiKind, value: &str) -> String {
    let chars: Vec<char> = value.chars().filter(|c| !c.is_whitespace()).collect();
    let shown = (chars.len() / 3).min(4);
    let tail: String = chars[chars.len() - shown..].iter().collect();
    format!("[{} ••••{}]", kind.tag(), tail)
}

/// The Luhn checksum that every payment card number satisfies.
pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0u32;
    let mut count = 0usize;
    for (i, c) in digits
        .chars()
        .filter(char::is_ascii_digit)
        .rev()
        .enumerate()
    {
        let mut d = c.to_digit(10).unwrap_or(0);
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
        count += 1;
    }
    count > 0 && sum.is_multiple_of(10)
}

/// Whether a digit string looks like a payment card: 13 to 19 digits, an issuer prefix
/// in use (2-6), and a valid Luhn checksum.
pub fn is_card_number(raw: &str) -> bool {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    (13..=19).contains(&digits.len())
        && matches!(digits.as_bytes().first(), Some(b'2'..=b'6'))
        && luhn_valid(&digits)
}

/// Whether `123-45-6789` is a possible US SSN (area not 000, 666 or 9xx; group and
/// serial not zero).
pub fn is_ssn(raw: &str) -> bool {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    if digits.len() != 9 {
        return false;
    }
    let (area, rest) = digits.split_at(3);
    let (group, serial) = rest.split_at(2);
    area != "000" && area != "666" && !area.starts_with('9') && group != "00" && serial != "0000"
}

/// Whether an IBAN's mod-97 check holds.
pub fn iban_valid(raw: &str) -> bool {
    let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if !(15..=34).contains(&compact.len()) || !compact.is_ascii() {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let mut rem: u32 = 0;
    for c in tail.chars().chain(head.chars()) {
        let value = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        rem = if value > 9 {
            (rem * 100 + value) % 97
        } else {
            (rem * 10 + value) % 97
        };
    }
    rem == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_tells_cards_from_long_numbers() {
        assert!(is_card_number("4242 4242 4242 4242"));
        assert!(is_card_number("5555-5555-5555-4444"));
        assert!(!is_card_number("4242 4242 4242 4241"));
        assert!(
            !is_card_number("1135426177359020"),
            "no issuer starts with 1"
        );
        assert!(!is_card_number("42424242"), "too short");
    }

    #[test]
    fn ssn_and_iban_checks() {
        assert!(is_ssn("123-45-6789"));
        assert!(!is_ssn("666-45-6789"));
        assert!(!is_ssn("123-00-6789"));
        assert!(iban_valid("GB82 WEST 1234 5698 7654 32"));
        assert!(!iban_valid("GB82 WEST 1234 5698 7654 33"));
    }

    #[test]
    fn mask_shows_kind_and_tail_only() {
        assert_eq!(
            mask(PiiKind::CardNumber, "4242 4242 4242 4242"),
            "[card ••••4242]"
        );
        assert_eq!(
            mask(PiiKind::NationalId, "123-45-6789"),
            "[national id ••••789]"
        );
        assert_eq!(mask(PiiKind::Phone, "12"), "[phone ••••]");
    }
}
