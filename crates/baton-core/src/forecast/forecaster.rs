//! Per-skill observation of arrivals and handle times, turned into [`SkillForecast`]s.
//!
//! The arrival rate is an exponentially weighted moving average in continuous time:
//! each arrival adds `1/tau` to a sum that decays as `e^{-dt/tau}`, so at steady state
//! the sum estimates arrivals per millisecond over roughly the last `tau`. Early on
//! (less than `tau` observed) the sum is divided by `1 - e^{-span/tau}`, the weight the
//! kernel has had time to gather, so a young forecaster is not biased low. Handle
//! time is a plain EWMA over released assignments.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::erlang::{agents_needed, expected_wait_secs, service_level};
use super::{Staffing, any_skill};
use crate::label::Label;
use crate::timestamp::Timestamp;

/// The shortest span the early-rate correction trusts, so a single first arrival
/// does not read as an enormous rate.
const MIN_SPAN_MS: i64 = 60_000;

/// Forecasting knobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForecastConfig {
    /// Time constant of the arrival-rate average, in milliseconds.
    pub window_ms: i64,
    /// Weight of each new handle time in its average.
    pub handle_alpha: f64,
    /// Handle time assumed before any is observed, in seconds.
    pub default_handle_secs: f64,
    /// Share of conversations to answer within `target_answer_secs`.
    pub target_service_level: f64,
    /// The answer-time target, in seconds.
    pub target_answer_secs: f64,
}

impl Default for ForecastConfig {
    fn default() -> Self {
        Self {
            window_ms: 15 * 60_000,
            handle_alpha: 0.1,
            default_handle_secs: 300.0,
            target_service_level: 0.8,
            target_answer_secs: 20.0,
        }
    }
}

/// The forecast for one skill.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkillForecast {
    /// The skill (`*`: all conversations).
    pub skill: Label,
    /// Smoothed arrivals per minute.
    pub arrival_rate_per_min: f64,
    /// Mean handle time, in seconds (the default until one is observed).
    pub mean_handle_secs: f64,
    /// Offered load in erlangs (arrivals per second times handle seconds).
    pub traffic_erlangs: f64,
    /// Available agents with the skill.
    pub agents_available: u32,
    /// Their summed capacity (Erlang C's servers).
    pub slots_available: u64,
    /// Expected wait in seconds; `None` when capacity is below the load and the queue
    /// grows without bound.
    pub expected_wait_secs: Option<f64>,
    /// Predicted share answered within the target with the current staffing.
    pub service_level: f64,
    /// Agents needed to meet the target (slots needed over the mean capacity).
    pub agents_needed: u32,
    /// The service-level target, e.g. 0.8.
    pub service_level_target: f64,
    /// The answer-time target in seconds, e.g. 20.
    pub target_answer_secs: f64,
}

#[derive(Debug, Clone, Default)]
struct SkillStats {
    rate_sum: f64,
    first_arrival: Option<Timestamp>,
    last_arrival: Option<Timestamp>,
    handle_secs: Option<f64>,
}

/// Observes arrivals and handle times per skill; pure, time passed in.
#[derive(Debug, Clone, Default)]
pub struct Forecaster {
    config: ForecastConfig,
    skills: BTreeMap<Label, SkillStats>,
}

impl Forecaster {
    /// A forecaster with no observations.
    pub fn new(config: ForecastConfig) -> Self {
        Self {
            config,
            skills: BTreeMap::new(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &ForecastConfig {
        &self.config
    }

    /// A conversation needing `skills` joined the queue at `at` (also counted under `*`).
    pub fn observe_arrival(&mut self, skills: &[Label], at: Timestamp) {
        let tau = self.tau();
        for skill in with_any(skills) {
            let stats = self.skills.entry(skill).or_default();
            let dt = stats
                .last_arrival
                .map_or(0, |last| at.millis_since(last).max(0));
            stats.rate_sum = stats.rate_sum * decay(dt, tau) + 1.0 / tau;
            stats.first_arrival.get_or_insert(at);
            stats.last_arrival = Some(stats.last_arrival.map_or(at, |last| last.max(at)));
        }
    }

    /// An assignment needing `skills` was released after `handle_ms` with its agent.
    pub fn observe_handled(&mut self, skills: &[Label], handle_ms: i64) {
        let secs = handle_ms.max(0) as f64 / 1000.0;
        let alpha = self.config.handle_alpha.clamp(0.0, 1.0);
        for skill in with_any(skills) {
            let stats = self.skills.entry(skill).or_default();
            stats.handle_secs = Some(
                stats
                    .handle_secs
                    .map_or(secs, |mean| mean + alpha * (secs - mean)),
            );
        }
    }

    /// Smoothed arrivals per minute for `skill` at `now`.
    pub fn arrival_rate_per_min(&self, skill: &Label, now: Timestamp) -> f64 {
        let Some(stats) = self.skills.get(skill) else {
            return 0.0;
        };
        let (Some(first), Some(last)) = (stats.first_arrival, stats.last_arrival) else {
            return 0.0;
        };
        let tau = self.tau();
        let per_ms = stats.rate_sum * decay(now.millis_since(last).max(0), tau);
        let span = now.millis_since(first).max(MIN_SPAN_MS);
        let gathered = 1.0 - decay(span, tau);
        per_ms / gathered * 60_000.0
    }

    /// The forecast for one skill given who can serve it now.
    pub fn forecast(&self, skill: &Label, staffing: Staffing, now: Timestamp) -> SkillForecast {
        let rate = self.arrival_rate_per_min(skill, now);
        let handle = self
            .skills
            .get(skill)
            .and_then(|s| s.handle_secs)
            .unwrap_or(self.config.default_handle_secs);
        let traffic = rate / 60.0 * handle;
        let servers = u32::try_from(staffing.slots).unwrap_or(u32::MAX);
        let (level, secs) = (
            self.config.target_service_level,
            self.config.target_answer_secs,
        );
        let slots_needed = agents_needed(traffic, handle, level, secs);
        let per_agent = if staffing.agents == 0 {
            1.0
        } else {
            staffing.slots as f64 / f64::from(staffing.agents)
        };
        SkillForecast {
            skill: skill.clone(),
            arrival_rate_per_min: rate,
            mean_handle_secs: handle,
            traffic_erlangs: traffic,
            agents_available: staffing.agents,
            slots_available: staffing.slots,
            expected_wait_secs: expected_wait_secs(servers, traffic, handle),
            service_level: service_level(servers, traffic, handle, secs),
            agents_needed: (f64::from(slots_needed) / per_agent.max(1.0)).ceil() as u32,
            service_level_target: level,
            target_answer_secs: secs,
        }
    }

    /// Forecasts for every observed skill, by skill.
    pub fn forecast_all(
        &self,
        now: Timestamp,
        staffing_of: impl Fn(&Label) -> Staffing,
    ) -> Vec<SkillForecast> {
        self.skills
            .keys()
            .map(|skill| self.forecast(skill, staffing_of(skill), now))
            .collect()
    }

    /// The worst expected wait over `skills` (`*` when empty), for the decision
    /// engine's capacity signal; `None` when some skill's queue grows without bound.
    pub fn expected_wait_for(
        &self,
        skills: &[Label],
        now: Timestamp,
        staffing_of: impl Fn(&Label) -> Staffing,
    ) -> Option<f64> {
        let any = [any_skill()];
        let skills = if skills.is_empty() { &any[..] } else { skills };
        skills.iter().try_fold(0.0_f64, |worst, skill| {
            self.forecast(skill, staffing_of(skill), now)
                .expected_wait_secs
                .map(|w| worst.max(w))
        })
    }

    fn tau(&self) -> f64 {
        self.config.window_ms.max(1) as f64
    }
}

fn decay(dt_ms: i64, tau: f64) -> f64 {
    (-(dt_ms as f64) / tau).exp()
}

fn with_any(skills: &[Label]) -> impl Iterator<Item = Label> + use<'_> {
    let mut all: Vec<&Label> = skills.iter().collect();
    all.sort();
    all.dedup();
    all.into_iter().cloned().chain(std::iter::once(any_skill()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(s: &str) -> Label {
        Label::parse(s).unwrap()
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_unix_millis(1_000_000_000 + secs * 1000)
    }

    #[test]
    fn steady_arrivals_converge_to_their_rate() {
        let mut f = Forecaster::new(ForecastConfig::default());
        let billing = [label("billing")];
        // 6 per minute for an hour.
        for i in 0..360 {
            f.observe_arrival(&billing, at(i * 10));
        }
        let rate = f.arrival_rate_per_min(&billing[0], at(3590));
        assert!((rate - 6.0).abs() < 0.3, "{rate}");
        assert!((f.arrival_rate_per_min(&any_skill(), at(3590)) - rate).abs() < 1e-9);
        assert_eq!(f.arrival_rate_per_min(&label("tech"), at(3590)), 0.0);
    }

    #[test]
    fn young_forecaster_is_not_biased_low_and_rates_decay() {
        let mut f = Forecaster::new(ForecastConfig::default());
        let s = [label("s")];
        for i in 0..30 {
            f.observe_arrival(&s, at(i * 10));
        }
        let early = f.arrival_rate_per_min(&s[0], at(300));
        assert!((early - 6.0).abs() < 0.6, "{early}");
        let later = f.arrival_rate_per_min(&s[0], at(300 + 3600));
        assert!(later < 0.1, "{later}");
    }

    #[test]
    fn handle_time_is_an_ewma_with_a_default() {
        let mut f = Forecaster::new(ForecastConfig {
            handle_alpha: 0.5,
            ..ForecastConfig::default()
        });
        let s = [label("s")];
        let staffing = Staffing {
            agents: 1,
            slots: 1,
        };
        assert_eq!(f.forecast(&s[0], staffing, at(0)).mean_handle_secs, 300.0);
        f.observe_handled(&s, 100_000);
        f.observe_handled(&s, 200_000);
        assert_eq!(f.forecast(&s[0], staffing, at(0)).mean_handle_secs, 150.0);
    }

    #[test]
    fn forecast_reads_erlang_c() {
        // One arrival every 18 s at 180 s handle time: 10 erlangs, on 14 slots.
        let mut f = Forecaster::new(ForecastConfig {
            handle_alpha: 1.0,
            ..ForecastConfig::default()
        });
        let s = [label("billing")];
        for i in 0..2000 {
            f.observe_arrival(&s, Timestamp::from_unix_millis(i * 18_000));
        }
        f.observe_handled(&s, 180_000);
        let now = Timestamp::from_unix_millis(1999 * 18_000);
        let fc = f.forecast(
            &s[0],
            Staffing {
                agents: 7,
                slots: 14,
            },
            now,
        );
        assert!(
            (fc.traffic_erlangs - 10.0).abs() < 0.3,
            "{}",
            fc.traffic_erlangs
        );
        let wait = fc.expected_wait_secs.unwrap();
        assert!(wait > 4.0 && wait < 15.0, "{wait}");
        // 14 slots needed at 2 per agent: 7 agents.
        assert!((6..=8).contains(&fc.agents_needed), "{}", fc.agents_needed);
        let short = f.forecast(
            &s[0],
            Staffing {
                agents: 4,
                slots: 8,
            },
            now,
        );
        assert_eq!(short.expected_wait_secs, None);
        assert_eq!(
            f.expected_wait_for(&s, now, |_| Staffing {
                agents: 4,
                slots: 8
            }),
            None
        );
        let wait_for = f.expected_wait_for(&s, now, |_| Staffing {
            agents: 7,
            slots: 14,
        });
        assert_eq!(wait_for, Some(wait));
    }
}
