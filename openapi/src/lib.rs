//! The Callflow API contract (`openapi.yaml`) parsed into a typed route table for the
//! stack and the local gateway.
//!
//! `openapi.yaml` is the single source of the API: routes, schemas, errors, the
//! authorizer and the API Gateway extensions. This crate embeds it and offers
//! - [`spec_json`]: the whole document as JSON, key order preserved;
//! - [`routes`]: the typed route table (method, path template, Lambda, scope);
//! - [`INTEGRATION_URI_PLACEHOLDER`], [`AUTHORIZER_URI_PLACEHOLDER`]: where the stack puts
//!   its typed Lambda and authorizer references when it builds the REST API `body`.
//!
//! ```
//! use callflow_openapi::{HttpMethod, LambdaName, Scope, find_route, routes};
//!
//! let routes = routes().expect("embedded spec is valid");
//! let (route, params) = find_route(&routes, HttpMethod::Get, "/events/abc").expect("routed");
//! assert_eq!(route.operation_id, "getEvent");
//! assert_eq!(route.lambda, LambdaName::EventRetriever);
//! assert_eq!(route.scope, Scope::EventsRead);
//! assert_eq!(params["eventId"], "abc");
//! assert_eq!(route.path.as_str(), "/events/{eventId}");
//! ```
#![deny(missing_docs)]

mod error;
mod extracted_fields;
mod integrations;
mod route;
mod route_fields;

pub use extracted_fields::IDEMPOTENCY_WINDOW_POINTER;

use std::sync::OnceLock;

use serde_json::Value;

pub use error::SpecError;
pub use integrations::{AUTHORIZER_URI_PLACEHOLDER, INTEGRATION_URI_PLACEHOLDER};
pub use route::{
    HttpMethod, LambdaName, PathParams, PathTemplate, Route, Scope, find_route, routes_from,
};

/// The contract, verbatim as committed in `openapi/openapi.yaml`.
pub const SPEC_YAML: &str = include_str!("../openapi.yaml");

/// The whole OpenAPI document as JSON, key order preserved.
///
/// The YAML is converted to JSON at build time (`build.rs`) and parsed once per process;
/// a spec that does not parse fails the build, so this cannot fail at run time. Shared, not
/// copied: a caller that reads one field (the idempotency window, the authorizer TTL) does
/// not pay for a copy of the whole document.
pub fn spec_json() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        serde_json::from_str(SPEC_JSON).unwrap_or_else(|err| {
            panic!("the build-time JSON of openapi.yaml does not parse: {err}")
        })
    })
}

/// The contract as JSON text, converted from [`SPEC_YAML`] at build time.
pub const SPEC_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.json"));

/// The typed route table of the embedded spec, in document order.
///
/// Read from [`ROUTES_JSON`], the document reduced at build time to the fields the routes
/// take, so a cold start that needs only the routes (the authorizer's) does not parse and
/// copy the whole contract; a test holds it equal to the routes of [`spec_json`].
pub fn routes() -> Result<Vec<Route>, SpecError> {
    // Written by build.rs from a parsed document, so it always parses (as SPEC_JSON).
    let reduced: Value = serde_json::from_str(ROUTES_JSON)
        .unwrap_or_else(|err| panic!("the build-time routes.json does not parse: {err}"));
    routes_from(&reduced)
}

/// [`SPEC_JSON`] reduced at build time to `paths` and, in each operation, `operationId`,
/// `x-callflow-lambda` and `x-callflow-scope` (what [`routes`] reads).
pub const ROUTES_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/routes.json"));

/// The idempotency window the contract states, in days: how long an `Idempotency-Key` (or a
/// call's `sequence`) is remembered. The one source of the S3 lifecycle expiration of the
/// idempotency records (`x-callflow-idempotency-window-days` of the `IdempotencyKey`
/// parameter).
///
/// ```
/// assert_eq!(callflow_openapi::idempotency_window_days(), Ok(7));
/// ```
pub fn idempotency_window_days() -> Result<u32, SpecError> {
    const FIELD: &str = "components.parameters.IdempotencyKey.x-callflow-idempotency-window-days";
    // Written by build.rs from a parsed document, so it always parses.
    serde_json::from_str::<Value>(IDEMPOTENCY_WINDOW_JSON)
        .ok()
        .as_ref()
        .and_then(Value::as_u64)
        .and_then(|d| u32::try_from(d).ok())
        .filter(|d| *d >= 1)
        .ok_or(SpecError::MissingSection(FIELD))
}

/// The value of `x-callflow-idempotency-window-days` (under the `IdempotencyKey` parameter),
/// taken out of the contract at build time as JSON text (`null` when it is missing), so a
/// process that needs the window does not parse the whole document for it.
const IDEMPOTENCY_WINDOW_JSON: &str =
    include_str!(concat!(env!("OUT_DIR"), "/idempotency_window.json"));
