//! The local stage's API Gateway semantics, driven through `Gateway::handle` with the real
//! authorizer (local keys) or policy-shaping authorizers, an injectable clock, and an
//! integration that echoes the proxy event it receives.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerRequest,
    ApiGatewayCustomAuthorizerResponse, ApiGatewayProxyRequest, ApiGatewayProxyResponse,
};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::Method;
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use callflow_dev::{
    AccessLogFormat, AuthorizerFailure, AuthorizerResult, AuthorizerTtl, Gateway, GatewayRequest,
    Integration, LocalIdentity, ManualClock, MemorySink, PolicyVerdict, RequestBody,
    ThrottleLimits, TokenAuthorizer,
};
use callflow_openapi::{LambdaName, Scope};
use serde_json::{Value, json};

const ARN_PREFIX: &str = "arn:aws:execute-api:us-east-1:123456789012:callflowdev/v1/";
const EVENT_ID: &str = "019a3f6e-2c80-7a3b-9c1d-0123456789ab";
const QUERY: &str = "/v1/events?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z";

/// Answers 200 with the proxy event it was given, as JSON.
struct EchoIntegration;

#[async_trait]
impl Integration for EchoIntegration {
    async fn invoke(&self, event: ApiGatewayProxyRequest) -> ApiGatewayProxyResponse {
        let mut response = ApiGatewayProxyResponse::default();
        response.status_code = 200;
        response.body = Some(Body::Text(
            serde_json::to_string(&event).unwrap_or_default(),
        ));
        response
    }
}

/// Counts invocations of the authorizer it wraps.
struct Counting<A> {
    inner: A,
    calls: AtomicUsize,
}

impl<A> Counting<A> {
    fn new(inner: A) -> Arc<Self> {
        Arc::new(Self {
            inner,
            calls: AtomicUsize::new(0),
        })
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl<A: TokenAuthorizer> TokenAuthorizer for Counting<A> {
    async fn authorize(
        &self,
        request: ApiGatewayCustomAuthorizerRequest,
    ) -> Result<ApiGatewayCustomAuthorizerResponse, AuthorizerFailure> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.authorize(request).await
    }
}

/// What a policy-shaping authorizer returns for a method ARN: (effect, resources).
type Shape = Result<(IamPolicyEffect, Vec<String>), AuthorizerFailure>;

/// A policy-shaping authorizer: `shape(method_arn)` gives (effect, resources).
struct Shaped(fn(&str) -> Shape);

#[async_trait]
impl TokenAuthorizer for Shaped {
    async fn authorize(
        &self,
        request: ApiGatewayCustomAuthorizerRequest,
    ) -> Result<ApiGatewayCustomAuthorizerResponse, AuthorizerFailure> {
        let (effect, resources) = (self.0)(request.method_arn.as_deref().unwrap_or_default())?;
        let mut response = ApiGatewayCustomAuthorizerResponse::default();
        response.principal_id = Some("shaped-user".into());
        response.policy_document = policy(effect, resources);
        response.context = json!({"sub": "shaped-user", "scopes": "events:read events:write"});
        Ok(response)
    }
}

fn policy(effect: IamPolicyEffect, resources: Vec<String>) -> ApiGatewayCustomAuthorizerPolicy {
    let mut statement = IamPolicyStatement::default();
    statement.action = vec!["execute-api:Invoke".into()];
    statement.effect = effect;
    statement.resource = resources;
    let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
    policy.version = Some("2012-10-17".into());
    policy.statement = vec![statement];
    policy
}

struct Stage {
    gateway: Gateway,
    clock: Arc<ManualClock>,
    log: MemorySink,
}

fn stage(authorizer: Arc<dyn TokenAuthorizer>, ttl: AuthorizerTtl) -> Stage {
    stage_with(
        authorizer,
        ttl,
        ThrottleLimits::new(10_000, 10_000.0).unwrap(),
    )
}

fn stage_with(
    authorizer: Arc<dyn TokenAuthorizer>,
    ttl: AuthorizerTtl,
    throttle: ThrottleLimits,
) -> Stage {
    let clock = Arc::new(ManualClock::new());
    let log = MemorySink::default();
    let gateway = Gateway::builder(authorizer)
        .integration(LambdaName::EventStorer, Arc::new(EchoIntegration))
        .integration(LambdaName::EventRetriever, Arc::new(EchoIntegration))
        .authorizer_ttl(ttl)
        .throttle(throttle)
        .clock(clock.clone())
        .access_log(Arc::new(log.clone()))
        .build()
        .expect("the embedded spec builds a stage");
    Stage {
        gateway,
        clock,
        log,
    }
}

fn local_identity() -> (tempfile::TempDir, LocalIdentity) {
    let dir = tempfile::tempdir().unwrap();
    let identity = LocalIdentity::load_or_create(dir.path()).unwrap();
    (dir, identity)
}

fn get(path: &str, authorization: &str) -> GatewayRequest {
    GatewayRequest::new(Method::GET, path).with_header("Authorization", authorization)
}

fn post_event(authorization: &str) -> GatewayRequest {
    GatewayRequest::new(Method::POST, "/v1/events")
        .with_header("Authorization", authorization)
        .with_header("Content-Type", "application/json")
        .with_body(
            r#"{"callId":"c1","eventType":"call.initiated","timestamp":"2026-11-01T12:00:00Z"}"#,
        )
}

fn assert_error(response: &callflow_dev::GatewayResponse, status: u16, code: &str) {
    assert_eq!(response.status, status, "body: {:?}", response.json());
    let body = response.json();
    assert_eq!(body["code"], code, "body: {body}");
    assert!(body["message"].is_string(), "body: {body}");
    let request_id = response.headers["x-amzn-requestid"].to_str().unwrap();
    assert_eq!(body["requestId"], request_id);
}

#[tokio::test]
async fn missing_or_empty_identity_is_401_without_calling_the_authorizer() {
    let (_dir, identity) = local_identity();
    let authorizer = Counting::new(identity.authorizer().unwrap());
    let stage = stage(authorizer.clone(), AuthorizerTtl::DEFAULT);
    let no_header = stage
        .gateway
        .handle(GatewayRequest::new(Method::GET, QUERY))
        .await;
    assert_error(&no_header, 401, "unauthorized");
    let empty = stage.gateway.handle(get(QUERY, "  ")).await;
    assert_error(&empty, 401, "unauthorized");
    assert_eq!(authorizer.calls(), 0);

    let bad = stage.gateway.handle(get(QUERY, "Bearer not-a-jwt")).await;
    assert_error(&bad, 401, "unauthorized");
    assert_eq!(
        authorizer.calls(),
        1,
        "a present header is passed to the authorizer"
    );
}

#[tokio::test]
async fn a_cached_policy_is_reused_within_the_ttl_and_refreshed_after() {
    let (_dir, identity) = local_identity();
    let token = format!(
        "Bearer {}",
        identity.issue(
            "alice",
            &[Scope::EventsRead, Scope::EventsWrite],
            Duration::from_secs(7200)
        )
    );
    let authorizer = Counting::new(identity.authorizer().unwrap());
    let stage = stage(authorizer.clone(), AuthorizerTtl::DEFAULT);

    assert_eq!(stage.gateway.handle(get(QUERY, &token)).await.status, 200);
    assert_eq!(stage.gateway.handle(post_event(&token)).await.status, 200);
    stage.clock.advance(Duration::from_secs(299));
    let path = format!("/v1/events/{EVENT_ID}");
    assert_eq!(stage.gateway.handle(get(&path, &token)).await.status, 200);
    assert_eq!(authorizer.calls(), 1, "three routes, one authorizer call");

    stage.clock.advance(Duration::from_secs(2));
    assert_eq!(stage.gateway.handle(get(QUERY, &token)).await.status, 200);
    assert_eq!(authorizer.calls(), 2, "called again after 300 s");

    // The cache key is the whole header value: another token is another entry.
    let other = format!(
        "Bearer {}",
        identity.issue("bob", &[Scope::EventsRead], Duration::from_secs(7200))
    );
    assert_eq!(stage.gateway.handle(get(QUERY, &other)).await.status, 200);
    assert_eq!(authorizer.calls(), 3);
    assert_eq!(stage.gateway.policy_cache().len(), 2);
}

#[tokio::test]
async fn ttl_zero_calls_the_authorizer_for_every_request() {
    let (_dir, identity) = local_identity();
    let token = format!(
        "Bearer {}",
        identity.issue("alice", &[Scope::EventsRead], Duration::from_secs(600))
    );
    let authorizer = Counting::new(identity.authorizer().unwrap());
    let stage = stage(authorizer.clone(), AuthorizerTtl::from_secs(0).unwrap());
    for _ in 0..3 {
        assert_eq!(stage.gateway.handle(get(QUERY, &token)).await.status, 200);
    }
    assert_eq!(authorizer.calls(), 3);
    assert!(stage.gateway.policy_cache().is_empty());
}

#[test]
fn ttl_is_bounded_like_api_gateway() {
    assert!(AuthorizerTtl::from_secs(3600).is_ok());
    assert!(AuthorizerTtl::from_secs(3601).is_err());
    assert_eq!(
        AuthorizerTtl::default().duration(),
        Duration::from_secs(300)
    );
    assert_eq!(
        callflow_dev::gateway::spec_authorizer_ttl(),
        AuthorizerTtl::DEFAULT,
        "the spec declares 300 s"
    );
}

/// Allows exactly the method ARN of the request that triggered the call.
fn only_this_request(arn: &str) -> Shape {
    Ok((IamPolicyEffect::Allow, vec![arn.to_owned()]))
}

#[tokio::test]
async fn a_policy_for_only_the_first_route_denies_other_routes_while_cached() {
    let stage = stage(Arc::new(Shaped(only_this_request)), AuthorizerTtl::DEFAULT);
    let first = stage.gateway.handle(get(QUERY, "Bearer t")).await;
    assert_eq!(first.status, 200);
    let second = stage.gateway.handle(post_event("Bearer t")).await;
    assert_error(&second, 403, "forbidden");
    assert_eq!(
        second.json()["message"],
        "User is not authorized to access this resource"
    );
    // After the TTL the authorizer runs again for the new route.
    stage.clock.advance(Duration::from_secs(301));
    assert_eq!(
        stage.gateway.handle(post_event("Bearer t")).await.status,
        200
    );
    assert_error(
        &stage.gateway.handle(get(QUERY, "Bearer t")).await,
        403,
        "forbidden",
    );

    // Without a cache the same authorizer is fine for every route.
    let uncached = stage_with(
        Arc::new(Shaped(only_this_request)),
        AuthorizerTtl::from_secs(0).unwrap(),
        ThrottleLimits::new(100, 100.0).unwrap(),
    );
    assert_eq!(
        uncached.gateway.handle(get(QUERY, "Bearer t")).await.status,
        200
    );
    assert_eq!(
        uncached.gateway.handle(post_event("Bearer t")).await.status,
        200
    );
}

#[tokio::test]
async fn the_real_authorizer_returns_every_route_of_its_scopes() {
    let (_dir, identity) = local_identity();
    let reader = format!(
        "Bearer {}",
        identity.issue("reader", &[Scope::EventsRead], Duration::from_secs(600))
    );
    let stage = stage(
        Arc::new(identity.authorizer().unwrap()),
        AuthorizerTtl::DEFAULT,
    );
    assert_eq!(stage.gateway.handle(get(QUERY, &reader)).await.status, 200);
    let path = format!("/v1/events/{EVENT_ID}");
    assert_eq!(stage.gateway.handle(get(&path, &reader)).await.status, 200);
    assert_error(
        &stage.gateway.handle(post_event(&reader)).await,
        403,
        "forbidden",
    );
}

#[tokio::test]
async fn deny_unauthorized_and_failing_authorizers() {
    fn deny(_: &str) -> Shape {
        Ok((IamPolicyEffect::Deny, vec![format!("{ARN_PREFIX}*")]))
    }
    fn unauthorized(_: &str) -> Shape {
        Err(AuthorizerFailure::Unauthorized)
    }
    fn failing(_: &str) -> Shape {
        Err(AuthorizerFailure::Error("boom".into()))
    }
    let denied = stage(Arc::new(Shaped(deny)), AuthorizerTtl::DEFAULT)
        .gateway
        .handle(get(QUERY, "Bearer t"))
        .await;
    assert_error(&denied, 403, "forbidden");
    assert_eq!(
        denied.json()["message"],
        "User is not authorized to access this resource with an explicit deny"
    );
    let rejected = stage(Arc::new(Shaped(unauthorized)), AuthorizerTtl::DEFAULT)
        .gateway
        .handle(get(QUERY, "Bearer t"))
        .await;
    assert_error(&rejected, 401, "unauthorized");
    let failed = stage(Arc::new(Shaped(failing)), AuthorizerTtl::DEFAULT)
        .gateway
        .handle(get(QUERY, "Bearer t"))
        .await;
    assert_error(&failed, 500, "internal");
}

fn result_with(statements: Vec<(IamPolicyEffect, &str)>) -> AuthorizerResult {
    let mut document = policy(IamPolicyEffect::Allow, vec![]);
    document.statement = statements
        .into_iter()
        .map(|(effect, resource)| {
            let mut s = IamPolicyStatement::default();
            s.action = vec!["execute-api:Invoke".into()];
            s.effect = effect;
            s.resource = vec![resource.to_owned()];
            s
        })
        .collect();
    AuthorizerResult {
        principal_id: "p".into(),
        policy: document,
        context: Default::default(),
        usage_identifier_key: None,
    }
}

#[test]
fn method_arns_match_policy_resources_with_iam_wildcards() {
    use IamPolicyEffect::{Allow, Deny};
    use PolicyVerdict::{Allowed, ExplicitDeny, NotAllowed};
    let arn = |tail: &str| format!("{ARN_PREFIX}{tail}");
    let get_one = arn(&format!("GET/events/{EVENT_ID}"));
    type Case<'a> = (Vec<(IamPolicyEffect, String)>, &'a str, PolicyVerdict);
    let cases: Vec<Case> = vec![
        (vec![(Allow, arn("GET/events/*"))], &get_one, Allowed),
        (vec![(Allow, arn("GET/events/*"))], "GET/events", NotAllowed),
        (vec![(Allow, arn("GET/events"))], &get_one, NotAllowed),
        (vec![(Allow, arn("*/events"))], "POST/events", Allowed),
        (vec![(Allow, arn("*"))], "POST/events", Allowed),
        (
            vec![(Allow, "arn:aws:execute-api:*:*:*/v1/*".into())],
            "GET/events",
            Allowed,
        ),
        (
            vec![(Allow, "arn:aws:execute-api:eu-west-1:*".into())],
            "GET/events",
            NotAllowed,
        ),
        (vec![(Allow, arn("GET/events/01?a*"))], &get_one, Allowed),
        (vec![(Allow, arn("GET/events/x?"))], &get_one, NotAllowed),
        (
            vec![(Allow, arn("*")), (Deny, arn("POST/*"))],
            "POST/events",
            ExplicitDeny,
        ),
        (
            vec![(Allow, arn("*")), (Deny, arn("POST/*"))],
            "GET/events",
            Allowed,
        ),
        (vec![], "GET/events", NotAllowed),
    ];
    for (statements, tail, expected) in cases {
        let method_arn = if tail.starts_with("arn:") {
            tail.to_owned()
        } else {
            arn(tail)
        };
        let result = result_with(
            statements
                .iter()
                .map(|(e, r)| (e.clone(), r.as_str()))
                .collect(),
        );
        assert_eq!(
            PolicyVerdict::of(&result, &method_arn),
            expected,
            "{statements:?} for {method_arn}"
        );
    }
}

#[tokio::test]
async fn the_authorizer_sees_the_method_arn_of_the_request() {
    fn only_get_one(arn: &str) -> Shape {
        assert_eq!(arn, format!("{ARN_PREFIX}GET/events/{EVENT_ID}"));
        Ok((
            IamPolicyEffect::Allow,
            vec![format!("{ARN_PREFIX}GET/events/*")],
        ))
    }
    let stage = stage(Arc::new(Shaped(only_get_one)), AuthorizerTtl::DEFAULT);
    let response = stage
        .gateway
        .handle(get(&format!("/v1/events/{EVENT_ID}"), "Bearer t"))
        .await;
    assert_eq!(response.status, 200);
}

#[tokio::test]
async fn throttling_answers_429_in_the_error_shape_and_refills_at_the_rate() {
    let (_dir, identity) = local_identity();
    let token = format!(
        "Bearer {}",
        identity.issue("alice", &[Scope::EventsRead], Duration::from_secs(600))
    );
    let stage = stage_with(
        Arc::new(identity.authorizer().unwrap()),
        AuthorizerTtl::DEFAULT,
        ThrottleLimits::new(3, 2.0).unwrap(),
    );
    for _ in 0..3 {
        assert_eq!(stage.gateway.handle(get(QUERY, &token)).await.status, 200);
    }
    let throttled = stage.gateway.handle(get(QUERY, &token)).await;
    assert_error(&throttled, 429, "throttled");
    assert_eq!(throttled.json()["message"], "Too Many Requests");
    stage.clock.advance(Duration::from_millis(500));
    assert_eq!(
        stage.gateway.handle(get(QUERY, &token)).await.status,
        200,
        "one token after 0.5 s at 2/s"
    );
    assert_error(
        &stage.gateway.handle(get(QUERY, &token)).await,
        429,
        "throttled",
    );
    stage.clock.advance(Duration::from_secs(60));
    for _ in 0..3 {
        assert_eq!(
            stage.gateway.handle(get(QUERY, &token)).await.status,
            200,
            "refilled up to the burst"
        );
    }
    assert_error(
        &stage.gateway.handle(get(QUERY, &token)).await,
        429,
        "throttled",
    );
}

#[tokio::test]
async fn access_log_lines_have_exactly_the_deployed_format_keys() {
    let (_dir, identity) = local_identity();
    let token = format!(
        "Bearer {}",
        identity.issue("alice", &[Scope::EventsRead], Duration::from_secs(600))
    );
    let stage = stage(
        Arc::new(identity.authorizer().unwrap()),
        AuthorizerTtl::DEFAULT,
    );
    let ok = stage
        .gateway
        .handle(get(QUERY, &token).with_header("User-Agent", "gateway-test/1"))
        .await;
    let denied = stage
        .gateway
        .handle(GatewayRequest::new(Method::GET, QUERY))
        .await;
    let lines = stage.log.lines();
    assert_eq!(lines.len(), 2);

    let deployed: Value =
        serde_json::from_str(callflow_deployment::stage::ACCESS_LOG_FORMAT).unwrap();
    let expected_keys: Vec<&String> = deployed.as_object().unwrap().keys().collect();
    let format = AccessLogFormat::deployed().unwrap();
    assert_eq!(format.keys().collect::<Vec<_>>(), expected_keys);
    let first: Value = serde_json::from_str(&lines[0]).unwrap();
    let first_keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    assert_eq!(first_keys, expected_keys);
    assert_eq!(
        first["requestId"],
        ok.headers["x-amzn-requestid"].to_str().unwrap()
    );
    assert_eq!(first["status"], "200");
    assert_eq!(first["httpMethod"], "GET");
    assert_eq!(first["resourcePath"], "/events");
    assert_eq!(first["path"], "/v1/events");
    assert_eq!(first["principalId"], "alice");
    assert_eq!(first["authorizerStatus"], "200");
    assert_eq!(first["userAgent"], "gateway-test/1");
    assert_eq!(first["ip"], "127.0.0.1");
    assert_eq!(first["errorMessage"], "-");
    assert_eq!(first["responseLength"], ok.body.len().to_string());
    let second: Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(second["status"], "401");
    assert_eq!(second["errorMessage"], "Unauthorized");
    assert_eq!(second["principalId"], "-");
    assert_eq!(denied.status, 401);
}

#[tokio::test]
async fn the_proxy_event_carries_route_parameters_and_authorizer_context() {
    let (_dir, identity) = local_identity();
    let token = format!(
        "Bearer {}",
        identity.issue(
            "alice",
            &[Scope::EventsRead, Scope::EventsWrite],
            Duration::from_secs(600)
        )
    );
    let stage = stage(
        Arc::new(identity.authorizer().unwrap()),
        AuthorizerTtl::DEFAULT,
    );
    let response = stage
        .gateway
        .handle(get(
            &format!("/v1/events/{EVENT_ID}?x=1&x=2&y=a%20b+c"),
            &token,
        ))
        .await;
    assert_eq!(response.status, 200);
    let event = response.json();
    assert_eq!(event["resource"], "/events/{eventId}");
    assert_eq!(event["path"], format!("/events/{EVENT_ID}"));
    assert_eq!(event["httpMethod"], "GET");
    assert_eq!(event["pathParameters"]["eventId"], EVENT_ID);
    assert_eq!(event["queryStringParameters"]["x"], "2");
    assert_eq!(
        event["multiValueQueryStringParameters"]["x"],
        json!(["1", "2"])
    );
    assert_eq!(event["queryStringParameters"]["y"], "a b+c");
    let context = &event["requestContext"];
    assert_eq!(context["stage"], "v1");
    assert_eq!(context["resourcePath"], "/events/{eventId}");
    assert_eq!(context["path"], format!("/v1/events/{EVENT_ID}"));
    assert_eq!(context["authorizer"]["principalId"], "alice");
    assert_eq!(context["authorizer"]["sub"], "alice");
    assert_eq!(context["authorizer"]["scopes"], "events:read events:write");
    assert_eq!(context["identity"]["sourceIp"], "127.0.0.1");
    assert_eq!(
        context["requestId"],
        response.headers["x-amzn-requestid"].to_str().unwrap()
    );
}

#[tokio::test]
async fn routing_validation_and_size_limits() {
    let (_dir, identity) = local_identity();
    let token = format!(
        "Bearer {}",
        identity.issue(
            "alice",
            &[Scope::EventsRead, Scope::EventsWrite],
            Duration::from_secs(600)
        )
    );
    let stage = stage(
        Arc::new(identity.authorizer().unwrap()),
        AuthorizerTtl::DEFAULT,
    );
    for (method, path) in [
        (Method::GET, "/v1/nothing"),
        (Method::DELETE, "/v1/events"),
        (Method::GET, "/v2/events"),
        (Method::GET, "/events"),
        (Method::GET, "/v1/events/"),
        (Method::GET, "/v1events"),
    ] {
        let response = stage
            .gateway
            .handle(GatewayRequest::new(method.clone(), path).with_header("Authorization", &token))
            .await;
        assert_error(&response, 404, "not_found");
    }
    let missing = stage
        .gateway
        .handle(get("/v1/events?from=2026-11-01T00:00:00Z&to=", &token))
        .await;
    assert_error(&missing, 400, "invalid_query");
    assert_eq!(
        missing.json()["message"],
        "Missing required request parameters: [to]"
    );
    let mut huge = post_event(&token);
    huge.body = RequestBody::TooLarge;
    assert_error(&stage.gateway.handle(huge).await, 413, "payload_too_large");
}
