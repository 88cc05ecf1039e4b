//! The authorizer result cache of a REST API stage: one policy per identity source value,
//! reused for every request carrying that value until the TTL runs out.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerPolicy;
use serde_json::Value;

use crate::clock::Clock;

/// Longest result TTL API Gateway accepts, in seconds.
pub const MAX_TTL_SECONDS: u64 = 3600;

/// How many tokens the cache remembers before it evicts the entries closest to expiry.
pub const DEFAULT_CACHE_CAPACITY: usize = 10_000;

/// `authorizerResultTtlInSeconds`: 0 disables the cache, at most 3600.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthorizerTtl(Duration);

/// A TTL outside 0..=3600 seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("authorizer result TTL {0} s is out of range (0..={MAX_TTL_SECONDS})")]
pub struct InvalidTtl(pub u64);

impl AuthorizerTtl {
    /// API Gateway's default: 300 s.
    pub const DEFAULT: AuthorizerTtl = AuthorizerTtl(Duration::from_secs(300));

    /// A TTL of `seconds`, refused above 3600.
    pub fn from_secs(seconds: u64) -> Result<Self, InvalidTtl> {
        if seconds > MAX_TTL_SECONDS {
            Err(InvalidTtl(seconds))
        } else {
            Ok(Self(Duration::from_secs(seconds)))
        }
    }

    /// The TTL.
    pub fn duration(self) -> Duration {
        self.0
    }

    /// Whether results are cached at all.
    pub fn is_enabled(self) -> bool {
        !self.0.is_zero()
    }
}

impl Default for AuthorizerTtl {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for AuthorizerTtl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} s", self.0.as_secs())
    }
}

/// What a TOKEN authorizer returned for one token: the principal, the IAM policy and the
/// context map passed on to integrations.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizerResult {
    /// `principalId`.
    pub principal_id: String,
    /// The policy evaluated against each request's method ARN.
    pub policy: ApiGatewayCustomAuthorizerPolicy,
    /// `context`: flat string/number/boolean values (`sub`, `scopes`).
    pub context: serde_json::Map<String, Value>,
    /// `usageIdentifierKey`: the API key value whose usage plan meters the request
    /// (cached with the policy, for the same TTL).
    pub usage_identifier_key: Option<String>,
}

struct Entry {
    result: Arc<AuthorizerResult>,
    expires_at: Instant,
}

/// The cache, keyed by the identity source value (the whole `Authorization` header).
pub struct PolicyCache {
    ttl: AuthorizerTtl,
    capacity: usize,
    clock: Arc<dyn Clock>,
    entries: Mutex<HashMap<String, Entry>>,
}

impl fmt::Debug for PolicyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyCache")
            .field("ttl", &self.ttl)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl PolicyCache {
    /// An empty cache with `ttl` over `clock`, remembering [`DEFAULT_CACHE_CAPACITY`] tokens.
    pub fn new(ttl: AuthorizerTtl, clock: Arc<dyn Clock>) -> Self {
        Self {
            ttl,
            capacity: DEFAULT_CACHE_CAPACITY,
            clock,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The configured TTL.
    pub fn ttl(&self) -> AuthorizerTtl {
        self.ttl
    }

    /// The cached result for `identity`, if one is younger than the TTL.
    pub fn get(&self, identity: &str) -> Option<Arc<AuthorizerResult>> {
        if !self.ttl.is_enabled() {
            return None;
        }
        let now = self.clock.now();
        let mut entries = self.lock();
        match entries.get(identity) {
            Some(entry) if entry.expires_at > now => Some(Arc::clone(&entry.result)),
            Some(_) => {
                entries.remove(identity);
                None
            }
            None => None,
        }
    }

    /// Remembers `result` for `identity` for the TTL (nothing when the TTL is 0).
    pub fn insert(&self, identity: &str, result: Arc<AuthorizerResult>) {
        if !self.ttl.is_enabled() {
            return;
        }
        let now = self.clock.now();
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(identity) {
            entries.retain(|_, e| e.expires_at > now);
            while entries.len() >= self.capacity {
                let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, e)| e.expires_at)
                    .map(|(k, _)| k.clone())
                else {
                    break;
                };
                entries.remove(&oldest);
            }
        }
        entries.insert(
            identity.to_owned(),
            Entry {
                result,
                expires_at: now + self.ttl.duration(),
            },
        );
    }

    /// How many live or expired entries are held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}
