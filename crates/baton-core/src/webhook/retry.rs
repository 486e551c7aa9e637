//! When a failed delivery is tried again, and when it is given up: exponential backoff
//! with jitter, over a horizon (24 h by default) measured from the first try of the
//! current series (a replay starts a new series).

/// The retry schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// The wait after the first failure, in milliseconds.
    pub first_delay_ms: i64,
    /// The longest wait between two tries, in milliseconds.
    pub max_delay_ms: i64,
    /// Tries go on until this long after the first one, in milliseconds; the first
    /// failure past it dead-letters the delivery.
    pub horizon_ms: i64,
    /// Each wait is scaled by a factor drawn in `1 - jitter ..= 1 + jitter`, so
    /// receivers that failed together are not all retried in the same instant.
    pub jitter: f64,
}

impl Default for RetryPolicy {
    /// 10 s, doubling, at most 1 h apart, for 24 h (about 30 tries), ±20 %.
    fn default() -> Self {
        Self {
            first_delay_ms: 10_000,
            max_delay_ms: 3_600_000,
            horizon_ms: 24 * 3_600_000,
            jitter: 0.2,
        }
    }
}

/// What follows a failed try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Try again at this instant (Unix milliseconds).
    RetryAt(crate::Timestamp),
    /// The horizon has passed: dead-letter it.
    GiveUp,
}

impl RetryPolicy {
    /// The wait after a failure `elapsed_ms` into a series, before jitter: as long as
    /// the series has lasted so far (so waits double from try to try, with no count to
    /// keep), at least the first delay and at most the cap.
    pub fn base_delay_ms(&self, elapsed_ms: i64) -> i64 {
        elapsed_ms
            .clamp(
                self.first_delay_ms,
                self.max_delay_ms.max(self.first_delay_ms),
            )
            .max(1)
    }

    /// What to do after a try failed at `now`, in a series that began at
    /// `series_start`. `unit` is a number in `0.0..1.0` the caller drew at random.
    pub fn after_failure(
        &self,
        series_start: crate::Timestamp,
        now: crate::Timestamp,
        unit: f64,
    ) -> Next {
        let elapsed = now.millis_since(series_start);
        if elapsed >= self.horizon_ms {
            return Next::GiveUp;
        }
        let scale = 1.0 - self.jitter + 2.0 * self.jitter * unit.clamp(0.0, 1.0);
        let delay = (self.base_delay_ms(elapsed) as f64 * scale).round() as i64;
        let at = now.plus_millis(delay.max(1));
        // The last try lands on the horizon rather than past it, so a receiver back
        // just before the end still gets the delivery.
        let end = series_start.plus_millis(self.horizon_ms);
        Next::RetryAt(if at > end { end } else { at })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timestamp;

    const T0: Timestamp = Timestamp::from_unix_millis(1_767_225_600_000);

    /// The tries of a receiver that never answers, with jitter drawn as `unit`.
    fn schedule(policy: &RetryPolicy, unit: f64) -> Vec<i64> {
        let mut now = T0;
        let mut tries = vec![0];
        while let Next::RetryAt(at) = policy.after_failure(T0, now, unit) {
            assert!(at > now, "every retry is later");
            now = at;
            tries.push(now.millis_since(T0));
        }
        tries
    }

    #[test]
    fn waits_double_up_to_the_cap() {
        let policy = RetryPolicy {
            jitter: 0.0,
            ..RetryPolicy::default()
        };
        let tries = schedule(&policy, 0.5);
        assert_eq!(
            tries[..9],
            [
                0, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 640_000, 1_280_000
            ]
        );
        let gaps: Vec<i64> = tries.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.iter().all(|g| *g <= 3_600_000), "capped at an hour");
        assert_eq!(policy.base_delay_ms(i64::MAX), 3_600_000, "no overflow");
    }

    #[test]
    fn jitter_stays_within_its_band() {
        let policy = RetryPolicy::default();
        let start = T0.plus_millis(-40_000);
        for unit in [0.0, 0.25, 0.5, 0.999] {
            let Next::RetryAt(at) = policy.after_failure(start, T0, unit) else {
                panic!("within the horizon")
            };
            let delay = at.millis_since(T0);
            assert!((32_000..=48_000).contains(&delay), "{delay}");
        }
        assert_ne!(
            policy.after_failure(start, T0, 0.0),
            policy.after_failure(start, T0, 0.999),
            "the draw moves the retry"
        );
    }

    #[test]
    fn tries_go_on_for_the_whole_horizon_and_then_stop() {
        let policy = RetryPolicy::default();
        for unit in [0.0, 1.0] {
            let tries = schedule(&policy, unit);
            let last = *tries.last().unwrap();
            assert_eq!(last, 24 * 3_600_000, "the last try is at the horizon");
            assert!((20..=45).contains(&tries.len()), "{} tries", tries.len());
        }
        let late = T0.plus_millis(policy.horizon_ms);
        assert_eq!(policy.after_failure(T0, late, 0.5), Next::GiveUp);
    }
}
