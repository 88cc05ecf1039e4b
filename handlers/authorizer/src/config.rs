//! Cold-start configuration: issuer, audience and where the signing keys come from.

use callflow_deployment::env;
use std::fmt;
use std::time::Duration;

/// Configuration problems found at cold start; the function refuses to start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required environment variable is unset or empty.
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    /// Neither `JWKS_URL` nor `JWKS_JSON` is set, or both are.
    #[error("set exactly one of {} and {}", env::JWKS_URL, env::JWKS_JSON)]
    KeySource,
    /// `JWKS_URL` is not an `http://` or `https://` `host[:port]/path` URL.
    #[error(
        "{var} `{url}`: {reason} (expected http(s)://host[:port][/path])",
        var = env::JWKS_URL
    )]
    InvalidJwksUrl {
        /// The URL as configured.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `JWKS_JSON` is not a JWKS document with at least one RS256/ES256 key.
    #[error("{var}: {0}", var = env::JWKS_JSON)]
    InvalidJwks(String),
    /// The TLS client for an `https://` `JWKS_URL` could not be built, e.g. the
    /// platform's CA bundle is missing or holds no certificate.
    #[error("{var} `{url}`: TLS setup: {message}", var = env::JWKS_URL)]
    Tls {
        /// The URL as configured.
        url: String,
        /// What failed.
        message: String,
    },
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
        non_empty(value.into(), env::JWT_ISSUER).map(Self)
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
        non_empty(value.into(), env::JWT_AUDIENCE).map(Self)
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

/// The scheme of a [`JwksUrl`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwksScheme {
    /// Plain HTTP (local or in-VPC endpoints, tests). Default port 80.
    Http,
    /// HTTP over TLS, verified against [`TrustAnchors`]. Default port 443.
    Https,
}

impl JwksScheme {
    /// The port used when the URL names none: 80 or 443.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Http => 80,
            Self::Https => 443,
        }
    }

    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }
}

/// A JWKS endpoint (`http://` or `https://`), checked at cold start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksUrl {
    url: String,
    scheme: JwksScheme,
    host: String,
    port: u16,
    path_and_query: String,
    uri: hyper::Uri,
}

impl JwksUrl {
    /// Parses `http(s)://host[:port][/path][?query]` (IPv6 hosts in brackets). The
    /// port defaults to 80 for `http` and 443 for `https`; userinfo and fragments are
    /// refused.
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        let invalid = |reason| ConfigError::InvalidJwksUrl {
            url: url.to_owned(),
            reason,
        };
        let (scheme, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (JwksScheme::Https, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (JwksScheme::Http, rest)
        } else {
            return Err(invalid("must start with http:// or https://"));
        };
        if rest.contains('#') {
            return Err(invalid("fragment present"));
        }
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
            None => scheme.default_port(),
        };
        if host.is_empty() {
            return Err(invalid("missing host"));
        }
        let uri = format!("{}://{authority}{path_and_query}", scheme.as_str())
            .parse::<hyper::Uri>()
            .map_err(|_| invalid("not a valid URI"))?;
        Ok(Self {
            url: url.to_owned(),
            scheme,
            host: host.to_owned(),
            port,
            path_and_query,
            uri,
        })
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> JwksScheme {
        self.scheme
    }

    /// The request URI (scheme, authority as written, path and query).
    pub fn uri(&self) -> &hyper::Uri {
        &self.uri
    }

    /// The host name or address to connect to.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The TCP port (explicit, or the scheme's default).
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
    /// Fetched over HTTP or HTTPS and cached; refetched when a token names an unknown
    /// `kid`.
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

/// The certificates an `https://` JWKS endpoint is verified against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TrustAnchors {
    /// The platform's CA bundle, read once at cold start through `rustls-native-certs`
    /// (honours `SSL_CERT_FILE` / `SSL_CERT_DIR`). On Lambda's `provided.al2023` runtime
    /// that is the system bundle of the `ca-certificates` package
    /// (`/etc/pki/tls/certs/ca-bundle.crt`). Default.
    #[default]
    Native,
    /// Exactly these DER certificates and no others: a private CA, or a test server's
    /// self-signed certificate.
    Only(Vec<rustls::pki_types::CertificateDer<'static>>),
}

/// The claim the authorizer reads when `CLIENT_ID_CLAIM` is unset.
pub const DEFAULT_CLIENT_ID_CLAIM: &str = "client_id";

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
    /// What an `https://` JWKS endpoint's certificate must chain to. Default: the
    /// platform's CA bundle. Unused for `http://` and inline keys.
    pub trust: TrustAnchors,
    /// The claim naming the calling client; its value (a non-empty string) becomes the
    /// `usageIdentifierKey` that selects the client's usage plan. A token without it is
    /// refused (401). Default: [`DEFAULT_CLIENT_ID_CLAIM`] (`client_id`).
    pub client_id_claim: String,
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
            trust: TrustAnchors::default(),
            client_id_claim: DEFAULT_CLIENT_ID_CLAIM.to_owned(),
        }
    }

    /// Reads `JWT_ISSUER`, `JWT_AUDIENCE`, exactly one of `JWKS_URL` / `JWKS_JSON` and the
    /// optional `CLIENT_ID_CLAIM` (default `client_id`) from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`AuthorizerConfig::from_env`], reading variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name| lookup(name).filter(|v| !v.trim().is_empty());
        let issuer =
            Issuer::new(var(env::JWT_ISSUER).ok_or(ConfigError::Missing(env::JWT_ISSUER))?)?;
        let audience =
            Audience::new(var(env::JWT_AUDIENCE).ok_or(ConfigError::Missing(env::JWT_AUDIENCE))?)?;
        let jwks = match (var(env::JWKS_URL), var(env::JWKS_JSON)) {
            (Some(url), None) => JwksSource::Url(JwksUrl::parse(url.trim())?),
            (None, Some(json)) => JwksSource::Inline(json),
            _ => return Err(ConfigError::KeySource),
        };
        let mut config = Self::new(issuer, audience, jwks);
        if let Some(claim) = var(env::CLIENT_ID_CLAIM) {
            config.client_id_claim = claim.trim().to_owned();
        }
        Ok(config)
    }
}
