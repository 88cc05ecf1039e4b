//! The REST API: body from the OpenAPI contract with integrations filled in, the TOKEN
//! authorizer's and handlers' invoke permissions, deployment, stage `v1` with access logs and
//! throttling, usage plan, and the account-wide CloudWatch role of API Gateway.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use callflow_openapi::LambdaName;

use crate::dsl::aws::apigateway::{
    AccessLogSettings, ApiGatewayAccount, Deployment, EndpointConfiguration, MethodSettings,
    MethodSettingsValues, QuotaSettings, RestApi, Stage, ThrottleSettings, UsagePlan,
    UsagePlanApiStage,
};
use crate::dsl::aws::cloudwatch::LogGroup;
use crate::dsl::aws::iam::{IamRole, IamRolePolicy, PolicyDocument, Principal, Statement};
use crate::dsl::aws::lambda::LambdaPermission;
use crate::dsl::{Handle, Lifecycle, Stack, StackError, Tf, functions};

use super::bucket::EventsKey;
use super::config::CallflowConfig;
use super::function::{FunctionKind, HandlerFunction, LOG_RETENTION_DAYS};
use super::names::Account;

/// The stage name: the version segment of every URL.
pub const STAGE_NAME: &str = "v1";

/// The JSON access log line of the stage (one field per key; `callflow dev` logs the same keys).
pub const ACCESS_LOG_FORMAT: &str = concat!(
    r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","#,
    r#""requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","#,
    r#""resourcePath":"$context.resourcePath","path":"$context.path","status":"$context.status","#,
    r#""protocol":"$context.protocol","responseLength":"$context.responseLength","#,
    r#""responseLatency":"$context.responseLatency","integrationLatency":"$context.integrationLatency","#,
    r#""authorizerStatus":"$context.authorizer.status","authorizerLatency":"$context.authorizer.latency","#,
    r#""principalId":"$context.authorizer.principalId","userAgent":"$context.identity.userAgent","#,
    r#""errorMessage":"$context.error.message"}"#
);

/// What the stack takes from the OpenAPI contract: the REST API body with every integration
/// and the authorizer pointing at the handler functions, and the route table. Both depend only
/// on the (fixed) logical ids of the functions, so they are derived once per process.
struct ApiContract {
    body: Tf<String>,
    routes: Vec<callflow_openapi::Route>,
}

fn invoke_arn(function: FunctionKind) -> String {
    format!(
        "${{aws_lambda_function.{}.invoke_arn}}",
        function.logical_id()
    )
}

fn function_for(lambda: LambdaName) -> FunctionKind {
    match lambda {
        LambdaName::EventStorer => FunctionKind::EventStorer,
        LambdaName::EventRetriever => FunctionKind::EventRetriever,
    }
}

fn api_contract() -> Result<&'static ApiContract, &'static String> {
    static CONTRACT: OnceLock<Result<ApiContract, String>> = OnceLock::new();
    CONTRACT
        .get_or_init(|| {
            let uris: BTreeMap<LambdaName, String> = LambdaName::ALL
                .iter()
                .map(|l| (*l, invoke_arn(function_for(*l))))
                .collect();
            let doc = callflow_openapi::try_with_integrations(
                &uris,
                &invoke_arn(FunctionKind::Authorizer),
                None,
            )
            .map_err(|e| format!("the OpenAPI spec cannot become the REST API body: {e}"))?;
            let routes = callflow_openapi::routes()
                .map_err(|e| format!("the OpenAPI route table is invalid: {e}"))?;
            Ok(ApiContract {
                body: Tf::from_rendered(&doc.to_string()),
                routes,
            })
        })
        .as_ref()
}

/// The API and its stage.
#[derive(Clone, Debug)]
pub struct Api {
    /// The REST API.
    pub rest_api: Handle<RestApi>,
    /// Stage `v1`.
    pub stage: Handle<Stage>,
    /// Access log group of the stage.
    pub access_logs: Handle<LogGroup>,
    /// The API's name (the `ApiName` metric dimension).
    pub name: String,
}

impl Api {
    /// Declares the API from the OpenAPI contract; every route's integration points at the
    /// handler the spec names, and each handler may be invoked only for its own routes.
    pub fn new(
        stack: &mut Stack,
        config: &CallflowConfig,
        account: &Account,
        key: &EventsKey,
        authorizer: &HandlerFunction,
        storer: &HandlerFunction,
        retriever: &HandlerFunction,
    ) -> Self {
        let name = format!("{}-api", config.prefix());
        let handler_for = |lambda: LambdaName| match lambda {
            LambdaName::EventStorer => storer,
            LambdaName::EventRetriever => retriever,
        };
        let body = match api_contract() {
            Ok(contract) => contract.body.clone(),
            Err(e) => {
                stack.record_error(StackError::Invalid {
                    construct: "Api".into(),
                    message: e.clone(),
                });
                Tf::from("")
            }
        };
        let rest_api = stack.resource(
            "api",
            RestApi {
                name: name.clone().into(),
                description: Some("Callflow events API (from openapi/openapi.yaml)".into()),
                body: Some(body),
                fail_on_warnings: Some(true.into()),
                put_rest_api_mode: Some("overwrite".into()),
                endpoint_configuration: Some(EndpointConfiguration {
                    types: vec!["REGIONAL".to_string()].into(),
                }),
                ..Default::default()
            },
        );
        stack.lifecycle(
            &rest_api,
            Lifecycle {
                create_before_destroy: true,
                ..Default::default()
            },
        );

        // Invoke permissions: the authorizer for this API's authorizers, each handler for its
        // own routes only (derived from the spec's route table).
        let execution_arn = rest_api.attr("execution_arn");
        stack.resource(
            "authorizer",
            LambdaPermission {
                statement_id: Some("AllowApiGatewayAuthorizer".into()),
                action: "lambda:InvokeFunction".into(),
                function_name: authorizer.function.function_name(),
                principal: "apigateway.amazonaws.com".into(),
                source_arn: Some(execution_arn.suffixed("/authorizers/*")),
            },
        );
        if let Ok(contract) = api_contract() {
            for route in &contract.routes {
                let handler = handler_for(route.lambda);
                stack.resource(
                    &format!("{}_{}", handler.kind.logical_id(), route.operation_id),
                    LambdaPermission {
                        statement_id: Some(
                            format!("AllowApiGateway-{}", route.operation_id).into(),
                        ),
                        action: "lambda:InvokeFunction".into(),
                        function_name: handler.function.function_name(),
                        principal: "apigateway.amazonaws.com".into(),
                        source_arn: Some(
                            execution_arn.suffixed(&format!("/*/{}", route.policy_resource())),
                        ),
                    },
                );
            }
        }

        let deployment = stack.resource(
            "api",
            Deployment {
                rest_api_id: rest_api.id(),
                description: Some("Redeployed whenever the API body changes".into()),
                triggers: [(
                    "redeployment".to_string(),
                    functions::sha1(&rest_api.attr("body")),
                )]
                .into(),
            },
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
            LogGroup {
                name: Some(format!("/aws/apigateway/{name}/access").into()),
                retention_in_days: Some(LOG_RETENTION_DAYS.into()),
                kms_key_id: Some(key.key.arn()),
                ..Default::default()
            },
        );
        stack.suppress_check(
            &access_logs,
            "CKV_AWS_338",
            "30-day retention is the service's log policy; events themselves are kept in S3",
        );

        let cloudwatch_role = stack.resource(
            "api_gateway_cloudwatch",
            IamRole {
                name: Some(format!("{}-apigw-cloudwatch", config.prefix()).into()),
                description: Some("Lets API Gateway write execution and access logs".into()),
                assume_role_policy: PolicyDocument::new(vec![
                    Statement::allow("ApiGatewayAssumesRole", &["sts:AssumeRole"], vec![])
                        .with_principal(Principal::service("apigateway.amazonaws.com")),
                ])
                .to_tf(),
                ..Default::default()
            },
        );
        let cloudwatch_policy = stack.resource(
            "api_gateway_cloudwatch",
            IamRolePolicy {
                name: Some("write-logs".into()),
                role: cloudwatch_role.name(),
                policy: PolicyDocument::new(vec![Statement::allow(
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
                .to_tf(),
            },
        );
        let api_account = stack.resource(
            "this",
            ApiGatewayAccount {
                cloudwatch_role_arn: Some(cloudwatch_role.arn()),
            },
        );
        stack.depends_on(&api_account, &[cloudwatch_policy.address()]);

        let stage = stack.resource(
            "v1",
            Stage {
                rest_api_id: rest_api.id(),
                deployment_id: deployment.id(),
                stage_name: STAGE_NAME.into(),
                description: Some("Version 1 of the events API".into()),
                xray_tracing_enabled: Some(true.into()),
                access_log_settings: Some(AccessLogSettings {
                    destination_arn: access_logs.arn(),
                    format: ACCESS_LOG_FORMAT.into(),
                }),
                ..Default::default()
            },
        );
        stack.depends_on(&stage, &[api_account.address()]);
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
            MethodSettings {
                rest_api_id: rest_api.id(),
                stage_name: stage.stage_name(),
                method_path: "*/*".into(),
                settings: Some(MethodSettingsValues {
                    metrics_enabled: Some(true.into()),
                    logging_level: Some("INFO".into()),
                    data_trace_enabled: Some(false.into()),
                    throttling_burst_limit: Some(config.throttling.burst_limit.into()),
                    throttling_rate_limit: Some(config.throttling.rate_limit.into()),
                    caching_enabled: Some(false.into()),
                    cache_data_encrypted: Some(true.into()),
                }),
            },
        );
        stack.suppress_check(
            &method_settings,
            "CKV_AWS_225",
            "caching is off on purpose: responses are per-principal event data",
        );

        stack.resource(
            "default",
            UsagePlan {
                name: format!("{}-default", config.prefix()).into(),
                description: Some("Per-client limits of the events API".into()),
                api_stages: vec![UsagePlanApiStage {
                    api_id: rest_api.id(),
                    stage: stage.stage_name(),
                }],
                throttle_settings: Some(ThrottleSettings {
                    burst_limit: Some(config.usage_plan.burst_limit.into()),
                    rate_limit: Some(config.usage_plan.rate_limit.into()),
                }),
                quota_settings: Some(QuotaSettings {
                    limit: config.usage_plan.quota_per_day.into(),
                    period: "DAY".into(),
                }),
            },
        );

        Self {
            rest_api,
            stage,
            access_logs,
            name,
        }
    }
}
