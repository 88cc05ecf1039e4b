//! Contract tests: the spec's schemas against the serde types and rules of callflow-core,
//! so the handlers and the spec cannot drift apart silently.

use std::collections::BTreeSet;

use callflow_core::model::{
    ADDRESS_MAX_LEN, ATTRIBUTE_VALUE_MAX_LEN, ATTRIBUTES_MAX_ENTRIES, CALL_ID_MAX_LEN,
    EVENT_TYPE_MAX_LEN, STANDARD_EVENT_TYPES,
};
use callflow_core::validate::parse_event;
use callflow_core::{ApiError, ErrorCode, FieldError, StoredEvent};
use callflow_openapi::spec_json;
use serde_json::{Value, json};

fn schema(name: &str) -> Value {
    spec_json()["components"]["schemas"][name].clone()
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().expect("object").keys().cloned().collect()
}

fn strings(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_str().expect("string").to_owned())
        .collect()
}

fn full_event() -> Value {
    json!({
        "callId": "call-1@pbx",
        "eventType": "call.answered",
        "timestamp": "2026-11-01T12:00:00Z",
        "direction": "inbound",
        "from": "+4930123456",
        "to": "sip:agent@pbx.example",
        "sequence": 3,
        "attributes": {"queue": "sales"},
        "payload": {"any": ["json"]},
    })
}

fn minimal_event() -> Value {
    json!({"callId": "c1", "eventType": "call.ended", "timestamp": "2026-11-01T12:00:00Z"})
}

fn stored(event: &Value) -> StoredEvent {
    let mut doc = event.clone();
    doc["eventId"] = json!("019a3f6e-2c80-7a3b-9c1d-0123456789ab");
    doc["receivedAt"] = json!("2026-11-01T12:00:01Z");
    doc["principal"] = json!("alice");
    serde_json::from_value(doc).expect("stored event deserializes")
}

#[test]
fn event_input_properties_and_required_match_core() {
    let input = schema("EventInput");
    assert_eq!(input["additionalProperties"], false);
    let parsed = parse_event(full_event().to_string().as_bytes()).expect("full event is valid");
    let full = serde_json::to_value(&parsed).expect("serialize");
    assert_eq!(keys(&input["properties"]), keys(&full));
    let parsed = parse_event(minimal_event().to_string().as_bytes()).expect("minimal is valid");
    let minimal = serde_json::to_value(&parsed).expect("serialize");
    assert_eq!(strings(&input["required"]), keys(&minimal));
    // Each required field really is required, and unknown fields are rejected (422).
    for field in keys(&minimal) {
        let mut doc = minimal_event();
        doc.as_object_mut().expect("object").remove(&field);
        let err = parse_event(doc.to_string().as_bytes()).expect_err(&field);
        assert_eq!(err.code, ErrorCode::ValidationFailed, "{field}");
    }
    let mut doc = minimal_event();
    doc["extra"] = json!(1);
    let err = parse_event(doc.to_string().as_bytes()).expect_err("unknown field");
    assert_eq!(err.code, ErrorCode::ValidationFailed);
}

#[test]
fn stored_event_properties_and_required_match_core() {
    let stored_schema = schema("StoredEvent");
    assert_eq!(stored_schema["additionalProperties"], false);
    let full = serde_json::to_value(stored(&full_event())).expect("serialize");
    assert_eq!(keys(&stored_schema["properties"]), keys(&full));
    let minimal = serde_json::to_value(stored(&minimal_event())).expect("serialize");
    assert_eq!(strings(&stored_schema["required"]), keys(&minimal));
    assert!(
        minimal
            .as_object()
            .expect("object")
            .values()
            .all(|v| !v.is_null()),
        "absent optional fields are omitted, never null: {minimal}"
    );
}

#[test]
fn event_types_limits_and_codes_match_core() {
    assert_eq!(
        strings(&schema("KnownEventType")["enum"]),
        STANDARD_EVENT_TYPES.iter().map(|s| s.to_string()).collect()
    );
    assert_eq!(
        strings(&schema("ErrorCode")["enum"]),
        ErrorCode::ALL
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect()
    );
    let max = |name: &str, field: &str| schema(name)[field].as_u64().expect(field) as usize;
    assert_eq!(max("CallId", "maxLength"), CALL_ID_MAX_LEN);
    assert_eq!(max("EventType", "maxLength"), EVENT_TYPE_MAX_LEN);
    assert_eq!(max("CustomEventType", "maxLength"), EVENT_TYPE_MAX_LEN);
    assert_eq!(max("Address", "maxLength"), ADDRESS_MAX_LEN);
    assert_eq!(max("Attributes", "maxProperties"), ATTRIBUTES_MAX_ENTRIES);
    assert_eq!(
        schema("Attributes")["additionalProperties"]["maxLength"].as_u64(),
        Some(ATTRIBUTE_VALUE_MAX_LEN as u64)
    );
}

#[test]
fn values_the_spec_describes_are_the_values_core_accepts() {
    let accepts = |field: &str, value: Value| {
        let mut doc = minimal_event();
        doc[field] = value;
        parse_event(doc.to_string().as_bytes()).is_ok()
    };
    // eventType: built-ins and custom.<ns>.<name> only.
    assert!(accepts("eventType", json!("custom.billing.rated")));
    assert!(!accepts("eventType", json!("custom.billing")));
    assert!(!accepts("eventType", json!("custom.Billing.rated")));
    assert!(!accepts("eventType", json!("call.unknown")));
    // from/to: the Address pattern's two branches.
    for ok in ["+12", "+491701234567", "sip:a@b", "sips:x"] {
        assert!(accepts("from", json!(ok)), "{ok}");
    }
    for bad in ["", "+0123", "+1", "12345", "sip:", "sip:a b", "tel:+1234"] {
        assert!(!accepts("from", json!(bad)), "{bad:?}");
    }
    // callId pattern and sequence minimum.
    assert!(accepts("callId", json!("A-z0.9_:@-")));
    assert!(!accepts("callId", json!("has space")));
    assert!(!accepts("sequence", json!(-1)));
    assert!(accepts("sequence", json!(0)));
    // payload may be any JSON value.
    assert!(accepts("payload", json!([1, "two", null])));
    // The Payload schema is nullable: a null payload is accepted.
    assert_eq!(schema("Payload")["nullable"], true);
    assert!(accepts("payload", Value::Null));
}

#[test]
fn error_body_matches_the_error_schema() {
    let error_schema = schema("Error");
    // Every optional field at once (no real error has both), to compare with the schema.
    let stored_id =
        callflow_core::EventId::parse("019a3f6e-2c80-7a3b-9c1d-0123456789ab").expect("event id");
    let error = ApiError::validation(vec![FieldError::new("$.callId", "must not be empty")])
        .with_event_id(stored_id);
    let with_details = serde_json::to_value(error.body("req-1")).expect("serialize");
    assert_eq!(keys(&error_schema["properties"]), keys(&with_details));
    assert_eq!(
        keys(&schema("ValidationDetail")["properties"]),
        keys(&with_details["details"][0])
    );
    let plain = ApiError::new(ErrorCode::NotFound, "no such event");
    let plain = serde_json::to_value(plain.body("req-2")).expect("serialize");
    assert_eq!(strings(&error_schema["required"]), keys(&plain));
}

#[test]
fn the_idempotency_window_is_stated_once_and_quoted_in_the_operation() {
    let days = callflow_openapi::idempotency_window_days().expect("the spec states the window");
    let spec = callflow_openapi::spec_json();
    let description = spec
        .pointer("/paths/~1events/post/description")
        .and_then(Value::as_str)
        .expect("storeEvent has a description");
    assert!(
        description.contains(&format!("{days} days")),
        "the operation quotes the window of {days} days: {description}"
    );
}

#[test]
fn conflict_errors_name_the_stored_event() {
    let id = callflow_core::EventId::parse("019a3f6e-2c80-7a3b-9c1d-0123456789ab").expect("id");
    for code in [ErrorCode::IdempotencyKeyReused, ErrorCode::SequenceConflict] {
        let body = serde_json::to_value(ApiError::new(code, "taken").with_event_id(id).body("r"))
            .expect("serialize");
        assert_eq!(body["eventId"], id.to_string());
        assert!(body.get("details").is_none());
    }
    assert_eq!(ErrorCode::SequenceConflict.status(), 409);
    assert_eq!(ErrorCode::IdempotencyKeyReused.status(), 422);
    assert_eq!(ErrorCode::TimestampOutOfWindow.status(), 422);
}
