//! What one reader may see of a conversation's events: the reader's role, the policy's
//! fact extractor and the conversation's known facts, held together so every read path
//! (events, streams, the console; webhooks and exports to come) serves events through
//! baton-core's one policy, [`baton_core::facts::Redactor`].

use std::sync::Arc;

use baton_core::Event;
use baton_core::facts::{Fact, FactExtractor, Redactor, ViewerRole};
use baton_core::ledger::Digest;
use baton_store::{Role, StoredEvent};

use crate::app::AppState;
use crate::error::ApiError;
use crate::live::with_hash;

/// A reader of one conversation.
pub struct ReadView {
    role: ViewerRole,
    extractor: Arc<FactExtractor>,
    known: Vec<Fact>,
}

impl ReadView {
    /// A view for a reader with `role`, given the conversation's known facts
    /// ([`baton_core::facts::KnownFacts::package_facts`], as the package uses).
    pub fn new(app: &AppState, role: Role, known: Vec<Fact>) -> Result<Self, ApiError> {
        Ok(Self {
            role: crate::package::viewer(role),
            extractor: app.extractor()?,
            known,
        })
    }

    /// The conversation's known facts changed (a stream folds the events it forwards).
    pub fn set_known(&mut self, known: Vec<Fact>) {
        self.known = known;
    }

    /// Whether the reader sees everything, so events need not even be parsed.
    pub fn sees_all(&self) -> bool {
        self.role.sees_all()
    }

    /// The policy for this reader.
    pub fn redactor(&self) -> Redactor<'_> {
        Redactor::new(self.role, &self.extractor, &self.known)
    }

    /// `event` as this reader may see it; `stored` is its JSON as stored and served
    /// (canonical plus hash), returned as it is when nothing is masked.
    pub fn serve(&self, event: &Event, hash: &Digest, stored: &str) -> Result<String, ApiError> {
        match self
            .redactor()
            .serve(event, hash)
            .map_err(ApiError::internal)?
        {
            Some(masked) => Ok(masked),
            None => Ok(stored.to_owned()),
        }
    }

    /// A stored event as this reader may see it.
    pub fn stored(&self, stored: &StoredEvent) -> Result<String, ApiError> {
        let json = with_hash(&stored.canonical, &stored.hash);
        if self.sees_all() {
            return Ok(json);
        }
        let event: Event = serde_json::from_str(&stored.canonical).map_err(|e| {
            ApiError::internal(format!("stored event {} does not parse: {e}", stored.seq))
        })?;
        self.serve(&event, &stored.hash, &json)
    }
}
