//! Verification keys: a JWKS parsed into per-`kid` keys pinned to one algorithm, and
//! the cache that fetches it and refetches on an unknown `kid` (rate limited).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use crate::config::RefetchPolicy;
use crate::fetch::{FetchError, JwksFetcher};

/// The only algorithms accepted: asymmetric, and one per key type.
pub const ALLOWED_ALGORITHMS: [Algorithm; 2] = [Algorithm::RS256, Algorithm::ES256];

/// A public key and the one algorithm it may verify.
#[derive(Clone)]
pub struct VerifyingKey {
    /// The key material.
    pub key: DecodingKey,
    /// RS256 for RSA keys, ES256 for P-256 keys.
    pub algorithm: Algorithm,
}

/// Why a JWKS document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    /// Not JSON, or no `keys` array.
    #[error("not a JWKS document: {0}")]
    NotJwks(String),
    /// No key in the set is usable with RS256 or ES256.
    #[error("no RS256 or ES256 signing key in the set ({skipped} skipped)")]
    NoUsableKey {
        /// Keys ignored (other types, curves, algorithms or `use: enc`).
        skipped: usize,
    },
}

/// The usable keys of one JWKS document.
#[derive(Clone, Default)]
pub struct KeySet {
    by_kid: HashMap<String, Arc<VerifyingKey>>,
    without_kid: Vec<Arc<VerifyingKey>>,
}

impl KeySet {
    /// Parses a JWKS document, keeping RSA keys (RS256) and P-256 keys (ES256) meant
    /// for signatures. A key whose `alg` names another algorithm is skipped.
    pub fn parse(json: &[u8]) -> Result<Self, JwksError> {
        let doc: Value =
            serde_json::from_slice(json).map_err(|e| JwksError::NotJwks(e.to_string()))?;
        let keys = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| JwksError::NotJwks("no `keys` array".into()))?;
        let mut set = KeySet::default();
        let mut skipped = 0;
        for key in keys {
            let parsed = serde_json::from_value::<Jwk>(key.clone())
                .ok()
                .and_then(|jwk| usable_key(&jwk).map(|k| (jwk.common.key_id, k)));
            match parsed {
                Some((Some(kid), key)) => {
                    set.by_kid.insert(kid, Arc::new(key));
                }
                Some((None, key)) => set.without_kid.push(Arc::new(key)),
                None => skipped += 1,
            }
        }
        if set.is_empty() {
            return Err(JwksError::NoUsableKey { skipped });
        }
        Ok(set)
    }

    /// Whether the set holds no usable key.
    pub fn is_empty(&self) -> bool {
        self.by_kid.is_empty() && self.without_kid.is_empty()
    }

    /// The key for a token's `kid`. A token without `kid` is accepted only when the
    /// set has exactly one key.
    pub fn find(&self, kid: Option<&str>) -> Option<Arc<VerifyingKey>> {
        match kid {
            Some(kid) => self.by_kid.get(kid).cloned(),
            None => {
                let mut all = self.by_kid.values().chain(&self.without_kid);
                match (all.next(), all.next()) {
                    (Some(only), None) => Some(only.clone()),
                    _ => None,
                }
            }
        }
    }
}

fn usable_key(jwk: &Jwk) -> Option<VerifyingKey> {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    let algorithm = match (&jwk.algorithm, jwk.common.key_algorithm) {
        (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
        (AlgorithmParameters::EllipticCurve(ec), None | Some(KeyAlgorithm::ES256))
            if ec.curve == EllipticCurve::P256 =>
        {
            Algorithm::ES256
        }
        _ => return None,
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(VerifyingKey { key, algorithm })
}

/// Why no key could be found for a token.
#[derive(Debug, thiserror::Error)]
pub enum KeyLookupError {
    /// The key set is loaded but has no key for this `kid` (token is rejected).
    #[error("no key for kid {0:?}")]
    UnknownKid(Option<String>),
    /// No key set could be loaded (fail closed).
    #[error("no key set available: {0}")]
    Unavailable(String),
}

#[derive(Default)]
struct FetchState {
    last_attempt: Option<Instant>,
    last_error: Option<String>,
}

/// The key cache: inline keys, or keys fetched from a URL and refetched at most once per
/// `min_interval` when a token names an unknown `kid`. Concurrent misses fetch once.
pub struct KeyStore {
    fetcher: Option<JwksFetcher>,
    policy: RefetchPolicy,
    keys: RwLock<Arc<KeySet>>,
    fetch: tokio::sync::Mutex<FetchState>,
}

impl KeyStore {
    /// A store of inline keys, parsed now and never refetched.
    pub fn inline(json: &str, policy: RefetchPolicy) -> Result<Self, JwksError> {
        Ok(Self::with(None, KeySet::parse(json.as_bytes())?, policy))
    }

    /// A store that loads its keys through `fetcher` (on [`KeyStore::refresh`] or
    /// first use).
    pub fn fetched(fetcher: JwksFetcher, policy: RefetchPolicy) -> Self {
        Self::with(Some(fetcher), KeySet::default(), policy)
    }

    fn with(fetcher: Option<JwksFetcher>, keys: KeySet, policy: RefetchPolicy) -> Self {
        Self {
            fetcher,
            policy,
            keys: RwLock::new(Arc::new(keys)),
            fetch: tokio::sync::Mutex::new(FetchState::default()),
        }
    }

    fn current(&self) -> Arc<KeySet> {
        match self.keys.read() {
            Ok(keys) => keys.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn replace(&self, set: KeySet) {
        let set = Arc::new(set);
        match self.keys.write() {
            Ok(mut keys) => *keys = set,
            Err(poisoned) => *poisoned.into_inner() = set,
        }
    }

    /// Loads the key set now if it comes from a URL and no fetch was attempted yet
    /// (cold-start warm-up, which runs beside the first requests: when a request's lookup
    /// got the lock first, its fetch is the warm-up, and its outcome is returned).
    pub async fn refresh(&self) -> Result<(), KeyLookupError> {
        let Some(fetcher) = &self.fetcher else {
            return Ok(());
        };
        let mut state = self.fetch.lock().await;
        if state.last_attempt.is_some() {
            return match &state.last_error {
                Some(message) => Err(KeyLookupError::Unavailable(message.clone())),
                None => Ok(()),
            };
        }
        self.fetch_into(fetcher, &mut state).await
    }

    async fn fetch_into(
        &self,
        fetcher: &JwksFetcher,
        state: &mut FetchState,
    ) -> Result<(), KeyLookupError> {
        let url = fetcher.url();
        state.last_attempt = Some(Instant::now());
        let result = match fetcher.get(self.policy.timeout).await {
            Ok(body) => KeySet::parse(&body).map_err(|e| e.to_string()),
            Err(FetchError::Status { url, status }) => Err(format!("{url}: HTTP {status}")),
            Err(e) => Err(e.to_string()),
        };
        match result {
            Ok(set) => {
                tracing::info!(jwks_url = %url, "jwks loaded");
                self.replace(set);
                state.last_error = None;
                Ok(())
            }
            Err(message) => {
                tracing::warn!(jwks_url = %url, error = %message, "jwks fetch failed");
                state.last_error = Some(message.clone());
                Err(KeyLookupError::Unavailable(message))
            }
        }
    }

    /// The key for `kid`, refetching the set when allowed.
    pub async fn key_for(&self, kid: Option<&str>) -> Result<Arc<VerifyingKey>, KeyLookupError> {
        let unknown = || KeyLookupError::UnknownKid(kid.map(str::to_owned));
        if let Some(key) = self.current().find(kid) {
            return Ok(key);
        }
        let Some(fetcher) = &self.fetcher else {
            return Err(unknown());
        };
        let mut state = self.fetch.lock().await;
        // Another request may have refetched while this one waited.
        let current = self.current();
        if let Some(key) = current.find(kid) {
            return Ok(key);
        }
        let wait = if current.is_empty() {
            self.policy.retry_when_empty
        } else {
            self.policy.min_interval
        };
        let may_fetch = state.last_attempt.is_none_or(|last| last.elapsed() >= wait);
        if !may_fetch {
            return Err(if current.is_empty() {
                KeyLookupError::Unavailable(
                    state
                        .last_error
                        .clone()
                        .unwrap_or_else(|| "jwks not loaded".into()),
                )
            } else {
                unknown()
            });
        }
        self.fetch_into(fetcher, &mut state).await?;
        self.current().find(kid).ok_or_else(unknown)
    }
}
