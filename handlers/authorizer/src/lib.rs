//! TOKEN Lambda authorizer: JWT verification against JWKS and scope-to-route IAM policies.
//!
//! `Authorization: Bearer <JWT>` is verified with `jsonwebtoken` (RustCrypto backend):
//! RS256 or ES256 only, key chosen by `kid` from a JWKS (inline `JWKS_JSON`, or fetched
//! from `JWKS_URL` and refetched on an unknown `kid` at most once a minute), `exp`/`nbf`
//! with 30 s leeway, `iss`, `aud`, `sub`. Scopes map to routes through the OpenAPI route
//! table (`events:write` → POST /events, `events:read` → the GETs), and the returned
//! policy lists every route the token may call, because API Gateway caches it per token.
//!
//! HTTPS: the JWKS client is a plain-HTTP hyper client connection (hyper is already in
//! the workspace for the local servers, so it adds no new crates); `https://` URLs are
//! refused at cold start. For an https issuer (Cognito, Auth0, ...) put its JWKS into
//! `JWKS_JSON` at deploy time. This keeps a TLS stack (rustls + a crypto backend and
//! root certificates) out of the authorizer binary.
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
mod policy;
mod verify;

pub use authorizer::{Authorizer, AuthorizerError};
pub use bearer::{BearerError, BearerToken, MAX_TOKEN_BYTES, TokenFingerprint};
pub use config::{
    Audience, AuthorizerConfig, ConfigError, Issuer, JwksSource, JwksUrl, RefetchPolicy,
};
pub use fetch::{FetchError, MAX_JWKS_BYTES};
pub use issuer::{IssuerError, TokenIssuer, unix_now};
pub use keys::{ALLOWED_ALGORITHMS, JwksError, KeySet};
pub use policy::{Decision, InvalidMethodArn, MethodArn, decide, policy_allows, policy_document};
pub use verify::{Rejection, VerifiedToken};
