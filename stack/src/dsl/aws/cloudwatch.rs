//! CloudWatch Logs and CloudWatch alarms and dashboards.

use super::{StringMap, tf_block};
use crate::dsl::Tf;

tf_block! {
    /// `aws_cloudwatch_log_group`.
    pub struct LogGroup: resource "aws_cloudwatch_log_group" [arn, name] {
        /// Log group name.
        name: Option<Tf<String>>,
        /// Retention in days.
        retention_in_days: Option<Tf<i64>>,
        /// KMS key ARN for log data at rest.
        kms_key_id: Option<Tf<String>>,
        /// Tags.
        tags: StringMap,
    }
}

tf_block! {
    /// Metric filter `metric_transformation` block.
    pub struct MetricTransformation {
        /// Metric name.
        name: Tf<String>,
        /// Metric namespace.
        namespace: Tf<String>,
        /// Value per matching event.
        value: Tf<String>,
        /// Value when nothing matches.
        default_value: Option<Tf<String>>,
    }
}

tf_block! {
    /// `aws_cloudwatch_log_metric_filter`: turns matching log lines into a metric.
    pub struct LogMetricFilter: resource "aws_cloudwatch_log_metric_filter" [] {
        /// Filter name.
        name: Tf<String>,
        /// Log group name.
        log_group_name: Tf<String>,
        /// Filter pattern.
        pattern: Tf<String>,
        /// The metric (single block).
        metric_transformation: Option<MetricTransformation>,
    }
}

tf_block! {
    /// `aws_cloudwatch_metric_alarm`.
    pub struct MetricAlarm: resource "aws_cloudwatch_metric_alarm" [arn] {
        /// Alarm name.
        alarm_name: Tf<String>,
        /// What the alarm means and what to do.
        alarm_description: Option<Tf<String>>,
        /// e.g. `GreaterThanOrEqualToThreshold`.
        comparison_operator: Tf<String>,
        /// Periods evaluated.
        evaluation_periods: Tf<i64>,
        /// Periods that must breach.
        datapoints_to_alarm: Option<Tf<i64>>,
        /// Metric name.
        metric_name: Option<Tf<String>>,
        /// Metric namespace.
        namespace: Option<Tf<String>>,
        /// Period in seconds.
        period: Option<Tf<i64>>,
        /// Statistic, e.g. `Sum`.
        statistic: Option<Tf<String>>,
        /// Percentile statistic, e.g. `p99`.
        extended_statistic: Option<Tf<String>>,
        /// Threshold.
        threshold: Option<Tf<f64>>,
        /// `notBreaching`, `breaching`, `ignore`, `missing`.
        treat_missing_data: Option<Tf<String>>,
        /// Metric dimensions.
        dimensions: StringMap,
        /// Actions on ALARM.
        alarm_actions: Option<Tf<Vec<String>>>,
        /// Actions on OK.
        ok_actions: Option<Tf<Vec<String>>>,
        /// Tags.
        tags: StringMap,
    }
}

tf_block! {
    /// `aws_cloudwatch_dashboard`.
    pub struct Dashboard: resource "aws_cloudwatch_dashboard" [dashboard_arn] {
        /// Dashboard name.
        dashboard_name: Tf<String>,
        /// Dashboard body JSON.
        dashboard_body: Tf<String>,
    }
}
