//! CloudWatch: every alarm (present, on the declared metric and threshold) and the dashboard.

use super::reapply;
use crate::aws::{AwsClients, is_not_found, sdk_error};
use crate::check::CheckResult;
use crate::expected::ExpectedAlarm;
use crate::probe::Probe;

pub(super) fn alarm_probe(clients: &AwsClients, alarm: &ExpectedAlarm) -> Probe {
    let cloudwatch = clients.cloudwatch.clone();
    let expected = alarm.clone();
    Probe::new(format!("alarm {}", alarm.name), async move {
        let check = format!("cloudwatch alarm {}", expected.name);
        let fix = reapply(&format!(
            "alarm {} (aws_cloudwatch_metric_alarm)",
            expected.name
        ));
        let out = match cloudwatch
            .describe_alarms()
            .alarm_names(&expected.name)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                return vec![CheckResult::fail(
                    check,
                    &expected,
                    sdk_error(&e),
                    "check credentials (cloudwatch:DescribeAlarms)",
                )];
            }
        };
        let Some(live) = out
            .metric_alarms()
            .iter()
            .find(|a| a.alarm_name() == Some(expected.name.as_str()))
        else {
            return vec![CheckResult::fail(check, &expected, "(alarm missing)", fix)];
        };
        let actual = ExpectedAlarm {
            name: expected.name.clone(),
            namespace: expected
                .namespace
                .as_ref()
                .and(live.namespace().map(str::to_owned)),
            metric_name: expected
                .metric_name
                .as_ref()
                .and(live.metric_name().map(str::to_owned)),
            comparison_operator: expected
                .comparison_operator
                .as_ref()
                .and(live.comparison_operator().map(|c| c.as_str().to_owned())),
            threshold: expected.threshold.and(live.threshold()),
        };
        vec![CheckResult::equal(check, &expected, &actual, fix)]
    })
}

pub(super) fn dashboard_probe(clients: &AwsClients, name: &str) -> Probe {
    let cloudwatch = clients.cloudwatch.clone();
    let name = name.to_owned();
    Probe::new(format!("dashboard {name}"), async move {
        let check = format!("cloudwatch dashboard {name}");
        vec![match cloudwatch
            .get_dashboard()
            .dashboard_name(&name)
            .send()
            .await
        {
            Ok(out) if out.dashboard_body().is_some_and(|b| !b.is_empty()) => {
                CheckResult::pass(check, "present", "present")
            }
            Ok(_) => CheckResult::fail(
                check,
                "present",
                "present but empty",
                reapply(&format!("dashboard {name}")),
            ),
            Err(e) if is_not_found(&e) => CheckResult::fail(
                check,
                "present",
                "(dashboard missing)",
                reapply(&format!("dashboard {name} (aws_cloudwatch_dashboard)")),
            ),
            Err(e) => CheckResult::fail(
                check,
                "present",
                sdk_error(&e),
                "check credentials (cloudwatch:GetDashboard)",
            ),
        }]
    })
}
