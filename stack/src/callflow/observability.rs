//! Alarms routed to an encrypted SNS topic, the authorizer-denials metric, and the dashboard.
//!
//! Metric names here are the ones the handlers and gateway produce: AWS/ApiGateway and
//! AWS/Lambda metrics by their published names, S3 request metrics under the `EntireBucket`
//! filter, and `AuthorizerDenials` counted from the authorizer's JSON decision log lines.

use std::sync::OnceLock;

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

        let body = dashboard_text(
            &props.region,
            &api.name,
            &bucket.name,
            &functions.map(|f| f.name.clone()),
        );
        let dashboard = stack.resource("main", CloudwatchDashboard::new(body, prefix.clone()));
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

/// [`dashboard_body`]'s JSON text for these names, from a layout rendered once per process.
///
/// The widgets are the same in every stack; only the region, the API, the bucket and the
/// three functions are named differently. So the tree is built and serialized once, with a
/// placeholder for each name, and each stack puts its names (as JSON string literals) in the
/// placeholders' places: 100 stacks no longer build 100 trees (`dashboard_body` was 6.9 % of a
/// 100-stack synth's instructions). The text is what `dashboard_body(..).to_string()` gives.
fn dashboard_text(region: &str, api: &str, bucket: &str, functions: &[String; 3]) -> String {
    static LAYOUT: OnceLock<DashboardLayout> = OnceLock::new();
    let layout = LAYOUT.get_or_init(DashboardLayout::new);
    layout.fill([
        region,
        api,
        bucket,
        &functions[0],
        &functions[1],
        &functions[2],
    ])
}

/// The dashboard's text cut at its six names: literal text and the index of a name.
struct DashboardLayout(Vec<LayoutPart>);

enum LayoutPart {
    Text(String),
    Name(usize),
}

impl DashboardLayout {
    fn new() -> Self {
        // Names no stack has: a NUL cannot reach a CloudWatch name. Each placeholder is
        // looked for as a whole JSON string literal, in one pass over the text.
        const PREFIX: &str = "\u{0}callflow-dashboard-name-";
        let placeholder = |i: usize| format!("{PREFIX}{i}\u{0}");
        let text = dashboard_body(
            &placeholder(0),
            &placeholder(1),
            &placeholder(2),
            [placeholder(3), placeholder(4), placeholder(5)],
        )
        .to_string();
        // The literals as serde_json writes them: `"\u0000callflow-dashboard-name-3\u0000"`.
        let open = Value::from(PREFIX).to_string();
        let open = &open[..open.len() - 1];
        let close = Value::from("\u{0}").to_string();
        let close = &close[1..];
        let mut parts = Vec::new();
        let mut rest = text.as_str();
        while let Some(at) = rest.find(open) {
            let after = &rest[at + open.len()..];
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            let name = after[..digits].parse::<usize>().ok().filter(|n| *n < 6);
            match name {
                Some(name) if after[digits..].starts_with(close) => {
                    parts.push(LayoutPart::Text(rest[..at].to_owned()));
                    parts.push(LayoutPart::Name(name));
                    rest = &after[digits + close.len()..];
                }
                // Not a placeholder after all (cannot happen with the names above): text.
                _ => {
                    parts.push(LayoutPart::Text(rest[..at + open.len()].to_owned()));
                    rest = after;
                }
            }
        }
        parts.push(LayoutPart::Text(rest.to_owned()));
        Self(parts)
    }

    fn fill(&self, names: [&str; 6]) -> String {
        let mut out = String::with_capacity(6 * 1024);
        for part in &self.0 {
            match part {
                LayoutPart::Text(text) => out.push_str(text),
                LayoutPart::Name(i) => out.push_str(&Value::from(names[*i]).to_string()),
            }
        }
        out
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dashboard_text_is_the_body_rendered_for_each_stacks_names() {
        let stacks = [
            [
                "eu-west-1",
                "callflow-prod",
                "callflow-prod-events",
                "a",
                "b",
                "c",
            ],
            ["us-east-1", "x", "y", "same", "same", "same"],
            // Names that need escaping in JSON, and one that is a placeholder's text.
            [
                "r\"1",
                "api\\n",
                "bucket\u{1}é",
                "f \"0\"",
                "callflow-dashboard-name-0",
                "",
            ],
        ];
        for [region, api, bucket, f0, f1, f2] in stacks {
            let functions = [f0.to_owned(), f1.to_owned(), f2.to_owned()];
            assert_eq!(
                dashboard_text(region, api, bucket, &functions),
                dashboard_body(region, api, bucket, functions.clone()).to_string(),
                "{region} {api} {bucket} {functions:?}"
            );
        }
    }

    #[test]
    fn every_name_has_a_place_in_the_layout() {
        let layout = DashboardLayout::new();
        for name in 0..6 {
            assert!(
                layout
                    .0
                    .iter()
                    .any(|p| matches!(p, LayoutPart::Name(n) if *n == name)),
                "name {name} never used"
            );
        }
    }
}
