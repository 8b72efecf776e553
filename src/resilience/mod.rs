//! What keeps cloud API use polite and a failing service contained: one token
//! bucket per account shared by every scan of it, retries with exponential backoff
//! and full jitter for throttling and server errors, a circuit breaker per account
//! and service, and a timeout per call.

mod breaker;
mod retry;

pub use breaker::CircuitBreaker;
pub use retry::{Backoff, CallClass};

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use prometheus::IntCounterVec;

use crate::crd::{CircuitBreakerSettings, RateLimit};

/// Why a guarded call gave up.
#[derive(Debug, thiserror::Error)]
pub enum GuardError<E> {
    /// The breaker for this service is open after repeated failures.
    #[error("{service} calls are suspended after repeated failures (circuit open)")]
    CircuitOpen { service: &'static str },
    /// The call did not finish within the per-call timeout (after retries).
    #[error("{service}.{operation} timed out after {timeout:?}")]
    Timeout { service: &'static str, operation: &'static str, timeout: Duration },
    /// The call failed (after retries where it was worth retrying).
    #[error(transparent)]
    Call(E),
}

/// Settings of one account's guard.
#[derive(Clone, Debug, PartialEq)]
pub struct GuardSettings {
    pub rate_limit: RateLimit,
    pub circuit_breaker: CircuitBreakerSettings,
    pub call_timeout: Duration,
    pub backoff: Backoff,
}

impl Default for GuardSettings {
    fn default() -> Self {
        Self {
            rate_limit: RateLimit::default(),
            circuit_breaker: CircuitBreakerSettings::default(),
            call_timeout: Duration::from_secs(30),
            backoff: Backoff::default(),
        }
    }
}

/// The rate limiter and breakers of one account. Cloned `Arc`s of one guard are
/// shared by every scan of the account.
pub struct AccountGuard {
    settings: GuardSettings,
    limiter: DefaultDirectRateLimiter,
    /// One breaker per service and region: one region's outage does not stop the others.
    breakers: Mutex<HashMap<(&'static str, String), Arc<CircuitBreaker>>>,
    calls: Option<IntCounterVec>,
}

impl std::fmt::Debug for AccountGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountGuard").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl AccountGuard {
    pub fn new(settings: GuardSettings, calls: Option<IntCounterVec>) -> Self {
        let rps = NonZeroU32::new(settings.rate_limit.requests_per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(settings.rate_limit.burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let limiter = RateLimiter::direct(Quota::per_second(rps).allow_burst(burst));
        Self { settings, limiter, breakers: Mutex::new(HashMap::new()), calls }
    }

    pub fn settings(&self) -> &GuardSettings {
        &self.settings
    }

    fn breaker(&self, service: &'static str, region: &str) -> Arc<CircuitBreaker> {
        let mut breakers = self.breakers.lock().unwrap_or_else(|p| p.into_inner());
        breakers
            .entry((service, region.to_string()))
            .or_insert_with(|| {
                Arc::new(CircuitBreaker::new(
                    self.settings.circuit_breaker.failure_threshold,
                    Duration::from_secs(u64::from(self.settings.circuit_breaker.open_seconds)),
                ))
            })
            .clone()
    }

    fn count(&self, service: &str, operation: &str, outcome: &str) {
        if let Some(calls) = &self.calls {
            calls.with_label_values(&[service, operation, outcome]).inc();
        }
    }

    /// This guard for calls to one region.
    pub fn in_region<'a>(&'a self, region: &'a str) -> RegionGuard<'a> {
        RegionGuard { guard: self, region }
    }

    /// Runs a call that is not to one region (STS, the region list); see `RegionGuard::call`.
    pub async fn call<T, E, F, Fut>(
        &self,
        service: &'static str,
        operation: &'static str,
        classify: impl Fn(&E) -> CallClass,
        call: F,
    ) -> Result<T, GuardError<E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.in_region("global").call(service, operation, classify, call).await
    }
}

/// An account's guard for the calls to one region.
pub struct RegionGuard<'a> {
    guard: &'a AccountGuard,
    region: &'a str,
}

impl RegionGuard<'_> {
    /// Runs `call` under the account's rate limit, the breaker of the service in this
    /// region, the call timeout, and retries for failures `classify` deems transient.
    pub async fn call<T, E, F, Fut>(
        &self,
        service: &'static str,
        operation: &'static str,
        classify: impl Fn(&E) -> CallClass,
        mut call: F,
    ) -> Result<T, GuardError<E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let this = self.guard;
        let breaker = this.breaker(service, self.region);
        let mut attempt = 0;
        loop {
            let Some(permit) = breaker.allow() else {
                this.count(service, operation, "circuit_open");
                return Err(GuardError::CircuitOpen { service });
            };
            this.limiter.until_ready().await;
            let outcome = tokio::time::timeout(this.settings.call_timeout, call()).await;
            let class = match &outcome {
                Ok(Ok(_)) => CallClass::Success,
                Ok(Err(error)) => classify(error),
                Err(_) => CallClass::Transient,
            };
            this.count(service, operation, class.label());
            match class {
                CallClass::Success => permit.success(),
                CallClass::Throttled | CallClass::Transient => permit.failure(),
                // A refused request (bad input, no permission) says nothing about the
                // service's health.
                CallClass::Permanent => permit.success(),
            }
            let retryable = matches!(class, CallClass::Throttled | CallClass::Transient);
            if retryable && attempt + 1 < this.settings.backoff.max_attempts {
                tokio::time::sleep(this.settings.backoff.delay(attempt, class)).await;
                attempt += 1;
                continue;
            }
            return match outcome {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(error)) => Err(GuardError::Call(error)),
                Err(_) => {
                    Err(GuardError::Timeout { service, operation, timeout: this.settings.call_timeout })
                }
            };
        }
    }
}

/// One guard per account, kept across scans so they share the budget. A guard is
/// replaced when the account's settings change.
#[derive(Default)]
pub struct GuardRegistry {
    guards: Mutex<HashMap<String, Arc<AccountGuard>>>,
}

impl GuardRegistry {
    pub fn get(
        &self,
        account_key: &str,
        settings: GuardSettings,
        calls: Option<IntCounterVec>,
    ) -> Arc<AccountGuard> {
        let mut guards = self.guards.lock().unwrap_or_else(|p| p.into_inner());
        match guards.get(account_key) {
            Some(guard) if guard.settings == settings => guard.clone(),
            _ => {
                let guard = Arc::new(AccountGuard::new(settings, calls));
                guards.insert(account_key.to_string(), guard.clone());
                guard
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn fast(threshold: u32) -> GuardSettings {
        GuardSettings {
            rate_limit: RateLimit { requests_per_second: 1000, burst: 1000 },
            circuit_breaker: CircuitBreakerSettings { failure_threshold: threshold, open_seconds: 60 },
            call_timeout: Duration::from_millis(200),
            backoff: Backoff {
                base: Duration::from_millis(1),
                max: Duration::from_millis(5),
                max_attempts: 4,
            },
        }
    }

    fn classify(error: &&'static str) -> CallClass {
        match *error {
            "throttled" => CallClass::Throttled,
            "5xx" => CallClass::Transient,
            _ => CallClass::Permanent,
        }
    }

    #[tokio::test]
    async fn retries_throttling_until_success() {
        let guard = AccountGuard::new(fast(10), None);
        let tries = AtomicU32::new(0);
        let result = guard
            .call("ec2", "DescribeVpcs", classify, || async {
                if tries.fetch_add(1, Ordering::SeqCst) < 2 { Err("throttled") } else { Ok(7) }
            })
            .await;
        assert_eq!(result.ok(), Some(7));
        assert_eq!(tries.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn permanent_errors_are_not_retried() {
        let guard = AccountGuard::new(fast(10), None);
        let tries = AtomicU32::new(0);
        let result: Result<(), _> = guard
            .call("ec2", "DescribeVpcs", classify, || async {
                tries.fetch_add(1, Ordering::SeqCst);
                Err("denied")
            })
            .await;
        assert!(matches!(result, Err(GuardError::Call("denied"))));
        assert_eq!(tries.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn breaker_opens_after_repeated_failures() {
        let guard = AccountGuard::new(fast(3), None);
        let failing = AtomicU32::new(0);
        let result: Result<(), _> = guard
            .call("ec2", "DescribeVpcs", classify, || async {
                failing.fetch_add(1, Ordering::SeqCst);
                Err("5xx")
            })
            .await;
        assert!(
            matches!(result, Err(GuardError::CircuitOpen { .. })),
            "the breaker opens during the retries"
        );
        assert_eq!(failing.load(Ordering::SeqCst), 3, "no call after the third failure");
        let tries = AtomicU32::new(0);
        let result: Result<(), _> = guard
            .call("ec2", "DescribeSubnets", classify, || async {
                tries.fetch_add(1, Ordering::SeqCst);
                Ok(())
            })
            .await;
        assert!(matches!(result, Err(GuardError::CircuitOpen { service: "ec2" })));
        assert_eq!(tries.load(Ordering::SeqCst), 0, "an open breaker makes no call");
        let other: Result<u8, GuardError<&str>> =
            guard.call("sts", "GetCallerIdentity", classify, || async { Ok(1) }).await;
        assert_eq!(other.ok(), Some(1), "breakers are per service");
        let elsewhere: Result<u8, GuardError<&str>> =
            guard.in_region("eu-west-1").call("ec2", "DescribeVpcs", classify, || async { Ok(2) }).await;
        assert_eq!(elsewhere.ok(), Some(2), "and per region");
    }

    #[tokio::test]
    async fn slow_calls_time_out() {
        let guard = AccountGuard::new(fast(10), None);
        let result: Result<(), GuardError<&str>> = guard
            .call("ec2", "DescribeVpcs", classify, || async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok(())
            })
            .await;
        assert!(matches!(result, Err(GuardError::Timeout { .. })));
    }

    #[tokio::test]
    async fn the_budget_is_shared_across_callers() {
        let mut settings = fast(10);
        settings.rate_limit = RateLimit { requests_per_second: 20, burst: 1 };
        let registry = GuardRegistry::default();
        let a = registry.get("ns/acct", settings.clone(), None);
        let b = registry.get("ns/acct", settings, None);
        assert!(Arc::ptr_eq(&a, &b));
        let started = std::time::Instant::now();
        let ok = |_: &&str| CallClass::Permanent;
        for guard in [&a, &b, &a, &b, &a, &b] {
            let _: Result<(), GuardError<&str>> = guard.call("ec2", "X", ok, || async { Ok(()) }).await;
        }
        // Six calls at 20/s with a burst of 1 need at least ~250 ms in total.
        assert!(started.elapsed() >= Duration::from_millis(200), "{:?}", started.elapsed());
    }
}
