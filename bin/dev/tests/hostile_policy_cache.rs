//! The stage's authorizer result cache cannot be poisoned across principals: a cached Allow
//! for one `Authorization` value never answers a request carrying another value, and a Deny
//! or 401 for one token never changes the answer for another. Driven through
//! `Gateway::handle` with the production authorizer over the local identity's keys, and an
//! integration that reports which principal the stage passed on.

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
use callflow_dev::policy_cache::DEFAULT_CACHE_CAPACITY;
use callflow_dev::{
    AuthorizerFailure, AuthorizerTtl, Gateway, GatewayRequest, GatewayResponse, Integration,
    LocalIdentity, ManualClock, ThrottleLimits, TokenAuthorizer,
};
use callflow_openapi::{LambdaName, Scope};
use serde_json::{Value, json};

const QUERY: &str = "/v1/events?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z";

/// Answers 200 with the principal the stage handed to the integration.
struct WhoAmI;

#[async_trait]
impl Integration for WhoAmI {
    async fn invoke(&self, event: ApiGatewayProxyRequest) -> ApiGatewayProxyResponse {
        let fields = &event.request_context.authorizer.fields;
        let mut response = ApiGatewayProxyResponse::default();
        response.status_code = 200;
        response.body = Some(Body::Text(
            json!({"principalId": fields.get("principalId"), "sub": fields.get("sub")}).to_string(),
        ));
        response
    }
}

/// Counts the calls that reach the authorizer it wraps (cache misses).
struct Counting<A> {
    inner: A,
    calls: AtomicUsize,
}

impl<A> Counting<A> {
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

fn gateway(authorizer: Arc<dyn TokenAuthorizer>, clock: Arc<ManualClock>) -> Gateway {
    Gateway::builder(authorizer)
        .integration(LambdaName::EventStorer, Arc::new(WhoAmI))
        .integration(LambdaName::EventRetriever, Arc::new(WhoAmI))
        .authorizer_ttl(AuthorizerTtl::from_secs(3600).expect("ttl"))
        .throttle(ThrottleLimits::new(1_000_000, 1_000_000.0).expect("limits"))
        .clock(clock)
        .build()
        .expect("stage")
}

struct Fixture {
    _dir: tempfile::TempDir,
    identity: LocalIdentity,
    authorizer: Arc<Counting<callflow_authorizer::Authorizer>>,
    gateway: Gateway,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let identity = LocalIdentity::load_or_create(dir.path()).expect("identity");
    let authorizer = Arc::new(Counting {
        inner: identity.authorizer().expect("authorizer"),
        calls: AtomicUsize::new(0),
    });
    let gateway = gateway(authorizer.clone(), Arc::new(ManualClock::new()));
    Fixture {
        _dir: dir,
        identity,
        authorizer,
        gateway,
    }
}

impl Fixture {
    fn bearer(&self, sub: &str, scopes: &[Scope]) -> String {
        format!(
            "Bearer {}",
            self.identity.issue(sub, scopes, Duration::from_secs(600))
        )
    }
}

async fn call(gateway: &Gateway, method: Method, authorization: &str) -> GatewayResponse {
    let path = if method == Method::POST {
        "/v1/events"
    } else {
        QUERY
    };
    let request = GatewayRequest::new(method, path)
        .with_header("Authorization", authorization)
        .with_header("Content-Type", "application/json")
        .with_body("{}");
    gateway.handle(request).await
}

fn principal(response: &GatewayResponse) -> Value {
    assert_eq!(response.status, 200, "{:?}", response.json());
    response.json()["principalId"].clone()
}

fn code(response: &GatewayResponse) -> Value {
    response.json()["code"].clone()
}

#[tokio::test]
async fn a_cached_allow_for_one_header_value_never_serves_another() {
    let f = fixture();
    let alice = f.bearer("alice", &[Scope::EventsRead, Scope::EventsWrite]);
    let bob = f.bearer("bob", &[Scope::EventsRead]);
    assert_eq!(
        principal(&call(&f.gateway, Method::GET, &alice).await),
        "alice"
    );
    assert_eq!(
        principal(&call(&f.gateway, Method::POST, &alice).await),
        "alice"
    );
    assert_eq!(f.authorizer.calls(), 1, "alice's Allow is cached");

    // Bob reads as bob, and his read-only token cannot ride on alice's cached write access.
    assert_eq!(principal(&call(&f.gateway, Method::GET, &bob).await), "bob");
    let response = call(&f.gateway, Method::POST, &bob).await;
    assert_eq!(
        (response.status, code(&response)),
        (403, json!("forbidden"))
    );
    assert_eq!(f.authorizer.calls(), 2);

    // Every other spelling of a header value is its own cache key: each one is sent to
    // the authorizer, and each answer is about the token it carries.
    let token = alice.trim_start_matches("Bearer ");
    let variants: Vec<(String, Option<&str>)> = vec![
        (format!("bearer {token}"), Some("alice")),
        (format!("Bearer  {token}"), Some("alice")),
        (format!("BEARER {token}"), Some("alice")),
        (format!("Bearer {token}x"), None),
        (format!("Bearer {}", &token[..token.len() - 1]), None),
        (format!("Bearer {token}.{token}"), None),
        (token.to_owned(), None),
        (
            format!("Bearer {}", bob.trim_start_matches("Bearer ")),
            Some("bob"),
        ),
        (format!("{alice},{bob}"), None),
    ];
    for (value, expected) in variants {
        let before = f.authorizer.calls();
        let response = call(&f.gateway, Method::GET, &value).await;
        let cached = value == bob;
        assert_eq!(
            f.authorizer.calls(),
            before + usize::from(!cached),
            "{value:.40}: a value that was never cached must reach the authorizer"
        );
        match expected {
            Some(sub) => assert_eq!(principal(&response), sub, "{value:.40}"),
            None => assert_eq!(
                (response.status, code(&response)),
                (401, json!("unauthorized")),
                "{value:.40}"
            ),
        }
    }
    // Alice's own entry is untouched by all of the above.
    let before = f.authorizer.calls();
    assert_eq!(
        principal(&call(&f.gateway, Method::POST, &alice).await),
        "alice"
    );
    assert_eq!(f.authorizer.calls(), before);
}

#[tokio::test]
async fn a_deny_or_a_401_for_one_token_does_not_change_another_tokens_answer() {
    let f = fixture();
    let alice = f.bearer("alice", &[Scope::EventsRead]);
    let mallory = f.bearer("mallory", &[]);
    let forged = format!("{}AAAA", f.bearer("alice", &[Scope::EventsRead]));

    assert_eq!(
        principal(&call(&f.gateway, Method::GET, &alice).await),
        "alice"
    );
    for _ in 0..3 {
        let denied = call(&f.gateway, Method::GET, &mallory).await;
        assert_eq!((denied.status, code(&denied)), (403, json!("forbidden")));
        let refused = call(&f.gateway, Method::GET, &forged).await;
        assert_eq!(
            (refused.status, code(&refused)),
            (401, json!("unauthorized"))
        );
        assert_eq!(
            principal(&call(&f.gateway, Method::GET, &alice).await),
            "alice"
        );
    }
    // A token first seen right after a Deny and a 401 is judged on its own.
    let carol = f.bearer("carol", &[Scope::EventsRead]);
    assert_eq!(
        principal(&call(&f.gateway, Method::GET, &carol).await),
        "carol"
    );
    // And a Deny cached for mallory stays a Deny (no Allow leaks into it).
    let denied = call(&f.gateway, Method::GET, &mallory).await;
    assert_eq!(denied.status, 403);
}

#[tokio::test]
async fn concurrent_requests_of_many_principals_each_see_their_own() {
    let f = fixture();
    let gateway = Arc::new(f.gateway);
    let tokens: Vec<(String, String)> = (0..40)
        .map(|i| {
            let sub = format!("user-{i}");
            let token = format!(
                "Bearer {}",
                f.identity
                    .issue(&sub, &[Scope::EventsRead], Duration::from_secs(600))
            );
            (sub, token)
        })
        .collect();
    let mut tasks = Vec::new();
    for round in 0..5 {
        for (sub, token) in &tokens {
            let (gateway, sub, token) = (gateway.clone(), sub.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                let response = call(&gateway, Method::GET, &token).await;
                (round, sub, response)
            }));
        }
    }
    for task in tasks {
        let (round, sub, response) = task.await.expect("task");
        assert_eq!(principal(&response), sub.as_str(), "round {round}");
    }
    assert!(f.authorizer.calls() >= tokens.len());
}

/// An authorizer whose principal is the header value itself: any mix-up of cache entries
/// shows as a wrong principal.
struct MirrorAuthorizer;

#[async_trait]
impl TokenAuthorizer for MirrorAuthorizer {
    async fn authorize(
        &self,
        request: ApiGatewayCustomAuthorizerRequest,
    ) -> Result<ApiGatewayCustomAuthorizerResponse, AuthorizerFailure> {
        let identity = request.authorization_token.unwrap_or_default();
        if identity.starts_with("deny") {
            return Err(AuthorizerFailure::Unauthorized);
        }
        let mut statement = IamPolicyStatement::default();
        statement.action = vec!["execute-api:Invoke".into()];
        statement.effect = IamPolicyEffect::Allow;
        statement.resource = vec!["*".into()];
        let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
        policy.statement = vec![statement];
        let mut response = ApiGatewayCustomAuthorizerResponse::default();
        response.principal_id = Some(identity.clone());
        response.policy_document = policy;
        response.context = json!({"sub": identity});
        Ok(response)
    }
}

#[tokio::test]
async fn eviction_at_capacity_never_hands_one_tokens_entry_to_another() {
    let clock = Arc::new(ManualClock::new());
    let gateway = gateway(Arc::new(MirrorAuthorizer), clock.clone());
    let total = DEFAULT_CACHE_CAPACITY + 50;
    for i in 0..total {
        let identity = format!("token-{i}");
        let response = call(&gateway, Method::GET, &identity).await;
        assert_eq!(principal(&response), identity.as_str());
        if i % 1000 == 0 {
            clock.advance(Duration::from_secs(1));
        }
    }
    assert!(gateway.policy_cache().len() <= DEFAULT_CACHE_CAPACITY);
    for i in (0..total).step_by(97) {
        let identity = format!("token-{i}");
        assert_eq!(
            principal(&call(&gateway, Method::GET, &identity).await),
            identity.as_str()
        );
        let refused = call(&gateway, Method::GET, &format!("deny-{i}")).await;
        assert_eq!(refused.status, 401);
    }
}
