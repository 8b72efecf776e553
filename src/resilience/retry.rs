//! Exponential backoff with full jitter.

use std::time::Duration;

/// How a call ended, for retry and breaker decisions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallClass {
    Success,
    /// The provider asked us to slow down.
    Throttled,
    /// A server error, timeout or dropped connection: worth another try.
    Transient,
    /// A refusal that a retry will not change (bad request, access denied, not found).
    Permanent,
}

impl CallClass {
    /// The `outcome` label of the cloud API call metric.
    pub fn label(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Throttled => "throttled",
            Self::Transient => "transient_error",
            Self::Permanent => "error",
        }
    }
}

/// Retry timing: attempt `n` waits a random time in `[0, min(max, base * 2^n))`,
/// doubled again for throttling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
    pub max_attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { base: Duration::from_millis(200), max: Duration::from_secs(20), max_attempts: 5 }
    }
}

impl Backoff {
    pub fn delay(&self, attempt: u32, class: CallClass) -> Duration {
        let factor = 2u32.saturating_pow(attempt + u32::from(class == CallClass::Throttled));
        let ceiling = self.base.saturating_mul(factor).min(self.max);
        ceiling.mul_f64(jitter())
    }
}

/// A uniform value in [0, 1) from the clock's nanoseconds and a thread-local
/// xorshift: jitter only needs to spread retries, not resist prediction.
fn jitter() -> f64 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1) | 1
        );
    }
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_capped() {
        let backoff =
            Backoff { base: Duration::from_millis(100), max: Duration::from_secs(1), max_attempts: 5 };
        for attempt in 0..10 {
            let delay = backoff.delay(attempt, CallClass::Transient);
            let ceiling = Duration::from_millis(100)
                .saturating_mul(2u32.saturating_pow(attempt))
                .min(Duration::from_secs(1));
            assert!(delay <= ceiling, "attempt {attempt}: {delay:?} > {ceiling:?}");
        }
        let spread: std::collections::BTreeSet<u128> =
            (0..20).map(|_| backoff.delay(3, CallClass::Transient).as_micros()).collect();
        assert!(spread.len() > 10, "jitter spreads retries");
    }
}
