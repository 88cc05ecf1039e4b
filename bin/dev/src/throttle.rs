//! Stage throttling as API Gateway does it: a token bucket holding `burst` requests, refilled
//! at `rate` requests per second; a request finding it empty is answered 429.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use callflow_config::ThrottlingConfig;

use crate::clock::Clock;

/// Burst and steady rate of a stage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThrottleLimits {
    burst: u32,
    rate_per_second: f64,
}

/// Limits that are not both positive.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("throttling burst {burst} / rate {rate}: both must be positive")]
pub struct InvalidLimits {
    /// The burst given.
    pub burst: i64,
    /// The rate given.
    pub rate: f64,
}

impl ThrottleLimits {
    /// Limits of `burst` requests and `rate_per_second` steady rate (both positive).
    pub fn new(burst: i64, rate_per_second: f64) -> Result<Self, InvalidLimits> {
        let invalid = InvalidLimits {
            burst,
            rate: rate_per_second,
        };
        let burst_ok = u32::try_from(burst).ok().filter(|b| *b > 0);
        match burst_ok {
            Some(burst) if rate_per_second.is_finite() && rate_per_second > 0.0 => Ok(Self {
                burst,
                rate_per_second,
            }),
            _ => Err(invalid),
        }
    }

    /// The burst (bucket size).
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// The steady rate (refill per second).
    pub fn rate_per_second(&self) -> f64 {
        self.rate_per_second
    }
}

impl Default for ThrottleLimits {
    /// The deployed stage's defaults ([`ThrottlingConfig::default`]).
    fn default() -> Self {
        let config = ThrottlingConfig::default();
        Self::new(config.burst_limit, config.rate_limit).unwrap_or(Self {
            burst: 200,
            rate_per_second: 100.0,
        })
    }
}

impl TryFrom<&ThrottlingConfig> for ThrottleLimits {
    type Error = InvalidLimits;

    fn try_from(config: &ThrottlingConfig) -> Result<Self, Self::Error> {
        Self::new(config.burst_limit, config.rate_limit)
    }
}

#[derive(Debug)]
struct BucketState {
    tokens: f64,
    refilled_at: Instant,
}

/// The token bucket of a stage.
#[derive(Debug)]
pub struct TokenBucket {
    limits: ThrottleLimits,
    clock: Arc<dyn Clock>,
    state: Mutex<BucketState>,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(limits: ThrottleLimits, clock: Arc<dyn Clock>) -> Self {
        let refilled_at = clock.now();
        Self {
            limits,
            clock,
            state: Mutex::new(BucketState {
                tokens: f64::from(limits.burst),
                refilled_at,
            }),
        }
    }

    /// The limits.
    pub fn limits(&self) -> ThrottleLimits {
        self.limits
    }

    /// Takes one token; `false` means the request is throttled.
    pub fn try_acquire(&self) -> bool {
        let now = self.clock.now();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let elapsed = now
            .saturating_duration_since(state.refilled_at)
            .as_secs_f64();
        state.tokens = (state.tokens + elapsed * self.limits.rate_per_second)
            .min(f64::from(self.limits.burst));
        state.refilled_at = now;
        if state.tokens >= 1.0 {
            state.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}
