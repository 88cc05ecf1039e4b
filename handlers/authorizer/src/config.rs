//! Cold-start configuration: issuer, audience and where the signing keys come from.

use std::fmt;
use std::time::Duration;

/// Configuration problems found at cold start; the function refuses to start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required environment variable is unset or empty.
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    /// Neither `JWKS_URL` nor `JWKS_JSON` is set, or both are.
    #[error("set exactly one of JWKS_URL and JWKS_JSON")]
    KeySource,
    /// `JWKS_URL` is not a plain `http://host[:port]/path` URL.
    #[error(
        "JWKS_URL `{url}`: {reason} (only http:// is supported; for https issuers put the JWKS in JWKS_JSON)"
    )]
    InvalidJwksUrl {
        /// The URL as configured.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `JWKS_JSON` is not a JWKS document with at least one RS256/ES256 key.
    #[error("JWKS_JSON: {0}")]
    InvalidJwks(String),
    /// The route table could not be read from the OpenAPI spec.
    #[error("route table: {0}")]
    Routes(#[from] callflow_openapi::SpecError),
}

/// The expected `iss` claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer(String);

impl Issuer {
    /// A non-empty issuer string.
    pub fn new(value: impl Into<String>) -> Result<Self, ConfigError> {
        non_empty(value.into(), "JWT_ISSUER").map(Self)
    }

    /// The issuer as written in tokens.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The expected `aud` claim (one of the token's audiences must equal it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience(String);

impl Audience {
    /// A non-empty audience string.
    pub fn new(value: impl Into<String>) -> Result<Self, ConfigError> {
        non_empty(value.into(), "JWT_AUDIENCE").map(Self)
    }

    /// The audience as written in tokens.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn non_empty(value: String, name: &'static str) -> Result<String, ConfigError> {
    if value.trim().is_empty() {
        Err(ConfigError::Missing(name))
    } else {
        Ok(value)
    }
}

/// A plain-HTTP JWKS endpoint, split into what the tiny client needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksUrl {
    url: String,
    host: String,
    port: u16,
    path_and_query: String,
}

impl JwksUrl {
    /// Parses `http://host[:port][/path][?query]`. `https://` is rejected: this crate
    /// carries no TLS stack (see the crate docs); use `JWKS_JSON` for https issuers.
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        let invalid = |reason| ConfigError::InvalidJwksUrl {
            url: url.to_owned(),
            reason,
        };
        if url.starts_with("https://") {
            return Err(invalid("https is not supported"));
        }
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| invalid("must start with http://"))?;
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let path_and_query = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_owned()
        };
        if authority.is_empty() || authority.contains('@') {
            return Err(invalid("missing host or userinfo present"));
        }
        let (host, port) = match authority.strip_prefix('[') {
            // [v6-address] or [v6-address]:port
            Some(bracketed) => {
                let (host, after) = bracketed
                    .split_once(']')
                    .ok_or_else(|| invalid("unclosed '[' in host"))?;
                (host, after.strip_prefix(':'))
            }
            None => match authority.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            },
        };
        let port = match port {
            Some(port) => port.parse().map_err(|_| invalid("invalid port"))?,
            None => 80,
        };
        if host.is_empty() {
            return Err(invalid("missing host"));
        }
        Ok(Self {
            url: url.to_owned(),
            host: host.to_owned(),
            port,
            path_and_query,
        })
    }

    /// The host name or address to connect to.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The request target (`/path?query`).
    pub fn path_and_query(&self) -> &str {
        &self.path_and_query
    }
}

impl fmt::Display for JwksUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

/// Where the verification keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// Fetched over HTTP and cached; refetched when a token names an unknown `kid`.
    Url(JwksUrl),
    /// Given inline (the JWKS document as JSON text); never refetched.
    Inline(String),
}

/// How often the JWKS may be fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefetchPolicy {
    /// Minimum time between two fetches once a key set is loaded. Default: 60 s.
    pub min_interval: Duration,
    /// Minimum time between two attempts while no key set has ever loaded. Default: 5 s.
    pub retry_when_empty: Duration,
    /// Timeout of one fetch (connect + response). Default: 3 s.
    pub timeout: Duration,
}

impl Default for RefetchPolicy {
    fn default() -> Self {
        Self {
            min_interval: Duration::from_secs(60),
            retry_when_empty: Duration::from_secs(5),
            timeout: Duration::from_secs(3),
        }
    }
}

/// Everything the authorizer needs, built once at cold start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerConfig {
    /// Expected `iss`.
    pub issuer: Issuer,
    /// Expected `aud`.
    pub audience: Audience,
    /// Where the keys come from.
    pub jwks: JwksSource,
    /// Accepted clock skew for `exp` and `nbf`. Default: 30 s.
    pub leeway: Duration,
    /// JWKS fetch limits.
    pub refetch: RefetchPolicy,
}

impl AuthorizerConfig {
    /// A configuration with the default leeway (30 s) and refetch policy.
    pub fn new(issuer: Issuer, audience: Audience, jwks: JwksSource) -> Self {
        Self {
            issuer,
            audience,
            jwks,
            leeway: Duration::from_secs(30),
            refetch: RefetchPolicy::default(),
        }
    }

    /// Reads `JWT_ISSUER`, `JWT_AUDIENCE` and exactly one of `JWKS_URL` / `JWKS_JSON`
    /// from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`AuthorizerConfig::from_env`], reading variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name| lookup(name).filter(|v| !v.trim().is_empty());
        let issuer = Issuer::new(var("JWT_ISSUER").ok_or(ConfigError::Missing("JWT_ISSUER"))?)?;
        let audience =
            Audience::new(var("JWT_AUDIENCE").ok_or(ConfigError::Missing("JWT_AUDIENCE"))?)?;
        let jwks = match (var("JWKS_URL"), var("JWKS_JSON")) {
            (Some(url), None) => JwksSource::Url(JwksUrl::parse(url.trim())?),
            (None, Some(json)) => JwksSource::Inline(json),
            _ => return Err(ConfigError::KeySource),
        };
        Ok(Self::new(issuer, audience, jwks))
    }
}
