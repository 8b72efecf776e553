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

    /// A permit when a call may go ahead now. The call's outcome is recorded through
    /// the permit; a permit dropped unrecorded (the call was cancelled) frees the
    /// half-open trial slot rather than holding it for ever.
    pub fn allow(&self) -> Option<Permit<'_>> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match *state {
            State::Closed { .. } => Some(Permit { breaker: self, trial: false, recorded: false }),
            State::Open { until } if Instant::now() >= until => {
                *state = State::HalfOpen;
                Some(Permit { breaker: self, trial: true, recorded: false })
            }
            State::Open { .. } | State::HalfOpen => None,
        }
    }

    fn record_success(&self) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = State::Closed { failures: 0 };
    }

    fn record_failure(&self) {
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

/// Leave to make one call; see `CircuitBreaker::allow`.
pub struct Permit<'a> {
    breaker: &'a CircuitBreaker,
    trial: bool,
    recorded: bool,
}

impl Permit<'_> {
    pub fn success(mut self) {
        self.recorded = true;
        self.breaker.record_success();
    }

    pub fn failure(mut self) {
        self.recorded = true;
        self.breaker.record_failure();
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.trial && !self.recorded {
            // The trial never finished: the next caller may try at once.
            let mut state = self.breaker.state.lock().unwrap_or_else(|p| p.into_inner());
            if matches!(*state, State::HalfOpen) {
                *state = State::Open { until: Instant::now() };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_open_trial_closes_or_reopens() {
        let breaker = CircuitBreaker::new(2, Duration::from_millis(20));
        breaker.allow().expect("closed").failure();
        breaker.allow().expect("still closed").failure();
        assert!(breaker.is_open() && breaker.allow().is_none());
        std::thread::sleep(Duration::from_millis(25));
        let trial = breaker.allow().expect("trial after the open period");
        assert!(breaker.allow().is_none(), "only one trial at a time");
        trial.failure();
        assert!(breaker.is_open());
        std::thread::sleep(Duration::from_millis(25));
        breaker.allow().expect("trial").success();
        assert!(breaker.allow().is_some() && breaker.allow().is_some());
    }

    #[test]
    fn a_cancelled_trial_frees_the_half_open_slot() {
        let breaker = CircuitBreaker::new(1, Duration::from_millis(20));
        breaker.allow().expect("closed").failure();
        std::thread::sleep(Duration::from_millis(25));
        let trial = breaker.allow().expect("trial");
        assert!(breaker.allow().is_none());
        drop(trial); // the call's future was dropped before it finished
        assert!(breaker.allow().is_some(), "another trial may go ahead");
    }
}
