//! Idempotency that holds whatever the body: request fingerprints, idempotency claims and the
//! record each claim is written as.
//!
//! A keyed request (an `Idempotency-Key` header, or `callId` + `sequence` without one) *claims*
//! its key by writing a record under [`crate::layout::IDEMPOTENCY_PREFIX`] with
//! `If-None-Match: *` before the event itself. The record holds the whole event the first
//! request stored, so:
//! - a repeat whose [`Fingerprint`] matches gets the stored event back (200), even when the
//!   client re-stamped its `timestamp` (the fingerprint leaves it out);
//! - a repeat whose fingerprint differs is a conflict and writes nothing;
//! - a first request that died between the record and the event is completed by its retry
//!   with exactly the event the record holds.
//!
//! Records expire with the bucket's lifecycle rule on that prefix: that is the idempotency
//! window the contract states (`x-callflow-idempotency-window-days` in `openapi.yaml`, from
//! which the stack derives the rule).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::id::{IdempotencyKey, IdempotencySource, tagged_sha256};
use crate::layout;
use crate::model::{CallEvent, CallId, Principal, StoredEvent};

/// A SHA-256 over the canonical JSON of an event without its `timestamp`.
///
/// Canonical: object keys sorted at every level, no insignificant white space, numbers as
/// `serde_json` writes them. `timestamp` is left out because clients commonly build the event
/// when they send it, so a retry carries a fresh clock reading; everything else (call, type,
/// direction, parties, sequence, attributes, payload) must match for a repeat to be a retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The fingerprint of `event`.
    ///
    /// ```
    /// use callflow_core::idempotency::Fingerprint;
    /// use callflow_core::validate::validate_event;
    ///
    /// let a = validate_event(&serde_json::json!({"callId": "c", "eventType": "call.ended",
    ///     "timestamp": "2026-11-01T12:00:00Z", "attributes": {"a": "1", "b": "2"}})).unwrap();
    /// let restamped = validate_event(&serde_json::json!({"attributes": {"b": "2", "a": "1"},
    ///     "timestamp": "2026-11-01T12:00:09Z", "eventType": "call.ended", "callId": "c"})).unwrap();
    /// assert_eq!(Fingerprint::of(&a), Fingerprint::of(&restamped));
    /// ```
    pub fn of(event: &CallEvent) -> Self {
        let mut value = serde_json::to_value(event).unwrap_or(serde_json::Value::Null);
        if let serde_json::Value::Object(fields) = &mut value {
            fields.remove("timestamp");
        }
        let mut canonical = Vec::with_capacity(256);
        write_canonical(&value, &mut canonical);
        Self(Sha256::digest(&canonical).into())
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("sha256:")?;
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// Writes `value` as canonical JSON: sorted keys, no white space.
fn write_canonical(value: &serde_json::Value, out: &mut Vec<u8>) {
    use serde_json::Value;
    match value {
        Value::Object(fields) => {
            let mut entries: Vec<_> = fields.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_scalar(key.as_str(), out);
                out.push(b':');
                write_canonical(v, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(v, out);
            }
            out.push(b']');
        }
        scalar => write_scalar(scalar, out),
    }
}

fn write_scalar<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) {
    // Writing a string or a scalar JSON value into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
}

/// What a keyed request claims: the idempotency key of a principal, or a call's sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// An `Idempotency-Key`, scoped to the principal that sent it.
    Key {
        /// Who sent it.
        principal: Principal,
        /// The header value.
        key: IdempotencyKey,
    },
    /// `callId` + `sequence` (without a key): one event per sequence number of a call, whoever
    /// sends it.
    CallSequence {
        /// The call.
        call_id: CallId,
        /// The sequence number.
        sequence: u64,
    },
}

impl IdempotencyClaim {
    /// The claim a request makes, per the contract: the header, else `callId` + `sequence`,
    /// else none (the event gets a random id and nothing to dedupe against).
    pub fn of_request(
        principal: &Principal,
        key: Option<&IdempotencyKey>,
        event: &CallEvent,
    ) -> Option<Self> {
        match (key, event.sequence) {
            (Some(key), _) => Some(Self::Key {
                principal: principal.clone(),
                key: key.clone(),
            }),
            (None, Some(sequence)) => Some(Self::CallSequence {
                call_id: event.call_id.clone(),
                sequence,
            }),
            (None, None) => None,
        }
    }

    /// The id-derivation source of this claim (the first request's event id).
    pub fn id_source(&self) -> IdempotencySource<'_> {
        match self {
            Self::Key { principal, key } => IdempotencySource::Key { principal, key },
            Self::CallSequence { call_id, sequence } => IdempotencySource::CallSequence {
                call_id,
                sequence: *sequence,
            },
        }
    }

    /// The key of this claim's record. Neither the principal nor the key nor the call id
    /// appears in it: keys show up in inventories, access logs and CloudTrail.
    pub fn record_key(&self) -> String {
        let (kind, digest) = match self {
            Self::Key { principal, key } => (
                layout::ClaimKind::Key,
                tagged_sha256(&[
                    b"callflow/idempotency-record/v1/key",
                    principal.as_str().as_bytes(),
                    key.as_str().as_bytes(),
                ]),
            ),
            Self::CallSequence { call_id, sequence } => (
                layout::ClaimKind::CallSequence,
                tagged_sha256(&[
                    b"callflow/idempotency-record/v1/call-sequence",
                    call_id.as_str().as_bytes(),
                    &sequence.to_be_bytes(),
                ]),
            ),
        };
        layout::idempotency_record_key(kind, &digest)
    }
}

/// The object written under a claim's [`IdempotencyClaim::record_key`]: the event the first
/// request stores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyRecord {
    /// Format version of the record (1).
    pub version: u32,
    /// The event the claim stores.
    pub event: StoredEvent,
}

impl IdempotencyRecord {
    /// The current record format.
    pub const VERSION: u32 = 1;

    /// A record of `event`.
    pub fn new(event: StoredEvent) -> Self {
        Self {
            version: Self::VERSION,
            event,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::validate_event;
    use serde_json::json;

    fn event(v: serde_json::Value) -> CallEvent {
        validate_event(&v).expect("valid")
    }

    #[test]
    fn fingerprint_ignores_timestamp_and_key_order_but_nothing_else() {
        let base = json!({"callId": "c-1", "eventType": "call.answered",
            "timestamp": "2026-11-01T12:00:00Z", "sequence": 3,
            "payload": {"x": [1, 2.5, {"b": true, "a": null}]}});
        let fp = Fingerprint::of(&event(base.clone()));
        let mut restamped = base.clone();
        restamped["timestamp"] = json!("2026-11-01T13:00:00.123+01:00");
        assert_eq!(Fingerprint::of(&event(restamped)), fp);
        let reordered = json!({"payload": {"x": [1, 2.5, {"a": null, "b": true}]},
            "sequence": 3, "timestamp": "2026-11-01T12:00:00Z",
            "eventType": "call.answered", "callId": "c-1"});
        assert_eq!(Fingerprint::of(&event(reordered)), fp);
        for (field, other) in [
            ("callId", json!("c-2")),
            ("eventType", json!("call.ended")),
            ("sequence", json!(4)),
            ("direction", json!("inbound")),
            ("payload", json!({"x": [1, 2.5, {"b": false, "a": null}]})),
        ] {
            let mut changed = base.clone();
            changed[field] = other;
            assert_ne!(Fingerprint::of(&event(changed)), fp, "{field}");
        }
    }

    #[test]
    fn record_keys_are_hashed_scoped_and_distinct_per_kind() {
        let a = Principal::new("client-a").unwrap();
        let b = Principal::new("client-b").unwrap();
        let key = IdempotencyKey::parse("order-7").unwrap();
        let ka = IdempotencyClaim::Key {
            principal: a.clone(),
            key: key.clone(),
        }
        .record_key();
        let kb = IdempotencyClaim::Key {
            principal: b,
            key: key.clone(),
        }
        .record_key();
        assert_ne!(ka, kb, "keys are per principal");
        assert!(ka.starts_with(layout::IDEMPOTENCY_PREFIX));
        assert!(!ka.contains("order-7") && !ka.contains("client-a"));
        let call = CallId::parse("order-7").unwrap();
        let seq = IdempotencyClaim::CallSequence {
            call_id: call,
            sequence: 7,
        }
        .record_key();
        assert_ne!(seq, ka);
        assert!(!seq.contains("order-7"));
    }

    #[test]
    fn claims_follow_the_contract() {
        let p = Principal::new("p").unwrap();
        let key = IdempotencyKey::parse("k").unwrap();
        let with_seq = event(json!({"callId": "c", "eventType": "call.ended",
            "timestamp": "2026-11-01T12:00:00Z", "sequence": 1}));
        let without = event(json!({"callId": "c", "eventType": "call.ended",
            "timestamp": "2026-11-01T12:00:00Z"}));
        assert!(matches!(
            IdempotencyClaim::of_request(&p, Some(&key), &with_seq),
            Some(IdempotencyClaim::Key { .. })
        ));
        assert!(matches!(
            IdempotencyClaim::of_request(&p, None, &with_seq),
            Some(IdempotencyClaim::CallSequence { sequence: 1, .. })
        ));
        assert_eq!(IdempotencyClaim::of_request(&p, None, &without), None);
    }
}
