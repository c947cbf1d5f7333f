//! Rate limiting of failed logins, per account and per client address, so that passwords cannot be
//! guessed quickly against one account or from one address.
//!
//! Failures are counted in a sliding window. Memory stays bounded: keys whose failures have all
//! left the window are dropped, and the table holds at most [`MAX_KEYS`] keys (the oldest go).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most keys remembered at once.
pub const MAX_KEYS: usize = 100_000;

/// Counts failed logins and says when to refuse more.
#[derive(Debug)]
pub struct LoginLimiter {
    max_failures: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    /// At most `max_failures` failures per key within `window`.
    pub fn new(max_failures: usize, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(wait)` when any of `keys` has used up its failures at `now`.
    pub fn check(&self, keys: &[String], now: Instant) -> Result<(), Duration> {
        let mut table = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = Duration::ZERO;
        for key in keys {
            if let Some(times) = table.get_mut(key) {
                while times
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.window)
                {
                    times.pop_front();
                }
                if times.len() >= self.max_failures
                    && let Some(oldest) = times.front()
                {
                    wait = wait.max(self.window - now.duration_since(*oldest));
                }
            }
        }
        if wait.is_zero() { Ok(()) } else { Err(wait) }
    }

    /// Records a failed login for each of `keys` at `now`.
    pub fn record_failure(&self, keys: &[String], now: Instant) {
        let mut table = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if table.len() >= MAX_KEYS {
            let window = self.window;
            table.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
            if table.len() >= MAX_KEYS {
                // Still full of live keys: forget the one whose last failure is oldest.
                if let Some(oldest) = table
                    .iter()
                    .min_by_key(|(_, times)| times.back().copied())
                    .map(|(k, _)| k.clone())
                {
                    table.remove(&oldest);
                }
            }
        }
        for key in keys {
            let times = table.entry(key.clone()).or_default();
            times.push_back(now);
            while times.len() > self.max_failures {
                times.pop_front();
            }
        }
    }

    /// Forgets the failures of `key` (after a successful login to that account).
    pub fn clear(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_and_recovers_after_the_window() {
        let limiter = LoginLimiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        let keys = ["user:a".to_owned(), "ip:1".to_owned()];
        for i in 0..3 {
            assert!(limiter.check(&keys, t0 + Duration::from_secs(i)).is_ok());
            limiter.record_failure(&keys, t0 + Duration::from_secs(i));
        }
        let wait = limiter
            .check(&keys, t0 + Duration::from_secs(3))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(57));
        // Another account from the same address is blocked too; another address for another
        // account is not.
        assert!(
            limiter
                .check(
                    &["user:b".to_owned(), "ip:1".to_owned()],
                    t0 + Duration::from_secs(3)
                )
                .is_err()
        );
        assert!(
            limiter
                .check(
                    &["user:b".to_owned(), "ip:2".to_owned()],
                    t0 + Duration::from_secs(3)
                )
                .is_ok()
        );
        assert!(limiter.check(&keys, t0 + Duration::from_secs(62)).is_ok());
        limiter.clear("user:a");
    }

    #[test]
    fn memory_is_bounded() {
        let limiter = LoginLimiter::new(5, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..(MAX_KEYS + 10) {
            limiter.record_failure(&[format!("ip:{i}")], t0);
        }
        assert!(limiter.failures.lock().unwrap().len() <= MAX_KEYS);
    }
}
