//! A bandwidth limit shared by transfers: a token bucket that fills at the allowed rate.
//!
//! Senders reserve bytes before they send them; a reservation larger than the tokens at hand
//! puts the bucket in debt and the sender waits until the debt is paid off at the fill rate.
//! Because later reservations queue behind the debt, several uploads sharing one
//! [`Bandwidth`] together stay within the rate.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How much may be sent at once after a quiet spell: a quarter of a second's worth, so bursts
/// stay short and the rate is honoured over any window longer than that.
const BURST_SECONDS: f64 = 0.25;

/// A rate limit in bytes per second, shared by every transfer holding a clone.
#[derive(Debug, Clone)]
pub struct Bandwidth {
    bucket: Arc<Mutex<Bucket>>,
}

#[derive(Debug)]
struct Bucket {
    /// Bytes per second; 0 for no limit.
    rate: u64,
    /// Tokens (bytes) available; negative while in debt.
    tokens: f64,
    /// When `tokens` was last brought up to date.
    updated: Instant,
}

impl Bucket {
    fn capacity(&self) -> f64 {
        (self.rate as f64 * BURST_SECONDS).max(1.0)
    }

    /// Reserves `bytes` at `now` and returns how long the sender must wait before sending them.
    fn reserve(&mut self, bytes: u64, now: Instant) -> Duration {
        if self.rate == 0 {
            return Duration::ZERO;
        }
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate as f64).min(self.capacity());
        self.updated = now;
        self.tokens -= bytes as f64;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate as f64)
        }
    }
}

impl Bandwidth {
    /// A limit of `bytes_per_second` (0 for none).
    pub fn new(bytes_per_second: u64) -> Self {
        Self::starting_at(bytes_per_second, Instant::now())
    }

    fn starting_at(bytes_per_second: u64, now: Instant) -> Self {
        let bucket = Bucket {
            rate: bytes_per_second,
            tokens: 0.0,
            updated: now,
        };
        Self {
            bucket: Arc::new(Mutex::new(bucket)),
        }
    }

    /// Changes the limit for every transfer sharing it; 0 removes it.
    pub fn set_rate(&self, bytes_per_second: u64) {
        let mut bucket = self.lock();
        bucket.reserve(0, Instant::now());
        bucket.rate = bytes_per_second;
        bucket.tokens = bucket.tokens.min(bucket.capacity());
    }

    /// The limit in bytes per second (0 for none).
    pub fn rate(&self) -> u64 {
        self.lock().rate
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bucket> {
        self.bucket.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until `bytes` may be sent.
    pub(crate) async fn acquire(&self, bytes: u64) {
        let wait = self.lock().reserve(bytes, Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_holds_over_time() {
        let start = Instant::now();
        let mut bucket = Bucket {
            rate: 1000,
            tokens: 0.0,
            updated: start,
        };
        // 5,000 bytes in 100-byte pieces, each sent when allowed: the last may go at 5 s.
        let mut at = start;
        for _ in 0..50 {
            at += bucket.reserve(100, at);
        }
        let took = at.duration_since(start).as_secs_f64();
        assert!((took - 5.0).abs() < 0.01, "{took}");
    }

    #[test]
    fn a_quiet_spell_allows_a_short_burst_only() {
        let start = Instant::now();
        let mut bucket = Bucket {
            rate: 1000,
            tokens: 0.0,
            updated: start,
        };
        let later = start + Duration::from_secs(60);
        // A minute idle banks a quarter second's worth, not a minute's.
        assert_eq!(bucket.reserve(250, later), Duration::ZERO);
        let wait = bucket.reserve(500, later);
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-9, "{wait:?}");
    }

    #[test]
    fn no_limit_never_waits() {
        let start = Instant::now();
        let mut bucket = Bucket {
            rate: 0,
            tokens: 0.0,
            updated: start,
        };
        assert_eq!(bucket.reserve(u64::MAX, start), Duration::ZERO);
    }

    #[test]
    fn clones_share_one_budget() {
        let start = Instant::now();
        let a = Bandwidth::starting_at(1000, start);
        let b = a.clone();
        let wa = a.lock().reserve(1000, start);
        let wb = b.lock().reserve(1000, start);
        assert!((wa.as_secs_f64() - 1.0).abs() < 1e-9);
        assert!((wb.as_secs_f64() - 2.0).abs() < 1e-9, "{wb:?}");
        b.set_rate(0);
        assert_eq!(a.rate(), 0);
    }
}
