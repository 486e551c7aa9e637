//! What a fact is about: its kind, with the names NLU engines commonly use for it.
//!
//! Kinds are open: a bot's NLU may send `loyalty_number` and a policy may configure a
//! `policy_number` pattern, so anything not built in is kept as [`FactKind::Other`].

use std::fmt;

use serde::{Deserialize, Serialize};

/// The kind of a fact.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum FactKind {
    /// An email address.
    Email,
    /// A phone number.
    Phone,
    /// An order or purchase id.
    OrderId,
    /// An account or customer number.
    AccountId,
    /// A case, ticket or reference number.
    CaseId,
    /// An invoice or bill number.
    InvoiceId,
    /// An amount of money, with its currency when given.
    Amount,
    /// A calendar date.
    Date,
    /// A person's name.
    PersonName,
    /// A postal street address.
    Address,
    /// A postcode or ZIP code.
    Postcode,
    /// A login name.
    Username,
    /// A product the customer talks about.
    Product,
    /// An account tier or membership level (gold, premium...).
    AccountTier,
    /// A payment card number.
    CardNumber,
    /// A national identifier (US SSN, UK NI number).
    NationalId,
    /// A bank account number (IBAN).
    BankAccount,
    /// Any other kind, by name.
    Other(String),
}

impl FactKind {
    /// Maps a kind name, including common NLU spellings, to a kind.
    pub fn from_name(name: &str) -> Self {
        let lower = name
            .trim()
            .to_ascii_lowercase()
            .replace(['-', ' ', '.'], "_");
        match lower.as_str() {
            "email" | "email_address" | "e_mail" => FactKind::Email,
            "phone" | "phone_number" | "telephone" | "mobile" => FactKind::Phone,
            "order_id" | "order" | "order_number" | "purchase_id" => FactKind::OrderId,
            "account_id" | "account" | "account_number" | "customer_number" => FactKind::AccountId,
            "case_id" | "case" | "case_number" | "ticket_id" | "reference" => FactKind::CaseId,
            "invoice_id" | "invoice" | "invoice_number" | "bill_id" => FactKind::InvoiceId,
            "amount" | "money" | "refund_amount" | "price" => FactKind::Amount,
            "date" | "purchase_date" => FactKind::Date,
            "person_name" | "name" | "customer_name" | "person" | "full_name" => {
                FactKind::PersonName
            }
            "address" | "street_address" | "full_address" => FactKind::Address,
            "postcode" | "zip" | "zip_code" | "postal_code" => FactKind::Postcode,
            "username" | "user_name" | "login" => FactKind::Username,
            "product" | "product_name" | "item" => FactKind::Product,
            "account_tier" | "account_type" | "member_level" | "membership" | "plan" => {
                FactKind::AccountTier
            }
            "card_number" | "credit_card" | "card" => FactKind::CardNumber,
            "national_id" | "ssn" | "ni_number" => FactKind::NationalId,
            "bank_account" | "iban" => FactKind::BankAccount,
            _ => FactKind::Other(lower),
        }
    }

    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            FactKind::Email => "email",
            FactKind::Phone => "phone",
            FactKind::OrderId => "order_id",
            FactKind::AccountId => "account_id",
            FactKind::CaseId => "case_id",
            FactKind::InvoiceId => "invoice_id",
            FactKind::Amount => "amount",
            FactKind::Date => "date",
            FactKind::PersonName => "person_name",
            FactKind::Address => "address",
            FactKind::Postcode => "postcode",
            FactKind::Username => "username",
            FactKind::Product => "product",
            FactKind::AccountTier => "account_tier",
            FactKind::CardNumber => "card_number",
            FactKind::NationalId => "national_id",
            FactKind::BankAccount => "bank_account",
            FactKind::Other(name) => name,
        }
    }

    /// How an agent would say it: "order number", "email address".
    pub fn words(&self) -> String {
        let fixed = match self {
            FactKind::Email => "email address",
            FactKind::Phone => "phone number",
            FactKind::OrderId => "order number",
            FactKind::AccountId => "account number",
            FactKind::CaseId => "case number",
            FactKind::InvoiceId => "invoice number",
            FactKind::PersonName => "name",
            FactKind::AccountTier => "account tier",
            FactKind::CardNumber => "card number",
            FactKind::NationalId => "national id",
            FactKind::BankAccount => "bank account",
            other => return other.as_str().replace('_', " "),
        };
        fixed.to_owned()
    }

    /// Whether this kind identifies a record (order, account, case, invoice), which is
    /// what the `ids` recall target measures.
    pub fn is_record_id(&self) -> bool {
        matches!(
            self,
            FactKind::OrderId | FactKind::AccountId | FactKind::CaseId | FactKind::InvoiceId
        )
    }
}

impl From<String> for FactKind {
    fn from(name: String) -> Self {
        Self::from_name(&name)
    }
}

impl From<FactKind> for String {
    fn from(kind: FactKind) -> String {
        kind.as_str().to_owned()
    }
}

impl fmt::Display for FactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_aliases_map() {
        for kind in [
            FactKind::Email,
            FactKind::OrderId,
            FactKind::AccountTier,
            FactKind::CardNumber,
        ] {
            assert_eq!(FactKind::from_name(kind.as_str()), kind);
        }
        assert_eq!(FactKind::from_name("Order-Number"), FactKind::OrderId);
        assert_eq!(FactKind::from_name("zip_code"), FactKind::Postcode);
        assert_eq!(
            FactKind::from_name("loyalty number"),
            FactKind::Other("loyalty_number".into())
        );
        assert_eq!(
            FactKind::Other("loyalty_number".into()).words(),
            "loyalty number"
        );
    }
}
