//! [`Role`]: what an API key (and so a caller) may do. A domain word, so it lives in
//! core; the store keeps keys with their role and the server authorises by it.

use crate::facts::ViewerRole;

/// Roles an API key can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Posts customer and bot events.
    Bot,
    /// One human agent.
    Agent,
    /// Sees every conversation and queue.
    Supervisor,
    /// Reads everything unredacted and verifies the ledger.
    Auditor,
    /// Everything, including keys.
    Admin,
}

impl Role {
    /// Every role, least to most privileged but for the auditor's reading rights.
    pub const ALL: [Role; 5] = [
        Role::Bot,
        Role::Agent,
        Role::Supervisor,
        Role::Auditor,
        Role::Admin,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Bot => "bot",
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    /// Parses a wire name.
    pub fn parse(raw: &str) -> Option<Role> {
        Some(match raw {
            "bot" => Role::Bot,
            "agent" => Role::Agent,
            "supervisor" => Role::Supervisor,
            "auditor" => Role::Auditor,
            "admin" => Role::Admin,
            _ => return None,
        })
    }
}

impl serde::Serialize for Role {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Role {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Role::parse(&raw).ok_or_else(|| serde::de::Error::custom(format!("unknown role {raw:?}")))
    }
}

impl From<Role> for ViewerRole {
    /// The redaction policy reads by the caller's role, one for one.
    fn from(role: Role) -> Self {
        match role {
            Role::Bot => ViewerRole::Bot,
            Role::Agent => ViewerRole::Agent,
            Role::Supervisor => ViewerRole::Supervisor,
            Role::Auditor => ViewerRole::Auditor,
            Role::Admin => ViewerRole::Admin,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for role in [
            Role::Bot,
            Role::Agent,
            Role::Supervisor,
            Role::Auditor,
            Role::Admin,
        ] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("overlord"), None);
        assert_eq!(Role::parse("Admin"), None, "wire names are lower case");
    }
}
