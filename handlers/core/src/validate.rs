//! Parsing and validating a submitted event: every problem is reported with its JSON path.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{ApiError, ErrorCode, FieldError};
use crate::model::{
    ATTRIBUTE_KEY_MAX_LEN, ATTRIBUTE_VALUE_MAX_LEN, ATTRIBUTES_MAX_ENTRIES, CallEvent, CallId,
    Direction, EventType, PAYLOAD_MAX_BYTES, PartyAddress,
};

const KNOWN_FIELDS: [&str; 9] = [
    "callId",
    "eventType",
    "timestamp",
    "direction",
    "from",
    "to",
    "sequence",
    "attributes",
    "payload",
];

/// Parses a request body: malformed JSON is `malformed_json` (with line and column), a
/// well-formed event breaking the rules is `validation_failed` listing every problem.
pub fn parse_event(body: &[u8]) -> Result<CallEvent, ApiError> {
    validate_event(&parse_json(body)?).map_err(ApiError::validation)
}

/// Parses a JSON document; a syntax error is `malformed_json` with its line and column.
pub fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            ErrorCode::MalformedJson,
            format!(
                "request body is not valid JSON at line {} column {}: {}",
                e.line(),
                e.column(),
                e
            ),
        )
    })
}

/// The JSONPath of a member of `parent`: `$.a` for identifier-like names, else `$['a b']`.
pub fn member_path(parent: &str, name: &str) -> String {
    let simple = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if simple {
        format!("{parent}.{name}")
    } else {
        let escaped = name.replace('\\', "\\\\").replace('\'', "\\'");
        format!("{parent}['{escaped}']")
    }
}

/// Validates a JSON document as an event, collecting every problem.
pub fn validate_event(value: &Value) -> Result<CallEvent, Vec<FieldError>> {
    let Some(obj) = value.as_object() else {
        return Err(vec![FieldError::new(
            "$",
            "the event must be a JSON object",
        )]);
    };
    let mut errors = Vec::new();
    for name in obj.keys() {
        if !KNOWN_FIELDS.contains(&name.as_str()) {
            errors.push(FieldError::new(member_path("$", name), "unknown field"));
        }
    }
    let call_id = required_string(obj, "callId", &mut errors)
        .and_then(|s| record(&mut errors, "$.callId", CallId::parse(s)));
    let event_type = required_string(obj, "eventType", &mut errors)
        .and_then(|s| record(&mut errors, "$.eventType", EventType::parse(s)));
    let timestamp = required_string(obj, "timestamp", &mut errors)
        .and_then(|s| record(&mut errors, "$.timestamp", parse_timestamp(s)));
    let direction = optional_string(obj, "direction", &mut errors).and_then(|s| {
        record(
            &mut errors,
            "$.direction",
            Direction::parse(s).ok_or_else(|| "must be one of inbound, outbound, internal".into()),
        )
    });
    let from = optional_string(obj, "from", &mut errors)
        .and_then(|s| record(&mut errors, "$.from", PartyAddress::parse(s)));
    let to = optional_string(obj, "to", &mut errors)
        .and_then(|s| record(&mut errors, "$.to", PartyAddress::parse(s)));
    let sequence = present(obj, "sequence").and_then(|v| {
        let r = v
            .as_u64()
            .ok_or_else(|| "must be an integer >= 0".to_owned());
        record(&mut errors, "$.sequence", r)
    });
    let attributes = present(obj, "attributes").and_then(|v| validate_attributes(v, &mut errors));
    let payload = present(obj, "payload").and_then(|v| {
        let size = serde_json::to_vec(v).map(|b| b.len()).unwrap_or(usize::MAX);
        if size > PAYLOAD_MAX_BYTES {
            errors.push(FieldError::new(
                "$.payload",
                format!("is {size} bytes serialized, at most {PAYLOAD_MAX_BYTES} allowed"),
            ));
            None
        } else {
            Some(v.clone())
        }
    });

    match (call_id, event_type, timestamp) {
        (Some(call_id), Some(event_type), Some(timestamp)) if errors.is_empty() => Ok(CallEvent {
            call_id,
            event_type,
            timestamp,
            direction,
            from,
            to,
            sequence,
            attributes,
            payload,
        }),
        _ => Err(errors),
    }
}

/// Parses an RFC 3339 timestamp into UTC, within the range an event id can carry.
pub fn parse_timestamp(s: &str) -> Result<OffsetDateTime, String> {
    let t = OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|e| format!("must be an RFC 3339 timestamp such as 2025-01-31T12:00:00Z ({e})"))?
        .checked_to_offset(time::UtcOffset::UTC)
        .ok_or_else(|| "is outside the supported range once converted to UTC".to_string())?;
    crate::id::unix_millis(t).map_err(|e| e.to_string())?;
    Ok(t)
}

fn record<T>(errors: &mut Vec<FieldError>, path: &str, r: Result<T, String>) -> Option<T> {
    r.map_err(|m| errors.push(FieldError::new(path, m))).ok()
}

/// The member, treating `null` as absent.
fn present<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).filter(|v| !v.is_null())
}

fn required_string<'a>(
    obj: &'a Map<String, Value>,
    name: &str,
    errors: &mut Vec<FieldError>,
) -> Option<&'a str> {
    let path = member_path("$", name);
    match present(obj, name) {
        None => {
            errors.push(FieldError::new(path, "is required"));
            None
        }
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            errors.push(FieldError::new(path, "must be a string"));
            None
        }
    }
}

fn optional_string<'a>(
    obj: &'a Map<String, Value>,
    name: &str,
    errors: &mut Vec<FieldError>,
) -> Option<&'a str> {
    match present(obj, name) {
        None => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            errors.push(FieldError::new(member_path("$", name), "must be a string"));
            None
        }
    }
}

fn validate_attributes(
    value: &Value,
    errors: &mut Vec<FieldError>,
) -> Option<BTreeMap<String, String>> {
    let Some(map) = value.as_object() else {
        errors.push(FieldError::new(
            "$.attributes",
            "must be an object of string values",
        ));
        return None;
    };
    let before = errors.len();
    if map.len() > ATTRIBUTES_MAX_ENTRIES {
        errors.push(FieldError::new(
            "$.attributes",
            format!(
                "has {} entries, at most {ATTRIBUTES_MAX_ENTRIES} allowed",
                map.len()
            ),
        ));
    }
    let mut out = BTreeMap::new();
    for (k, v) in map {
        let path = member_path("$.attributes", k);
        let key_len = k.chars().count();
        if key_len == 0 || key_len > ATTRIBUTE_KEY_MAX_LEN {
            errors.push(FieldError::new(
                &path,
                format!("key must be 1 to {ATTRIBUTE_KEY_MAX_LEN} characters"),
            ));
        }
        match v {
            Value::String(s) if s.chars().count() > ATTRIBUTE_VALUE_MAX_LEN => {
                errors.push(FieldError::new(
                    &path,
                    format!("value must be at most {ATTRIBUTE_VALUE_MAX_LEN} characters"),
                ));
            }
            Value::String(s) => {
                out.insert(k.clone(), s.clone());
            }
            _ => errors.push(FieldError::new(&path, "must be a string")),
        }
    }
    (errors.len() == before).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({
            "callId": "CA42",
            "eventType": "call.answered",
            "timestamp": "2025-03-04T05:06:07.123+02:00",
            "direction": "inbound",
            "from": "+14155550100",
            "to": "sip:agent@example.com",
            "sequence": 3,
            "attributes": {"queue": "sales"},
            "payload": {"twilio": {"CallStatus": "in-progress"}}
        })
    }

    fn paths(v: Value) -> Vec<String> {
        validate_event(&v)
            .expect_err("should fail")
            .into_iter()
            .map(|e| e.path)
            .collect()
    }

    #[test]
    fn a_full_event_is_valid_and_normalized_to_utc() {
        let e = validate_event(&valid()).unwrap();
        assert_eq!(e.timestamp.offset(), time::UtcOffset::UTC);
        assert_eq!(e.timestamp.hour(), 3);
        assert_eq!(e.sequence, Some(3));
        assert_eq!(e.direction, Some(Direction::Inbound));
    }

    #[test]
    fn nulls_in_optional_fields_are_absent() {
        let mut v = valid();
        v["direction"] = Value::Null;
        v["payload"] = Value::Null;
        let e = validate_event(&v).unwrap();
        assert_eq!(e.direction, None);
        assert_eq!(e.payload, None);
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let table: Vec<(Value, Vec<&str>)> = vec![
            (json!([]), vec!["$"]),
            (json!({}), vec!["$.callId", "$.eventType", "$.timestamp"]),
            (
                json!({"callId": "a/b", "eventType": "call.nope", "timestamp": "yesterday"}),
                vec!["$.callId", "$.eventType", "$.timestamp"],
            ),
            (
                json!({"callId": 1, "eventType": null, "timestamp": "1969-12-31T23:59:59Z"}),
                vec!["$.callId", "$.eventType", "$.timestamp"],
            ),
            (
                json!({"callId": "c", "eventType": "call.held", "timestamp": "2025-01-01T00:00:00Z",
                       "direction": "sideways", "from": "12345", "to": 5, "sequence": -1,
                       "extra": true, "bad key": 1}),
                vec![
                    "$.extra",
                    "$['bad key']",
                    "$.direction",
                    "$.from",
                    "$.to",
                    "$.sequence",
                ],
            ),
            (
                json!({"callId": "c", "eventType": "call.held", "timestamp": "2025-01-01T00:00:00Z",
                       "sequence": 1.5, "attributes": {"foo": 1, "ok": "x", "": "y",
                       "long": "v".repeat(513)}}),
                vec![
                    "$.sequence",
                    "$.attributes.foo",
                    "$.attributes['']",
                    "$.attributes.long",
                ],
            ),
            (
                json!({"callId": "c", "eventType": "call.held", "timestamp": "2025-01-01T00:00:00Z",
                       "attributes": "x", "payload": "p".repeat(16 * 1024)}),
                vec!["$.attributes", "$.payload"],
            ),
        ];
        for (input, expected) in table {
            let mut got = paths(input.clone());
            got.sort();
            let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
            want.sort();
            assert_eq!(got, want, "for {input}");
        }
    }

    #[test]
    fn too_many_attributes() {
        let mut v = valid();
        let attrs: Map<String, Value> = (0..33).map(|i| (format!("k{i}"), json!("v"))).collect();
        v["attributes"] = Value::Object(attrs);
        assert_eq!(paths(v), vec!["$.attributes"]);
    }

    #[test]
    fn malformed_json_reports_line_and_column() {
        let err = parse_event(b"{\n  \"callId\": \"x\",\n  oops\n}").unwrap_err();
        assert_eq!(err.code, ErrorCode::MalformedJson);
        assert!(err.message.contains("line 3 column 3"), "{}", err.message);
        let err = parse_event(br#"{"callId": 5}"#).unwrap_err();
        assert_eq!(err.code, ErrorCode::ValidationFailed);
        assert_eq!(err.details.len(), 3);
    }
}
