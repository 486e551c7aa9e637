//! The context package: what a human receives at handoff so they start at second zero
//! and the customer never repeats themselves. SBAR-shaped (Situation, Background,
//! Assessment, Recommendation) plus the transcript, redacted for the reader's role.
//!
//! - [`input`]: what the server passes in; [`model`]: the JSON contract;
//!   [`build`]: building it; [`words`] and [`timeline`]: its sentences.
//! - Renderers over a built package: [`markdown`], [`html`] (a fragment the console
//!   embeds), [`botframework`] (a `handoff.initiate` event activity), [`zendesk`]
//!   (a ticket-create body) and [`taskrouter`] (a Twilio TaskRouter task).

pub mod botframework;
pub mod build;
pub mod html;
pub mod input;
pub mod markdown;
pub mod model;
pub mod taskrouter;
pub mod timeline;
pub mod words;
pub mod zendesk;

#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
mod tests;

pub use botframework::render_botframework;
pub use build::build_package;
pub use html::render_html;
pub use input::{
    ConfidencePoint, PackageInput, PackageSignals, Playbook, Playbooks, PriorContact,
    SentimentPoint, SentimentSignal,
};
pub use markdown::render_markdown;
pub use model::{ContextPackage, PACKAGE_VERSION};
pub use taskrouter::render_taskrouter;
pub use zendesk::render_zendesk;
