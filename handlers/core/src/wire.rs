//! The success bodies of the API as types that serialize (the handlers answer with them) and
//! deserialize (clients such as `callflow verify` and the load tester read them), so no client
//! parses these shapes by hand. The shapes are `StoreResponse` and `QueryResponse` of
//! `openapi/openapi.yaml`; `openapi/tests/contract.rs` checks them against the spec.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::id::EventId;
use crate::model::StoredEvent;

/// The 201/200 body of `POST /events`: the event as stored (first stored, for a replay).
///
/// ```
/// use callflow_core::wire::StoreResponse;
/// let text = r#"{"eventId":"0190a4f2-5c00-7000-8000-000000000000","key":"events/2024/07/01/x.json",
///   "receivedAt":"2024-07-01T00:00:00Z","event":{"callId":"c-1","eventType":"call.ended",
///   "timestamp":"2024-07-01T00:00:00Z","eventId":"0190a4f2-5c00-7000-8000-000000000000",
///   "receivedAt":"2024-07-01T00:00:00Z","principal":"svc"}}"#;
/// let body: StoreResponse = serde_json::from_str(text).expect("a store response");
/// assert_eq!(body.event.event.call_id.as_str(), "c-1");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StoreResponse<'a> {
    /// The event's id.
    pub event_id: EventId,
    /// Its object key.
    pub key: String,
    /// When it was (first) accepted.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// The stored event (borrowed when the handler answers, owned when a client reads it).
    pub event: Cow<'a, StoredEvent>,
}

/// The 200 body of `GET /events`: one page of matching events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QueryResponse {
    /// Matching events in (timestamp, eventId) order.
    pub items: Vec<StoredEvent>,
    /// `items.len()`.
    pub count: usize,
    /// Pass as `nextToken` (with the same filters) for the next page; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored() -> StoredEvent {
        serde_json::from_value(serde_json::json!({
            "callId": "c-1", "eventType": "call.ended", "timestamp": "2024-07-01T00:00:00Z",
            "eventId": "0190a4f2-5c00-7000-8000-000000000000",
            "receivedAt": "2024-07-01T00:00:01Z", "principal": "svc",
            "attributes": {"k": "v"}, "payload": {"n": 1}
        }))
        .expect("a stored event")
    }

    #[test]
    fn bodies_read_back_what_the_handlers_write() {
        let event = stored();
        let store = StoreResponse {
            event_id: event.event_id,
            key: "events/2024/07/01/x.json".into(),
            received_at: event.received_at,
            event: Cow::Borrowed(&event),
        };
        let text = serde_json::to_string(&store).expect("serialize");
        let back: StoreResponse = serde_json::from_str(&text).expect("deserialize");
        assert_eq!(back, store);

        for next_token in [None, Some("t".to_owned())] {
            let page = QueryResponse {
                items: vec![event.clone()],
                count: 1,
                next_token,
            };
            let text = serde_json::to_string(&page).expect("serialize");
            assert_eq!(
                text.contains("nextToken"),
                page.next_token.is_some(),
                "{text}"
            );
            let back: QueryResponse = serde_json::from_str(&text).expect("deserialize");
            assert_eq!(back, page);
        }
    }

    #[test]
    fn a_body_of_another_shape_is_refused() {
        let text = r#"{"items":[],"count":0,"next":"t"}"#;
        assert!(serde_json::from_str::<QueryResponse>(text).is_err());
    }
}
