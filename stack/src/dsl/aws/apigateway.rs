//! API Gateway REST APIs: API, deployment, stage, settings, usage plans, domains.

use super::{StringMap, tf_block};
use crate::dsl::Tf;

tf_block! {
    /// `endpoint_configuration` block.
    pub struct EndpointConfiguration {
        /// `REGIONAL`, `EDGE` or `PRIVATE`.
        types: Tf<Vec<String>>,
    }
}

tf_block! {
    /// `aws_api_gateway_rest_api`, defined by an OpenAPI `body`.
    pub struct RestApi: resource "aws_api_gateway_rest_api" [arn, execution_arn, root_resource_id] {
        /// API name.
        name: Tf<String>,
        /// What the API is.
        description: Option<Tf<String>>,
        /// OpenAPI document (JSON string).
        body: Option<Tf<String>>,
        /// Fail the import on spec warnings.
        fail_on_warnings: Option<Tf<bool>>,
        /// `overwrite` or `merge`.
        put_rest_api_mode: Option<Tf<String>>,
        /// Endpoint type (single block).
        endpoint_configuration: Option<EndpointConfiguration>,
        /// Tags.
        tags: StringMap,
    }
}

tf_block! {
    /// `aws_api_gateway_deployment`: a snapshot of the API; `triggers` force a new one.
    pub struct Deployment: resource "aws_api_gateway_deployment" [] {
        /// REST API id.
        rest_api_id: Tf<String>,
        /// What the deployment is.
        description: Option<Tf<String>>,
        /// Values whose change redeploys.
        triggers: StringMap,
    }
}

tf_block! {
    /// `access_log_settings` block.
    pub struct AccessLogSettings {
        /// Log group ARN.
        destination_arn: Tf<String>,
        /// Log line format ($context variables).
        format: Tf<String>,
    }
}

tf_block! {
    /// `aws_api_gateway_stage`.
    pub struct Stage: resource "aws_api_gateway_stage" [arn, invoke_url, execution_arn, stage_name] {
        /// REST API id.
        rest_api_id: Tf<String>,
        /// Deployment id.
        deployment_id: Tf<String>,
        /// Stage name (URL path segment).
        stage_name: Tf<String>,
        /// What the stage is.
        description: Option<Tf<String>>,
        /// X-Ray tracing.
        xray_tracing_enabled: Option<Tf<bool>>,
        /// Enable the stage cache cluster.
        cache_cluster_enabled: Option<Tf<bool>>,
        /// Access logging (single block).
        access_log_settings: Option<AccessLogSettings>,
        /// Tags.
        tags: StringMap,
    }
}

tf_block! {
    /// Method `settings` block.
    pub struct MethodSettingsValues {
        /// CloudWatch metrics per method.
        metrics_enabled: Option<Tf<bool>>,
        /// `OFF`, `ERROR` or `INFO` execution logging.
        logging_level: Option<Tf<String>>,
        /// Full request/response logging (leaks bodies; keep off).
        data_trace_enabled: Option<Tf<bool>>,
        /// Burst limit.
        throttling_burst_limit: Option<Tf<i64>>,
        /// Steady-state requests per second.
        throttling_rate_limit: Option<Tf<f64>>,
        /// Response caching.
        caching_enabled: Option<Tf<bool>>,
        /// Encrypt cached responses.
        cache_data_encrypted: Option<Tf<bool>>,
    }
}

tf_block! {
    /// `aws_api_gateway_method_settings`.
    pub struct MethodSettings: resource "aws_api_gateway_method_settings" [] {
        /// REST API id.
        rest_api_id: Tf<String>,
        /// Stage name.
        stage_name: Tf<String>,
        /// `*/*` for all methods, or `resource/METHOD`.
        method_path: Tf<String>,
        /// The settings (single block).
        settings: Option<MethodSettingsValues>,
    }
}

tf_block! {
    /// Usage plan `api_stages` block.
    pub struct UsagePlanApiStage {
        /// REST API id.
        api_id: Tf<String>,
        /// Stage name.
        stage: Tf<String>,
    }
}

tf_block! {
    /// Usage plan `throttle_settings` block.
    pub struct ThrottleSettings {
        /// Burst limit.
        burst_limit: Option<Tf<i64>>,
        /// Requests per second.
        rate_limit: Option<Tf<f64>>,
    }
}

tf_block! {
    /// Usage plan `quota_settings` block.
    pub struct QuotaSettings {
        /// Requests per period.
        limit: Tf<i64>,
        /// `DAY`, `WEEK` or `MONTH`.
        period: Tf<String>,
    }
}

tf_block! {
    /// `aws_api_gateway_usage_plan`: per-client limits.
    pub struct UsagePlan: resource "aws_api_gateway_usage_plan" [] {
        /// Plan name.
        name: Tf<String>,
        /// What the plan is.
        description: Option<Tf<String>>,
        /// Stages the plan applies to.
        api_stages: Vec<UsagePlanApiStage>,
        /// Throttling (single block).
        throttle_settings: Option<ThrottleSettings>,
        /// Quota (single block).
        quota_settings: Option<QuotaSettings>,
    }
}

tf_block! {
    /// `aws_api_gateway_account`: the account-wide CloudWatch role for API Gateway logging.
    pub struct ApiGatewayAccount: resource "aws_api_gateway_account" [] {
        /// Role ARN API Gateway uses to write logs.
        cloudwatch_role_arn: Option<Tf<String>>,
    }
}

tf_block! {
    /// `aws_api_gateway_domain_name`.
    pub struct DomainName: resource "aws_api_gateway_domain_name" [domain_name, regional_domain_name, regional_zone_id] {
        /// Custom domain.
        domain_name: Tf<String>,
        /// ACM certificate ARN (regional endpoints).
        regional_certificate_arn: Option<Tf<String>>,
        /// `TLS_1_2`.
        security_policy: Option<Tf<String>>,
        /// Endpoint type (single block).
        endpoint_configuration: Option<EndpointConfiguration>,
        /// Tags.
        tags: StringMap,
    }
}

tf_block! {
    /// `aws_api_gateway_base_path_mapping`.
    pub struct BasePathMapping: resource "aws_api_gateway_base_path_mapping" [] {
        /// REST API id.
        api_id: Tf<String>,
        /// Stage name.
        stage_name: Option<Tf<String>>,
        /// Custom domain name.
        domain_name: Tf<String>,
        /// Path under the domain; empty maps the root.
        base_path: Option<Tf<String>>,
    }
}
