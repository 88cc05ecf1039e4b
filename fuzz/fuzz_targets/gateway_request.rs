//! The API Gateway event -> request conversion, end to end in process: a fuzzed HTTP request
//! goes through callflow-dev's stage (routing, size, throttle, the real authorizer and its
//! policy cache, parameter validation), becomes an `ApiGatewayProxyRequest`, is serialized
//! to JSON and read back as Lambda would deliver it, and is parsed the way the handlers parse
//! it (`StoreRequest::parse`, `EventId::parse`, `EventQuery::parse` + `nextToken`).
//! Properties: no panic; every non-2xx answer is JSON with a stable `code`; nothing gets a
//! 2xx without a valid token.
#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arbitrary::Arbitrary;
use async_trait::async_trait;
use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::http::{HeaderName, HeaderValue, Method};
use callflow_core::http::{error_response, json_response, request_id};
use callflow_core::{ApiError, ErrorCode, EventId, EventQuery, TokenSigner};
use callflow_dev::{
    Gateway, GatewayRequest, Integration, LocalIdentity, RequestBody, ThrottleLimits,
};
use callflow_event_storer::StoreRequest;
use callflow_fuzz::assert_error_body;
use callflow_openapi::{LambdaName, Scope};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

/// The handlers' request parsing, without storage.
struct ParsingTwin {
    lambda: LambdaName,
    signer: TokenSigner,
}

#[async_trait]
impl Integration for ParsingTwin {
    async fn invoke(&self, event: ApiGatewayProxyRequest) -> ApiGatewayProxyResponse {
        // What Lambda delivers is the JSON form of the event.
        // What Lambda delivers is the JSON form of the event. Known gap: the local stage
        // copies header values that are not UTF-8 into the event, which then has no JSON
        // form (API Gateway could not deliver it); the handler gets the in-process event.
        let event = match serde_json::to_vec(&event) {
            Ok(wire) => serde_json::from_slice::<ApiGatewayProxyRequest>(&wire)
                .expect("a serialized proxy event reads back"),
            Err(e) => {
                let non_utf8 = event
                    .multi_value_headers
                    .values()
                    .any(|v| std::str::from_utf8(v.as_bytes()).is_err());
                assert!(
                    non_utf8,
                    "a proxy event without non-UTF-8 headers fails to serialize: {e}"
                );
                event
            }
        };
        let request_id = request_id(&event);
        let outcome: Result<(), ApiError> = match self.lambda {
            LambdaName::EventStorer => StoreRequest::parse(&event).map(|_| ()),
            _ => match event.path_parameters.get("eventId") {
                Some(id) => EventId::parse(id)
                    .map(|_| ())
                    .map_err(|e| ApiError::new(ErrorCode::InvalidEventId, e.to_string())),
                None => {
                    EventQuery::parse(event.query_string_parameters.iter()).and_then(|q| {
                        match q.next_token.as_deref() {
                            Some(t) => self
                                .signer
                                .decode(t, q.filter.fingerprint())
                                .map(|_| ())
                                .map_err(|e| ApiError::new(ErrorCode::InvalidToken, e.to_string())),
                            None => Ok(()),
                        }
                    })
                }
            },
        };
        match outcome {
            Ok(()) => json_response(200, &json!({"ok": true}), &[]),
            Err(err) => error_response(&err, &request_id),
        }
    }
}

struct Fixture {
    runtime: tokio::runtime::Runtime,
    gateway: Gateway,
    token: String,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("callflow-fuzz-gateway-{}", std::process::id()));
        let identity = LocalIdentity::load_or_create(&dir).expect("identity");
        let token = identity.issue(
            "fuzzer",
            &[Scope::EventsRead, Scope::EventsWrite],
            Duration::from_secs(24 * 3600),
        );
        let twin = |lambda| -> Arc<dyn Integration> {
            Arc::new(ParsingTwin {
                lambda,
                signer: TokenSigner::new(b"k".repeat(32)),
            })
        };
        let gateway = Gateway::builder(Arc::new(identity.authorizer().expect("authorizer")))
            .integration(LambdaName::EventStorer, twin(LambdaName::EventStorer))
            .integration(LambdaName::EventRetriever, twin(LambdaName::EventRetriever))
            .throttle(ThrottleLimits::new(i64::from(u32::MAX), 1e12).expect("limits"))
            .build()
            .expect("gateway");
        // Timers: the stage bounds every integration call by its timeout.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        Fixture {
            runtime,
            gateway,
            token,
        }
    })
}

#[derive(Arbitrary, Debug)]
enum Auth<'a> {
    None,
    Valid,
    Raw(&'a [u8]),
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    method: u8,
    /// 0: as given; 1: below `/v1/events/`; 2: `/v1/events`; 3: below `/v1/`.
    path_kind: u8,
    path: &'a str,
    query: Option<&'a str>,
    auth: Auth<'a>,
    headers: Vec<(&'a [u8], &'a [u8])>,
    body: &'a [u8],
    body_too_large: bool,
}

const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "BREW",
];

fuzz_target!(|input: Input<'_>| {
    let fixture = fixture();
    let method = Method::from_bytes(METHODS[usize::from(input.method) % METHODS.len()].as_bytes())
        .expect("method");
    let path = match input.path_kind % 4 {
        0 => input.path.to_owned(),
        1 => format!("/v1/events/{}", input.path),
        2 => "/v1/events".to_owned(),
        _ => format!("/v1/{}", input.path),
    };
    let mut request = GatewayRequest::new(method, "/");
    request.path = path;
    request.query = input.query.map(str::to_owned);
    for (name, value) in &input.headers {
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            request.headers.append(name, value);
        }
    }
    let authorization = aws_lambda_events::http::header::AUTHORIZATION;
    request.headers.remove(&authorization);
    let valid = matches!(input.auth, Auth::Valid);
    match input.auth {
        Auth::None => {}
        Auth::Valid => {
            let value =
                HeaderValue::from_str(&format!("Bearer {}", fixture.token)).expect("header");
            request.headers.insert(authorization, value);
        }
        Auth::Raw(raw) => {
            if let Ok(value) = HeaderValue::from_bytes(raw) {
                request.headers.insert(authorization, value);
            }
        }
    }
    request.body = if input.body_too_large {
        RequestBody::TooLarge
    } else {
        RequestBody::Complete(input.body.to_vec())
    };
    let response = fixture.runtime.block_on(fixture.gateway.handle(request));
    assert!((100..=599).contains(&response.status));
    if (200..300).contains(&response.status) {
        assert!(valid, "2xx without a valid token: {}", response.status);
    } else {
        let code = assert_error_body(response.status, &response.body);
        assert!(
            ErrorCode::ALL
                .iter()
                .any(|c| c.as_str() == code && c.status() == response.status)
                || matches!(
                    (code.as_str(), response.status),
                    ("not_found", 404) | ("forbidden", 403)
                ),
            "status {} does not go with code {code}",
            response.status
        );
    }
});
