//! Hostile input as properties over generated input: the stable-toolchain twins of the
//! `fuzz/` targets `authorizer_token` and `gateway_request`.
//! - The authorizer never accepts a header value, or three base64url parts, that were not
//!   signed with its key; a token it signed with arbitrary claims is accepted only when the
//!   claims justify it.
//! - A request of any shape through the stage, converted to an `ApiGatewayProxyRequest`,
//!   serialized and read back as Lambda does and parsed the way the handlers parse it, never
//!   panics; every non-2xx answer is JSON with a stable `code` that goes with its status;
//!   nothing gets a 2xx without a valid token.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::http::{HeaderName, HeaderValue, Method, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use callflow_authorizer::{Authorizer, Rejection, unix_now};
use callflow_core::http::{error_response, json_response, request_id};
use callflow_core::{ApiError, ErrorCode, EventId, EventQuery, TokenSigner};
use callflow_dev::{
    Gateway, GatewayRequest, Integration, LocalIdentity, RequestBody, ThrottleLimits,
};
use callflow_event_storer::StoreRequest;
use callflow_openapi::{LambdaName, Scope};
use proptest::prelude::*;
use serde_json::{Value, json};

/// The handlers' request parsing (storer: `StoreRequest::parse`; retriever: event id, query
/// and `nextToken`), on the event as Lambda would deliver it, without storage.
struct ParsingTwin {
    lambda: LambdaName,
    signer: TokenSigner,
}

#[async_trait]
impl Integration for ParsingTwin {
    async fn invoke(&self, event: ApiGatewayProxyRequest) -> ApiGatewayProxyResponse {
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
    _dir: tempfile::TempDir,
    identity: LocalIdentity,
    authorizer: Authorizer,
    gateway: Gateway,
    token: String,
    runtime: tokio::runtime::Runtime,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let identity = LocalIdentity::load_or_create(dir.path()).expect("identity");
        let token = identity.issue(
            "prop",
            &[Scope::EventsRead, Scope::EventsWrite],
            Duration::from_secs(3600),
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
            .expect("stage");
        // Timers: the stage bounds every integration call by its timeout.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        Fixture {
            authorizer: identity.authorizer().expect("authorizer"),
            _dir: dir,
            identity,
            gateway,
            token,
            runtime,
        }
    })
}

fn verify(header: &str) -> Result<callflow_authorizer::VerifiedToken, Rejection> {
    let f = fixture();
    f.runtime.block_on(f.authorizer.verify(Some(header)))
}

/// Member values that are sometimes right and often subtly wrong.
fn claim_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(callflow_dev::DEV_ISSUER)),
        Just(json!(callflow_dev::DEV_AUDIENCE)),
        Just(json!([callflow_dev::DEV_AUDIENCE, "other"])),
        Just(json!("")),
        Just(json!(" ")),
        Just(Value::Null),
        any::<i64>().prop_map(Value::from),
        (-100_000i64..100_000).prop_map(|d| json!(i64::try_from(unix_now()).unwrap_or(0) + d)),
        ".{0,12}".prop_map(Value::from),
        Just(json!({"nested": true})),
    ]
}

fn claims() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(
        prop::sample::select(vec![
            "iss", "aud", "sub", "exp", "nbf", "iat", "scope", "scp", "jti", "other",
        ]),
        claim_value(),
        0..10,
    )
    .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

fn stable(status: u16, body: &[u8]) -> Result<(), TestCaseError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        TestCaseError::fail(format!(
            "{status} body is not JSON ({e}): {:?}",
            String::from_utf8_lossy(body)
        ))
    })?;
    let code = value["code"].as_str().unwrap_or_default();
    let known = ErrorCode::ALL
        .iter()
        .find(|c| c.as_str() == code)
        .ok_or_else(|| TestCaseError::fail(format!("{status}: unknown code in {value}")))?;
    prop_assert!(value["message"].is_string(), "{}", value);
    prop_assert!(
        known.status() == status
            || matches!((code, status), ("not_found", 404) | ("forbidden", 403)),
        "status {} does not go with code {}",
        status,
        code
    );
    Ok(())
}

#[derive(Debug, Clone)]
enum Auth {
    None,
    Valid,
    Raw(Vec<u8>),
}

fn request() -> impl Strategy<Value = (GatewayRequest, bool)> {
    let method = prop::sample::select(vec![
        "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "BREW",
    ]);
    let path = prop_oneof![
        ".{0,40}",
        "/v1/events/.{0,40}",
        Just("/v1/events".to_owned()),
        "/v1/events/[0-9a-f-]{36}",
        "/v1/(%[0-9A-Fa-f]{2}|[a-z./]){0,20}",
    ];
    let query = proptest::option::of(prop_oneof![
        ".{0,80}",
        "(from|to|callId|limit|nextToken|eventType|x)=(%[0-9A-Fa-fg]{0,2}|[A-Za-z0-9:+.-]){0,25}(&(from|to|nextToken)=.{0,20}){0,3}",
        Just("from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z".to_owned()),
        "from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&nextToken=.{0,60}",
    ]);
    let auth = prop_oneof![
        1 => Just(Auth::None),
        3 => Just(Auth::Valid),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Auth::Raw),
    ];
    let headers = prop::collection::vec(
        (
            prop::sample::select(vec![
                "content-type",
                "idempotency-key",
                "user-agent",
                "x-forwarded-for",
                "accept",
            ]),
            prop::collection::vec(any::<u8>(), 0..40),
        ),
        0..4,
    );
    let body = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        ".{0,200}".prop_map(String::into_bytes),
        Just(
            br#"{"callId":"c1","eventType":"call.held","timestamp":"2026-11-01T12:00:00Z"}"#
                .to_vec()
        ),
    ];
    (method, path, query, auth, headers, body, any::<bool>()).prop_map(
        |(method, path, query, auth, headers, body, too_large)| {
            let mut request =
                GatewayRequest::new(Method::from_bytes(method.as_bytes()).expect("method"), "/");
            request.path = path;
            request.query = query;
            for (name, value) in headers {
                if let Ok(value) = HeaderValue::from_bytes(&value) {
                    request.headers.append(HeaderName::from_static(name), value);
                }
            }
            let valid = matches!(auth, Auth::Valid);
            match auth {
                Auth::None => {}
                Auth::Valid => {
                    let value = format!("Bearer {}", fixture().token);
                    request.headers.insert(
                        header::AUTHORIZATION,
                        HeaderValue::from_str(&value).expect("header"),
                    );
                }
                Auth::Raw(raw) => {
                    if let Ok(value) = HeaderValue::from_bytes(&raw) {
                        request.headers.insert(header::AUTHORIZATION, value);
                    }
                }
            }
            request.body = if too_large {
                RequestBody::TooLarge
            } else {
                RequestBody::Complete(body)
            };
            (request, valid)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn no_header_value_the_test_makes_up_is_accepted(value in ".{0,200}") {
        prop_assert!(verify(&value).is_err());
        let bearer = format!("Bearer {}", value);
        prop_assert!(verify(&bearer).is_err());
    }

    #[test]
    fn unsigned_three_part_tokens_are_refused(
        header in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..80),
            Just(br#"{"alg":"ES256"}"#.to_vec()),
            Just(br#"{"alg":"none"}"#.to_vec()),
            Just(br#"{"alg":"HS256"}"#.to_vec()),
        ],
        claims in claims(),
        signature in prop::collection::vec(any::<u8>(), 0..80),
    ) {
        let claims = serde_json::to_vec(&claims).expect("json");
        let token = format!(
            "Bearer {}.{}.{}",
            URL_SAFE_NO_PAD.encode(&header),
            URL_SAFE_NO_PAD.encode(&claims),
            URL_SAFE_NO_PAD.encode(&signature)
        );
        prop_assert!(verify(&token).is_err(), "{}", token);
    }

    #[test]
    fn a_signed_token_is_accepted_only_when_its_claims_justify_it(claims in claims()) {
        let token = fixture().identity.token_issuer().sign(&claims);
        match verify(&format!("Bearer {}", token)) {
            Ok(verified) => {
                prop_assert_eq!(&claims["iss"], &json!(callflow_dev::DEV_ISSUER));
                let aud_ok = claims["aud"] == json!(callflow_dev::DEV_AUDIENCE)
                    || claims["aud"].as_array().is_some_and(|a| a.contains(&json!(callflow_dev::DEV_AUDIENCE)));
                prop_assert!(aud_ok, "{}", claims);
                let exp = claims["exp"].as_i64().unwrap_or(i64::MIN);
                prop_assert!(exp.saturating_add(30) >= i64::try_from(unix_now()).unwrap_or(0), "{}", claims);
                prop_assert_eq!(&claims["sub"], &json!(verified.subject));
                prop_assert!(!verified.subject.trim().is_empty());
            }
            Err(Rejection::KeysUnavailable(m)) => prop_assert!(false, "inline keys unavailable: {}", m),
            Err(_) => {}
        }
    }

    #[test]
    fn any_request_through_the_stage_gets_a_clean_answer((request, valid) in request()) {
        let f = fixture();
        let response = f.runtime.block_on(f.gateway.handle(request));
        prop_assert!((100..=599).contains(&response.status));
        if (200..300).contains(&response.status) {
            prop_assert!(valid, "2xx without a valid token");
        } else {
            stable(response.status, &response.body)?;
        }
    }
}
