//! Event ids: UUIDv7 whose timestamp bits come from the event timestamp, so that the S3 key
//! (see [`crate::layout`]) follows from the id alone and keys within a day sort by time.
//!
//! The 74 random bits are either random or, for idempotent requests, the first bits of a
//! SHA-256 over the idempotency source: a retry then maps to the same id and the conditional
//! PUT dedupes it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::model::{CallId, Principal};

/// Why a string is not an event id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEventId {
    /// Not a UUID at all.
    #[error("{0:?} is not a UUID")]
    NotUuid(String),
    /// A UUID of another version.
    #[error("{value:?} is a version {version} UUID, event ids are UUIDv7")]
    WrongVersion {
        /// The input.
        value: String,
        /// Its version number.
        version: usize,
    },
}

/// Why an event timestamp cannot carry an event id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("timestamp must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z")]
pub struct TimestampOutOfRange;

/// A server-assigned event id (UUIDv7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EventId(Uuid);

/// A client-chosen `Idempotency-Key` header value: 1..=128 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Parses a header value.
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.is_empty() || value.len() > 128 {
            return Err("Idempotency-Key must be 1 to 128 characters".into());
        }
        if !value.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
            return Err("Idempotency-Key must be printable ASCII".into());
        }
        Ok(Self(value.to_owned()))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What makes two submissions "the same event" for idempotency.
#[derive(Debug, Clone, Copy)]
pub enum IdempotencySource<'a> {
    /// An `Idempotency-Key` header, scoped to the caller so two clients cannot collide.
    Key {
        /// The caller.
        principal: &'a Principal,
        /// The header value.
        key: &'a IdempotencyKey,
    },
    /// `callId` + `sequence` from the event body.
    CallSequence {
        /// The call.
        call_id: &'a CallId,
        /// The event's sequence number in the call.
        sequence: u64,
    },
    /// Not idempotent: random bits.
    None,
}

impl<'a> IdempotencySource<'a> {
    fn digest(&self) -> Option<[u8; 10]> {
        let out = match self {
            IdempotencySource::Key { principal, key } => tagged_sha256(&[
                b"callflow/event-id/v1/idempotency-key",
                principal.as_str().as_bytes(),
                key.as_str().as_bytes(),
            ]),
            IdempotencySource::CallSequence { call_id, sequence } => tagged_sha256(&[
                b"callflow/event-id/v1/call-sequence",
                call_id.as_str().as_bytes(),
                &sequence.to_be_bytes(),
            ]),
            IdempotencySource::None => return None,
        };
        let mut bytes = [0u8; 10];
        bytes.copy_from_slice(&out[..10]);
        Some(bytes)
    }
}

/// SHA-256 over length-prefixed fields, the first a domain tag: no two kinds of input share
/// an encoding. Event ids and idempotency record keys are derived with it.
pub(crate) fn tagged_sha256(fields: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for field in fields {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field);
    }
    h.finalize().into()
}

/// Milliseconds since the Unix epoch, or an error outside the UUIDv7 / 4-digit-year range.
pub fn unix_millis(ts: OffsetDateTime) -> Result<u64, TimestampOutOfRange> {
    let year = ts.to_offset(time::UtcOffset::UTC).year();
    if !(1970..=9999).contains(&year) {
        return Err(TimestampOutOfRange);
    }
    u64::try_from(ts.unix_timestamp_nanos() / 1_000_000).map_err(|_| TimestampOutOfRange)
}

impl EventId {
    /// Derives the id of an event that happened at `timestamp`.
    pub fn derive(
        timestamp: OffsetDateTime,
        source: IdempotencySource<'_>,
    ) -> Result<Self, TimestampOutOfRange> {
        let millis = unix_millis(timestamp)?;
        let uuid = match source.digest() {
            Some(bytes) => uuid::Builder::from_unix_timestamp_millis(millis, &bytes).into_uuid(),
            None => Uuid::new_v7(uuid::Timestamp::from_unix(
                uuid::NoContext,
                millis / 1000,
                u32::try_from((millis % 1000) * 1_000_000).unwrap_or(0),
            )),
        };
        Ok(Self(uuid))
    }

    /// Parses an id from a path or key; must be a UUIDv7.
    pub fn parse(value: &str) -> Result<Self, InvalidEventId> {
        let uuid = Uuid::try_parse(value).map_err(|_| InvalidEventId::NotUuid(value.to_owned()))?;
        match uuid.get_version_num() {
            7 => Ok(Self(uuid)),
            version => Err(InvalidEventId::WrongVersion {
                value: value.to_owned(),
                version,
            }),
        }
    }

    /// The id's timestamp in milliseconds since the epoch (the event time, truncated).
    pub fn unix_millis(&self) -> u64 {
        let b = self.0.as_bytes();
        b[..6]
            .iter()
            .fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
    }

    /// The id's timestamp (millisecond precision, UTC).
    pub fn time(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.unix_millis()) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// The largest id of a millisecond: every id of `millis` sorts at or before it. `None`
    /// past the 48-bit range.
    pub fn last_of_millisecond(millis: u64) -> Option<Self> {
        (millis < 1 << 48).then(|| {
            Self(uuid::Builder::from_unix_timestamp_millis(millis, &[0xff; 10]).into_uuid())
        })
    }

    /// The UUID.
    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl std::fmt::Display for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl TryFrom<String> for EventId {
    type Error = InvalidEventId;
    fn try_from(value: String) -> Result<Self, InvalidEventId> {
        Self::parse(&value)
    }
}

impl From<EventId> for String {
    fn from(id: EventId) -> String {
        id.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn principal() -> Principal {
        Principal::new("client-a").unwrap()
    }

    #[test]
    fn id_carries_the_event_time() {
        let ts = datetime!(2025-03-04 05:06:07.891234 UTC);
        let id = EventId::derive(ts, IdempotencySource::None).unwrap();
        assert_eq!(id.unix_millis(), 1_741_064_767_891);
        assert_eq!(id.as_uuid().get_version_num(), 7);
        assert_eq!(EventId::parse(&id.to_string()).unwrap(), id);
    }

    #[test]
    fn idempotent_sources_give_the_same_id_and_random_ones_do_not() {
        let ts = datetime!(2025-03-04 05:06:07 UTC);
        let p = principal();
        let key = IdempotencyKey::parse("retry-1").unwrap();
        let a = EventId::derive(
            ts,
            IdempotencySource::Key {
                principal: &p,
                key: &key,
            },
        );
        let b = EventId::derive(
            ts,
            IdempotencySource::Key {
                principal: &p,
                key: &key,
            },
        );
        assert_eq!(a, b);
        let other = Principal::new("client-b").unwrap();
        let c = EventId::derive(
            ts,
            IdempotencySource::Key {
                principal: &other,
                key: &key,
            },
        );
        assert_ne!(a, c, "idempotency keys are scoped per principal");
        let call = CallId::parse("CA1").unwrap();
        let s1 = EventId::derive(
            ts,
            IdempotencySource::CallSequence {
                call_id: &call,
                sequence: 1,
            },
        );
        let s2 = EventId::derive(
            ts,
            IdempotencySource::CallSequence {
                call_id: &call,
                sequence: 2,
            },
        );
        assert_ne!(s1, s2);
        let r1 = EventId::derive(ts, IdempotencySource::None);
        let r2 = EventId::derive(ts, IdempotencySource::None);
        assert_ne!(r1, r2);
    }

    #[test]
    fn string_order_is_time_order() {
        let early = EventId::derive(
            datetime!(2025-03-04 05:06:07.001 UTC),
            IdempotencySource::None,
        )
        .unwrap();
        let late = EventId::derive(
            datetime!(2025-03-04 05:06:07.002 UTC),
            IdempotencySource::None,
        )
        .unwrap();
        assert!(early.to_string() < late.to_string());
    }

    #[test]
    fn rejects_non_v7_and_out_of_range() {
        assert!(matches!(
            EventId::parse("00000000-0000-4000-8000-000000000000"),
            Err(InvalidEventId::WrongVersion { version: 4, .. })
        ));
        assert!(matches!(
            EventId::parse("nope"),
            Err(InvalidEventId::NotUuid(_))
        ));
        assert!(
            EventId::derive(datetime!(1969-12-31 23:59:59 UTC), IdempotencySource::None).is_err()
        );
    }
}
