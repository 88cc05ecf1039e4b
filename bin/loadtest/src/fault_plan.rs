//! What the fault proxy does to which request: request classes, fault kinds and a seeded plan.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The S3 operation a request is, as far as faults are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RequestClass {
    /// `PUT /bucket/key`: PutObject (events and index entries).
    PutObject,
    /// `GET`/`HEAD /bucket/key`: GetObject / HeadObject.
    GetObject,
    /// `GET /bucket?list-type=2`: ListObjectsV2.
    ListObjects,
    /// Anything else (bucket operations).
    Other,
}

impl RequestClass {
    /// Every class, in a fixed order.
    pub const ALL: [RequestClass; 4] = [
        RequestClass::PutObject,
        RequestClass::GetObject,
        RequestClass::ListObjects,
        RequestClass::Other,
    ];

    /// Classifies a path-style S3 request.
    pub fn of(method: &hyper::Method, path: &str, query: Option<&str>) -> Self {
        let rest = path.trim_start_matches('/');
        let has_key = rest.split_once('/').is_some_and(|(_, key)| !key.is_empty());
        let is_list = query.is_some_and(|q| q.split('&').any(|p| p == "list-type=2"));
        match (method.as_str(), has_key) {
            ("PUT", true) => RequestClass::PutObject,
            ("GET" | "HEAD", true) => RequestClass::GetObject,
            ("GET", false) if is_list => RequestClass::ListObjects,
            _ => RequestClass::Other,
        }
    }

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            RequestClass::PutObject => "PutObject",
            RequestClass::GetObject => "GetObject",
            RequestClass::ListObjects => "ListObjects",
            RequestClass::Other => "Other",
        }
    }
}

/// One injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// 503 `SlowDown` with S3's XML error body; the store never sees the request.
    SlowDown,
    /// 500 `InternalError` with S3's XML error body; the store never sees the request.
    InternalError,
    /// The connection is reset (RST) before the request is forwarded.
    ResetBeforeForward,
    /// The request is forwarded and the store answers, then the connection is reset instead
    /// of answering: for a PUT the object exists although the client saw a failure.
    ResetAfterForward,
    /// The request is held past the client's attempt timeout and the connection then reset;
    /// the held request is delivered to the store late, after the client gave up on it.
    Stall,
    /// The request is forwarded after an added delay (not a failure).
    Latency,
}

impl Fault {
    /// Every fault kind, in a fixed order.
    pub const ALL: [Fault; 6] = [
        Fault::SlowDown,
        Fault::InternalError,
        Fault::ResetBeforeForward,
        Fault::ResetAfterForward,
        Fault::Stall,
        Fault::Latency,
    ];

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Fault::SlowDown => "503 SlowDown",
            Fault::InternalError => "500 InternalError",
            Fault::ResetBeforeForward => "reset before forward",
            Fault::ResetAfterForward => "reset after forward",
            Fault::Stall => "stall past timeout",
            Fault::Latency => "added latency",
        }
    }

    /// Whether the client sees this as a failed attempt.
    pub fn is_failure(self) -> bool {
        !matches!(self, Fault::Latency)
    }
}

/// Relative weights of the failure kinds, plus added latency on some healthy requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultMix {
    /// Weight of [`Fault::SlowDown`].
    pub slow_down: u32,
    /// Weight of [`Fault::InternalError`].
    pub internal_error: u32,
    /// Weight of [`Fault::ResetBeforeForward`].
    pub reset_before_forward: u32,
    /// Weight of [`Fault::ResetAfterForward`].
    pub reset_after_forward: u32,
    /// Weight of [`Fault::Stall`].
    pub stall: u32,
    /// Fraction of the requests that do not fail which get [`FaultMix::latency`] added.
    pub latency_rate: f64,
    /// The added latency.
    pub latency: Duration,
    /// How long a stalled request is held (longer than the client's attempt timeout).
    pub stall_for: Duration,
}

impl Default for FaultMix {
    /// 35% SlowDown, 20% InternalError, 15% reset before, 25% reset after forwarding, 5%
    /// stalls of 2.5 s; 10% of healthy requests delayed by 20 ms.
    fn default() -> Self {
        Self {
            slow_down: 35,
            internal_error: 20,
            reset_before_forward: 15,
            reset_after_forward: 25,
            stall: 5,
            latency_rate: 0.10,
            latency: Duration::from_millis(20),
            stall_for: Duration::from_millis(2_500),
        }
    }
}

impl FaultMix {
    /// Only `fault` (for [`Fault::Latency`]: latency on every healthy request).
    pub fn only(fault: Fault) -> Self {
        let none = Self {
            slow_down: 0,
            internal_error: 0,
            reset_before_forward: 0,
            reset_after_forward: 0,
            stall: 0,
            latency_rate: 0.0,
            ..Self::default()
        };
        match fault {
            Fault::SlowDown => Self {
                slow_down: 1,
                ..none
            },
            Fault::InternalError => Self {
                internal_error: 1,
                ..none
            },
            Fault::ResetBeforeForward => Self {
                reset_before_forward: 1,
                ..none
            },
            Fault::ResetAfterForward => Self {
                reset_after_forward: 1,
                ..none
            },
            Fault::Stall => Self { stall: 1, ..none },
            Fault::Latency => Self {
                latency_rate: 1.0,
                ..none
            },
        }
    }

    fn pick(&self, rng: &mut StdRng) -> Option<Fault> {
        let weighted = [
            (Fault::SlowDown, self.slow_down),
            (Fault::InternalError, self.internal_error),
            (Fault::ResetBeforeForward, self.reset_before_forward),
            (Fault::ResetAfterForward, self.reset_after_forward),
            (Fault::Stall, self.stall),
        ];
        let total: u32 = weighted.iter().map(|(_, w)| w).sum();
        if total == 0 {
            return None;
        }
        let mut n = rng.gen_range(0..total);
        for (fault, weight) in weighted {
            if n < weight {
                return Some(fault);
            }
            n -= weight;
        }
        None
    }
}

/// A seeded fault plan: per request class, the fraction of requests that fail and how.
#[derive(Debug)]
pub struct FaultPlan {
    rules: BTreeMap<RequestClass, (f64, FaultMix)>,
    rng: Mutex<StdRng>,
    /// Faults still allowed (`None`: unlimited).
    remaining: Mutex<Option<u64>>,
    /// Only requests for object keys under this prefix are faulted (`None`: every key).
    key_prefix: Option<String>,
}

impl FaultPlan {
    /// A plan that injects nothing; add rules with [`FaultPlan::with_rule`].
    pub fn none(seed: u64) -> Self {
        Self {
            rules: BTreeMap::new(),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            remaining: Mutex::new(None),
            key_prefix: None,
        }
    }

    /// Faults only requests for object keys under `prefix` (e.g. `events/` to hit the event
    /// PUT of a keyed request but not its idempotency record); others pass untouched.
    #[must_use]
    pub fn only_keys_under(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = Some(prefix.into());
        self
    }

    /// Injects at most `n` faults in total (added latency included), then none.
    #[must_use]
    pub fn with_fault_limit(self, n: u64) -> Self {
        *self
            .remaining
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(n);
        self
    }

    /// Fails `failure_rate` of PutObject, GetObject and ListObjects requests with `mix`.
    pub fn storage_failures(seed: u64, failure_rate: f64, mix: FaultMix) -> Self {
        Self::none(seed)
            .with_rule(RequestClass::PutObject, failure_rate, mix)
            .with_rule(RequestClass::GetObject, failure_rate, mix)
            .with_rule(RequestClass::ListObjects, failure_rate, mix)
    }

    /// Fails `failure_rate` (clamped to `0..=1`, NaN = 0) of `class` requests with `mix`.
    #[must_use]
    pub fn with_rule(mut self, class: RequestClass, failure_rate: f64, mix: FaultMix) -> Self {
        let rate = if failure_rate.is_nan() {
            0.0
        } else {
            failure_rate.clamp(0.0, 1.0)
        };
        self.rules.insert(class, (rate, mix));
        self
    }

    /// The mix of `class`, if it has a rule.
    pub fn mix(&self, class: RequestClass) -> Option<FaultMix> {
        self.rules.get(&class).map(|(_, mix)| *mix)
    }

    /// Decides the fault of the next request of `class` for object `key` (empty for bucket
    /// requests); `None`: forward it untouched.
    pub fn decide(&self, class: RequestClass, key: &str) -> Option<Fault> {
        let (rate, mix) = self.rules.get(&class)?;
        if self
            .key_prefix
            .as_deref()
            .is_some_and(|prefix| !key.starts_with(prefix))
        {
            return None;
        }
        let mut remaining = self
            .remaining
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if *remaining == Some(0) {
            return None;
        }
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        let fault = if *rate > 0.0 && rng.gen_bool(*rate) {
            mix.pick(&mut rng)
        } else {
            let latency_rate = mix.latency_rate.clamp(0.0, 1.0);
            (latency_rate > 0.0 && rng.gen_bool(latency_rate)).then_some(Fault::Latency)
        };
        if fault.is_some()
            && let Some(n) = remaining.as_mut()
        {
            *n -= 1;
        }
        fault
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::Method;

    #[test]
    fn requests_are_classified_by_s3_operation() {
        let c = |m: Method, p: &str, q: Option<&str>| RequestClass::of(&m, p, q);
        assert_eq!(
            c(
                Method::PUT,
                "/b/events/2025/01/01/x.json",
                Some("x-id=PutObject")
            ),
            RequestClass::PutObject
        );
        assert_eq!(
            c(Method::GET, "/b/events/x.json", None),
            RequestClass::GetObject
        );
        assert_eq!(c(Method::HEAD, "/b/k", None), RequestClass::GetObject);
        assert_eq!(
            c(Method::GET, "/b", Some("list-type=2&prefix=events%2F")),
            RequestClass::ListObjects
        );
        assert_eq!(c(Method::PUT, "/b", None), RequestClass::Other);
        assert_eq!(c(Method::HEAD, "/b/", None), RequestClass::Other);
    }

    #[test]
    fn the_failure_rate_is_respected_and_the_plan_is_deterministic() {
        let run = || {
            let plan = FaultPlan::storage_failures(9, 0.2, FaultMix::default());
            (0..10_000)
                .map(|_| plan.decide(RequestClass::PutObject, "events/k"))
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run(), "same seed, same faults");
        let failures = a.iter().flatten().filter(|f| f.is_failure()).count();
        assert!((1_800..2_200).contains(&failures), "{failures}");
        for kind in Fault::ALL {
            assert!(a.contains(&Some(kind)), "{kind:?} never chosen");
        }
        let plan = FaultPlan::storage_failures(9, 0.2, FaultMix::default());
        assert_eq!(
            plan.decide(RequestClass::Other, ""),
            None,
            "no rule, no fault"
        );
    }

    #[test]
    fn a_fault_limit_stops_injection() {
        let plan = FaultPlan::storage_failures(1, 1.0, FaultMix::default()).with_fault_limit(2);
        assert!(plan.decide(RequestClass::PutObject, "events/k").is_some());
        assert!(plan.decide(RequestClass::GetObject, "events/k").is_some());
        assert_eq!(plan.decide(RequestClass::PutObject, "events/k"), None);
    }
}
