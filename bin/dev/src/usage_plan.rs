//! Per-client usage plans as API Gateway applies them when the API key source is
//! `AUTHORIZER`: the authorizer's `usageIdentifierKey` selects the API key with that value,
//! and the key's usage plan meters the request with a token bucket (burst, rate) and a
//! daily quota (UTC days) of its own. Beyond the bucket the stage answers 429 `THROTTLED`
//! (`Too Many Requests`), beyond the quota 429 `QUOTA_EXCEEDED` (`Limit Exceeded`); other
//! clients keep being served.
//!
//! The plans are read from the synthesized stack (`aws_api_gateway_usage_plan`,
//! `aws_api_gateway_api_key`, `aws_api_gateway_usage_plan_key`). Locally a usage identifier
//! that names no API key is metered by the plan with logical id `default` (deployed, API
//! Gateway answers it 403).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use callflow_config::{DEFAULT_USAGE_PLAN, UsagePlanConfig};
use serde_json::Value;
use time::{Date, OffsetDateTime};

use crate::clock::Clock;
use crate::throttle::{InvalidLimits, ThrottleLimits, TokenBucket};

/// One plan's limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanLimits {
    /// Burst and steady rate per client.
    pub throttle: ThrottleLimits,
    /// Requests per client per UTC day.
    pub quota_per_day: u64,
}

impl PlanLimits {
    /// Limits of `burst`, `rate` per second and `quota_per_day` (all positive).
    pub fn new(burst: i64, rate: f64, quota_per_day: i64) -> Result<Self, InvalidUsagePlan> {
        let throttle = ThrottleLimits::new(burst, rate).map_err(InvalidUsagePlan::Throttle)?;
        let quota_per_day = u64::try_from(quota_per_day)
            .ok()
            .filter(|q| *q > 0)
            .ok_or(InvalidUsagePlan::Quota(quota_per_day))?;
        Ok(Self {
            throttle,
            quota_per_day,
        })
    }
}

/// Usage plan limits that cannot be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvalidUsagePlan {
    /// Burst or rate not positive.
    #[error(transparent)]
    Throttle(InvalidLimits),
    /// The daily quota is not positive.
    #[error("usage plan quota {0} per day: must be positive")]
    Quota(i64),
    /// A usage plan resource of the synth lacks a field.
    #[error("aws_api_gateway_usage_plan.{plan}: {reason}")]
    Synth {
        /// The plan's logical id.
        plan: String,
        /// What is missing.
        reason: String,
    },
}

/// The plans of a stage: the plan of every API key value, and the default plan.
#[derive(Debug, Clone, PartialEq)]
pub struct UsagePlans {
    default: PlanLimits,
    by_key: HashMap<String, (String, PlanLimits)>,
}

impl Default for UsagePlans {
    /// The default plan of [`UsagePlanConfig::default`] (burst 100, 50/s, 1,000,000 a day),
    /// no API keys.
    fn default() -> Self {
        let c = UsagePlanConfig::default();
        let default =
            PlanLimits::new(c.burst_limit, c.rate_limit, c.quota_per_day).unwrap_or(PlanLimits {
                throttle: ThrottleLimits::default(),
                quota_per_day: 1_000_000,
            });
        Self::new(default)
    }
}

impl UsagePlans {
    /// Only a default plan.
    pub fn new(default: PlanLimits) -> Self {
        Self {
            default,
            by_key: HashMap::new(),
        }
    }

    /// The default plan's limits.
    pub fn default_plan(&self) -> PlanLimits {
        self.default
    }

    /// The same API keys with `default` as the default plan's limits (keys associated
    /// with the default plan get them too).
    pub fn with_default(mut self, default: PlanLimits) -> Self {
        self.default = default;
        for (name, plan) in self.by_key.values_mut() {
            if name == DEFAULT_USAGE_PLAN {
                *plan = default;
            }
        }
        self
    }

    /// Adds an API key value metered by `plan` (named `name`).
    pub fn with_key(mut self, value: &str, name: &str, plan: PlanLimits) -> Self {
        self.by_key
            .insert(value.to_owned(), (name.to_owned(), plan));
        self
    }

    /// The plan name and limits of a usage identifier (the default plan when no API key
    /// has that value).
    pub fn plan_of(&self, usage_identifier: &str) -> (&str, PlanLimits) {
        match self.by_key.get(usage_identifier) {
            Some((name, plan)) => (name.as_str(), *plan),
            None => (DEFAULT_USAGE_PLAN, self.default),
        }
    }

    /// Reads the plans of a synthesized stack document (`cdk.tf.json`); `None` when it
    /// declares no usage plan.
    pub fn from_document(document: &Value) -> Result<Option<Self>, InvalidUsagePlan> {
        let resources = |kind: &str| {
            document
                .pointer(&format!("/resource/{kind}"))
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let mut plans = HashMap::new();
        for (id, plan) in resources("aws_api_gateway_usage_plan") {
            let missing = |reason: &str| InvalidUsagePlan::Synth {
                plan: id.clone(),
                reason: reason.to_owned(),
            };
            let throttle = plan
                .pointer("/throttle_settings")
                .ok_or_else(|| missing("no throttle_settings"))?;
            let burst = throttle
                .get("burst_limit")
                .and_then(Value::as_i64)
                .ok_or_else(|| missing("no throttle_settings.burst_limit"))?;
            let rate = throttle
                .get("rate_limit")
                .and_then(Value::as_f64)
                .ok_or_else(|| missing("no throttle_settings.rate_limit"))?;
            let quota = plan
                .pointer("/quota_settings/limit")
                .and_then(Value::as_i64)
                .ok_or_else(|| missing("no quota_settings.limit"))?;
            if plan
                .pointer("/quota_settings/period")
                .and_then(Value::as_str)
                != Some("DAY")
            {
                return Err(missing("quota_settings.period is not DAY"));
            }
            plans.insert(id.clone(), PlanLimits::new(burst, rate, quota)?);
        }
        let Some(default) = plans.get(DEFAULT_USAGE_PLAN).copied() else {
            return Ok(None);
        };
        let mut out = Self::new(default);
        let keys = resources("aws_api_gateway_api_key");
        for (_, association) in resources("aws_api_gateway_usage_plan_key") {
            let target = |field: &str, kind: &str| {
                association
                    .get(field)
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix(&format!("${{{kind}.")))
                    .and_then(|r| r.strip_suffix(".id}"))
                    .map(str::to_owned)
            };
            let (Some(key), Some(plan)) = (
                target("key_id", "aws_api_gateway_api_key"),
                target("usage_plan_id", "aws_api_gateway_usage_plan"),
            ) else {
                continue;
            };
            let value = keys
                .get(&key)
                .and_then(|k| k.get("value"))
                .and_then(Value::as_str);
            if let (Some(value), Some(limits)) = (value, plans.get(&plan)) {
                out = out.with_key(value, &plan, *limits);
            }
        }
        Ok(Some(out))
    }
}

/// What the usage plan says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageVerdict {
    /// Within the plan.
    Allowed,
    /// The client's bucket is empty: 429 `Too Many Requests`.
    Throttled,
    /// The client's daily quota is used up: 429 `Limit Exceeded`.
    QuotaExceeded,
}

struct ClientUsage {
    bucket: TokenBucket,
    day: Date,
    used: u64,
}

/// The per-client buckets and quota counters of a stage.
pub struct UsageMeter {
    plans: UsagePlans,
    clock: Arc<dyn Clock>,
    clients: Mutex<HashMap<String, ClientUsage>>,
}

impl std::fmt::Debug for UsageMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsageMeter")
            .field("plans", &self.plans)
            .finish_non_exhaustive()
    }
}

impl UsageMeter {
    /// A meter with no usage yet; buckets run on `clock`.
    pub fn new(plans: UsagePlans, clock: Arc<dyn Clock>) -> Self {
        Self {
            plans,
            clock,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The plans.
    pub fn plans(&self) -> &UsagePlans {
        &self.plans
    }

    /// Meters one request of `usage_identifier`: the quota first (a used-up quota answers
    /// `Limit Exceeded` whatever the bucket holds), then the bucket; an allowed request
    /// counts against the quota.
    pub fn check(&self, usage_identifier: &str) -> UsageVerdict {
        let today = OffsetDateTime::now_utc().date();
        let (_, plan) = self.plans.plan_of(usage_identifier);
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        let usage = clients
            .entry(usage_identifier.to_owned())
            .or_insert_with(|| ClientUsage {
                bucket: TokenBucket::new(plan.throttle, Arc::clone(&self.clock)),
                day: today,
                used: 0,
            });
        if usage.day != today {
            usage.day = today;
            usage.used = 0;
        }
        if usage.used >= plan.quota_per_day {
            return UsageVerdict::QuotaExceeded;
        }
        if !usage.bucket.try_acquire() {
            return UsageVerdict::Throttled;
        }
        usage.used += 1;
        UsageVerdict::Allowed
    }
}
