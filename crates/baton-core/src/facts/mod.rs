//! Facts the customer already gave, found in their messages and in the bot's NLU
//! entities, with the personal data among them recognised and redacted by role.
//!
//! The server builds one [`FactExtractor`] from the policy's `[facts]` table
//! ([`FactConfig`]) and reuses it: every pattern is compiled once, there.
//!
//! - [`kind`]: what a fact is about; [`pii`]: personal-data kinds and checksums.
//! - [`config`]: the `[facts]` table; [`extract`]: the extractor; [`names`]: the
//!   harder case of person names; [`collect`]: facts over a whole conversation, NLU
//!   entities winning over baton's own reading, also as a fold ([`FactFold`]);
//!   [`known`]: what a live conversation holds, kept current per event.
//! - [`redact`]: who sees what; [`redact_event`]: the one policy every read path
//!   applies to events and state ([`Redactor`]); [`repeat`]: repeat-ask and customer-repeat detection.
//! - [`eval`]: precision and recall against labelled spans (the Bitext evaluation).

pub mod collect;
pub mod config;
pub mod eval;
pub mod extract;
pub mod kind;
pub mod known;
pub mod names;
pub mod pii;
pub mod redact;
pub mod redact_event;
pub mod repeat;

use serde::{Deserialize, Serialize};

pub use collect::{FactFold, collect_facts};
pub use config::{FactConfig, FactConfigError, IdPattern};
pub use extract::FactExtractor;
pub use kind::FactKind;
pub use known::KnownFacts;
pub use pii::PiiKind;
pub use redact::ViewerRole;
pub use redact_event::Redactor;

/// Where a fact was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactSource {
    /// baton's own extraction from the customer's words.
    Customer,
    /// An entity in the bot's `nlu` event.
    Nlu,
}

/// One thing the customer told us, and the message it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fact {
    /// What it is.
    pub kind: FactKind,
    /// The value as the customer gave it (or its masked form once redacted).
    pub value: String,
    /// Seq of the customer message it came from.
    pub seq: u64,
    /// Who read it.
    pub source: FactSource,
    /// The personal-data category, if it is personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pii: Option<PiiKind>,
    /// Whether `value` is the masked form because the viewer's role may not see it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
    /// Byte range in the message, when known; internal, for redacting the transcript.
    #[serde(skip)]
    pub span: Option<(usize, usize)>,
}

impl Fact {
    /// The value reduced to lowercase letters and digits, for comparing restatements:
    /// `(977) 625-2661` and `9776252661` are the same phone number.
    pub fn normalized(&self) -> String {
        normalize(&self.value)
    }
}

/// Lowercase letters and digits only.
pub fn normalize(value: &str) -> String {
    value
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}
