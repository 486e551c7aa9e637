//! Queue forecasting: per-skill arrival rates and handle times, and from Erlang C the
//! expected wait and the staffing a service-level target needs.
//!
//! # Layout
//! - [`erlang`]: the Erlang B and C formulas (numerically stable recursion).
//! - [`forecaster`]: the per-skill observer and its [`SkillForecast`].

pub mod erlang;
pub mod forecaster;

use serde::{Deserialize, Serialize};

use crate::label::Label;

pub use erlang::{agents_needed, erlang_b, erlang_c, expected_wait_secs, service_level};
pub use forecaster::{ForecastConfig, Forecaster, SkillForecast};

/// The pseudo-skill that stands for "every conversation / every agent".
pub const ANY_SKILL: &str = "*";

/// [`ANY_SKILL`] as a label.
pub fn any_skill() -> Label {
    Label::parse(ANY_SKILL).expect("`*` is a valid label")
}

/// Who can serve a skill right now: available agents and their summed capacity
/// (Erlang C's servers are the slots, since an agent holds several chats at once).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staffing {
    /// Available agents holding the skill.
    pub agents: u32,
    /// Their summed concurrent capacity.
    pub slots: u64,
}
