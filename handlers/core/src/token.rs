//! Continuation tokens: opaque, HMAC-signed positions bound to the query they continue.
//!
//! Wire form: `base64url(payload JSON) "." base64url(HMAC-SHA256(key, payload JSON))`. The
//! payload holds the last position a page covered and a fingerprint of the query's filters, so
//! a token is refused when tampered with, signed with another key, or used with other filters.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use time::OffsetDateTime;

use crate::id::EventId;

/// Longest token accepted, in characters.
pub const MAX_TOKEN_LEN: usize = 1024;
const TOKEN_VERSION: u8 = 1;

/// A place in query order: events sort by timestamp, then event id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// The event timestamp (UTC).
    pub timestamp: OffsetDateTime,
    /// The event id.
    pub event_id: EventId,
}

/// Why a token is refused (all map to `invalid_token`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not two base64url parts, too long, or a payload that does not parse.
    #[error("the token is malformed")]
    Malformed,
    /// The signature does not match (tampered or another key).
    #[error("the token signature is invalid")]
    BadSignature,
    /// Signed by us, but for a query with other filters.
    #[error("the token belongs to a query with other filters")]
    OtherQuery,
}

/// A secret key for signing tokens (from `TOKEN_SIGNING_KEY`).
#[derive(Clone)]
pub struct TokenSigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSigner(<redacted>)")
    }
}

/// A digest of a query's filters (what a token is bound to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryFingerprint(pub [u8; 16]);

#[derive(Serialize, Deserialize)]
struct Payload {
    v: u8,
    /// Timestamp, nanoseconds since the epoch, as a string (beyond JSON's safe integers).
    t: String,
    id: EventId,
    q: String,
}

impl TokenSigner {
    /// A signer over `key` (any length; config requires at least 32 bytes).
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        Self { key: key.into() }
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!())
    }

    /// A token that continues the query `fingerprint` after `position`.
    pub fn encode(&self, position: Position, fingerprint: QueryFingerprint) -> String {
        let payload = Payload {
            v: TOKEN_VERSION,
            t: position.timestamp.unix_timestamp_nanos().to_string(),
            id: position.event_id,
            q: URL_SAFE_NO_PAD.encode(fingerprint.0),
        };
        let json = serde_json::to_vec(&payload).unwrap_or_default();
        let mut mac = self.mac();
        mac.update(&json);
        let sig = mac.finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&json),
            URL_SAFE_NO_PAD.encode(sig)
        )
    }

    /// Checks a token and returns the position it continues after.
    pub fn decode(
        &self,
        token: &str,
        fingerprint: QueryFingerprint,
    ) -> Result<Position, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let (body, sig) = token.split_once('.').ok_or(TokenError::Malformed)?;
        let json = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| TokenError::Malformed)?;
        let sig = URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|_| TokenError::Malformed)?;
        let mut mac = self.mac();
        mac.update(&json);
        mac.verify_slice(&sig)
            .map_err(|_| TokenError::BadSignature)?;
        let payload: Payload = serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)?;
        if payload.v != TOKEN_VERSION {
            return Err(TokenError::Malformed);
        }
        if payload.q != URL_SAFE_NO_PAD.encode(fingerprint.0) {
            return Err(TokenError::OtherQuery);
        }
        let nanos: i128 = payload.t.parse().map_err(|_| TokenError::Malformed)?;
        let timestamp =
            OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| TokenError::Malformed)?;
        Ok(Position {
            timestamp,
            event_id: payload.id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::IdempotencySource;
    use time::macros::datetime;

    fn position() -> Position {
        let timestamp = datetime!(2025-03-04 05:06:07.123456789 UTC);
        Position {
            timestamp,
            event_id: EventId::derive(timestamp, IdempotencySource::None).unwrap(),
        }
    }

    const Q: QueryFingerprint = QueryFingerprint([7; 16]);

    #[test]
    fn round_trip() {
        let s = TokenSigner::new(b"k".repeat(32));
        let p = position();
        assert_eq!(s.decode(&s.encode(p, Q), Q), Ok(p));
    }

    #[test]
    fn tampering_other_keys_and_other_queries_are_refused() {
        let s = TokenSigner::new(b"k".repeat(32));
        let token = s.encode(position(), Q);
        // Flip every character of the token in turn: each variant must be refused.
        for i in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let Ok(t) = String::from_utf8(bytes) else {
                continue;
            };
            if t == token {
                continue;
            }
            assert!(s.decode(&t, Q).is_err(), "accepted tampered token {t}");
        }
        let other = TokenSigner::new(b"x".repeat(32));
        assert_eq!(other.decode(&token, Q), Err(TokenError::BadSignature));
        assert_eq!(
            s.decode(&token, QueryFingerprint([8; 16])),
            Err(TokenError::OtherQuery)
        );
        for junk in ["", ".", "abc", "a.b.c", "%%%.%%%", &"a".repeat(2000)] {
            assert!(s.decode(junk, Q).is_err(), "{junk}");
        }
    }
}
