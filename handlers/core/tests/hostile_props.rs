//! Hostile input, as properties over generated input (the stable-toolchain twins of the
//! `fuzz/` targets `event_parse` and `continuation_token`):
//! - event parsing never panics, fails only with `malformed_json` / `validation_failed`
//!   (each problem with a JSON path), and an accepted event round-trips;
//! - a continuation token the signer did not make is always refused, one it made decodes to
//!   its position for its own query and key only, and any changed byte is refused.

use callflow_core::token::QueryFingerprint;
use callflow_core::validate::parse_event;
use callflow_core::{
    CallEvent, CallId, ErrorCode, EventId, IdempotencySource, Position, TokenError, TokenSigner,
};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

/// Checks one body against the parsing properties.
fn check_body(body: &[u8]) -> Result<(), TestCaseError> {
    match parse_event(body) {
        Ok(event) => {
            let json = serde_json::to_vec(&event).expect("an accepted event serializes");
            let again = parse_event(&json).expect("a serialized event is accepted again");
            prop_assert_eq!(&again, &event);
            let typed: CallEvent = serde_json::from_slice(&json).expect("serde reads it back");
            prop_assert_eq!(&typed, &event);
        }
        Err(err) => match err.code {
            ErrorCode::MalformedJson => prop_assert!(err.details.is_empty()),
            ErrorCode::ValidationFailed => {
                prop_assert!(!err.details.is_empty());
                prop_assert!(err.details.iter().all(|d| d.path.starts_with('$')));
            }
            other => prop_assert!(false, "unexpected code {other:?}"),
        },
    }
    Ok(())
}

/// Strings that are sometimes valid for a field and often nearly so.
fn text(valid: impl Strategy<Value = String> + 'static) -> BoxedStrategy<Value> {
    prop_oneof![
        4 => valid.prop_map(Value::String),
        1 => any::<String>().prop_map(Value::String),
        1 => Just(Value::Null),
        1 => any::<i64>().prop_map(|n| json!(n)),
        1 => Just(json!([])),
    ]
    .boxed()
}

fn timestamp() -> impl Strategy<Value = String> {
    (
        0u32..=10_000,
        1u32..=13,
        0u32..=32,
        0u32..=24,
        0u32..=60,
        0u32..=61,
        proptest::option::of("[0-9]{1,12}"),
        prop_oneof![
            Just("Z".to_owned()),
            (any::<bool>(), 0u32..=23, 0u32..=59)
                .prop_map(|(neg, h, m)| format!("{}{h:02}:{m:02}", if neg { '-' } else { '+' })),
        ],
    )
        .prop_map(|(y, mo, d, h, mi, s, frac, off)| {
            let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}{off}")
        })
}

fn payload() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::from),
            prop::collection::btree_map(".{0,8}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Near-valid events: every field drawn from valid and invalid values, some left out, and
/// sometimes an unknown member.
fn near_valid_event() -> impl Strategy<Value = Value> {
    let event_type = prop_oneof![
        prop::sample::select(callflow_core::model::STANDARD_EVENT_TYPES.to_vec())
            .prop_map(str::to_owned),
        "custom\\.[a-z0-9_]{1,8}\\.[a-z0-9_]{1,8}",
        "custom\\.[a-zA-Z0-9_.]{0,8}",
    ];
    (
        proptest::option::of(text("[A-Za-z0-9._:@-]{1,130}".boxed())),
        proptest::option::of(text(event_type.boxed())),
        proptest::option::of(text(timestamp().boxed())),
        proptest::option::of(text("(inbound|outbound|internal|sideways)".boxed())),
        proptest::option::of(text("(\\+[0-9]{1,16}|sips?:[^ ]{0,20}|[a-z]{0,5})".boxed())),
        proptest::option::of(prop_oneof![
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            Just(json!(1.5)),
        ]),
        proptest::option::of(
            prop::collection::btree_map(".{0,66}", text(".{0,20}".boxed()), 0..36)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ),
        proptest::option::of(payload()),
        proptest::option::of(("[a-zA-Z ]{1,10}", payload())),
    )
        .prop_map(|(call, ty, ts, dir, from, seq, attrs, payload, unknown)| {
            let mut obj = Map::new();
            let mut put = |k: &str, v: Option<Value>| {
                if let Some(v) = v {
                    obj.insert(k.to_owned(), v);
                }
            };
            put("callId", call);
            put("eventType", ty);
            put("timestamp", ts);
            put("direction", dir);
            put("from", from.clone());
            put("to", from);
            put("sequence", seq);
            put("attributes", attrs);
            put("payload", payload);
            if let Some((k, v)) = unknown {
                put(&k, Some(v));
            }
            Value::Object(obj)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn any_bytes_parse_without_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        check_body(&body)?;
    }

    #[test]
    fn any_json_text_parses_without_panic(body in ".{0,256}") {
        check_body(body.as_bytes())?;
    }

    #[test]
    fn near_valid_events_are_accepted_or_explained_and_round_trip(event in near_valid_event()) {
        check_body(&serde_json::to_vec(&event).expect("json"))?;
    }

    #[test]
    fn foreign_tokens_are_refused(token in ".{0,300}", query in any::<[u8; 16]>()) {
        let signer = TokenSigner::new(b"hostile-props-key-0123456789abcdef".as_slice());
        prop_assert!(signer.decode(&token, QueryFingerprint(query)).is_err());
    }

    #[test]
    fn forged_looking_tokens_are_refused(
        payload in prop::collection::vec(any::<u8>(), 0..200),
        signature in prop::collection::vec(any::<u8>(), 0..40),
        query in any::<[u8; 16]>(),
    ) {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let token = format!("{}.{}", b64.encode(&payload), b64.encode(&signature));
        let signer = TokenSigner::new(b"hostile-props-key-0123456789abcdef".as_slice());
        prop_assert!(signer.decode(&token, QueryFingerprint(query)).is_err());
    }

    #[test]
    fn own_tokens_round_trip_and_any_changed_byte_is_refused(
        nanos in any::<i64>(),
        sequence in any::<u64>(),
        query in any::<[u8; 16]>(),
        other_query in any::<[u8; 16]>(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let Ok(timestamp) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos)) else {
            return Ok(());
        };
        let call = CallId::parse("prop-call").expect("call id");
        let source = IdempotencySource::CallSequence { call_id: &call, sequence };
        let Ok(event_id) = EventId::derive(timestamp, source) else {
            return Ok(());
        };
        let position = Position { timestamp, event_id };
        let signer = TokenSigner::new(b"hostile-props-key-0123456789abcdef".as_slice());
        let token = signer.encode(position, QueryFingerprint(query));
        prop_assert_eq!(signer.decode(&token, QueryFingerprint(query)), Ok(position));
        if other_query != query {
            prop_assert_eq!(
                signer.decode(&token, QueryFingerprint(other_query)),
                Err(TokenError::OtherQuery)
            );
        }
        let stranger = TokenSigner::new(b"another-key-of-the-same-length-000".as_slice());
        prop_assert_eq!(
            stranger.decode(&token, QueryFingerprint(query)),
            Err(TokenError::BadSignature)
        );
        let mut bytes = token.clone().into_bytes();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        if let Ok(tampered) = String::from_utf8(bytes)
            && tampered != token
        {
            prop_assert!(signer.decode(&tampered, QueryFingerprint(query)).is_err());
        }
    }
}

/// Timestamps at the edges of the supported range, with offsets that push them over it.
/// Found by this suite: `parse_timestamp` called `OffsetDateTime::to_offset(UTC)`, which
/// panics when the UTC date falls outside `time`'s range (year 10000); it now uses
/// `checked_to_offset` and answers `validation_failed`.
#[test]
fn timestamps_at_the_range_edges_are_refused_not_panicked_on() {
    for ts in [
        "9999-12-31T23:59:59-23:59",
        "9999-12-31T23:00:00-01:00",
        "0000-01-01T00:00:00+23:59",
        "1970-01-01T00:00:00+00:01",
        "1969-12-31T23:59:59Z",
    ] {
        let body = json!({"callId": "c", "eventType": "call.held", "timestamp": ts});
        let err = parse_event(body.to_string().as_bytes()).expect_err(ts);
        assert_eq!(err.code, ErrorCode::ValidationFailed, "{ts}");
        assert_eq!(err.details[0].path, "$.timestamp", "{ts}");
    }
    let body = json!({"callId": "c", "eventType": "call.held",
                      "timestamp": "9999-12-31T23:59:59+01:00"});
    assert!(parse_event(body.to_string().as_bytes()).is_ok());
}

/// Found by `cargo fuzz` (event_parse): a long decimal in the payload parsed to an f64 one
/// ulp off, so the stored event read back as a different number. Parsing is now correctly
/// rounded (serde_json `float_roundtrip`), and the stored form reads back unchanged.
#[test]
fn long_decimals_in_the_payload_survive_a_store_and_read_back() {
    let body = br#"{"callId":"c","eventType":"call.held","timestamp":"1970-01-01T00:00:00Z","payload":[18888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888,-0,0,1e300,"x",null,{"q":{}}]}"#;
    check_body(body).expect("the event round-trips");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn any_decimal_number_in_the_payload_round_trips(
        number in "-?[1-9][0-9]{0,120}(\\.[0-9]{1,40})?([eE][+-]?[0-9]{1,3})?",
    ) {
        let body = format!(
            r#"{{"callId":"c","eventType":"call.held","timestamp":"2026-01-01T00:00:00Z","payload":{{"n":{number}}}}}"#
        );
        check_body(body.as_bytes())?;
    }
}
