//! Who sees which personal data. A value the viewer may not see is replaced by its
//! masked form, `[card ••••4242]`: the kind and a short tail, enough to confirm with
//! the customer ("the card ending 4242?") without holding the number.
//!
//! | PII kind       | bot | agent | supervisor | admin | auditor |
//! |----------------|-----|-------|------------|-------|---------|
//! | person_name    | yes | yes   | yes        | yes   | yes     |
//! | email          | yes | yes   | yes        | no    | yes     |
//! | phone          | yes | yes   | yes        | no    | yes     |
//! | address        | no  | yes   | yes        | no    | yes     |
//! | card_number    | no  | no    | no         | no    | yes     |
//! | national_id    | no  | no    | no         | no    | yes     |
//! | bank_account   | no  | no    | no         | no    | yes     |
//!
//! Agents and supervisors see what serving the customer needs (who they are, how to
//! reach them, where to ship); nobody but an auditor needs a card, a national id or a
//! bank account in clear. Admins run the system, not conversations, so they see names
//! only. The bot keeps contact details, which it already had, but not addresses.

use serde::{Deserialize, Serialize};

use super::Fact;
use super::extract::FactExtractor;
use super::pii::{PiiKind, mask};

/// The role of whoever reads a package or transcript (the API key's role).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewerRole {
    /// The bot, e.g. after a bounce-back.
    Bot,
    /// A human agent.
    Agent,
    /// A team lead.
    Supervisor,
    /// An operator of baton.
    Admin,
    /// Compliance: sees everything.
    Auditor,
}

impl ViewerRole {
    /// Whether this role sees values of `kind` in clear (the table above).
    pub fn may_see(self, kind: PiiKind) -> bool {
        use PiiKind as P;
        match self {
            ViewerRole::Auditor => true,
            ViewerRole::Agent | ViewerRole::Supervisor => {
                matches!(kind, P::PersonName | P::Email | P::Phone | P::Address)
            }
            ViewerRole::Bot => matches!(kind, P::PersonName | P::Email | P::Phone),
            ViewerRole::Admin => kind == P::PersonName,
        }
    }

    /// Whether this role sees every kind in clear (only the auditor): reads for it
    /// skip redaction altogether.
    pub fn sees_all(self) -> bool {
        PiiKind::ALL.iter().all(|&kind| self.may_see(kind))
    }
}

/// The fact as `role` may see it.
pub fn redact_fact(fact: &Fact, role: ViewerRole) -> Fact {
    match fact.pii {
        Some(kind) if !role.may_see(kind) => Fact {
            value: mask(kind, &fact.value),
            redacted: true,
            ..fact.clone()
        },
        _ => fact.clone(),
    }
}

/// `text` with every personal datum `role` may not see masked: what the extractor
/// recognises in it, plus any value of `known` facts (an NLU entity, a bare answer)
/// that occurs in it verbatim.
pub fn redact_text(
    text: &str,
    role: ViewerRole,
    extractor: &FactExtractor,
    known: &[Fact],
) -> String {
    mask_text(text, role, extractor, known).unwrap_or_else(|| text.to_owned())
}

/// [`redact_text`], or `None` when nothing in `text` needs masking for `role` (the
/// common case, which then costs no copy).
pub fn mask_text(
    text: &str,
    role: ViewerRole,
    extractor: &FactExtractor,
    known: &[Fact],
) -> Option<String> {
    if role.sees_all() {
        return None;
    }
    let hidden = |kind: &super::FactKind| PiiKind::of(kind).is_some_and(|k| !role.may_see(k));
    let mut spans: Vec<(usize, usize, PiiKind)> = extractor
        .scan_only(text, &hidden)
        .into_iter()
        .filter_map(|f| PiiKind::of(&f.kind).map(|k| (f.start, f.end, k)))
        .collect();
    for fact in known {
        let Some(kind) = fact.pii.filter(|k| !role.may_see(*k)) else {
            continue;
        };
        if fact.value.len() < 4 {
            continue;
        }
        for (start, _) in text.match_indices(fact.value.as_str()) {
            let end = start + fact.value.len();
            if !spans.iter().any(|&(s, e, _)| start < e && s < end) {
                spans.push((start, end, kind));
            }
        }
    }
    if spans.is_empty() {
        return None;
    }
    spans.sort_by_key(|s| s.0);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, kind) in spans {
        if start < at {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(&mask(kind, &text[start..end]));
        at = end;
    }
    out.push_str(&text[at..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::FactConfig;

    fn extractor() -> FactExtractor {
        FactExtractor::new(&FactConfig::default()).unwrap()
    }

    #[test]
    fn agents_never_see_cards_auditors_always_do() {
        let ex = extractor();
        let text = "my card is 4242 4242 4242 4242 and email ana@example.com";
        let agent = redact_text(text, ViewerRole::Agent, &ex, &[]);
        assert_eq!(
            agent,
            "my card is [card ••••4242] and email ana@example.com"
        );
        let admin = redact_text(text, ViewerRole::Admin, &ex, &[]);
        assert!(!admin.contains("ana@example.com"), "{admin}");
        assert!(admin.contains("[email ••••"), "{admin}");
        assert_eq!(redact_text(text, ViewerRole::Auditor, &ex, &[]), text);
    }

    #[test]
    fn known_values_are_masked_wherever_they_occur() {
        let ex = extractor();
        let fact = Fact {
            kind: crate::facts::FactKind::NationalId,
            value: "QQ123456C".into(),
            seq: 1,
            source: crate::facts::FactSource::Nlu,
            pii: Some(PiiKind::NationalId),
            redacted: false,
            span: None,
        };
        let text = "so that is QQ123456C, right";
        let out = redact_text(
            text,
            ViewerRole::Supervisor,
            &ex,
            std::slice::from_ref(&fact),
        );
        assert!(!out.contains("QQ123456C"), "{out}");
        let shown = redact_fact(&fact, ViewerRole::Agent);
        assert!(shown.redacted);
        assert_eq!(shown.value, "[national id ••••56C]");
        assert!(!redact_fact(&fact, ViewerRole::Auditor).redacted);
    }

    #[test]
    fn the_table_holds() {
        use PiiKind as P;
        let all = [
            P::PersonName,
            P::Email,
            P::Phone,
            P::Address,
            P::CardNumber,
            P::NationalId,
            P::BankAccount,
        ];
        assert_eq!(all, PiiKind::ALL);
        for kind in all {
            assert!(ViewerRole::Auditor.may_see(kind));
        }
        assert!(ViewerRole::Auditor.sees_all());
        for role in [
            ViewerRole::Bot,
            ViewerRole::Agent,
            ViewerRole::Supervisor,
            ViewerRole::Admin,
        ] {
            assert!(
                !role.may_see(P::CardNumber)
                    && !role.may_see(P::NationalId)
                    && !role.may_see(P::BankAccount)
            );
        }
        assert!(ViewerRole::Agent.may_see(P::Address) && !ViewerRole::Bot.may_see(P::Address));
    }
}
