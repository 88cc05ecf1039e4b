//! The by-type index: one empty object per event whose key carries everything a filter asks
//! about, so a filtered query lists keys and reads only the events that match.
//!
//! `metadata/indexes/by-type/YYYY/MM/DD/<eventType>/<eventId>.<direction>.<from>.<to>`
//!
//! - the day is the event id's UTC day (as for `events/`), so a time range lists only its days;
//! - `<eventType>` is a folder: a query for one type lists only that type's entries, a query
//!   without one lists the day's types (one delimiter LIST) and merges their entries by id;
//! - `<direction>` is `inbound`, `outbound`, `internal` or `-`;
//! - `<from>` and `<to>` are [`PartyDigest`]s: 16 hex digits of HMAC-SHA256 under the
//!   deployment's [`IndexKey`] (`INDEX_HASH_KEY`), or `-`. Phone numbers never appear in clear
//!   in key names, which show up in S3 inventory, access logs and CloudTrail; without the key
//!   the digests cannot be computed from a list of candidate numbers.
//!
//! A digest names 64 bits: two addresses may share one, so a query re-checks every event it
//! reads against the whole filter; a collision costs one GET, never a wrong result.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::id::EventId;
use crate::model::{Direction, PartyAddress, StoredEvent};
use crate::query::EventFilter;

/// Shortest accepted `INDEX_HASH_KEY`, in bytes.
pub const MIN_INDEX_KEY_LEN: usize = 32;

/// Domain tag of party digests: no other HMAC under the key shares their input encoding.
const PARTY_TAG: &[u8] = b"callflow/index/party/v1\0";

/// The secret key of the index's party digests (from `INDEX_HASH_KEY`).
///
/// It must stay the same for the life of the data: entries written under one key are not
/// found with another (rotate it only together with a [backfill](crate::store::EventStore::backfill)
/// of the whole retention period).
#[derive(Clone)]
pub struct IndexKey {
    key: Vec<u8>,
}

impl std::fmt::Debug for IndexKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IndexKey(<redacted>)")
    }
}

/// A key shorter than [`MIN_INDEX_KEY_LEN`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be at least {MIN_INDEX_KEY_LEN} bytes, got {0}")]
pub struct IndexKeyTooShort(pub usize);

impl IndexKey {
    /// A key over `bytes` (at least [`MIN_INDEX_KEY_LEN`] of them).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, IndexKeyTooShort> {
        let key = bytes.into();
        if key.len() < MIN_INDEX_KEY_LEN {
            return Err(IndexKeyTooShort(key.len()));
        }
        Ok(Self { key })
    }

    /// The digest of a party address.
    pub fn digest(&self, address: &PartyAddress) -> PartyDigest {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!());
        mac.update(PARTY_TAG);
        mac.update(address.as_str().as_bytes());
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; 8];
        out.copy_from_slice(&full[..8]);
        PartyDigest(out)
    }
}

/// A keyed digest of a party address, written as 16 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartyDigest([u8; 8]);

impl PartyDigest {
    /// Parses 16 lowercase hex digits.
    pub fn parse(hex: &str) -> Option<Self> {
        if hex.len() != 16 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        let mut out = [0u8; 8];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Self(out))
    }
}

impl std::fmt::Display for PartyDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// What an index entry's name says about its event, besides the type folder it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryName {
    /// The event.
    pub event_id: EventId,
    /// Its direction.
    pub direction: Option<Direction>,
    /// Digest of its `from`.
    pub from: Option<PartyDigest>,
    /// Digest of its `to`.
    pub to: Option<PartyDigest>,
}

const ABSENT: &str = "-";

impl EntryName {
    /// The entry of a stored event.
    pub fn of(event: &StoredEvent, key: &IndexKey) -> Self {
        let e = &event.event;
        Self {
            event_id: event.event_id,
            direction: e.direction,
            from: e.from.as_ref().map(|a| key.digest(a)),
            to: e.to.as_ref().map(|a| key.digest(a)),
        }
    }

    /// Parses the last segment of an entry key, `<eventId>.<direction>.<from>.<to>`.
    pub fn parse(name: &str) -> Option<Self> {
        let mut parts = name.split('.');
        let event_id = EventId::parse(parts.next()?).ok()?;
        let direction = match parts.next()? {
            ABSENT => None,
            d => Some(Direction::parse(d)?),
        };
        let digest = |p: Option<&str>| match p? {
            ABSENT => Some(None),
            hex => PartyDigest::parse(hex).map(Some),
        };
        let from = digest(parts.next())?;
        let to = digest(parts.next())?;
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            event_id,
            direction,
            from,
            to,
        })
    }
}

impl std::fmt::Display for EntryName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}.{}.",
            self.event_id,
            self.direction.map_or(ABSENT, Direction::as_str)
        )?;
        match self.from {
            Some(d) => write!(f, "{d}.")?,
            None => write!(f, "{ABSENT}.")?,
        }
        match self.to {
            Some(d) => write!(f, "{d}"),
            None => f.write_str(ABSENT),
        }
    }
}

/// The part of a query's filter an entry name can answer without reading the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EntryFilter {
    direction: Option<Direction>,
    from: Option<PartyDigest>,
    to: Option<PartyDigest>,
}

impl EntryFilter {
    /// The name-level part of `filter`, digests under `key`.
    pub fn of(filter: &EventFilter, key: &IndexKey) -> Self {
        Self {
            direction: filter.direction,
            from: filter.from_number.as_ref().map(|a| key.digest(a)),
            to: filter.to_number.as_ref().map(|a| key.digest(a)),
        }
    }

    /// Whether an entry may belong to a matching event (digests can collide: read to be sure).
    pub fn admits(&self, entry: &EntryName) -> bool {
        self.direction.is_none_or(|d| entry.direction == Some(d))
            && self.from.is_none_or(|d| entry.from == Some(d))
            && self.to.is_none_or(|d| entry.to == Some(d))
    }
}

/// Whether a query should be answered from the by-type index: it names no call (the by-call
/// index is smaller) and filters by something an entry records.
pub fn serves(filter: &EventFilter) -> bool {
    filter.call_id.is_none()
        && (filter.event_type.is_some()
            || filter.direction.is_some()
            || filter.from_number.is_some()
            || filter.to_number.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::IdempotencySource;
    use time::macros::datetime;

    fn key() -> IndexKey {
        IndexKey::new(b"index-key-for-tests-32-bytes-min".to_vec()).unwrap()
    }

    #[test]
    fn names_round_trip_and_hide_the_numbers() {
        let id =
            EventId::derive(datetime!(2025-03-04 05:06:07 UTC), IdempotencySource::None).unwrap();
        let from = PartyAddress::parse("+14155550100").unwrap();
        for (direction, from, to) in [
            (Some(Direction::Inbound), Some(key().digest(&from)), None),
            (None, None, None),
            (Some(Direction::Internal), None, Some(key().digest(&from))),
        ] {
            let name = EntryName {
                event_id: id,
                direction,
                from,
                to,
            };
            let text = name.to_string();
            assert!(!text.contains("4155550100"), "{text}");
            assert_eq!(EntryName::parse(&text), Some(name), "{text}");
        }
        for bad in [
            "x.-.-.-",
            &format!("{id}.up.-.-"),
            &format!("{id}.-.-"),
            &format!("{id}.-.-.-.-"),
            &format!("{id}.-.0123.-"),
            &format!("{id}.-.0123456789ABCDEF.-"),
        ] {
            assert_eq!(EntryName::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn digests_depend_on_the_key_and_the_address() {
        let a = PartyAddress::parse("+14155550100").unwrap();
        let b = PartyAddress::parse("+14155550101").unwrap();
        let other = IndexKey::new(vec![7u8; 32]).unwrap();
        assert_eq!(key().digest(&a), key().digest(&a));
        assert_ne!(key().digest(&a), key().digest(&b));
        assert_ne!(key().digest(&a), other.digest(&a));
        assert_eq!(
            IndexKey::new(vec![0u8; 31]).unwrap_err(),
            IndexKeyTooShort(31)
        );
        assert_eq!(format!("{:?}", key()), "IndexKey(<redacted>)");
    }
}
