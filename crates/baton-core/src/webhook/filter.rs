//! [`EventFilter`]: the event types a subscription is delivered, as its `events` list
//! says them: `["*"]` for all, or type names (`decision`, `assigned`...).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::event::EventKind;

/// Which event types a subscription wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventFilter {
    /// Every type, present and future (`["*"]`).
    All,
    /// Only these (never empty).
    Only(BTreeSet<EventKind>),
}

/// Why an `events` list is refused; `index` points into the list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// The list is empty.
    #[error("list at least one event type, or \"*\" for all")]
    Empty,
    /// An entry names no event type.
    #[error("{name:?} is not an event type")]
    Unknown {
        /// Position in the list.
        index: usize,
        /// What it said.
        name: String,
    },
    /// `"*"` beside named types.
    #[error("\"*\" stands alone: it already means every type")]
    StarWithOthers {
        /// Position of the `"*"`.
        index: usize,
    },
}

impl FilterError {
    /// Where in the list the fault is, if at one entry.
    pub fn index(&self) -> Option<usize> {
        match self {
            FilterError::Empty => None,
            FilterError::Unknown { index, .. } | FilterError::StarWithOthers { index } => {
                Some(*index)
            }
        }
    }
}

impl EventFilter {
    /// The one name that stands for every event type.
    pub const EVERY: &str = "*";

    /// Parses an `events` list.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Self, FilterError> {
        if names.is_empty() {
            return Err(FilterError::Empty);
        }
        if let Some(index) = names.iter().position(|n| n.as_ref() == Self::EVERY) {
            return if names.len() == 1 {
                Ok(EventFilter::All)
            } else {
                Err(FilterError::StarWithOthers { index })
            };
        }
        let mut kinds = BTreeSet::new();
        for (index, name) in names.iter().enumerate() {
            let name = name.as_ref();
            let kind = EventKind::from_wire(name).ok_or_else(|| FilterError::Unknown {
                index,
                name: name.to_owned(),
            })?;
            kinds.insert(kind);
        }
        Ok(EventFilter::Only(kinds))
    }

    /// Whether an event of `kind` is delivered.
    pub fn wants(&self, kind: EventKind) -> bool {
        match self {
            EventFilter::All => true,
            EventFilter::Only(kinds) => kinds.contains(&kind),
        }
    }

    /// The list as the API shows it (`["*"]`, or type names in a fixed order).
    pub fn names(&self) -> Vec<&'static str> {
        match self {
            EventFilter::All => vec![Self::EVERY],
            EventFilter::Only(kinds) => kinds.iter().map(|k| k.as_str()).collect(),
        }
    }
}

impl Serialize for EventFilter {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for EventFilter {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(deserializer)?;
        EventFilter::parse(&names).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_means_all_and_names_mean_only_those() {
        let all = EventFilter::parse(&["*"]).unwrap();
        assert!(all.wants(EventKind::CustomerMessage) && all.wants(EventKind::Assigned));
        let some = EventFilter::parse(&["assigned", "decision", "assigned"]).unwrap();
        assert!(some.wants(EventKind::Assigned) && !some.wants(EventKind::CustomerMessage));
        assert_eq!(some.names(), ["decision", "assigned"]);
        let json = serde_json::to_string(&some).unwrap();
        assert_eq!(serde_json::from_str::<EventFilter>(&json).unwrap(), some);
    }

    #[test]
    fn bad_lists_name_the_entry() {
        assert_eq!(
            EventFilter::parse::<&str>(&[]).unwrap_err(),
            FilterError::Empty
        );
        assert_eq!(
            EventFilter::parse(&["assigned", "sold"])
                .unwrap_err()
                .index(),
            Some(1)
        );
        assert_eq!(
            EventFilter::parse(&["assigned", "*"]).unwrap_err(),
            FilterError::StarWithOthers { index: 1 }
        );
    }
}
