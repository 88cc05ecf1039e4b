//! The `Authorization` header value: `Bearer <JWT>`, checked for shape before any crypto.

use std::fmt;

use sha2::{Digest, Sha256};

/// Largest accepted token, in bytes. API Gateway accepts 10 KiB headers; real tokens
/// are well below 8 KiB, and anything bigger is refused before it is parsed.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Why a header value is not a usable bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BearerError {
    /// The header is absent or empty.
    #[error("missing Authorization header")]
    Missing,
    /// The value does not start with the `Bearer ` scheme.
    #[error("not a Bearer credential")]
    NotBearer,
    /// The token is longer than [`MAX_TOKEN_BYTES`].
    #[error("token longer than {MAX_TOKEN_BYTES} bytes")]
    Oversized,
    /// The token is not three non-empty base64url parts.
    #[error("token is not a compact JWS")]
    Malformed,
}

/// A compact JWS taken from `Authorization: Bearer <token>`: three non-empty base64url
/// parts, at most [`MAX_TOKEN_BYTES`]. Its `Debug` and `Display` never show the token.
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken(String);

impl BearerToken {
    /// Parses a header value. The scheme is matched case-insensitively (RFC 9110).
    pub fn from_header(value: Option<&str>) -> Result<Self, BearerError> {
        let value = value.map(str::trim).filter(|v| !v.is_empty());
        let value = value.ok_or(BearerError::Missing)?;
        let (scheme, token) = value.split_once(' ').ok_or(BearerError::NotBearer)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(BearerError::NotBearer);
        }
        let token = token.trim_start();
        if token.len() > MAX_TOKEN_BYTES {
            return Err(BearerError::Oversized);
        }
        let parts: Vec<&str> = token.split('.').collect();
        let base64url = |part: &str| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if parts.len() != 3 || !parts.iter().all(|p| base64url(p)) {
            return Err(BearerError::Malformed);
        }
        Ok(Self(token.to_owned()))
    }

    /// The token text, for verification only: never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A short, non-reversible fingerprint for logs.
    pub fn fingerprint(&self) -> TokenFingerprint {
        TokenFingerprint::of(&self.0)
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BearerToken({})", self.fingerprint())
    }
}

/// The first 8 bytes of SHA-256 of a token, hex: correlates log lines of one token
/// without revealing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenFingerprint([u8; 8]);

impl TokenFingerprint {
    /// Fingerprints arbitrary header text (also used for malformed tokens).
    pub fn of(text: &str) -> Self {
        let digest = Sha256::digest(text.as_bytes());
        let mut out = [0u8; 8];
        out.copy_from_slice(&digest[..8]);
        Self(out)
    }
}

impl fmt::Display for TokenFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}
