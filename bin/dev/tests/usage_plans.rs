//! Per-client usage plans at the local stage: the authorizer's `usageIdentifierKey` picks the
//! plan, each client has its own bucket and quota, the key is cached with the policy (same
//! TTL), and a request whose authorizer returned no key is refused when plans apply.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerRequest,
    ApiGatewayCustomAuthorizerResponse, ApiGatewayProxyRequest, ApiGatewayProxyResponse,
};
use aws_lambda_events::http::Method;
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use callflow_dev::{
    AuthorizerFailure, AuthorizerTtl, Gateway, GatewayRequest, Integration, ManualClock,
    MemorySink, PlanLimits, TokenAuthorizer, UsagePlans,
};
use callflow_openapi::LambdaName;
use serde_json::{Value, json};

const QUERY: &str = "/v1/events?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z";

struct Ok200;

#[async_trait]
impl Integration for Ok200 {
    async fn invoke(&self, _event: ApiGatewayProxyRequest) -> ApiGatewayProxyResponse {
        let mut response = ApiGatewayProxyResponse::default();
        response.status_code = 200;
        response
    }
}

/// Allows everything; the n-th call (from 0) returns `keys[n]` as `usageIdentifierKey`
/// (the last one once they run out; `None` entries return no key).
struct Keyed {
    keys: Vec<Option<&'static str>>,
    calls: AtomicUsize,
}

#[async_trait]
impl TokenAuthorizer for Keyed {
    async fn authorize(
        &self,
        _request: ApiGatewayCustomAuthorizerRequest,
    ) -> Result<ApiGatewayCustomAuthorizerResponse, AuthorizerFailure> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let key = self.keys[n.min(self.keys.len() - 1)];
        let mut statement = IamPolicyStatement::default();
        statement.action = vec!["execute-api:Invoke".into()];
        statement.effect = IamPolicyEffect::Allow;
        statement.resource = vec!["arn:aws:execute-api:*".into()];
        let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
        policy.version = Some("2012-10-17".into());
        policy.statement = vec![statement];
        let mut response = ApiGatewayCustomAuthorizerResponse::default();
        response.principal_id = Some("user".into());
        response.policy_document = policy;
        response.context = json!({"sub": "user"});
        response.usage_identifier_key = key.map(str::to_owned);
        Ok(response)
    }
}

fn stage(
    keys: Vec<Option<&'static str>>,
    plans: UsagePlans,
) -> (Gateway, Arc<Keyed>, Arc<ManualClock>, MemorySink) {
    let authorizer = Arc::new(Keyed {
        keys,
        calls: AtomicUsize::new(0),
    });
    let clock = Arc::new(ManualClock::new());
    let log = MemorySink::default();
    let gateway = Gateway::builder(authorizer.clone())
        .integration(LambdaName::EventRetriever, Arc::new(Ok200))
        .integration(LambdaName::EventStorer, Arc::new(Ok200))
        .authorizer_ttl(AuthorizerTtl::from_secs(300).unwrap())
        .clock(clock.clone())
        .access_log(Arc::new(log.clone()))
        .usage_plans(Some(plans))
        .build()
        .expect("stage");
    (gateway, authorizer, clock, log)
}

fn request(token: &str) -> GatewayRequest {
    GatewayRequest::new(Method::GET, QUERY).with_header("authorization", &format!("Bearer {token}"))
}

#[tokio::test]
async fn the_usage_identifier_key_is_cached_with_the_policy_for_the_same_ttl() {
    // Burst 1 and a rate that refills nothing in the test: each key serves one request.
    let plans = UsagePlans::new(PlanLimits::new(1, 0.000_001, 1_000).unwrap());
    let (gateway, authorizer, clock, log) =
        stage(vec![Some("client-one"), Some("client-two")], plans);
    assert_eq!(gateway.handle(request("t")).await.status, 200);
    // Within the TTL the cached result, key included, is reused: client-one's bucket is empty.
    clock.advance(Duration::from_secs(299));
    let throttled = gateway.handle(request("t")).await;
    assert_eq!(throttled.status, 429);
    assert_eq!(throttled.json()["message"], "Too Many Requests");
    assert_eq!(authorizer.calls.load(Ordering::SeqCst), 1);
    // Past the TTL the authorizer runs again and its new key is metered on its own bucket.
    clock.advance(Duration::from_secs(2));
    assert_eq!(gateway.handle(request("t")).await.status, 200);
    assert_eq!(authorizer.calls.load(Ordering::SeqCst), 2);
    let keys: Vec<Value> = log
        .lines()
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["apiKey"].clone())
        .collect();
    assert_eq!(keys, ["client-one", "client-one", "client-two"]);
}

#[tokio::test]
async fn each_key_has_its_plan_bucket_and_quota() {
    let small = PlanLimits::new(100, 100.0, 2).unwrap();
    let plans = UsagePlans::new(PlanLimits::new(100, 100.0, 1_000).unwrap()).with_key(
        "quota-client",
        "small",
        small,
    );
    let authorizer_keys = vec![Some("quota-client"), Some("other-client")];
    let (gateway, _, _, _) = stage(authorizer_keys, plans);
    // Token "a" is cached as quota-client, token "b" as other-client.
    assert_eq!(gateway.handle(request("a")).await.status, 200);
    assert_eq!(gateway.handle(request("b")).await.status, 200);
    assert_eq!(gateway.handle(request("a")).await.status, 200);
    let over = gateway.handle(request("a")).await;
    assert_eq!(over.status, 429);
    assert_eq!(over.json()["message"], "Limit Exceeded");
    assert_eq!(over.json()["code"], "throttled");
    assert_eq!(
        over.headers.get("x-amzn-errortype").unwrap(),
        "LimitExceededException"
    );
    assert_eq!(gateway.handle(request("b")).await.status, 200);
}

#[tokio::test]
async fn no_usage_identifier_key_is_forbidden_when_plans_apply() {
    let (gateway, _, _, _) = stage(vec![None], UsagePlans::default());
    let refused = gateway.handle(request("t")).await;
    assert_eq!(refused.status, 403, "{:?}", refused.json());
    assert_eq!(refused.json()["message"], "Forbidden");
}

#[test]
fn plans_are_read_from_the_synthesized_stack() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../cdktf.out");
    let (_, _, document) =
        callflow_dev::stack_functions::stack_document(&root, None).expect("cdktf.out");
    let plans = UsagePlans::from_document(&document)
        .expect("valid plans")
        .expect("a default plan");
    let config = callflow_config::AppConfig::from_toml(
        &std::fs::read_to_string(root.join("../callflow.toml")).unwrap(),
    )
    .unwrap();
    let usage = &config.stacks[0].usage_plan;
    assert_eq!(
        plans.default_plan(),
        PlanLimits::new(usage.burst_limit, usage.rate_limit, usage.quota_per_day).unwrap()
    );
    for client in &usage.clients {
        let (name, limits) = plans.plan_of(&client.client_id);
        assert_eq!(name, client.plan);
        let plan = usage
            .plans()
            .into_iter()
            .find(|p| p.name == client.plan)
            .unwrap();
        assert_eq!(
            limits,
            PlanLimits::new(plan.burst_limit, plan.rate_limit, plan.quota_per_day).unwrap()
        );
    }
    assert!(!usage.clients.is_empty(), "callflow.toml lists clients");
    assert_eq!(plans.plan_of("unlisted").0, "default");
}
