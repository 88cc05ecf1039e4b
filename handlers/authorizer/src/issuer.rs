//! A local token issuer: an EC P-256 key pair, its JWKS, and ES256 tokens for
//! `callflow dev`, `callflow token` and tests.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Why an issuer could not be built from a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuerError {
    /// The PEM is not a PKCS#8 P-256 private key.
    #[error("not a PKCS#8 P-256 private key: {0}")]
    InvalidKey(String),
}

/// Signs ES256 tokens with a local P-256 key; its public half is published as a JWKS.
pub struct TokenIssuer {
    issuer: String,
    audience: String,
    kid: String,
    key: EncodingKey,
    jwk: Jwk,
    pkcs8_pem: String,
}

impl TokenIssuer {
    /// Generates a fresh P-256 key pair from the OS random source.
    pub fn generate(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
        Self::from_secret(&secret, issuer.into(), audience.into())
            .unwrap_or_else(|e| panic!("a freshly generated P-256 key is valid: {e}"))
    }

    /// Loads a key saved with [`TokenIssuer::private_key_pem`].
    pub fn from_private_key_pem(
        pem: &str,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Result<Self, IssuerError> {
        let secret = p256::SecretKey::from_pkcs8_pem(pem)
            .map_err(|e| IssuerError::InvalidKey(e.to_string()))?;
        Self::from_secret(&secret, issuer.into(), audience.into())
    }

    fn from_secret(
        secret: &p256::SecretKey,
        issuer: String,
        audience: String,
    ) -> Result<Self, IssuerError> {
        let invalid = |e: &dyn std::fmt::Display| IssuerError::InvalidKey(e.to_string());
        let der = secret.to_pkcs8_der().map_err(|e| invalid(&e))?;
        let pkcs8_pem = secret
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| invalid(&e))?
            .to_string();
        let key = EncodingKey::from_ec_der(der.as_bytes());
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::ES256).map_err(|e| invalid(&e))?;
        let kid = match &jwk.algorithm {
            AlgorithmParameters::EllipticCurve(ec) => thumbprint(&ec.x, &ec.y),
            _ => return Err(IssuerError::InvalidKey("not an EC key".into())),
        };
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = Some(KeyAlgorithm::ES256);
        let issuer = Self {
            issuer,
            audience,
            kid,
            key,
            jwk,
            pkcs8_pem,
        };
        // Sign once so that `issue` cannot fail later.
        encode(&issuer.header(), &json!({}), &issuer.key).map_err(|e| invalid(&e))?;
        Ok(issuer)
    }

    /// The `iss` of issued tokens.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The `aud` of issued tokens.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The key id: the RFC 7638 thumbprint of the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The private key as PKCS#8 PEM, to persist and reload the same identity.
    pub fn private_key_pem(&self) -> &str {
        &self.pkcs8_pem
    }

    /// The public JWKS document (one ES256 key), for `JWKS_JSON` or a JWKS endpoint.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: vec![self.jwk.clone()],
        }
    }

    /// The public JWKS document as JSON text.
    pub fn jwks_json(&self) -> String {
        serde_json::to_string(&self.jwks()).unwrap_or_else(|e| panic!("a JWKS serializes: {e}"))
    }

    fn header(&self) -> Header {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        header
    }

    /// Issues a token for `sub` with `scopes` (space separated in `scope`), valid from
    /// now for `ttl`: claims `iss`, `aud`, `sub`, `client_id` (= `sub`), `scope`, `iat`,
    /// `nbf`, `exp`.
    pub fn issue(&self, sub: &str, scopes: &[&str], ttl: Duration) -> String {
        self.issue_for_client(sub, sub, scopes, ttl)
    }

    /// Like [`TokenIssuer::issue`], with `client_id` naming the calling client (the
    /// usage plan's API key value).
    pub fn issue_for_client(
        &self,
        sub: &str,
        client_id: &str,
        scopes: &[&str],
        ttl: Duration,
    ) -> String {
        let now = unix_now();
        self.sign(&json!({
            "iss": self.issuer,
            "aud": self.audience,
            "sub": sub,
            "client_id": client_id,
            "scope": scopes.join(" "),
            "iat": now,
            "nbf": now,
            "exp": now.saturating_add(ttl.as_secs()),
        }))
    }

    /// Signs arbitrary claims with this key (tests use it for expired or foreign tokens).
    pub fn sign(&self, claims: &Value) -> String {
        encode(&self.header(), claims, &self.key)
            .unwrap_or_else(|e| panic!("signing with a checked key and JSON claims: {e}"))
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// RFC 7638 JWK thumbprint of a P-256 public key.
fn thumbprint(x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}
