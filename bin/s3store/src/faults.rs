//! Fault injection for reliability tests: per operation, fail a fraction of requests with a
//! retryable S3 error and/or add latency. Off by default; decisions come from a seeded RNG, so
//! a given seed and request order always yield the same faults.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::request_log::Operation;

/// The error an injected failure answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultError {
    /// 503 `SlowDown` (S3's throttling answer; SDKs retry it).
    SlowDown,
    /// 500 `InternalError` (SDKs retry it).
    InternalError,
}

impl FaultError {
    pub(crate) fn to_s3_error(self) -> s3s::S3Error {
        match self {
            FaultError::SlowDown => s3s::s3_error!(SlowDown, "injected fault: SlowDown"),
            FaultError::InternalError => {
                s3s::s3_error!(InternalError, "injected fault: InternalError")
            }
        }
    }
}

/// What to do to requests of one operation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultPolicy {
    /// Fraction of requests in `0.0..=1.0` that fail with [`FaultPolicy::error`] (clamped;
    /// NaN counts as 0).
    pub error_rate: f64,
    /// The error failed requests get.
    pub error: FaultError,
    /// Delay added before every request is handled (failed or not).
    pub latency: Duration,
}

impl FaultPolicy {
    /// Fail `error_rate` of requests with `error`, no added latency.
    pub fn fail(error_rate: f64, error: FaultError) -> Self {
        Self {
            error_rate,
            error,
            latency: Duration::ZERO,
        }
    }

    /// Delay every request by `latency`, fail none.
    pub fn delay(latency: Duration) -> Self {
        Self {
            error_rate: 0.0,
            error: FaultError::SlowDown,
            latency,
        }
    }

    /// This policy with `latency` added to every request.
    #[must_use]
    pub fn with_latency(self, latency: Duration) -> Self {
        Self { latency, ..self }
    }
}

/// The faults applied to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct FaultDecision {
    pub latency: Duration,
    pub error: Option<FaultError>,
}

/// Cloneable handle to set and clear fault policies on a running store.
#[derive(Debug, Clone)]
pub struct FaultInjector {
    inner: Arc<Mutex<FaultState>>,
}

#[derive(Debug)]
struct FaultState {
    per_operation: HashMap<Operation, FaultPolicy>,
    every_operation: Option<FaultPolicy>,
    rng: StdRng,
}

impl FaultInjector {
    /// An injector with no policies whose random choices start from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            inner: Arc::new(Mutex::new(FaultState {
                per_operation: HashMap::new(),
                every_operation: None,
                rng: StdRng::seed_from_u64(seed),
            })),
        }
    }

    /// Applies `policy` to `operation` (overrides [`FaultInjector::set_all`] for it).
    pub fn set(&self, operation: Operation, policy: FaultPolicy) {
        self.lock().per_operation.insert(operation, policy);
    }

    /// Applies `policy` to every operation without a policy of its own.
    pub fn set_all(&self, policy: FaultPolicy) {
        self.lock().every_operation = Some(policy);
    }

    /// Removes every policy (the store behaves normally again).
    pub fn clear(&self) {
        let mut state = self.lock();
        state.per_operation.clear();
        state.every_operation = None;
    }

    /// Restarts the random sequence from `seed`.
    pub fn reseed(&self, seed: u64) {
        self.lock().rng = StdRng::seed_from_u64(seed);
    }

    /// Decides the faults of the next request of `operation`.
    pub(crate) fn decide(&self, operation: Operation) -> FaultDecision {
        let mut state = self.lock();
        let Some(policy) = state
            .per_operation
            .get(&operation)
            .copied()
            .or(state.every_operation)
        else {
            return FaultDecision::default();
        };
        let rate = if policy.error_rate.is_nan() {
            0.0
        } else {
            policy.error_rate.clamp(0.0, 1.0)
        };
        let fails = rate > 0.0 && state.rng.gen_bool(rate);
        FaultDecision {
            latency: policy.latency,
            error: fails.then_some(policy.error),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultState> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failures(injector: &FaultInjector, n: usize) -> Vec<bool> {
        (0..n)
            .map(|_| injector.decide(Operation::GetObject).error.is_some())
            .collect()
    }

    #[test]
    fn off_by_default_and_after_clear() {
        let injector = FaultInjector::new(1);
        assert!(failures(&injector, 100).iter().all(|f| !f));
        injector.set_all(FaultPolicy::fail(1.0, FaultError::InternalError));
        assert!(failures(&injector, 10).iter().all(|f| *f));
        injector.clear();
        assert!(failures(&injector, 100).iter().all(|f| !f));
    }

    #[test]
    fn same_seed_same_faults_and_rate_is_respected() {
        let a = FaultInjector::new(42);
        let b = FaultInjector::new(42);
        for injector in [&a, &b] {
            injector.set(
                Operation::GetObject,
                FaultPolicy::fail(0.3, FaultError::SlowDown),
            );
        }
        let (fa, fb) = (failures(&a, 2000), failures(&b, 2000));
        assert_eq!(fa, fb);
        let rate = fa.iter().filter(|f| **f).count() as f64 / 2000.0;
        assert!((0.25..0.35).contains(&rate), "rate {rate}");
        assert_eq!(a.decide(Operation::PutObject), FaultDecision::default());
    }

    #[test]
    fn per_operation_policy_overrides_the_global_one() {
        let injector = FaultInjector::new(7);
        injector.set_all(FaultPolicy::fail(1.0, FaultError::SlowDown));
        injector.set(
            Operation::GetObject,
            FaultPolicy::delay(Duration::from_millis(5)),
        );
        let decision = injector.decide(Operation::GetObject);
        assert_eq!(decision.error, None);
        assert_eq!(decision.latency, Duration::from_millis(5));
        assert_eq!(
            injector.decide(Operation::HeadObject).error,
            Some(FaultError::SlowDown)
        );
    }
}
