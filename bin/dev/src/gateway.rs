//! The local REST API stage: routing from the spec, throttling, the TOKEN authorizer with its
//! result cache, request parameter validation, the Lambda proxy integrations and the access log.
//!
//! Order of checks, as on API Gateway: route (404) → payload size (413) → throttle (429) →
//! identity source present (401, authorizer not called) → authorizer or cache (401/403/500)
//! → usage plan of the authorizer's `usageIdentifierKey` (403 without one, 429) → required
//! parameters (400) → integration.

use std::collections::HashMap;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayProxyRequest, ApiGatewayProxyResponse,
};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use aws_lambda_events::query_map::QueryMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use callflow_openapi::{HttpMethod, LambdaName, Route, find_route};
use serde_json::Value;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::access_log::{AccessLogFormat, AccessLogSink, DiscardSink, InvalidLogFormat};
use crate::authorize::{
    AuthorizerFailure, PolicyVerdict, StageArn, TokenAuthorizer, authorizer_result,
};
use crate::clock::{Clock, SystemClock};
use crate::gateway_response::{
    GatewayResponseType, GatewayResponses, InvalidGatewayResponse, RenderedResponse,
};
use crate::integration::{Integration, IntegrationError};
use crate::policy_cache::{AuthorizerResult, AuthorizerTtl, PolicyCache};
use crate::request_id::RequestId;
use crate::throttle::{ThrottleLimits, TokenBucket};
use crate::usage_plan::{UsageMeter, UsagePlans, UsageVerdict};
use crate::validation::RequiredParams;

/// API Gateway's payload limit for REST APIs: 10 MB.
pub const MAX_PAYLOAD_BYTES: usize = 10 * 1024 * 1024;

/// API Gateway's default (and largest) integration timeout for REST APIs: 29 s.
pub const DEFAULT_INTEGRATION_TIMEOUT: Duration = Duration::from_millis(29_000);

/// The body of an incoming request as the server read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestBody {
    /// The whole body (possibly empty).
    Complete(Vec<u8>),
    /// The body was longer than [`MAX_PAYLOAD_BYTES`] and was not kept.
    TooLarge,
}

/// An HTTP request as the stage sees it.
#[derive(Debug, Clone)]
pub struct GatewayRequest {
    /// The method.
    pub method: Method,
    /// The raw path, stage included (`/v1/events/abc`).
    pub path: String,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: RequestBody,
    /// The client address.
    pub source_ip: IpAddr,
    /// `HTTP/1.1`.
    pub protocol: String,
}

impl GatewayRequest {
    /// A request from loopback with no headers and an empty body (tests build on it).
    pub fn new(method: Method, path_and_query: &str) -> Self {
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
            None => (path_and_query.to_owned(), None),
        };
        Self {
            method,
            path,
            query,
            headers: HeaderMap::new(),
            body: RequestBody::Complete(Vec::new()),
            source_ip: IpAddr::from([127, 0, 0, 1]),
            protocol: "HTTP/1.1".to_owned(),
        }
    }

    /// Adds a header (ignored when name or value is not valid HTTP).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            self.headers.append(n, v);
        }
        self
    }

    /// Sets the body.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = RequestBody::Complete(body.into());
        self
    }
}

/// The stage's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayResponse {
    /// The HTTP status.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl GatewayResponse {
    /// The body parsed as JSON (`Value::Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// Why a gateway could not be built.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The route table could not be read.
    #[error(transparent)]
    Routes(#[from] callflow_openapi::SpecError),
    /// A gateway response template is unusable.
    #[error(transparent)]
    GatewayResponse(#[from] InvalidGatewayResponse),
    /// The access log format is unusable.
    #[error(transparent)]
    AccessLog(#[from] InvalidLogFormat),
}

/// Builds a [`Gateway`] over the embedded spec.
pub struct GatewayBuilder {
    authorizer: Arc<dyn TokenAuthorizer>,
    integrations: HashMap<LambdaName, Arc<dyn Integration>>,
    stage_arn: StageArn,
    ttl: AuthorizerTtl,
    throttle: ThrottleLimits,
    clock: Arc<dyn Clock>,
    sink: Arc<dyn AccessLogSink>,
    integration_timeout: Duration,
    usage_plans: Option<UsagePlans>,
}

impl GatewayBuilder {
    /// Per-client usage plans (API key source `AUTHORIZER`, every method requires an API
    /// key): each request is metered by the plan of the authorizer's `usageIdentifierKey`,
    /// and a request whose authorizer returned none is answered 403. Default: none (no
    /// per-client metering, as an API whose methods require no API key).
    pub fn usage_plans(mut self, plans: Option<UsagePlans>) -> Self {
        self.usage_plans = plans;
        self
    }

    /// How long the stage waits for an integration before answering 504
    /// `Endpoint request timed out`. Default: the spec's `timeoutInMillis` (29 s).
    pub fn integration_timeout(mut self, timeout: Duration) -> Self {
        self.integration_timeout = timeout;
        self
    }

    /// Serves `lambda`'s routes with `integration`.
    pub fn integration(mut self, lambda: LambdaName, integration: Arc<dyn Integration>) -> Self {
        self.integrations.insert(lambda, integration);
        self
    }

    /// The authorizer result TTL. Default: the spec's `authorizerResultTtlInSeconds` (300 s).
    pub fn authorizer_ttl(mut self, ttl: AuthorizerTtl) -> Self {
        self.ttl = ttl;
        self
    }

    /// Stage throttling. Default: [`ThrottleLimits::default`] (burst 200, rate 100/s).
    pub fn throttle(mut self, limits: ThrottleLimits) -> Self {
        self.throttle = limits;
        self
    }

    /// The clock of the cache and the throttle. Default: [`SystemClock`].
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Where access log lines go. Default: nowhere.
    pub fn access_log(mut self, sink: Arc<dyn AccessLogSink>) -> Self {
        self.sink = sink;
        self
    }

    /// Region, account and API id of method ARNs. Default: `us-east-1`, `123456789012`,
    /// `callflowdev`, stage `v1`.
    pub fn stage_arn(mut self, stage_arn: StageArn) -> Self {
        self.stage_arn = stage_arn;
        self
    }

    /// Builds the stage.
    pub fn build(self) -> Result<Gateway, GatewayError> {
        let spec = callflow_openapi::spec_json();
        Ok(Gateway {
            routes: callflow_openapi::routes_from(spec)?,
            required: RequiredParams::from_spec(spec),
            responses: GatewayResponses::from_spec(spec)?,
            log_format: AccessLogFormat::deployed()?,
            cache: PolicyCache::new(self.ttl, Arc::clone(&self.clock)),
            bucket: TokenBucket::new(self.throttle, Arc::clone(&self.clock)),
            usage: self
                .usage_plans
                .map(|plans| UsageMeter::new(plans, Arc::clone(&self.clock))),
            authorizer: self.authorizer,
            integrations: self.integrations,
            stage_arn: self.stage_arn,
            sink: self.sink,
            integration_timeout: self.integration_timeout,
        })
    }
}

/// The authorizer TTL the spec declares (`authorizerResultTtlInSeconds`), else 300 s.
pub fn spec_authorizer_ttl() -> AuthorizerTtl {
    callflow_openapi::spec_json()
        .pointer("/components/securitySchemes/bearerAuth/x-amazon-apigateway-authorizer/authorizerResultTtlInSeconds")
        .and_then(Value::as_u64)
        .and_then(|s| AuthorizerTtl::from_secs(s).ok())
        .unwrap_or_default()
}

/// The integration timeout the spec declares (the largest `timeoutInMillis` of its
/// `x-amazon-apigateway-integration`s), else [`DEFAULT_INTEGRATION_TIMEOUT`].
pub fn spec_integration_timeout() -> Duration {
    let spec = callflow_openapi::spec_json();
    spec.get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|operations| operations.values())
        .filter_map(|op| op.pointer("/x-amazon-apigateway-integration/timeoutInMillis"))
        .filter_map(Value::as_u64)
        .max()
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_INTEGRATION_TIMEOUT)
}

/// The local stage.
pub struct Gateway {
    routes: Vec<Route>,
    required: RequiredParams,
    responses: GatewayResponses,
    log_format: AccessLogFormat,
    cache: PolicyCache,
    bucket: TokenBucket,
    usage: Option<UsageMeter>,
    authorizer: Arc<dyn TokenAuthorizer>,
    integrations: HashMap<LambdaName, Arc<dyn Integration>>,
    stage_arn: StageArn,
    sink: Arc<dyn AccessLogSink>,
    integration_timeout: Duration,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("stage_arn", &self.stage_arn)
            .field("cache", &self.cache)
            .field("bucket", &self.bucket)
            .finish_non_exhaustive()
    }
}

/// Facts about one request gathered for the access log.
#[derive(Default)]
struct Trace {
    resource_path: Option<String>,
    authorizer_status: Option<u16>,
    authorizer_latency_ms: Option<u128>,
    principal_id: Option<String>,
    api_key: Option<String>,
    integration_latency_ms: Option<u128>,
    error_message: Option<String>,
}

/// How a request ended before or at the integration.
enum Outcome {
    Gateway(RenderedResponse),
    Integration(GatewayResponse),
}

impl Gateway {
    /// Starts a builder with `authorizer` and the defaults listed on each setter.
    pub fn builder(authorizer: Arc<dyn TokenAuthorizer>) -> GatewayBuilder {
        GatewayBuilder {
            authorizer,
            integrations: HashMap::new(),
            stage_arn: StageArn {
                region: "us-east-1".into(),
                account: "123456789012".into(),
                api_id: "callflowdev".into(),
                stage: callflow_deployment::stage::STAGE_NAME.into(),
            },
            ttl: spec_authorizer_ttl(),
            throttle: ThrottleLimits::default(),
            clock: Arc::new(SystemClock),
            sink: Arc::new(DiscardSink),
            integration_timeout: spec_integration_timeout(),
            usage_plans: None,
        }
    }

    /// The stage name (`v1`), the first path segment of every route.
    pub fn stage(&self) -> &str {
        &self.stage_arn.stage
    }

    /// The authorizer result cache.
    pub fn policy_cache(&self) -> &PolicyCache {
        &self.cache
    }

    /// The per-client usage meter, when usage plans apply.
    pub fn usage_meter(&self) -> Option<&UsageMeter> {
        self.usage.as_ref()
    }

    /// Serves one request and writes its access log line.
    pub async fn handle(&self, request: GatewayRequest) -> GatewayResponse {
        let started = Instant::now();
        let request_time = OffsetDateTime::now_utc();
        let request_id = RequestId::random().to_string();
        let mut trace = Trace::default();
        let outcome = self
            .process(&request, &request_id, request_time, &mut trace)
            .await;
        let mut response = match outcome {
            Outcome::Integration(response) => response,
            Outcome::Gateway(rendered) => {
                trace.error_message = Some(rendered.message.clone());
                let mut headers = HeaderMap::new();
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                if rendered.status == 429 {
                    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                }
                headers.insert("x-amzn-errortype", header_value(&error_type(&rendered)));
                GatewayResponse {
                    status: rendered.status,
                    headers,
                    body: rendered.body.into_bytes(),
                }
            }
        };
        response
            .headers
            .insert("x-amzn-requestid", header_value(&request_id));
        self.log(
            &request,
            &response,
            &request_id,
            request_time,
            started,
            &trace,
        );
        response
    }

    async fn process(
        &self,
        request: &GatewayRequest,
        request_id: &str,
        request_time: OffsetDateTime,
        trace: &mut Trace,
    ) -> Outcome {
        let reject = |kind: GatewayResponseType, message: &str| {
            Outcome::Gateway(self.responses.render(kind, message, request_id))
        };
        let Some((route, params, resource_path)) = self.route(request) else {
            return reject(
                GatewayResponseType::MissingAuthenticationToken,
                "Missing Authentication Token",
            );
        };
        trace.resource_path = Some(route.path.as_str().to_owned());
        let body = match &request.body {
            RequestBody::Complete(body) => body,
            RequestBody::TooLarge => {
                return reject(GatewayResponseType::RequestTooLarge, "Request Too Long");
            }
        };
        if !self.bucket.try_acquire() {
            return reject(GatewayResponseType::Throttled, "Too Many Requests");
        }
        let identity = request
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.trim().is_empty());
        let Some(identity) = identity else {
            return reject(GatewayResponseType::Unauthorized, "Unauthorized");
        };
        let method_arn = self.stage_arn.method_arn(route.method, &resource_path);
        let auth = match self.authorize(identity, &method_arn, trace).await {
            Ok(result) => result,
            Err(kind) => {
                let message = match kind {
                    GatewayResponseType::Unauthorized => "Unauthorized",
                    _ => "Internal server error",
                };
                return reject(kind, message);
            }
        };
        trace.principal_id = Some(auth.principal_id.clone());
        match PolicyVerdict::of(&auth, &method_arn) {
            PolicyVerdict::Allowed => {}
            PolicyVerdict::ExplicitDeny => {
                return reject(
                    GatewayResponseType::AccessDenied,
                    "User is not authorized to access this resource with an explicit deny",
                );
            }
            PolicyVerdict::NotAllowed => {
                return reject(
                    GatewayResponseType::AccessDenied,
                    "User is not authorized to access this resource",
                );
            }
        }
        if let Some(meter) = &self.usage {
            let Some(key) = auth.usage_identifier_key.as_deref() else {
                return reject(GatewayResponseType::Forbidden, "Forbidden");
            };
            trace.api_key = Some(key.to_owned());
            match meter.check(key) {
                UsageVerdict::Allowed => {}
                UsageVerdict::Throttled => {
                    return reject(GatewayResponseType::Throttled, "Too Many Requests");
                }
                UsageVerdict::QuotaExceeded => {
                    return reject(GatewayResponseType::QuotaExceeded, "Limit Exceeded");
                }
            }
        }
        let query = parse_query(request.query.as_deref());
        let missing = self
            .required
            .missing(&route.operation_id, &query.multi, &request.headers);
        if !missing.is_empty() {
            return reject(
                GatewayResponseType::BadRequestParameters,
                &format!(
                    "Missing required request parameters: [{}]",
                    missing.join(", ")
                ),
            );
        }
        let Some(integration) = self.integrations.get(&route.lambda).cloned() else {
            return reject(
                GatewayResponseType::IntegrationFailure,
                &format!("no integration for {}", route.lambda),
            );
        };
        let event = self.proxy_event(ProxyParts {
            request,
            route,
            params,
            query,
            body,
            request_id,
            request_time,
            auth: &auth,
        });
        let invoked = Instant::now();
        let timeout = self.integration_timeout;
        let result =
            tokio::spawn(
                async move { tokio::time::timeout(timeout, integration.call(event)).await },
            )
            .await;
        trace.integration_latency_ms = Some(invoked.elapsed().as_millis());
        let internal = "Internal server error";
        match result {
            Ok(Ok(Ok(response))) => match into_response(response) {
                Some(response) => Outcome::Integration(response),
                None => {
                    tracing::error!(lambda = %route.lambda, "malformed Lambda proxy response");
                    reject(GatewayResponseType::IntegrationFailure, internal)
                }
            },
            Ok(Ok(Err(IntegrationError::Rejected(message)))) => {
                tracing::error!(%message, lambda = %route.lambda, "Lambda invocation rejected");
                reject(GatewayResponseType::LambdaRejected, internal)
            }
            Ok(Ok(Err(IntegrationError::Failed(message)))) => {
                tracing::error!(%message, lambda = %route.lambda, "Lambda function failed");
                reject(GatewayResponseType::IntegrationFailure, internal)
            }
            Ok(Err(_elapsed)) => {
                trace.integration_latency_ms = None;
                reject(
                    GatewayResponseType::IntegrationTimeout,
                    "Endpoint request timed out",
                )
            }
            Err(e) => {
                tracing::error!(error = %e, lambda = %route.lambda, "integration crashed");
                reject(
                    GatewayResponseType::IntegrationFailure,
                    "Internal server error",
                )
            }
        }
    }

    /// Finds the route of a request: `(route, path parameters, path below the stage)`.
    fn route(
        &self,
        request: &GatewayRequest,
    ) -> Option<(&Route, callflow_openapi::PathParams, String)> {
        let below_stage = request.path.strip_prefix('/')?.strip_prefix(self.stage())?;
        if !below_stage.starts_with('/') {
            return None;
        }
        let method = HttpMethod::from_str(request.method.as_str()).ok()?;
        let (route, params) = find_route(&self.routes, method, below_stage)?;
        Some((route, params, below_stage.to_owned()))
    }

    async fn authorize(
        &self,
        identity: &str,
        method_arn: &str,
        trace: &mut Trace,
    ) -> Result<Arc<AuthorizerResult>, GatewayResponseType> {
        if let Some(cached) = self.cache.get(identity) {
            trace.authorizer_status = Some(200);
            return Ok(cached);
        }
        let mut event = ApiGatewayCustomAuthorizerRequest::default();
        event.type_ = Some("TOKEN".to_owned());
        event.authorization_token = Some(identity.to_owned());
        event.method_arn = Some(method_arn.to_owned());
        let started = Instant::now();
        let answer = self.authorizer.authorize(event).await;
        trace.authorizer_latency_ms = Some(started.elapsed().as_millis());
        match answer {
            Ok(response) => match authorizer_result(response) {
                Some(result) => {
                    trace.authorizer_status = Some(200);
                    let result = Arc::new(result);
                    self.cache.insert(identity, Arc::clone(&result));
                    Ok(result)
                }
                None => {
                    trace.authorizer_status = Some(500);
                    tracing::error!("authorizer response has no principalId");
                    Err(GatewayResponseType::AuthorizerFailure)
                }
            },
            Err(AuthorizerFailure::Unauthorized) => {
                trace.authorizer_status = Some(401);
                Err(GatewayResponseType::Unauthorized)
            }
            Err(AuthorizerFailure::Error(message)) => {
                trace.authorizer_status = Some(500);
                tracing::error!(%message, "authorizer failed");
                Err(GatewayResponseType::AuthorizerFailure)
            }
        }
    }

    fn proxy_event(&self, parts: ProxyParts<'_>) -> ApiGatewayProxyRequest {
        let ProxyParts {
            request,
            route,
            params,
            query,
            body,
            request_id,
            request_time,
            auth,
        } = parts;
        let below_stage = request
            .path
            .strip_prefix('/')
            .and_then(|p| p.strip_prefix(self.stage()))
            .unwrap_or(&request.path)
            .to_owned();
        let mut headers = HeaderMap::new();
        for (name, value) in &request.headers {
            headers.insert(name.clone(), value.clone());
        }
        let mut event = ApiGatewayProxyRequest::default();
        event.resource = Some(route.path.as_str().to_owned());
        event.path = Some(below_stage);
        event.http_method = request.method.clone();
        event.headers = headers;
        event.multi_value_headers = request.headers.clone();
        event.query_string_parameters = query.single;
        event.multi_value_query_string_parameters = query.multi;
        event.path_parameters = params.into_iter().collect();
        match std::str::from_utf8(body) {
            _ if body.is_empty() => {}
            Ok(text) => event.body = Some(text.to_owned()),
            Err(_) => {
                event.body = Some(STANDARD.encode(body));
                event.is_base64_encoded = true;
            }
        }
        let context = &mut event.request_context;
        context.account_id = Some(self.stage_arn.account.clone());
        context.apiid = Some(self.stage_arn.api_id.clone());
        context.stage = Some(self.stage().to_owned());
        context.request_id = Some(request_id.to_owned());
        context.protocol = Some(request.protocol.clone());
        context.resource_path = Some(route.path.as_str().to_owned());
        context.path = Some(request.path.clone());
        context.http_method = request.method.clone();
        context.request_time = Some(clf_time(request_time));
        context.request_time_epoch =
            i64::try_from(request_time.unix_timestamp_nanos() / 1_000_000).unwrap_or_default();
        context.identity.source_ip = Some(request.source_ip.to_string());
        context.identity.user_agent = request
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut fields: HashMap<String, Value> = auth
            .context
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        fields.insert(
            "principalId".to_owned(),
            Value::String(auth.principal_id.clone()),
        );
        context.authorizer.fields = fields;
        event
    }

    fn log(
        &self,
        request: &GatewayRequest,
        response: &GatewayResponse,
        request_id: &str,
        request_time: OffsetDateTime,
        started: Instant,
        trace: &Trace,
    ) {
        let mut vars: HashMap<&'static str, String> = HashMap::new();
        let mut set = |name: &'static str, value: Option<String>| {
            if let Some(value) = value {
                vars.insert(name, value);
            }
        };
        set("requestId", Some(request_id.to_owned()));
        set("identity.sourceIp", Some(request.source_ip.to_string()));
        set("requestTime", Some(clf_time(request_time)));
        set("httpMethod", Some(request.method.to_string()));
        set("resourcePath", trace.resource_path.clone());
        set("path", Some(request.path.clone()));
        set("status", Some(response.status.to_string()));
        set("protocol", Some(request.protocol.clone()));
        set("responseLength", Some(response.body.len().to_string()));
        set(
            "responseLatency",
            Some(started.elapsed().as_millis().to_string()),
        );
        set(
            "integrationLatency",
            trace.integration_latency_ms.map(|ms| ms.to_string()),
        );
        set(
            "authorizer.status",
            trace.authorizer_status.map(|s| s.to_string()),
        );
        set(
            "authorizer.latency",
            trace.authorizer_latency_ms.map(|ms| ms.to_string()),
        );
        set("authorizer.principalId", trace.principal_id.clone());
        set("identity.apiKey", trace.api_key.clone());
        set(
            "identity.userAgent",
            request
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        );
        set("error.message", trace.error_message.clone());
        self.sink.write_line(&self.log_format.render(&vars));
    }
}

struct ProxyParts<'a> {
    request: &'a GatewayRequest,
    route: &'a Route,
    params: callflow_openapi::PathParams,
    query: ParsedQuery,
    body: &'a [u8],
    request_id: &'a str,
    request_time: OffsetDateTime,
    auth: &'a AuthorizerResult,
}

/// The query string in both proxy-event shapes.
struct ParsedQuery {
    single: QueryMap,
    multi: QueryMap,
}

/// Splits and percent-decodes a query string. Like API Gateway REST APIs, `+` is kept as
/// written; the single-value map holds the last value of each name.
fn parse_query(query: Option<&str>) -> ParsedQuery {
    let mut multi: HashMap<String, Vec<String>> = HashMap::new();
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        multi
            .entry(percent_decode(name))
            .or_default()
            .push(percent_decode(value));
    }
    let single: HashMap<String, String> = multi
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.last()?.clone())))
        .collect();
    ParsedQuery {
        single: QueryMap::from(single),
        multi: QueryMap::from(multi),
    }
}

/// Decodes `%XX` escapes; malformed escapes are kept, invalid UTF-8 is replaced.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Converts a proxy response; `None` when it is not a valid HTTP response.
fn into_response(response: ApiGatewayProxyResponse) -> Option<GatewayResponse> {
    let status = u16::try_from(response.status_code)
        .ok()
        .filter(|s| (100..=599).contains(s))?;
    let mut headers = response.multi_value_headers;
    for (name, value) in &response.headers {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
    }
    let body = match response.body {
        None | Some(Body::Empty) => Vec::new(),
        Some(Body::Text(text)) if response.is_base64_encoded => STANDARD.decode(text).ok()?,
        Some(Body::Text(text)) => text.into_bytes(),
        Some(Body::Binary(bytes)) => bytes,
        Some(_) => return None,
    };
    Some(GatewayResponse {
        status,
        headers,
        body,
    })
}

/// `$context.requestTime`: `01/Nov/2026:12:00:00 +0000`.
fn clf_time(at: OffsetDateTime) -> String {
    at.format(format_description!(
        "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
    ))
    .unwrap_or_default()
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("-"))
}

fn error_type(rendered: &RenderedResponse) -> String {
    match rendered.status {
        401 => "UnauthorizedException",
        403 => "AccessDeniedException",
        404 => "NotFoundException",
        429 if rendered.message == "Limit Exceeded" => "LimitExceededException",
        429 => "TooManyRequestsException",
        413 => "RequestTooLargeException",
        400 => "BadRequestException",
        _ => "InternalServerErrorException",
    }
    .to_owned()
}
