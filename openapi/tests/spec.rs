//! Tests of the embedded spec: structure, references, placeholders and routing. Filling the
//! placeholders with typed references is the stack's (`stack/src/callflow/api.rs` tests).

use std::collections::BTreeMap;

use callflow_openapi::{
    AUTHORIZER_URI_PLACEHOLDER, HttpMethod, INTEGRATION_URI_PLACEHOLDER, LambdaName, PathTemplate,
    Scope, find_route, routes, spec_json,
};
use serde_json::{Value, json};

fn operations(spec: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            out.push((method.clone(), path.clone(), op));
        }
    }
    out
}

#[test]
fn spec_has_the_three_routes_of_the_contract() {
    let routes = routes().expect("route table");
    let table: Vec<_> = routes
        .iter()
        .map(|r| {
            (
                r.method,
                r.path.as_str().to_owned(),
                r.operation_id.as_str(),
                r.lambda,
                r.scope,
            )
        })
        .collect();
    assert_eq!(
        table,
        vec![
            (
                HttpMethod::Post,
                "/events".to_owned(),
                "storeEvent",
                LambdaName::EventStorer,
                Scope::EventsWrite
            ),
            (
                HttpMethod::Get,
                "/events".to_owned(),
                "queryEvents",
                LambdaName::EventRetriever,
                Scope::EventsRead
            ),
            (
                HttpMethod::Get,
                "/events/{eventId}".to_owned(),
                "getEvent",
                LambdaName::EventRetriever,
                Scope::EventsRead
            ),
        ]
    );
    let policy: Vec<_> = routes.iter().map(|r| r.policy_resource()).collect();
    assert_eq!(policy, ["POST/events", "GET/events", "GET/events/*"]);
}

/// The route table is read from the build-time reduction of the document (`routes.json`);
/// it must be exactly what the whole contract gives, in the same order.
#[test]
fn the_reduced_route_document_gives_the_routes_of_the_whole_contract() {
    let whole = callflow_openapi::routes_from(spec_json()).expect("routes of the spec");
    assert_eq!(routes().expect("routes of routes.json"), whole);
    assert!(
        callflow_openapi::ROUTES_JSON.len() * 10 < callflow_openapi::SPEC_JSON.len(),
        "the reduction keeps only the route fields ({} of {} bytes)",
        callflow_openapi::ROUTES_JSON.len(),
        callflow_openapi::SPEC_JSON.len()
    );
}

/// The idempotency window taken out at build time is the one the whole document states.
#[test]
fn idempotency_window_is_the_documents() {
    let stated = callflow_openapi::spec_json()
        .pointer(callflow_openapi::IDEMPOTENCY_WINDOW_POINTER)
        .and_then(serde_json::Value::as_u64)
        .expect("the contract states a window");
    assert_eq!(
        callflow_openapi::idempotency_window_days().map(u64::from),
        Ok(stated)
    );
}

#[test]
fn spec_json_keeps_document_key_order() {
    let spec = spec_json();
    let keys: Vec<_> = spec.as_object().expect("object").keys().cloned().collect();
    assert_eq!(keys[..3], ["openapi", "info", "servers"]);
    assert_eq!(spec["openapi"], "3.0.3");
    assert!(
        spec["info"]["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "moto's import_rest_api needs info.description"
    );
}

#[test]
fn every_operation_has_integration_validator_lambda_and_scope() {
    let spec = spec_json();
    let validators = spec["x-amazon-apigateway-request-validators"]
        .as_object()
        .expect("validators");
    assert!(validators.contains_key("body-and-params") && validators.contains_key("params-only"));
    for (method, path, op) in operations(spec) {
        let integration = &op["x-amazon-apigateway-integration"];
        assert_eq!(integration["type"], "aws_proxy", "{method} {path}");
        assert_eq!(integration["httpMethod"], "POST", "{method} {path}");
        assert_eq!(
            integration["uri"], INTEGRATION_URI_PLACEHOLDER,
            "{method} {path}"
        );
        let validator = op["x-amazon-apigateway-request-validator"]
            .as_str()
            .expect("validator named");
        assert!(validators.contains_key(validator), "{method} {path}");
        assert!(op["x-callflow-lambda"].is_string(), "{method} {path}");
        assert!(op["x-callflow-scope"].is_string(), "{method} {path}");
        let responses = op["responses"].as_object().expect("responses");
        for status in ["401", "403", "429", "500"] {
            assert!(responses.contains_key(status), "{method} {path} {status}");
        }
    }
}

#[test]
fn every_ref_resolves() {
    fn walk(spec: &Value, value: &Value, seen: &mut usize) {
        match value {
            Value::Object(map) => {
                if let Some(target) = map.get("$ref") {
                    let target = target.as_str().expect("$ref is a string");
                    let pointer = target.strip_prefix('#').expect("local $ref");
                    assert!(spec.pointer(pointer).is_some(), "dangling $ref {target}");
                    *seen += 1;
                }
                map.values().for_each(|v| walk(spec, v, seen));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(spec, v, seen)),
            _ => {}
        }
    }
    let spec = spec_json();
    let mut seen = 0;
    walk(spec, spec, &mut seen);
    assert!(seen > 30, "only {seen} $refs checked");
}

// The spec's ErrorCode and KnownEventType enums are checked against the handlers' lists in
// handlers/core (error.rs) and openapi/tests/contract.rs: the spec is the one written contract.

#[test]
fn gateway_response_templates_render_our_error_shape() {
    let spec = spec_json();
    let codes = spec["components"]["schemas"]["ErrorCode"]["enum"].clone();
    let responses = spec["x-amazon-apigateway-gateway-responses"]
        .as_object()
        .expect("gateway responses");
    for kind in [
        "UNAUTHORIZED",
        "ACCESS_DENIED",
        "THROTTLED",
        "REQUEST_TOO_LARGE",
        "DEFAULT_4XX",
        "DEFAULT_5XX",
    ] {
        assert!(responses.contains_key(kind), "{kind} missing");
    }
    for (kind, response) in responses {
        let template = response["responseTemplates"]["application/json"]
            .as_str()
            .expect("json template");
        // API Gateway substitutes messageString already JSON-quoted.
        let rendered = template
            .replace("$context.error.messageString", "\"Unauthorized\"")
            .replace("$context.requestId", "req-1");
        let body: Value =
            serde_json::from_str(&rendered).unwrap_or_else(|e| panic!("{kind}: {rendered}: {e}"));
        assert!(
            codes.as_array().expect("codes").contains(&body["code"]),
            "{kind}"
        );
        assert_eq!(body["requestId"], "req-1", "{kind}");
        assert!(body["message"].is_string(), "{kind}");
    }
    assert_eq!(responses["UNAUTHORIZED"]["statusCode"], 401);
    assert_eq!(responses["ACCESS_DENIED"]["statusCode"], 403);
    assert_eq!(responses["REQUEST_TOO_LARGE"]["statusCode"], 413);
    assert_eq!(responses["THROTTLED"]["statusCode"], 429);
}

#[test]
fn authorizer_is_a_cached_token_authorizer_on_the_authorization_header() {
    let spec = spec_json();
    let scheme = &spec["components"]["securitySchemes"]["bearerAuth"];
    assert_eq!(scheme["x-amazon-apigateway-authtype"], "custom");
    let authorizer = &scheme["x-amazon-apigateway-authorizer"];
    assert_eq!(authorizer["type"], "token");
    assert_eq!(
        authorizer["identitySource"],
        "method.request.header.Authorization"
    );
    assert_eq!(authorizer["authorizerResultTtlInSeconds"], 300);
    assert_eq!(authorizer["authorizerUri"], AUTHORIZER_URI_PLACEHOLDER);
    assert_eq!(spec["security"], json!([{"bearerAuth": []}]));
}

#[test]
fn path_templates_match_request_paths() {
    let item = PathTemplate::parse("/events/{eventId}").expect("template");
    let params = item.matches("/events/abc").expect("matches");
    assert_eq!(params, BTreeMap::from([("eventId".into(), "abc".into())]));
    assert_eq!(
        item.matches("/events/a%20b%2Fc").expect("decoded")["eventId"],
        "a b/c"
    );
    assert_eq!(item.matches("/events/%zz").expect("kept")["eventId"], "%zz");
    for path in [
        "/events",
        "/events/",
        "/events/a/b",
        "/other/abc",
        "events/abc",
        "",
    ] {
        assert_eq!(item.matches(path), None, "{path:?}");
    }
    let list = PathTemplate::parse("/events").expect("template");
    assert_eq!(list.matches("/events"), Some(BTreeMap::new()));
    assert_eq!(list.matches("/events/"), None);
    assert_eq!(item.policy_resource_path(), "events/*");
    assert_eq!(item.param_names().collect::<Vec<_>>(), ["eventId"]);
    let root = PathTemplate::parse("/").expect("root");
    assert_eq!(root.matches("/"), Some(BTreeMap::new()));
    for bad in ["events", "/events//x", "/e{x}", "/{}"] {
        assert!(PathTemplate::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn find_route_routes_by_method_and_path() {
    let routes = routes().expect("routes");
    let op = |method, path| find_route(&routes, method, path).map(|(r, _)| r.operation_id.clone());
    assert_eq!(
        op(HttpMethod::Post, "/events").as_deref(),
        Some("storeEvent")
    );
    assert_eq!(
        op(HttpMethod::Get, "/events").as_deref(),
        Some("queryEvents")
    );
    assert_eq!(
        op(HttpMethod::Get, "/events/x").as_deref(),
        Some("getEvent")
    );
    assert_eq!(op(HttpMethod::Delete, "/events/x"), None);
    assert_eq!(op(HttpMethod::Post, "/events/x"), None);
    assert_eq!(op(HttpMethod::Get, "/nope"), None);
}
