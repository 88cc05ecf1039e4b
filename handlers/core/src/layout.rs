//! The bucket layout: where events and index entries live. The one source of every key.
//!
//! - `events/YYYY/MM/DD/<eventId>.json`: the event, date from the id's (UTC) timestamp, so a
//!   get by id is one GET and a date range lists only its days. UUIDv7 strings sort by time.
//! - `metadata/indexes/by-call/<escaped callId>/<eventId>`: an empty object per event, so a
//!   query by call lists only that call's entries.
//! - `metadata/indexes/by-type/YYYY/MM/DD/<eventType>/<eventId>.<direction>.<from>.<to>`: an
//!   empty object per event naming what the filters ask about (see [`crate::index`]), so a
//!   filtered query lists keys and reads only matching events.
//! - `metadata/idempotency/{key|call-sequence}/<sha256 hex>`: one record per claimed
//!   idempotency key or call sequence number (see [`crate::idempotency`]), expired by the
//!   bucket's lifecycle rule after the idempotency window.

use time::{Date, OffsetDateTime};

use crate::id::EventId;
use crate::index::EntryName;
use crate::model::{CallId, EventType};

pub use callflow_deployment::key_layout::{
    CALL_INDEX_PREFIX, EVENTS_PREFIX, IDEMPOTENCY_PREFIX, INDEXES_PREFIX, TYPE_INDEX_PREFIX,
};

/// Which kind of claim an idempotency record is for: one folder each under
/// [`IDEMPOTENCY_PREFIX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimKind {
    /// An `Idempotency-Key` header of a principal.
    Key,
    /// A call's `sequence` number.
    CallSequence,
}

impl ClaimKind {
    /// The folder name, `key` or `call-sequence`.
    pub const fn folder(self) -> &'static str {
        match self {
            ClaimKind::Key => "key",
            ClaimKind::CallSequence => "call-sequence",
        }
    }
}

/// The key of an idempotency record: `metadata/idempotency/<kind>/<digest as hex>`.
pub fn idempotency_record_key(kind: ClaimKind, digest: &[u8; 32]) -> String {
    let mut key = format!("{IDEMPOTENCY_PREFIX}{}/", kind.folder());
    for b in digest {
        key.push_str(&format!("{b:02x}"));
    }
    key
}

/// The object key of an event.
pub fn event_key(id: &EventId) -> String {
    format!("{}{id}.json", day_prefix(id.time().date()))
}

/// The listing prefix of one UTC day, `events/YYYY/MM/DD/`.
pub fn day_prefix(day: Date) -> String {
    format!("{EVENTS_PREFIX}{}/", day_path(day))
}

/// `YYYY/MM/DD`.
fn day_path(day: Date) -> String {
    format!(
        "{:04}/{:02}/{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

/// The by-type index folder of one UTC day, `metadata/indexes/by-type/YYYY/MM/DD/`: its
/// type folders are listed with the delimiter `/`.
pub fn type_index_day_prefix(day: Date) -> String {
    format!("{TYPE_INDEX_PREFIX}{}/", day_path(day))
}

/// The listing prefix of one type's by-type entries of one day.
pub fn type_index_prefix(day: Date, event_type: &EventType) -> String {
    format!("{}{event_type}/", type_index_day_prefix(day))
}

/// The by-type index entry key of an event.
pub fn type_index_key(event_type: &EventType, entry: &EntryName) -> String {
    format!(
        "{}{entry}",
        type_index_prefix(entry.event_id.time().date(), event_type)
    )
}

/// The id in an event key, if the key is one.
pub fn event_id_from_event_key(key: &str) -> Option<EventId> {
    let name = key.strip_prefix(EVENTS_PREFIX)?.rsplit('/').next()?;
    EventId::parse(name.strip_suffix(".json")?).ok()
}

/// Escapes a call id for use as one key segment: everything but `[A-Za-z0-9_-]` as `%XX`.
pub fn escape_call_id(call_id: &CallId) -> String {
    let mut out = String::with_capacity(call_id.as_str().len());
    for b in call_id.as_str().bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The listing prefix of one call's index entries.
pub fn call_index_prefix(call_id: &CallId) -> String {
    format!("{CALL_INDEX_PREFIX}{}/", escape_call_id(call_id))
}

/// The index entry key of an event of a call.
pub fn call_index_key(call_id: &CallId, id: &EventId) -> String {
    format!("{}{id}", call_index_prefix(call_id))
}

/// The id in an index entry key under `prefix`.
pub fn event_id_from_index_key(prefix: &str, key: &str) -> Option<EventId> {
    EventId::parse(key.strip_prefix(prefix)?).ok()
}

/// A `start-after` value for listing `prefix` so that only ids at or after `millis` follow:
/// the first 48 bits of a UUIDv7 are its millisecond timestamp, written `xxxxxxxx-xxxx`.
pub fn start_after_millis(prefix: &str, millis: u64) -> String {
    format!("{prefix}{:08x}-{:04x}", millis >> 16, millis & 0xffff)
}

/// The UTC day of an instant.
pub fn utc_day(t: OffsetDateTime) -> Date {
    t.to_offset(time::UtcOffset::UTC).date()
}

/// The UTC days a range `start..end` touches, in order (`end` is exclusive: a range ending at
/// midnight does not need that day).
pub fn utc_days(start: OffsetDateTime, end: OffsetDateTime) -> impl Iterator<Item = Date> {
    let last = utc_day(end - time::Duration::nanoseconds(1));
    std::iter::successors(Some(utc_day(start)), |d| d.next_day()).take_while(move |d| *d <= last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::IdempotencySource;
    use time::macros::datetime;

    #[test]
    fn keys_follow_from_the_id() {
        let id = EventId::derive(
            datetime!(2025-03-04 23:59:59.999 -01:00),
            IdempotencySource::None,
        )
        .unwrap();
        let key = event_key(&id);
        assert_eq!(
            key,
            format!("events/2025/03/05/{id}.json"),
            "the day is the UTC day"
        );
        assert_eq!(event_id_from_event_key(&key), Some(id));
        let call = CallId::parse("CA.1:x@y").unwrap();
        assert_eq!(
            call_index_prefix(&call),
            "metadata/indexes/by-call/CA%2E1%3Ax%40y/"
        );
        let ik = call_index_key(&call, &id);
        assert_eq!(
            event_id_from_index_key(&call_index_prefix(&call), &ik),
            Some(id)
        );
    }

    #[test]
    fn type_index_keys_sort_by_id_under_their_day_and_type() {
        let t = datetime!(2025-03-04 23:59:59.999 UTC);
        let id = EventId::derive(t, IdempotencySource::None).unwrap();
        let kind = EventType::parse("call.ended").unwrap();
        let entry = EntryName {
            event_id: id,
            direction: None,
            from: None,
            to: None,
        };
        let key = type_index_key(&kind, &entry);
        assert_eq!(
            key,
            format!("metadata/indexes/by-type/2025/03/04/call.ended/{id}.-.-.-")
        );
        let prefix = type_index_prefix(utc_day(t), &kind);
        assert!(key.starts_with(&prefix));
        assert!(key > start_after_millis(&prefix, id.unix_millis()));
    }

    #[test]
    fn a_range_touches_its_days_and_not_the_midnight_it_ends_at() {
        let days = |a, b| utc_days(a, b).map(|d| d.to_string()).collect::<Vec<_>>();
        assert_eq!(
            days(
                datetime!(2025-02-27 23:00 -02:00),
                datetime!(2025-03-02 00:00 UTC)
            ),
            ["2025-02-28", "2025-03-01"]
        );
        assert_eq!(
            days(
                datetime!(2025-03-01 05:00 UTC),
                datetime!(2025-03-01 05:00:00.001 UTC)
            ),
            ["2025-03-01"]
        );
    }

    #[test]
    fn start_after_splits_at_the_millisecond() {
        let t = datetime!(2025-03-04 05:06:07.500 UTC);
        let at = EventId::derive(t, IdempotencySource::None).unwrap();
        let before = EventId::derive(
            datetime!(2025-03-04 05:06:07.499 UTC),
            IdempotencySource::None,
        )
        .unwrap();
        let sa = start_after_millis("p/", at.unix_millis());
        assert!(format!("p/{at}") > sa);
        assert!(format!("p/{before}") < sa);
    }
}
