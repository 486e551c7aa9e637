//! The server's clock: the only place that reads the wall time. Core never does; every
//! server read of "now" (offer expiry, queue ageing, sessions, key expiry, idle
//! conversations) goes through the [`Clock`] in the app state, so a test can hold time
//! still and move it on by hand instead of sleeping in real time.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use baton_core::Timestamp;
use tokio::sync::watch;

/// Where "now" comes from: the system, or a hand-moved clock for tests.
#[derive(Clone, Default)]
pub enum Clock {
    /// The system's wall clock.
    #[default]
    System,
    /// Stands still until [`Clock::advance`] moves it; timers that follow the clock (the
    /// router's ticker) wake when it moves.
    Manual(Arc<watch::Sender<i64>>),
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::System => f.write_str("Clock::System"),
            Self::Manual(millis) => write!(f, "Clock::Manual({})", *millis.borrow()),
        }
    }
}

impl Clock {
    /// A manual clock standing at `at`.
    pub fn manual(at: Timestamp) -> Self {
        Self::Manual(Arc::new(watch::Sender::new(at.unix_millis())))
    }

    /// A manual clock standing at the present system time (so keys and sessions with
    /// real expiry dates compare as they would in production).
    pub fn manual_from_now() -> Self {
        Self::manual(system_now())
    }

    /// Now, to the millisecond.
    pub fn now(&self) -> Timestamp {
        match self {
            Self::System => system_now(),
            Self::Manual(millis) => Timestamp::from_unix_millis(*millis.borrow()),
        }
    }

    /// Moves a manual clock on by `by`; the system clock cannot be moved, so this does
    /// nothing to it.
    pub fn advance(&self, by: Duration) {
        if let Self::Manual(millis) = self {
            let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
            millis.send_modify(|m| *m = m.saturating_add(by));
        }
    }

    /// A watch that changes whenever a manual clock moves; `None` for the system clock,
    /// whose time moves by itself.
    pub fn moves(&self) -> Option<watch::Receiver<i64>> {
        match self {
            Self::System => None,
            Self::Manual(millis) => Some(millis.subscribe()),
        }
    }
}

/// Waits for the next of `interval`'s ticks or, with a manual clock, for the clock to
/// move, whichever comes first: a timer-driven step runs as soon as a test moves time.
pub async fn tick_or_move(
    interval: &mut tokio::time::Interval,
    moves: &mut Option<watch::Receiver<i64>>,
) {
    match moves {
        None => {
            interval.tick().await;
        }
        Some(moves) => {
            tokio::select! {
                _ = interval.tick() => {}
                changed = moves.changed() => {
                    if changed.is_err() {
                        // The clock is gone with the app; fall back to the interval.
                        interval.tick().await;
                    }
                }
            }
        }
    }
}

fn system_now() -> Timestamp {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp::from_unix_millis(millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_moved() {
        let clock = Clock::manual(Timestamp::from_unix_millis(1_000));
        assert_eq!(clock.now(), Timestamp::from_unix_millis(1_000));
        clock.advance(Duration::from_millis(250));
        assert_eq!(clock.now(), Timestamp::from_unix_millis(1_250));
        let shared = clock.clone();
        shared.advance(Duration::from_secs(1));
        assert_eq!(clock.now(), Timestamp::from_unix_millis(2_250));
    }

    #[test]
    fn the_system_clock_is_not_moved_by_advance() {
        let clock = Clock::System;
        let before = clock.now();
        clock.advance(Duration::from_secs(3600));
        assert!(clock.now().millis_since(before) < 60_000);
        assert!(clock.moves().is_none());
    }

    #[tokio::test]
    async fn moving_a_manual_clock_wakes_its_watchers() {
        let clock = Clock::manual(Timestamp::from_unix_millis(0));
        let mut moves = clock.moves();
        let mut interval = tokio::time::interval(Duration::from_secs(3600));
        interval.tick().await; // the first tick is immediate
        clock.advance(Duration::from_millis(1));
        tokio::time::timeout(
            Duration::from_secs(5),
            tick_or_move(&mut interval, &mut moves),
        )
        .await
        .unwrap();
    }
}
