//! TOKEN Lambda authorizer: JWT verification against JWKS and scope-to-route IAM policies.
//!
//! `Authorization: Bearer <JWT>` is verified with `jsonwebtoken` (RustCrypto backend):
//! RS256 or ES256 only, key chosen by `kid` from a JWKS (inline `JWKS_JSON`, or fetched
//! from `JWKS_URL` and refetched on an unknown `kid` at most once a minute), `exp`/`nbf`
//! with 30 s leeway, `iss`, `aud`, `sub`. Scopes map to routes through the OpenAPI route
//! table (`events:write` → POST /events, `events:read` → the GETs), and the returned
//! policy lists every route the token may call, because API Gateway caches it per token.
//!
//! JWKS over HTTPS or HTTP: `JWKS_URL` may be `https://` (the deployed issuers) or
//! `http://` (local and in-VPC endpoints, tests). The client is hyper-util over
//! hyper-rustls with rustls' aws-lc-rs provider, the stack the AWS SDK clients in this
//! workspace already use. Server certificates are verified against the platform's CA
//! bundle, read once at cold start (on Lambda's `provided.al2023` runtime that is
//! `/etc/pki/tls/certs/ca-bundle.crt`; `SSL_CERT_FILE` overrides it), or against the
//! certificates in [`AuthorizerConfig::trust`]. A fetch has a 3 s timeout (connect,
//! handshake, response and body), accepts only a 200 with at most 256 KiB of body, and
//! any failure fails closed (no keys, no Allow). Inline keys (`JWKS_JSON`) need no
//! network at all.
//!
//! Usage plans: the token's client claim (`CLIENT_ID_CLAIM`, default `client_id`) is
//! returned as `usageIdentifierKey`, so that API Gateway (API key source `AUTHORIZER`)
//! meters the request against the usage plan of the API key with that value. A token
//! without the claim (or with a non-string or empty value) is refused like any invalid
//! token (401, decision reason `missing_claim`).
//!
//! Logs: one JSON line per decision ([`json_log_subscriber`]), whose `fields.decision`
//! (`allow`, `deny`, `unauthorized`, `error`) the stack's metric filter reads. The token
//! itself is never logged, only its [`TokenFingerprint`].
//!
//! ```
//! use std::time::Duration;
//! use callflow_authorizer::{Audience, AuthorizerConfig, Authorizer, Issuer, JwksSource, TokenIssuer};
//!
//! let issuer = TokenIssuer::generate("https://issuer.example", "callflow");
//! let config = AuthorizerConfig::new(
//!     Issuer::new("https://issuer.example")?,
//!     Audience::new("callflow")?,
//!     JwksSource::Inline(issuer.jwks_json()),
//! );
//! let authorizer = Authorizer::new(config)?;
//! let token = issuer.issue("alice", &["events:read"], Duration::from_secs(300));
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! let verified = runtime.block_on(authorizer.verify(Some(&format!("Bearer {token}"))))?;
//! assert_eq!(verified.subject, "alice");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod authorizer;
mod bearer;
mod config;
mod fetch;
mod issuer;
mod keys;
mod logging;
mod policy;
mod verify;

pub use authorizer::{Authorizer, AuthorizerError};
pub use bearer::{BearerError, BearerToken, MAX_TOKEN_BYTES, TokenFingerprint};
pub use config::{
    Audience, AuthorizerConfig, ConfigError, DEFAULT_CLIENT_ID_CLAIM, Issuer, JwksScheme,
    JwksSource, JwksUrl, RefetchPolicy, TrustAnchors,
};
pub use fetch::{FetchError, JwksFetcher, MAX_JWKS_BYTES};
pub use issuer::{IssuerError, TokenIssuer, unix_now};
pub use keys::{ALLOWED_ALGORITHMS, JwksError, KeySet};
pub use logging::{DEFAULT_LOG_LEVEL, LOG_LEVEL_VAR, json_log_subscriber, log_filter_from_env};
pub use policy::{Decision, InvalidMethodArn, MethodArn, decide, policy_allows, policy_document};
pub use verify::{Rejection, VerifiedToken};
