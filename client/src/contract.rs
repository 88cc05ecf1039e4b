//! The names of the wire contract a client needs: the operations (from the route table of the
//! embedded `openapi.yaml`), the headers and the query parameters. Each constant here is checked
//! against the spec by this crate's tests.

use std::sync::OnceLock;

use callflow_openapi::{HttpMethod, PathTemplate, Route};
use hyper::header::HeaderName;

/// The request header that makes a `POST /events` retry safe (`components.parameters.IdempotencyKey`).
pub const IDEMPOTENCY_KEY: HeaderName =
    HeaderName::from_static(callflow_core::http::IDEMPOTENCY_KEY_HEADER);
/// The request header carrying `Bearer <JWT>` (`components.securitySchemes.bearerAuth`).
pub const AUTHORIZATION: HeaderName = hyper::header::AUTHORIZATION;
/// The response header of a 503 `storage_unavailable` and of throttled answers: seconds to wait.
pub const RETRY_AFTER: HeaderName = hyper::header::RETRY_AFTER;

/// An operation of the API, found in the route table by its `operationId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `storeEvent`: `POST /events`.
    StoreEvent,
    /// `getEvent`: `GET /events/{eventId}`.
    GetEvent,
    /// `queryEvents`: `GET /events`.
    QueryEvents,
}

impl Endpoint {
    /// Every operation, in the spec's order.
    pub const ALL: [Endpoint; 3] = [
        Endpoint::StoreEvent,
        Endpoint::QueryEvents,
        Endpoint::GetEvent,
    ];

    /// The spec's `operationId`.
    pub const fn operation_id(self) -> &'static str {
        match self {
            Endpoint::StoreEvent => "storeEvent",
            Endpoint::GetEvent => "getEvent",
            Endpoint::QueryEvents => "queryEvents",
        }
    }

    /// Its route in the embedded spec's route table.
    ///
    /// # Panics
    /// When the embedded `openapi.yaml` lacks the operation: that spec is fixed at build time and
    /// this crate's tests resolve every [`Endpoint`], so this is a build defect, not an input.
    pub fn route(self) -> &'static Route {
        static ROUTES: OnceLock<Vec<Route>> = OnceLock::new();
        let routes = ROUTES.get_or_init(|| {
            callflow_openapi::routes()
                .unwrap_or_else(|e| panic!("the embedded openapi.yaml has no route table: {e}"))
        });
        routes
            .iter()
            .find(|r| r.operation_id == self.operation_id())
            .unwrap_or_else(|| {
                panic!(
                    "the embedded openapi.yaml has no operation {}",
                    self.operation_id()
                )
            })
    }

    /// The HTTP method.
    pub fn method(self) -> HttpMethod {
        self.route().method
    }

    /// The path template (`/events/{eventId}`).
    pub fn template(self) -> &'static PathTemplate {
        &self.route().path
    }

    /// The path with the template's parameters filled in order from `values`, each
    /// percent-encoded: `GetEvent.path(&[id])` is `/events/<id>`. The inverse of
    /// [`PathTemplate::matches`]; missing values leave their `{name}` in place.
    pub fn path(self, values: &[&str]) -> String {
        let template = self.template();
        let mut path = template.as_str().to_owned();
        for (name, value) in template.param_names().zip(values) {
            path = path.replace(&format!("{{{name}}}"), &percent_encode(value));
        }
        path
    }
}

/// The path of one stored event, `/events/{eventId}` filled in.
pub fn event_path(event_id: &str) -> String {
    Endpoint::GetEvent.path(&[event_id])
}

/// A query parameter of `GET /events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryParam {
    /// `from`: inclusive start (RFC 3339).
    From,
    /// `to`: exclusive end (RFC 3339).
    To,
    /// `callId`.
    CallId,
    /// `eventType`.
    EventType,
    /// `direction`.
    Direction,
    /// `fromNumber`: the calling party.
    FromNumber,
    /// `toNumber`: the called party.
    ToNumber,
    /// `limit`: page size.
    Limit,
    /// `nextToken`: the continuation token of the previous page.
    NextToken,
}

impl QueryParam {
    /// Every parameter, in the spec's order.
    pub const ALL: [QueryParam; 9] = [
        QueryParam::From,
        QueryParam::To,
        QueryParam::CallId,
        QueryParam::EventType,
        QueryParam::Direction,
        QueryParam::FromNumber,
        QueryParam::ToNumber,
        QueryParam::Limit,
        QueryParam::NextToken,
    ];

    /// The name on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            QueryParam::From => "from",
            QueryParam::To => "to",
            QueryParam::CallId => "callId",
            QueryParam::EventType => "eventType",
            QueryParam::Direction => "direction",
            QueryParam::FromNumber => "fromNumber",
            QueryParam::ToNumber => "toNumber",
            QueryParam::Limit => "limit",
            QueryParam::NextToken => "nextToken",
        }
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters: safe in a path segment and in
/// a query value.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use callflow_openapi::spec_json;
    use serde_json::Value;

    #[test]
    fn every_operation_of_the_spec_is_an_endpoint_and_back() {
        let spec_ids: Vec<String> = callflow_openapi::routes()
            .expect("routes")
            .into_iter()
            .map(|r| r.operation_id)
            .collect();
        let ours: Vec<&str> = Endpoint::ALL.iter().map(|e| e.operation_id()).collect();
        assert_eq!(spec_ids, ours, "a new operation needs an Endpoint");
        assert_eq!(Endpoint::StoreEvent.method(), HttpMethod::Post);
        assert_eq!(Endpoint::QueryEvents.method(), HttpMethod::Get);
        assert_eq!(Endpoint::GetEvent.method(), HttpMethod::Get);
    }

    #[test]
    fn header_names_are_the_specs() {
        let spec = spec_json();
        let name = |pointer: &str| {
            spec.pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{pointer}"))
                .to_ascii_lowercase()
        };
        assert_eq!(
            name("/components/parameters/IdempotencyKey/name"),
            IDEMPOTENCY_KEY.as_str()
        );
        assert_eq!(
            name("/components/securitySchemes/bearerAuth/name"),
            AUTHORIZATION.as_str()
        );
        let retry_after = spec
            .pointer("/components/responses/StorageUnavailable/headers")
            .and_then(Value::as_object)
            .expect("StorageUnavailable headers");
        assert!(
            retry_after
                .keys()
                .any(|k| k.eq_ignore_ascii_case(RETRY_AFTER.as_str())),
            "{retry_after:?}"
        );
    }

    #[test]
    fn query_parameters_are_the_specs_in_its_order() {
        let spec = spec_json();
        let params = spec
            .pointer("/paths/~1events/get/parameters")
            .and_then(Value::as_array)
            .expect("queryEvents parameters");
        let names: Vec<&str> = params
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| p["name"].as_str().expect("name"))
            .collect();
        let ours: Vec<&str> = QueryParam::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(names, ours);
    }

    #[test]
    fn a_filled_path_matches_its_template_back() {
        for id in [
            "0190a4f2-5c00-7000-8000-000000000000",
            "a b/c?d#e%f",
            "ünï",
            "",
        ] {
            let path = event_path(id);
            let params = Endpoint::GetEvent.template().matches(&path);
            if id.is_empty() {
                assert_eq!(params, None, "an empty segment never matches");
            } else {
                let params = params.unwrap_or_else(|| panic!("{path}"));
                assert_eq!(params.values().collect::<Vec<_>>(), [id], "{path}");
            }
        }
        assert_eq!(Endpoint::StoreEvent.path(&[]), "/events");
        assert_eq!(
            event_path("0190a4f2-5c00-7000-8000-000000000000"),
            "/events/0190a4f2-5c00-7000-8000-000000000000"
        );
    }
}
