//! Failed authentication, limited per client address: unknown, revoked or expired keys
//! on `/v1`, dead console sessions, wrong keys at sign-in. Successful requests are
//! never counted. After a burst of failures an address is refused with 429 and
//! `Retry-After` for every credential it presents, good or bad, until its allowance
//! refills: were a correct guess let through while wrong ones bounce, the limit would
//! not slow a guesser down at all.
//!
//! The failure count is `governor`'s keyed GCRA limiter (one cell per failure). It has
//! no way to look without taking a cell, so the addresses currently over the limit are
//! kept beside it, with the instant their next attempt is allowed.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::error::ApiError;

/// How many failures an address may have before it is refused, and how fast its
/// allowance comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureLimit {
    /// Failures allowed in a row.
    pub burst: u32,
    /// One more failure is allowed each time this passes.
    pub refill: Duration,
}

impl Default for FailureLimit {
    fn default() -> Self {
        Self {
            burst: 10,
            refill: Duration::from_secs(30),
        }
    }
}

/// Past this many blocked addresses, expired entries are swept on the next block.
const SWEEP_AT: usize = 1024;

type Failures =
    RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock, StateInformationMiddleware>;

/// Failed authentications by client address.
pub struct AuthFailures {
    failures: Failures,
    clock: DefaultClock,
    refill: Duration,
    blocked: Mutex<BTreeMap<IpAddr, Instant>>,
}

impl AuthFailures {
    /// A limiter for `limit` (a zero burst or refill counts as the smallest allowed).
    pub fn new(limit: FailureLimit) -> Self {
        let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(limit.refill.max(Duration::from_millis(1)))
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        let clock = DefaultClock::default();
        Self {
            failures: RateLimiter::<_, _, _, governor::middleware::NoOpMiddleware<_>>::new(
                quota,
                DefaultKeyedStateStore::default(),
                clock.clone(),
            )
            .with_middleware::<StateInformationMiddleware>(),
            clock,
            refill: limit.refill.max(Duration::from_millis(1)),
            blocked: Mutex::new(BTreeMap::new()),
        }
    }

    /// 429 while `client` is over the limit; call before looking any credential up.
    pub fn check(&self, client: IpAddr) -> Result<(), ApiError> {
        let Ok(mut blocked) = self.blocked.lock() else {
            return Ok(());
        };
        match blocked.get(&client) {
            Some(until) => match until.checked_duration_since(Instant::now()) {
                Some(wait) if !wait.is_zero() => Err(ApiError::too_many_failures(secs(wait))),
                _ => {
                    blocked.remove(&client);
                    Ok(())
                }
            },
            None => Ok(()),
        }
    }

    /// Counts a failure of `client`: the refusal to send, or 429 if the address was
    /// already out of allowance. The failure that uses up the allowance is still
    /// answered with `refusal`; whatever the address sends next is refused until one
    /// more failure is allowed.
    pub fn failed(&self, client: IpAddr, refusal: ApiError) -> ApiError {
        match self.failures.check_key(&client) {
            Ok(state) if state.remaining_burst_capacity() > 0 => refusal,
            Ok(_) => {
                self.block(client, self.refill);
                refusal
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                self.block(client, wait);
                ApiError::too_many_failures(secs(wait))
            }
        }
    }

    fn block(&self, client: IpAddr, wait: Duration) {
        tracing::warn!(%client, "too many failed authentications; address refused for a while");
        if let Ok(mut blocked) = self.blocked.lock() {
            if blocked.len() >= SWEEP_AT {
                let now = Instant::now();
                blocked.retain(|_, until| *until > now);
                self.failures.retain_recent();
            }
            blocked.insert(client, Instant::now() + wait);
        }
    }
}

fn secs(wait: Duration) -> u64 {
    // Round up: `Retry-After: 0` would invite an immediate, refused retry.
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// The caller's address: the socket peer, or, when the proxy in front is trusted, the
/// last address in `X-Forwarded-For` (the one that proxy appended; earlier entries
/// are whatever the client claimed). In-process calls without a socket share one
/// address, so they are limited too.
pub fn client_addr(
    headers: &HeaderMap,
    extensions: &Extensions,
    trust_proxy_headers: bool,
) -> IpAddr {
    if trust_proxy_headers
        && let Some(forwarded) = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            // The last entry or nothing: skipping a garbled one would reach the
            // client's own claims.
            .next_back()
            .and_then(|a| a.trim().parse::<IpAddr>().ok())
    {
        return forwarded;
    }
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_refused_after_its_burst_and_others_are_not() {
        let limit = AuthFailures::new(FailureLimit {
            burst: 3,
            refill: Duration::from_secs(60),
        });
        let bad: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..3 {
            assert!(limit.check(bad).is_ok());
            assert_eq!(limit.failed(bad, ApiError::unauthorized("no")).status, 401);
        }
        let refused = limit.check(bad).unwrap_err();
        assert_eq!(refused.status, 429);
        let wait = refused.retry_after_secs.unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        assert_eq!(
            limit.failed(bad, ApiError::unauthorized("no")).status,
            429,
            "a failure that races past the check is refused too"
        );
        assert!(
            limit.check(other).is_ok(),
            "one address's failures are its own"
        );
    }

    #[test]
    fn forwarded_addresses_count_only_when_the_proxy_is_trusted() {
        let request = axum::http::Request::builder()
            .header("x-forwarded-for", "1.2.3.4, 192.0.2.7")
            .body(())
            .unwrap();
        let (mut parts, ()) = request.into_parts();
        parts
            .extensions
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 9))));
        assert_eq!(
            client_addr(&parts.headers, &parts.extensions, true),
            "192.0.2.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_addr(&parts.headers, &parts.extensions, false),
            "127.0.0.1".parse::<IpAddr>().unwrap()
        );
    }
}
