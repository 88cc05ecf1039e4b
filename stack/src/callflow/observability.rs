//! Alarms routed to an encrypted SNS topic, the authorizer-denials metric, and the dashboard.
//!
//! Metric names here are the ones the handlers and gateway produce: AWS/ApiGateway and
//! AWS/Lambda metrics by their published names, S3 request metrics under the `EntireBucket`
//! filter, and `AuthorizerDenials` counted from the authorizer's JSON decision log lines.

use callflow_config::AlarmConfig;
use callflow_deployment::stage::STAGE_NAME;
use serde_json::{Value, json};

use crate::aws::cloudwatch::{
    CloudwatchDashboard, CloudwatchLogMetricFilter, CloudwatchLogMetricFilterMetricTransformation,
    CloudwatchMetricAlarm,
};
use crate::aws::sns::{SnsTopic, SnsTopicPolicy, SnsTopicSubscription};
use crate::dsl::{Handle, Stack, Tf, functions};
use crate::iam::{PolicyDocument, Principal, Statement};

use super::api::Api;
use super::bucket::{EventsBucket, EventsKey, REQUEST_METRICS_FILTER};
use super::function::HandlerFunction;
use super::names::Account;

/// Namespace of the service's own metrics.
pub const METRICS_NAMESPACE: &str = "Callflow";
/// Metric counting authorizer Deny decisions (from the authorizer's decision log lines).
pub const AUTHORIZER_DENIALS_METRIC: &str = "AuthorizerDenials";
/// CloudWatch Logs filter matching the authorizer's deny and unauthorized decisions: the
/// authorizer logs one `tracing` JSON line per decision, whose fields sit under `fields`.
pub const AUTHORIZER_DENIAL_PATTERN: &str =
    r#"{ ($.fields.decision = "deny") || ($.fields.decision = "unauthorized") }"#;

/// What [`Observability`] is built from.
#[derive(Clone, Debug)]
pub struct ObservabilityProps {
    /// Prefix of the topic, alarm, metric filter and dashboard names (`<service>-<env>`). Required.
    pub name_prefix: String,
    /// Region the dashboard's widgets read from. Required.
    pub region: String,
    /// Alarm thresholds and the optional email subscription. Default: [`AlarmConfig::default`].
    pub alarms: AlarmConfig,
}

impl ObservabilityProps {
    /// The props for a name prefix and region with the default alarm thresholds.
    pub fn new(name_prefix: impl Into<String>, region: impl Into<String>) -> Self {
        Self {
            name_prefix: name_prefix.into(),
            region: region.into(),
            alarms: AlarmConfig::default(),
        }
    }
}

/// The observability resources.
#[derive(Clone, Debug)]
pub struct Observability {
    /// Alarm topic.
    pub topic: Handle<SnsTopic>,
    /// Alarms by logical id.
    pub alarms: Vec<Handle<CloudwatchMetricAlarm>>,
    /// The dashboard.
    pub dashboard: Handle<CloudwatchDashboard>,
}

impl Observability {
    /// Declares topic, alarms, the denials metric filter and the dashboard.
    pub fn new(
        stack: &mut Stack,
        props: &ObservabilityProps,
        account: &Account,
        key: &EventsKey,
        bucket: &EventsBucket,
        api: &Api,
        functions: [&HandlerFunction; 3],
    ) -> Self {
        let prefix = props.name_prefix.clone();
        let alarms_config = &props.alarms;
        let topic = stack.resource(
            "alarms",
            SnsTopic::new()
                .set_name(format!("{prefix}-alarms"))
                .set_kms_master_key_id(key.key.arn()),
        );
        let topic_policy = PolicyDocument::new(vec![
            Statement::allow(
                "CloudWatchAlarmsOfThisAccountPublish",
                &["sns:Publish"],
                vec![topic.arn()],
            )
            .with_principal(Principal::service("cloudwatch.amazonaws.com"))
            .with_condition(
                "StringEquals",
                "aws:SourceAccount",
                vec![account.identity.account_id()],
            ),
        ])
        .render(stack, "Observability");
        stack.resource("alarms", SnsTopicPolicy::new(topic.arn(), topic_policy));
        if let Some(email) = &alarms_config.email {
            stack.resource(
                "alarms_email",
                SnsTopicSubscription::new(email.clone(), "email", topic.arn()),
            );
        }
        let actions = functions::list(&[topic.arn()]);
        let mut alarms = Vec::new();
        let mut alarm = |stack: &mut Stack, id: &str, a: CloudwatchMetricAlarm| {
            alarms.push(
                stack.resource(
                    id,
                    a.set_alarm_actions(actions.clone())
                        .set_ok_actions(actions.clone()),
                ),
            );
        };
        for f in functions {
            let name = f.name.clone();
            for (metric, threshold, what) in [
                (
                    "Errors",
                    alarms_config.lambda_errors,
                    "returned errors: check its log group for the failing requests",
                ),
                (
                    "Throttles",
                    alarms_config.lambda_throttles,
                    "was throttled: raise reserved concurrency or find the traffic spike",
                ),
            ] {
                alarm(
                    stack,
                    &format!("{}_{}", f.kind.logical_id(), metric.to_lowercase()),
                    CloudwatchMetricAlarm::new(
                        format!("{name}-{}", metric.to_lowercase()),
                        "GreaterThanOrEqualToThreshold",
                        1,
                    )
                    .set_alarm_description(format!("{name} {what}"))
                    .set_metric_name(metric)
                    .set_namespace("AWS/Lambda")
                    .set_period(300)
                    .set_statistic("Sum")
                    .set_threshold(threshold)
                    .set_treat_missing_data("notBreaching")
                    .set_dimensions(Tf::from([("FunctionName", name.clone())])),
                );
            }
        }
        let api_dims = || Tf::from([("ApiName", api.name.as_str()), ("Stage", STAGE_NAME)]);
        alarm(
            stack,
            "api_5xx",
            CloudwatchMetricAlarm::new(
                format!("{prefix}-api-5xx"),
                "GreaterThanOrEqualToThreshold",
                1,
            )
            .set_alarm_description(
                "The API answered 5XX: check the handler alarms and the access log",
            )
            .set_metric_name("5XXError")
            .set_namespace("AWS/ApiGateway")
            .set_period(300)
            .set_statistic("Sum")
            .set_threshold(alarms_config.api_5xx)
            .set_treat_missing_data("notBreaching")
            .set_dimensions(api_dims()),
        );
        alarm(
            stack,
            "api_p99_latency",
            CloudwatchMetricAlarm::new(
                format!("{prefix}-api-p99-latency"),
                "GreaterThanOrEqualToThreshold",
                3,
            )
            .set_alarm_description(
                "p99 latency of the API is above its threshold: check S3 latency and handler duration",
            )
            .set_datapoints_to_alarm(2)
            .set_metric_name("Latency")
            .set_namespace("AWS/ApiGateway")
            .set_period(300)
            .set_extended_statistic("p99")
            .set_threshold(alarms_config.api_p99_latency_ms)
            .set_treat_missing_data("notBreaching")
            .set_dimensions(api_dims()),
        );

        let authorizer = functions[0];
        stack.resource(
            "authorizer_denials",
            CloudwatchLogMetricFilter::new(
                authorizer.log_group.name(),
                CloudwatchLogMetricFilterMetricTransformation::new(
                    AUTHORIZER_DENIALS_METRIC,
                    METRICS_NAMESPACE,
                    "1",
                )
                .set_default_value("0"),
                format!("{prefix}-authorizer-denials"),
                AUTHORIZER_DENIAL_PATTERN,
            ),
        );

        let body = dashboard_body(
            &props.region,
            &api.name,
            &bucket.name,
            functions.map(|f| f.name.clone()),
        );
        let dashboard = stack.resource(
            "main",
            CloudwatchDashboard::new(body.to_string(), prefix.clone()),
        );
        Self {
            topic,
            alarms,
            dashboard,
        }
    }

    /// The dashboard's name.
    pub fn dashboard_name(&self) -> Tf<String> {
        self.dashboard.dashboard_name()
    }
}

fn widget(title: &str, x: i64, y: i64, metrics: Vec<Value>, stat: &str, region: &str) -> Value {
    json!({
        "type": "metric", "x": x, "y": y, "width": 8, "height": 6,
        "properties": { "title": title, "region": region, "stat": stat, "period": 300, "view": "timeSeries", "metrics": metrics }
    })
}

/// The seed's metric table: API, Lambda, S3 and authorizer rows.
fn dashboard_body(region: &str, api: &str, bucket: &str, functions: [String; 3]) -> Value {
    let r = region;
    let api_dim = |m: &str| json!(["AWS/ApiGateway", m, "ApiName", api, "Stage", STAGE_NAME]);
    let per_fn = |m: &str| -> Vec<Value> {
        functions
            .iter()
            .map(|f| json!(["AWS/Lambda", m, "FunctionName", f]))
            .collect()
    };
    let latency = |p: &str| json!(["AWS/ApiGateway", "Latency", "ApiName", api, "Stage", STAGE_NAME, {"stat": p, "label": format!("Latency {p}")}]);
    let s3_req = |m: &str| {
        json!([
            "AWS/S3",
            m,
            "BucketName",
            bucket,
            "FilterId",
            REQUEST_METRICS_FILTER
        ])
    };
    let widgets = vec![
        widget("API requests", 0, 0, vec![api_dim("Count")], "Sum", r),
        widget(
            "API latency p50/p95/p99",
            8,
            0,
            vec![latency("p50"), latency("p95"), latency("p99")],
            "p99",
            r,
        ),
        widget(
            "API 4XX / 5XX",
            16,
            0,
            vec![api_dim("4XXError"), api_dim("5XXError")],
            "Sum",
            r,
        ),
        widget("Lambda invocations", 0, 6, per_fn("Invocations"), "Sum", r),
        widget("Lambda duration p99", 8, 6, per_fn("Duration"), "p99", r),
        widget(
            "Lambda errors / throttles",
            16,
            6,
            [per_fn("Errors"), per_fn("Throttles")].concat(),
            "Sum",
            r,
        ),
        widget(
            "S3 requests",
            0,
            12,
            vec![
                s3_req("AllRequests"),
                s3_req("PutRequests"),
                s3_req("GetRequests"),
                s3_req("ListRequests"),
                s3_req("4xxErrors"),
                s3_req("5xxErrors"),
            ],
            "Sum",
            r,
        ),
        widget(
            "S3 bucket size / objects",
            8,
            12,
            vec![
                json!(["AWS/S3", "BucketSizeBytes", "BucketName", bucket, "StorageType", "StandardStorage", {"period": 86400, "stat": "Average"}]),
                json!(["AWS/S3", "NumberOfObjects", "BucketName", bucket, "StorageType", "AllStorageTypes", {"period": 86400, "stat": "Average", "yAxis": "right"}]),
            ],
            "Average",
            r,
        ),
        widget(
            "Authorizer cache hits / misses / denials",
            16,
            12,
            vec![
                json!(["AWS/ApiGateway", "Count", "ApiName", api, "Stage", STAGE_NAME, {"id": "requests", "visible": false}]),
                json!(["AWS/Lambda", "Invocations", "FunctionName", functions[0], {"id": "misses", "label": "Authorizer cache misses (invocations)"}]),
                json!([{"expression": "MAX([requests - misses, 0])", "id": "hits", "label": "Authorizer cache hits"}]),
                json!([METRICS_NAMESPACE, AUTHORIZER_DENIALS_METRIC, {"id": "denials", "label": "Authorizer denials"}]),
            ],
            "Sum",
            r,
        ),
    ];
    json!({ "widgets": widgets })
}
