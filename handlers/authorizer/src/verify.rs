//! What a verified token says, and every reason a token is refused.

use std::collections::BTreeSet;

use callflow_openapi::Scope;
use jsonwebtoken::errors::ErrorKind;
use serde::Deserialize;

use crate::bearer::BearerError;

/// The facts the authorizer takes from a token whose signature and claims checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The `sub` claim: who calls (becomes the policy's principal id).
    pub subject: String,
    /// Every scope the token carries (`scope` string or `scp` list), in token order.
    pub scopes: Vec<String>,
    /// The client claim's value ([`crate::AuthorizerConfig::client_id_claim`]): the
    /// `usageIdentifierKey` of the response.
    pub client_id: String,
}

impl VerifiedToken {
    /// The scopes this API knows; unknown scope strings are ignored.
    pub fn api_scopes(&self) -> BTreeSet<Scope> {
        self.scopes.iter().filter_map(|s| s.parse().ok()).collect()
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The header is not a well-formed bearer token.
    #[error(transparent)]
    Bearer(#[from] BearerError),
    /// The JOSE header is not valid base64url JSON.
    #[error("undecodable token header")]
    Header,
    /// The header carries `crit`: extensions this verifier does not implement (RFC 7515).
    #[error("critical header extensions are not supported")]
    CriticalHeader,
    /// The header names an algorithm outside the allowlist (RS256, ES256), e.g. `none`
    /// or `HS256`, or one that does not belong to the selected key.
    #[error("algorithm {0} not allowed")]
    Algorithm(String),
    /// No key with the token's `kid`.
    #[error("no key for kid {0:?}")]
    UnknownKey(Option<String>),
    /// The signature does not verify with the selected key.
    #[error("bad signature")]
    Signature,
    /// `exp` is in the past (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// `iss` is not the configured issuer.
    #[error("wrong issuer")]
    Issuer,
    /// `aud` does not contain the configured audience.
    #[error("wrong audience")]
    Audience,
    /// A required claim (`exp`, `iss`, `aud`, `sub`) is missing or empty.
    #[error("missing claim {0}")]
    MissingClaim(String),
    /// The claims are not the expected JSON shape.
    #[error("malformed claims")]
    Claims,
    /// No key set could be loaded: fail closed (answered as an error, not as 401).
    #[error("keys unavailable: {0}")]
    KeysUnavailable(String),
}

impl Rejection {
    /// The stable reason written to the decision log.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Bearer(BearerError::Missing) => "missing_header",
            Self::Bearer(BearerError::NotBearer) => "not_bearer",
            Self::Bearer(BearerError::Oversized) => "oversized",
            Self::Bearer(BearerError::Malformed) => "malformed",
            Self::Header => "bad_header",
            Self::CriticalHeader => "critical_header",
            Self::Algorithm(_) => "algorithm",
            Self::UnknownKey(_) => "unknown_kid",
            Self::Signature => "signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::Issuer => "issuer",
            Self::Audience => "audience",
            Self::MissingClaim(_) => "missing_claim",
            Self::Claims => "claims",
            Self::KeysUnavailable(_) => "keys_unavailable",
        }
    }

    /// Maps a jsonwebtoken verification failure.
    pub(crate) fn from_jwt(kind: &ErrorKind) -> Self {
        match kind {
            // Only the signature is base64-decoded before it verifies.
            ErrorKind::InvalidSignature | ErrorKind::Base64(_) => Self::Signature,
            ErrorKind::ExpiredSignature => Self::Expired,
            ErrorKind::ImmatureSignature => Self::NotYetValid,
            ErrorKind::InvalidIssuer => Self::Issuer,
            ErrorKind::InvalidAudience => Self::Audience,
            ErrorKind::MissingRequiredClaim(claim) => Self::MissingClaim(claim.clone()),
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                Self::Algorithm("mismatch".into())
            }
            _ => Self::Claims,
        }
    }
}

/// The claims the authorizer reads beyond those jsonwebtoken validates.
#[derive(Debug, Deserialize)]
pub(crate) struct TokenClaims {
    #[serde(default)]
    pub sub: String,
    #[serde(default)]
    pub scope: Option<ScopeClaim>,
    #[serde(default)]
    pub scp: Option<ScopeClaim>,
}

/// `scope` is a space-separated string (RFC 8693); some issuers send a list (`scp`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum ScopeClaim {
    Text(String),
    List(Vec<String>),
}

impl TokenClaims {
    pub(crate) fn scopes(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for claim in [&self.scope, &self.scp].into_iter().flatten() {
            let items: Vec<&str> = match claim {
                ScopeClaim::Text(text) => text.split_whitespace().collect(),
                ScopeClaim::List(list) => list.iter().map(String::as_str).collect(),
            };
            for item in items {
                if !item.is_empty() && !out.iter().any(|s| s == item) {
                    out.push(item.to_owned());
                }
            }
        }
        out
    }
}

/// The non-empty string value of the top-level claim `name` in a JWT payload (JSON), if
/// any. Other claims are skipped without being kept (a deeply nested claim elsewhere is
/// not parsed into a value).
pub(crate) fn string_claim(payload: &[u8], name: &str) -> Option<String> {
    use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};

    struct Find<'a>(&'a str);

    impl<'de> Visitor<'de> for Find<'_> {
        type Value = Option<String>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object of claims")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = None;
            while let Some(key) = map.next_key::<String>()? {
                if key == self.0 {
                    found = map
                        .next_value::<serde_json::Value>()?
                        .as_str()
                        .map(str::to_owned);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(found)
        }
    }

    impl<'de> DeserializeSeed<'de> for Find<'_> {
        type Value = Option<String>;

        fn deserialize<D: serde::Deserializer<'de>>(
            self,
            deserializer: D,
        ) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_map(self)
        }
    }

    let mut deserializer = serde_json::Deserializer::from_slice(payload);
    Find(name)
        .deserialize(&mut deserializer)
        .ok()
        .flatten()
        .filter(|v| !v.trim().is_empty())
}
