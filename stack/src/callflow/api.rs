//! The REST API: body from the OpenAPI contract with integrations filled in, the TOKEN
//! authorizer's and handlers' invoke permissions, deployment, stage `v1` with access logs and
//! throttling, the per-client usage plans (keyed by the authorizer's `usageIdentifierKey`:
//! API key source `AUTHORIZER`, every method requires an API key, one API key per configured
//! client whose value is the client id), and the account-wide CloudWatch role of API Gateway.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use callflow_config::{DEFAULT_USAGE_PLAN, ThrottlingConfig, UsagePlanConfig};
use callflow_deployment::stage::{ACCESS_LOG_FORMAT, STAGE_NAME};
use callflow_openapi::{LambdaName, Route, SpecError};
use serde_json::json;

use crate::aws::api_gateway::{
    ApiGatewayAccount, ApiGatewayApiKey, ApiGatewayDeployment, ApiGatewayMethodSettings,
    ApiGatewayMethodSettingsSettings, ApiGatewayRestApi, ApiGatewayRestApiEndpointConfiguration,
    ApiGatewayStage, ApiGatewayStageAccessLogSettings, ApiGatewayUsagePlan,
    ApiGatewayUsagePlanApiStages, ApiGatewayUsagePlanKey, ApiGatewayUsagePlanQuotaSettings,
    ApiGatewayUsagePlanThrottleSettings,
};
use crate::aws::cloudwatch::CloudwatchLogGroup;
use crate::aws::iam::{IamRole, IamRolePolicy};
use crate::aws::lambda::LambdaPermission;
use crate::dsl::{Handle, Lifecycle, Stack, StackError, Tf, TfJson, functions};
use crate::iam::{PolicyDocument, Principal, Statement};

use super::bucket::EventsKey;
use super::function::{HandlerFunction, LOG_RETENTION_DAYS};
use super::names::Account;

/// What the stack takes from the OpenAPI contract: the REST API body with every integration
/// and the authorizer pointing at the handler functions, and the route table.
#[derive(Clone)]
struct ApiContract {
    body: Tf<String>,
    routes: Vec<Route>,
}

/// The integration URIs: each handler function's typed `invoke_arn` reference and the
/// authorizer function's.
#[derive(Clone, PartialEq)]
struct Integrations {
    handlers: BTreeMap<LambdaName, Tf<String>>,
    authorizer: Tf<String>,
}

/// A client id as part of a logical id: lower case, every character outside `[a-z0-9_]`
/// replaced by `_`.
fn logical_part(client_id: &str) -> String {
    client_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The REST API's API key source: the TOKEN authorizer's `usageIdentifierKey`.
pub const API_KEY_SOURCE: &str = "AUTHORIZER";

/// The OpenAPI security scheme that makes API Gateway require an API key on a method.
const API_KEY_SCHEME: &str = "api_key";

/// Makes every integrated operation require an API key, taken from the authorizer
/// (API Gateway's OpenAPI import: an `apiKey` scheme named `api_key` on header `x-api-key`
/// in an operation's `security` sets `apiKeyRequired`; `x-amazon-apigateway-api-key-source`
/// sets the REST API's key source). Clients send no API key: the usage identifier comes
/// from the token.
fn require_api_key(doc: &mut TfJson) {
    if let Some(root) = doc.as_object_mut() {
        root.insert("x-amazon-apigateway-api-key-source", API_KEY_SOURCE);
    }
    if let Some(schemes) = doc
        .get_mut("components")
        .and_then(|c| c.get_mut("securitySchemes"))
        .and_then(TfJson::as_object_mut)
    {
        schemes.insert(
            API_KEY_SCHEME,
            &json!({"type": "apiKey", "name": "x-api-key", "in": "header"}),
        );
    }
    let security = TfJson::from(&json!([{ "bearerAuth": [], API_KEY_SCHEME: [] }]));
    if let Some(paths) = doc.get_mut("paths").and_then(TfJson::as_object_mut) {
        for item in paths.values_mut().filter_map(TfJson::as_object_mut) {
            for operation in item.values_mut().filter_map(TfJson::as_object_mut) {
                if operation.contains_key("x-amazon-apigateway-integration") {
                    operation.insert("security", security.clone());
                }
            }
        }
    }
}

/// Points each route's integration (the `uri` of its operation's
/// `x-amazon-apigateway-integration`) at the invoke ARN of the route's handler, and every
/// authorizer of the security schemes (`x-amazon-apigateway-authorizer`'s `authorizerUri`) at
/// the authorizer's: the typed references themselves, interpolated when the body is rendered.
fn integrate(
    doc: &mut TfJson,
    routes: &[Route],
    integrations: &Integrations,
) -> Result<(), SpecError> {
    for route in routes {
        let method = route.method.as_str().to_ascii_lowercase();
        let Some(integration) = doc
            .get_mut("paths")
            .and_then(|paths| paths.get_mut(route.path.as_str()))
            .and_then(|item| item.get_mut(&method))
            .and_then(|operation| operation.get_mut("x-amazon-apigateway-integration"))
            .and_then(TfJson::as_object_mut)
        else {
            continue;
        };
        let uri = integrations
            .handlers
            .get(&route.lambda)
            .ok_or_else(|| SpecError::MissingIntegrationUri(route.lambda.to_string()))?;
        integration.insert("uri", uri);
    }
    if let Some(schemes) = doc
        .get_mut("components")
        .and_then(|c| c.get_mut("securitySchemes"))
        .and_then(TfJson::as_object_mut)
    {
        for authorizer in schemes
            .values_mut()
            .filter_map(|scheme| scheme.get_mut("x-amazon-apigateway-authorizer"))
            .filter_map(TfJson::as_object_mut)
        {
            authorizer.insert("authorizerUri", &integrations.authorizer);
        }
    }
    Ok(())
}

fn derive_contract(integrations: &Integrations) -> Result<ApiContract, String> {
    let routes = callflow_openapi::routes()
        .map_err(|e| format!("the OpenAPI route table is invalid: {e}"))?;
    // Straight from the build-time JSON text, not through `spec_json()`'s `Value`: the body
    // is the only reader of the whole document in a synth, once per process.
    let mut doc = TfJson::from_json(callflow_openapi::SPEC_JSON)
        .map_err(|e| format!("the OpenAPI document does not parse: {e}"))?;
    integrate(&mut doc, &routes, integrations)
        .map_err(|e| format!("the OpenAPI spec cannot become the REST API body: {e}"))?;
    require_api_key(&mut doc);
    Ok(ApiContract {
        body: doc.to_template(),
        routes,
    })
}

/// The contract for these integrations. The functions' logical ids are fixed, so every stack of
/// a process has the same integrations: the contract is derived once and reused (100 stacks
/// synthesize in one pass); other integrations are derived afresh.
fn api_contract(integrations: &Integrations) -> Result<Cow<'static, ApiContract>, String> {
    static CONTRACT: OnceLock<(Integrations, Result<ApiContract, String>)> = OnceLock::new();
    // The cached body serves every stack: its references are read by name in each (the same
    // logical ids), not as references into the first stack.
    let (key, cached) = CONTRACT.get_or_init(|| {
        let contract = derive_contract(integrations).map(|mut c| {
            c.body = c.body.by_name();
            c
        });
        (integrations.clone(), contract)
    });
    if key == integrations {
        cached.as_ref().map(Cow::Borrowed).map_err(Clone::clone)
    } else {
        derive_contract(integrations).map(Cow::Owned)
    }
}

/// What an [`Api`] is built from (AWS CDK-style props). What is not here is fixed: the routes,
/// payloads and authorizer come from the OpenAPI contract, the stage is [`STAGE_NAME`] with
/// X-Ray tracing and a JSON access log ([`ACCESS_LOG_FORMAT`]) kept as long as the functions'
/// logs (30 days), caching is off, and the API key source is [`API_KEY_SOURCE`].
#[derive(Clone, Debug, PartialEq)]
pub struct ApiProps {
    /// Prefix of the physical names (`<service>-<environment>`): the REST API `<prefix>-api`
    /// (also the `ApiName` metric dimension), its access log group
    /// `/aws/apigateway/<prefix>-api/access`, API Gateway's CloudWatch role
    /// `<prefix>-apigw-cloudwatch`, each usage plan `<prefix>-<plan>` and each client's API
    /// key `<prefix>-<client id>`. Required.
    pub name_prefix: String,
    /// Stage-wide throttling: the burst and rate of the method settings `*/*`, which cap the
    /// whole stage before any usage plan applies. Both must be positive. Default:
    /// [`ThrottlingConfig::default`] (burst 200, 100 requests per second). See
    /// <https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html>.
    pub throttling: ThrottlingConfig,
    /// Per-client usage plans (the default plan and any tiers) and the clients' API keys, each
    /// in the plan it names; limits must be positive, tier names and client ids valid and
    /// unique ([`UsagePlanConfig::problems`]). Default: [`UsagePlanConfig::default`] (the
    /// default plan only: burst 100, 50 per second, 1,000,000 a day; no clients, so API Gateway
    /// refuses every token with 403 until clients are listed). See
    /// <https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html>.
    pub usage_plan: UsagePlanConfig,
}

impl ApiProps {
    /// The props for `name_prefix` (`<service>-<environment>`) with the documented defaults.
    ///
    /// ```
    /// use callflow_stack::callflow::ApiProps;
    /// let props = ApiProps::new("callflow-dev");
    /// assert_eq!(props.throttling.burst_limit, 200);
    /// assert!(props.usage_plan.clients.is_empty());
    /// ```
    pub fn new(name_prefix: impl Into<String>) -> Self {
        Self {
            name_prefix: name_prefix.into(),
            throttling: ThrottlingConfig::default(),
            usage_plan: UsagePlanConfig::default(),
        }
    }

    /// Every violated constraint of the props, each quoting the value.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = self.throttling.problems();
        problems.extend(self.usage_plan.problems());
        problems
    }
}

/// The API and its stage.
#[derive(Clone, Debug)]
pub struct Api {
    /// The REST API.
    pub rest_api: Handle<ApiGatewayRestApi>,
    /// Stage `v1`.
    pub stage: Handle<ApiGatewayStage>,
    /// Access log group of the stage.
    pub access_logs: Handle<CloudwatchLogGroup>,
    /// The API's name (the `ApiName` metric dimension).
    pub name: String,
}

impl Api {
    /// Declares the API from the OpenAPI contract; every route's integration points at the
    /// handler the spec names, and each handler may be invoked only for its own routes.
    /// Props that violate their constraints ([`ApiProps::problems`]) are recorded on the stack,
    /// all of them, and fail its synthesis.
    pub fn new(
        stack: &mut Stack,
        props: &ApiProps,
        account: &Account,
        key: &EventsKey,
        authorizer: &HandlerFunction,
        storer: &HandlerFunction,
        retriever: &HandlerFunction,
    ) -> Self {
        for message in props.problems() {
            stack.record_error(StackError::Invalid {
                construct: "Api".into(),
                message,
            });
        }
        let prefix = props.name_prefix.as_str();
        let name = format!("{prefix}-api");
        let handler_for = |lambda: LambdaName| match lambda {
            LambdaName::EventStorer => storer,
            LambdaName::EventRetriever => retriever,
        };
        let integrations = Integrations {
            handlers: LambdaName::ALL
                .iter()
                .map(|l| (*l, handler_for(*l).function.invoke_arn()))
                .collect(),
            authorizer: authorizer.function.invoke_arn(),
        };
        let contract = match api_contract(&integrations) {
            Ok(contract) => Some(contract),
            Err(e) => {
                stack.record_error(StackError::Invalid {
                    construct: "Api".into(),
                    message: e,
                });
                None
            }
        };
        let mut rest_api = ApiGatewayRestApi::new(name.clone())
            .set_description("Callflow events API (from openapi/openapi.yaml)")
            .set_fail_on_warnings(true)
            .set_put_rest_api_mode("overwrite")
            .set_api_key_source(API_KEY_SOURCE)
            .set_endpoint_configuration(ApiGatewayRestApiEndpointConfiguration::new(vec![
                "REGIONAL",
            ]));
        if let Some(contract) = &contract {
            rest_api = rest_api.set_body(contract.body.clone());
        }
        let rest_api = stack.resource("api", rest_api);
        stack.lifecycle(
            &rest_api,
            Lifecycle {
                create_before_destroy: true,
                ..Default::default()
            },
        );

        // Invoke permissions: the authorizer for this API's authorizers, each handler for its
        // own routes only (derived from the spec's route table).
        let execution_arn = rest_api.execution_arn();
        stack.resource(
            "authorizer",
            LambdaPermission::new(
                "lambda:InvokeFunction",
                authorizer.function.function_name(),
                "apigateway.amazonaws.com",
            )
            .set_statement_id("AllowApiGatewayAuthorizer")
            .set_source_arn(execution_arn.suffixed("/authorizers/*")),
        );
        for route in contract.iter().flat_map(|c| c.routes.iter()) {
            let handler = handler_for(route.lambda);
            stack.resource(
                &format!("{}_{}", handler.kind.logical_id(), route.operation_id),
                LambdaPermission::new(
                    "lambda:InvokeFunction",
                    handler.function.function_name(),
                    "apigateway.amazonaws.com",
                )
                .set_statement_id(format!("AllowApiGateway-{}", route.operation_id))
                .set_source_arn(execution_arn.suffixed(&format!("/*/{}", route.policy_resource()))),
            );
        }

        let deployment = stack.resource(
            "api",
            ApiGatewayDeployment::new(rest_api.id())
                .set_description("Redeployed whenever the API body changes")
                .set_triggers(Tf::from([(
                    "redeployment",
                    functions::sha1(rest_api.body()),
                )])),
        );
        stack.lifecycle(
            &deployment,
            Lifecycle {
                create_before_destroy: true,
                ..Default::default()
            },
        );

        let access_logs = stack.resource(
            "api_access",
            CloudwatchLogGroup::new()
                .set_name(format!("/aws/apigateway/{name}/access"))
                .set_retention_in_days(LOG_RETENTION_DAYS)
                .set_kms_key_id(key.key.arn()),
        );
        stack.suppress_check(
            &access_logs,
            "CKV_AWS_338",
            "30-day retention is the service's log policy; events themselves are kept in S3",
        );

        let trust = PolicyDocument::new(vec![
            Statement::allow("ApiGatewayAssumesRole", &["sts:AssumeRole"], vec![])
                .with_principal(Principal::service("apigateway.amazonaws.com")),
        ])
        .render(stack, "Api");
        let cloudwatch_role = stack.resource(
            "api_gateway_cloudwatch",
            IamRole::new(trust)
                .set_name(format!("{prefix}-apigw-cloudwatch"))
                .set_description("Lets API Gateway write execution and access logs"),
        );
        let write_logs = PolicyDocument::new(vec![Statement::allow(
            "WriteApiGatewayLogsInThisAccount",
            &[
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:DescribeLogGroups",
                "logs:DescribeLogStreams",
                "logs:PutLogEvents",
                "logs:GetLogEvents",
                "logs:FilterLogEvents",
            ],
            vec![account.arn("logs", "log-group:*")],
        )])
        .render(stack, "Api");
        let cloudwatch_policy = stack.resource(
            "api_gateway_cloudwatch",
            IamRolePolicy::new(write_logs, cloudwatch_role.name()).set_name("write-logs"),
        );
        let api_account = stack.resource(
            "this",
            ApiGatewayAccount::new().set_cloudwatch_role_arn(cloudwatch_role.arn()),
        );
        stack.depends_on(&api_account, &[&cloudwatch_policy]);

        let stage = stack.resource(
            "v1",
            ApiGatewayStage::new(deployment.id(), rest_api.id(), STAGE_NAME)
                .set_description("Version 1 of the events API")
                .set_xray_tracing_enabled(true)
                .set_access_log_settings(ApiGatewayStageAccessLogSettings::new(
                    access_logs.arn(),
                    ACCESS_LOG_FORMAT,
                )),
        );
        stack.depends_on(&stage, &[&api_account]);
        stack.suppress_check(&stage, "CKV_AWS_120", "responses are per-principal event data: caching them would serve one client's data to another");
        stack.suppress_check(
            &stage,
            "CKV2_AWS_29",
            "WAF is attached per environment by the edge team; not part of this stack",
        );
        stack.suppress_check(
            &stage,
            "CKV2_AWS_51",
            "clients authenticate with JWTs at the authorizer, not with client certificates",
        );

        let method_settings = stack.resource(
            "all",
            ApiGatewayMethodSettings::new(
                "*/*",
                rest_api.id(),
                ApiGatewayMethodSettingsSettings::new()
                    .set_metrics_enabled(true)
                    .set_logging_level("INFO")
                    .set_data_trace_enabled(false)
                    .set_throttling_burst_limit(props.throttling.burst_limit)
                    .set_throttling_rate_limit(props.throttling.rate_limit)
                    .set_caching_enabled(false)
                    .set_cache_data_encrypted(true),
                stage.stage_name(),
            ),
        );
        stack.suppress_check(
            &method_settings,
            "CKV_AWS_225",
            "caching is off on purpose: responses are per-principal event data",
        );

        let mut plans = BTreeMap::new();
        for plan in props.usage_plan.plans() {
            let description = if plan.name == DEFAULT_USAGE_PLAN {
                "Per-client limits of the events API: the default plan".to_owned()
            } else {
                format!("Per-client limits of the events API: tier {}", plan.name)
            };
            let handle = stack.resource(
                &plan.name,
                ApiGatewayUsagePlan::new(format!("{prefix}-{}", plan.name))
                    .set_description(description)
                    .set_api_stages(vec![ApiGatewayUsagePlanApiStages::new(
                        rest_api.id(),
                        stage.stage_name(),
                    )])
                    .set_throttle_settings(
                        ApiGatewayUsagePlanThrottleSettings::new()
                            .set_burst_limit(plan.burst_limit)
                            .set_rate_limit(plan.rate_limit),
                    )
                    .set_quota_settings(ApiGatewayUsagePlanQuotaSettings::new(
                        plan.quota_per_day,
                        "DAY",
                    )),
            );
            plans.insert(plan.name, handle);
        }
        // One API key per client, its value the client id the authorizer returns as
        // `usageIdentifierKey`, associated with the client's plan.
        for client in &props.usage_plan.clients {
            let Some(plan) = plans.get(&client.plan) else {
                continue; // an unknown plan: recorded above with the props' other problems
            };
            let logical = format!("client_{}", logical_part(&client.client_id));
            let key = stack.resource(
                &logical,
                ApiGatewayApiKey::new(format!("{prefix}-{}", client.client_id))
                    .set_description(format!(
                        "Usage identifier of client {} (tokens' client claim)",
                        client.client_id
                    ))
                    .set_enabled(true)
                    .set_value(client.client_id.clone()),
            );
            stack.resource(
                &logical,
                ApiGatewayUsagePlanKey::new(key.id(), "API_KEY", plan.id()),
            );
        }

        Self {
            rest_api,
            stage,
            access_logs,
            name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsl::{Expression, TemplatePart};

    fn reference(hcl: &str) -> Tf<String> {
        Tf::expr(Expression::raw(hcl))
    }

    /// Two integrated operations on different handlers, one without an integration, and the
    /// TOKEN authorizer.
    fn spec() -> serde_json::Value {
        json!({
            "paths": {
                "/a": {
                    "post": {
                        "operationId": "storeA",
                        "x-callflow-lambda": "event-storer",
                        "x-callflow-scope": "events:write",
                        "x-amazon-apigateway-integration": {"type": "aws_proxy", "uri": "x", "timeoutInMillis": 29000}
                    }
                },
                "/b/{id}": {
                    "get": {
                        "operationId": "getB",
                        "x-callflow-lambda": "event-retriever",
                        "x-callflow-scope": "events:read",
                        "description": "literal ${not-a-reference}",
                        "x-amazon-apigateway-integration": {"uri": "x"}
                    },
                    "delete": {
                        "operationId": "deleteB",
                        "x-callflow-lambda": "event-retriever",
                        "x-callflow-scope": "events:write"
                    }
                }
            },
            "components": {
                "securitySchemes": {
                    "bearerAuth": {
                        "type": "apiKey",
                        "x-amazon-apigateway-authorizer": {"type": "token", "authorizerUri": "x"}
                    }
                }
            }
        })
    }

    fn integrations() -> Integrations {
        Integrations {
            handlers: BTreeMap::from([
                (
                    LambdaName::EventStorer,
                    reference("aws_lambda_function.event_storer.invoke_arn"),
                ),
                (
                    LambdaName::EventRetriever,
                    reference("aws_lambda_function.event_retriever.invoke_arn"),
                ),
            ]),
            authorizer: reference("aws_lambda_function.authorizer.invoke_arn"),
        }
    }

    #[test]
    fn integrations_and_the_authorizer_are_the_typed_references() {
        let spec = spec();
        let routes = callflow_openapi::routes_from(&spec).expect("routes");
        let mut doc = TfJson::from(&spec);
        integrate(&mut doc, &routes, &integrations()).expect("integrated");
        require_api_key(&mut doc);
        let body = doc.to_template();

        let Tf::Template(parts) = &body else {
            panic!("a template: {body:?}");
        };
        let interpolations: Vec<String> = parts
            .iter()
            .filter_map(|p| match p {
                TemplatePart::Interpolation(e) => Some(e.to_string()),
                TemplatePart::Literal(_) => None,
            })
            .collect();
        assert_eq!(
            interpolations,
            [
                "aws_lambda_function.event_storer.invoke_arn",
                "aws_lambda_function.event_retriever.invoke_arn",
                "aws_lambda_function.authorizer.invoke_arn",
            ]
        );

        let security = json!([{ "bearerAuth": [], "api_key": [] }]);
        let mut expected = spec.clone();
        expected["paths"]["/a"]["post"]["x-amazon-apigateway-integration"]["uri"] =
            "${aws_lambda_function.event_storer.invoke_arn}".into();
        expected["paths"]["/a"]["post"]["security"] = security.clone();
        expected["paths"]["/b/{id}"]["get"]["description"] = "literal $${not-a-reference}".into();
        expected["paths"]["/b/{id}"]["get"]["x-amazon-apigateway-integration"]["uri"] =
            "${aws_lambda_function.event_retriever.invoke_arn}".into();
        expected["paths"]["/b/{id}"]["get"]["security"] = security;
        expected["components"]["securitySchemes"]["bearerAuth"]["x-amazon-apigateway-authorizer"]
            ["authorizerUri"] = "${aws_lambda_function.authorizer.invoke_arn}".into();
        expected["components"]["securitySchemes"]["api_key"] =
            json!({"type": "apiKey", "name": "x-api-key", "in": "header"});
        expected["x-amazon-apigateway-api-key-source"] = "AUTHORIZER".into();
        assert_eq!(
            body.to_tf_json(),
            serde_json::Value::from(expected.to_string())
        );
    }

    #[test]
    fn a_route_whose_handler_has_no_uri_is_refused() {
        let spec = spec();
        let routes = callflow_openapi::routes_from(&spec).expect("routes");
        let mut only_storer = integrations();
        only_storer.handlers.remove(&LambdaName::EventRetriever);
        assert_eq!(
            integrate(&mut TfJson::from(&spec), &routes, &only_storer),
            Err(SpecError::MissingIntegrationUri("event-retriever".into()))
        );
    }

    #[test]
    fn the_contract_body_integrates_every_route_of_the_spec() {
        let contract = derive_contract(&integrations()).expect("contract");
        let Tf::Template(parts) = &contract.body else {
            panic!("a template");
        };
        let uris = parts
            .iter()
            .filter(|p| matches!(p, TemplatePart::Interpolation(_)))
            .count();
        assert_eq!(
            uris,
            contract.routes.len() + 1,
            "one per route and the authorizer"
        );
    }
}
