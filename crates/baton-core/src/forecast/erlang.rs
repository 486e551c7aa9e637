//! Erlang B and C for an M/M/N queue, with `traffic` in erlangs (arrivals per second
//! times mean handle seconds) and `servers` the number of parallel slots.
//!
//! Erlang C is computed from the Erlang B recursion `B(0) = 1`,
//! `B(k) = A B(k-1) / (k + A B(k-1))`, then `C = N B / (N - A (1 - B))`. Unlike the
//! factorial form this never overflows, whatever the size of `N` or `A`.

/// Past this many servers `agents_needed` stops searching (no sane queue needs more).
pub const MAX_SERVERS: u32 = 100_000;

/// Probability that an arrival is blocked in a loss system (Erlang B).
pub fn erlang_b(servers: u32, traffic: f64) -> f64 {
    if traffic <= 0.0 {
        return if servers == 0 { 1.0 } else { 0.0 };
    }
    let mut b = 1.0;
    for k in 1..=servers {
        b = traffic * b / (f64::from(k) + traffic * b);
        // Once B underflows to zero it stays there: with many slots and light traffic
        // (a router forecasting on every enqueue for agents of capacity 1000) the rest
        // of the loop would be thousands of divisions that change nothing.
        if b == 0.0 {
            break;
        }
    }
    b
}

/// Probability that an arrival has to wait (Erlang C); 1 when `servers <= traffic`.
pub fn erlang_c(servers: u32, traffic: f64) -> f64 {
    if traffic <= 0.0 {
        return 0.0;
    }
    c_from_b(servers, traffic, erlang_b(servers, traffic))
}

fn c_from_b(servers: u32, traffic: f64, b: f64) -> f64 {
    let n = f64::from(servers);
    if n <= traffic {
        return 1.0;
    }
    n * b / (n - traffic * (1.0 - b))
}

/// Mean wait (average speed of answer) in seconds; `None` when `servers <= traffic`
/// and the queue grows without bound.
pub fn expected_wait_secs(servers: u32, traffic: f64, handle_secs: f64) -> Option<f64> {
    if traffic <= 0.0 {
        return Some(0.0);
    }
    let n = f64::from(servers);
    (n > traffic).then(|| erlang_c(servers, traffic) * handle_secs / (n - traffic))
}

/// Share of arrivals answered within `target_secs`: `1 - C e^{-(N - A) t / h}`.
pub fn service_level(servers: u32, traffic: f64, handle_secs: f64, target_secs: f64) -> f64 {
    if traffic <= 0.0 {
        return 1.0;
    }
    sl_from_c(
        servers,
        traffic,
        handle_secs,
        target_secs,
        erlang_c(servers, traffic),
    )
}

fn sl_from_c(servers: u32, traffic: f64, handle_secs: f64, target_secs: f64, c: f64) -> f64 {
    let n = f64::from(servers);
    if n <= traffic || handle_secs <= 0.0 {
        return if n > traffic { 1.0 } else { 0.0 };
    }
    (1.0 - c * (-(n - traffic) * target_secs / handle_secs).exp()).clamp(0.0, 1.0)
}

/// The fewest servers that answer `target_level` of arrivals (e.g. 0.8) within
/// `target_secs` (e.g. 20); 0 for no traffic, [`MAX_SERVERS`] if even that is short.
pub fn agents_needed(traffic: f64, handle_secs: f64, target_level: f64, target_secs: f64) -> u32 {
    if traffic <= 0.0 {
        return 0;
    }
    // Walk N upwards, extending the B recursion one step at a time.
    let mut b = 1.0;
    for n in 1..=MAX_SERVERS {
        b = traffic * b / (f64::from(n) + traffic * b);
        if f64::from(n) <= traffic {
            continue;
        }
        let c = c_from_b(n, traffic, b);
        if sl_from_c(n, traffic, handle_secs, target_secs, c) >= target_level {
            return n;
        }
    }
    MAX_SERVERS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Erlang C by the textbook factorial formula, fine for small N.
    fn erlang_c_direct(n: u32, a: f64) -> f64 {
        let mut term = 1.0;
        let mut sum = 1.0;
        for k in 1..n {
            term *= a / f64::from(k);
            sum += term;
        }
        let last = term * a / f64::from(n) * f64::from(n) / (f64::from(n) - a);
        last / (sum + last)
    }

    fn close(a: f64, b: f64, eps: f64) -> bool {
        (a - b).abs() < eps
    }

    #[test]
    fn erlang_b_textbook_values() {
        // A = 1 erlang, 1 server: 0.5. A = 2, N = 2: 0.4. A = 10, N = 10: 0.2146.
        assert!(close(erlang_b(1, 1.0), 0.5, 1e-12));
        assert!(close(erlang_b(2, 2.0), 0.4, 1e-12));
        assert!(close(erlang_b(10, 10.0), 0.214_582, 1e-5));
    }

    #[test]
    fn erlang_c_matches_the_factorial_formula() {
        for (n, a) in [
            (1, 0.5),
            (2, 1.0),
            (5, 3.7),
            (11, 10.0),
            (14, 10.0),
            (30, 25.0),
        ] {
            let got = erlang_c(n, a);
            let want = erlang_c_direct(n, a);
            assert!(close(got, want, 1e-9), "N={n} A={a}: {got} vs {want}");
        }
        // M/M/1: the probability of waiting is the utilisation.
        assert!(close(erlang_c(1, 0.5), 0.5, 1e-12));
    }

    #[test]
    fn call_centre_worked_example() {
        // 100 calls per 30 minutes, 180 s handle time: A = 10 erlangs. With 14 agents:
        // P(wait) 17.4 %, 80/20 service level met at 88.9 %, ASA about 8.7 s.
        let a = 100.0 / 1800.0 * 180.0;
        assert!(close(a, 10.0, 1e-9));
        assert!(close(erlang_c(14, a), 0.1741, 5e-4));
        assert!(close(service_level(14, a, 180.0, 20.0), 0.8893, 1e-3));
        let asa = expected_wait_secs(14, a, 180.0).unwrap();
        assert!(close(asa, 7.83, 0.05), "{asa}");
        assert_eq!(agents_needed(a, 180.0, 0.8, 20.0), 14);
        assert!(service_level(13, a, 180.0, 20.0) < 0.8);
    }

    #[test]
    fn overload_and_idle_edges() {
        assert_eq!(erlang_c(5, 5.0), 1.0);
        assert_eq!(expected_wait_secs(5, 6.0, 60.0), None);
        assert_eq!(service_level(5, 6.0, 60.0, 20.0), 0.0);
        assert_eq!(expected_wait_secs(0, 0.0, 60.0), Some(0.0));
        assert_eq!(agents_needed(0.0, 60.0, 0.8, 20.0), 0);
    }

    #[test]
    fn stable_for_large_systems() {
        // The factorial form overflows f64 here; the recursion does not.
        let c = erlang_c(2_000, 1_950.0);
        assert!(c.is_finite() && c > 0.0 && c < 1.0, "{c}");
        let n = agents_needed(1_950.0, 300.0, 0.8, 20.0);
        assert!(n > 1_950 && n < 2_100, "{n}");
    }
}
