//! Event parsing and validation: any bytes as a `POST /events` body.
//! Properties: no panic; errors are `malformed_json` or `validation_failed` with a path for
//! every problem; an accepted event serializes and parses back to itself (through the
//! validator and through serde).
#![no_main]

use callflow_core::validate::parse_event;
use callflow_core::{CallEvent, ErrorCode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse_event(data) {
        Ok(event) => {
            let json = serde_json::to_vec(&event).expect("an accepted event serializes");
            let again = parse_event(&json).expect("a serialized event is accepted again");
            assert_eq!(
                again, event,
                "parse -> serialize -> parse changed the event"
            );
            let typed: CallEvent = serde_json::from_slice(&json).expect("serde reads it back");
            assert_eq!(typed, event);
        }
        Err(err) => match err.code {
            ErrorCode::MalformedJson => assert!(err.details.is_empty()),
            ErrorCode::ValidationFailed => {
                assert!(
                    !err.details.is_empty(),
                    "a validation error lists its problems"
                );
                assert!(err.details.iter().all(|d| d.path.starts_with('$')));
            }
            other => panic!("unexpected code {other:?}"),
        },
    }
});
