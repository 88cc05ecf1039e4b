//! The prefixes of the events bucket's key layout. The handlers build every key under these
//! (`callflow_core::layout`); the stack computes IAM scopes and lifecycle filters from them.

/// Prefix of all event objects: `events/YYYY/MM/DD/<eventId>.json`.
pub const EVENTS_PREFIX: &str = "events/";
/// Prefix of every index.
pub const INDEXES_PREFIX: &str = "metadata/indexes/";
/// Prefix of the by-call index, under [`INDEXES_PREFIX`].
pub const CALL_INDEX_PREFIX: &str = "metadata/indexes/by-call/";
/// Prefix of the by-type index (type, direction and keyed party digests in each key name),
/// under [`INDEXES_PREFIX`].
pub const TYPE_INDEX_PREFIX: &str = "metadata/indexes/by-type/";
/// Prefix of the idempotency records (the storer reads and writes them; nothing else does).
pub const IDEMPOTENCY_PREFIX: &str = "metadata/idempotency/";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_nest_and_records_stay_outside_the_read_scopes() {
        assert!(CALL_INDEX_PREFIX.starts_with(INDEXES_PREFIX));
        assert!(TYPE_INDEX_PREFIX.starts_with(INDEXES_PREFIX));
        assert!(!TYPE_INDEX_PREFIX.starts_with(CALL_INDEX_PREFIX));
        for p in [EVENTS_PREFIX, INDEXES_PREFIX] {
            assert!(!IDEMPOTENCY_PREFIX.starts_with(p) && !p.starts_with(IDEMPOTENCY_PREFIX));
        }
        for p in [
            EVENTS_PREFIX,
            INDEXES_PREFIX,
            CALL_INDEX_PREFIX,
            TYPE_INDEX_PREFIX,
            IDEMPOTENCY_PREFIX,
        ] {
            assert!(p.ends_with('/'), "{p}");
        }
    }
}
