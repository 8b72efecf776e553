//! A consecutive-failure circuit breaker.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One trial call is in flight.
    HalfOpen,
}

/// Opens after `threshold` consecutive failures; after `open_for` lets one trial
/// call through, which closes it on success and re-opens it on failure.
#[derive(Debug)]
pub struct CircuitBreaker {
    threshold: u32,
    open_for: Duration,
    state: Mutex<State>,
}

impl CircuitBreaker {
    pub fn new(threshold: u32, open_for: Duration) -> Self {
        Self { threshold: threshold.max(1), open_for, state: Mutex::new(State::Closed { failures: 0 }) }
    }

    /// Whether a call may go ahead now.
    pub fn allow(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match *state {
            State::Closed { .. } => true,
            State::Open { until } if Instant::now() >= until => {
                *state = State::HalfOpen;
                true
            }
            State::Open { .. } | State::HalfOpen => false,
        }
    }

    pub fn record_success(&self) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = State::Closed { failures: 0 };
    }

    pub fn record_failure(&self) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        *state = match *state {
            State::Closed { failures } if failures + 1 < self.threshold => {
                State::Closed { failures: failures + 1 }
            }
            _ => State::Open { until: Instant::now() + self.open_for },
        };
    }

    pub fn is_open(&self) -> bool {
        matches!(*self.state.lock().unwrap_or_else(|p| p.into_inner()), State::Open { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_open_trial_closes_or_reopens() {
        let breaker = CircuitBreaker::new(2, Duration::from_millis(20));
        breaker.record_failure();
        assert!(breaker.allow());
        breaker.record_failure();
        assert!(breaker.is_open() && !breaker.allow());
        std::thread::sleep(Duration::from_millis(25));
        assert!(breaker.allow(), "trial after the open period");
        assert!(!breaker.allow(), "only one trial at a time");
        breaker.record_failure();
        assert!(breaker.is_open());
        std::thread::sleep(Duration::from_millis(25));
        assert!(breaker.allow());
        breaker.record_success();
        assert!(breaker.allow() && breaker.allow());
    }
}
