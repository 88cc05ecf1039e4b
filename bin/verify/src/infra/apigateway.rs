//! API Gateway: the REST API by name, its stages (tracing, access logging, method settings),
//! its authorizers, its API key source and usage plans (throttle, quota, stage association),
//! and the custom domain with its base path mapping.

use aws_sdk_apigateway::types::MethodSetting;

use super::reapply;
use crate::aws::{AwsClients, sdk_error};
use crate::check::CheckResult;
use crate::expected::{
    ExpectedDomain, ExpectedMethodSettings, ExpectedRestApi, ExpectedStage, ExpectedUsagePlan,
    LogDestination,
};
use crate::probe::Probe;

/// Finds a REST API id by name (paging through `GetRestApis`).
/// (Also used by the test support.)
pub async fn find_rest_api(
    apigateway: &aws_sdk_apigateway::Client,
    name: &str,
) -> Result<Option<String>, String> {
    let mut position: Option<String> = None;
    loop {
        let page = apigateway
            .get_rest_apis()
            .limit(500)
            .set_position(position.clone())
            .send()
            .await
            .map_err(|e| sdk_error(&e))?;
        if let Some(api) = page.items().iter().find(|a| a.name() == Some(name)) {
            return Ok(api.id().map(str::to_owned));
        }
        match page.position() {
            Some(next) if Some(next) != position.as_deref() => position = Some(next.to_owned()),
            _ => return Ok(None),
        }
    }
}

pub(super) fn rest_api_probe(clients: &AwsClients, api: &ExpectedRestApi) -> Probe {
    let apigateway = clients.apigateway.clone();
    let expected = api.clone();
    Probe::new(format!("apigateway {}", api.name), async move {
        let name = &expected.name;
        let check = format!("apigateway {name}: exists");
        let id = match find_rest_api(&apigateway, name).await {
            Ok(Some(id)) => id,
            Ok(None) => {
                return vec![CheckResult::fail(
                    check,
                    "a REST API with this name",
                    "(none)",
                    format!(
                        "REST API {name} does not exist in this account/region: apply the stack, or check --region/--profile"
                    ),
                )];
            }
            Err(e) => {
                return vec![CheckResult::fail(
                    check,
                    "a REST API with this name",
                    e,
                    "check credentials and --region",
                )];
            }
        };
        let mut rows = vec![CheckResult::pass(
            check,
            "a REST API with this name",
            format!("id {id}"),
        )];
        for stage in &expected.stages {
            rows.extend(stage_checks(&apigateway, name, &id, stage).await);
        }
        if !expected.authorizers.is_empty() {
            rows.extend(authorizer_checks(&apigateway, &expected, &id).await);
        }
        if let Some(source) = &expected.api_key_source {
            let live = apigateway.get_rest_api().rest_api_id(&id).send().await;
            let check = format!("apigateway {name}: API key source");
            rows.push(match live {
                Ok(api) => CheckResult::equal(
                    check,
                    source,
                    api.api_key_source().map_or("HEADER", |s| s.as_str()),
                    reapply(&format!("api_key_source of REST API {name}")),
                ),
                Err(e) => CheckResult::fail(check, source, sdk_error(&e), "check credentials"),
            });
        }
        if !expected.usage_plans.is_empty() {
            rows.extend(usage_plan_checks(&apigateway, name, &id, &expected.usage_plans).await);
        }
        rows
    })
}

/// Every usage plan of the account (paging through `GetUsagePlans`).
async fn all_usage_plans(
    apigateway: &aws_sdk_apigateway::Client,
) -> Result<Vec<aws_sdk_apigateway::types::UsagePlan>, String> {
    let mut plans = Vec::new();
    let mut position: Option<String> = None;
    loop {
        let page = apigateway
            .get_usage_plans()
            .limit(500)
            .set_position(position.clone())
            .send()
            .await
            .map_err(|e| sdk_error(&e))?;
        plans.extend(page.items().iter().cloned());
        match page.position() {
            Some(next) if Some(next) != position.as_deref() => position = Some(next.to_owned()),
            _ => return Ok(plans),
        }
    }
}

/// Each expected plan: exists by name, its throttle and quota, and its association with
/// each of this API's stages.
async fn usage_plan_checks(
    apigateway: &aws_sdk_apigateway::Client,
    api: &str,
    id: &str,
    expected: &[ExpectedUsagePlan],
) -> Vec<CheckResult> {
    let live = match all_usage_plans(apigateway).await {
        Ok(plans) => plans,
        Err(e) => {
            return vec![CheckResult::fail(
                format!("apigateway {api}: usage plans"),
                "the usage plans can be listed",
                e,
                "check credentials and apigateway:GET on /usageplans",
            )];
        }
    };
    let mut rows = Vec::new();
    for plan in expected {
        let row = |what: &str| format!("apigateway {api} usage plan {}: {what}", plan.name);
        let fix = |what: &str| reapply(&format!("{what} of usage plan {}", plan.name));
        let Some(found) = live.iter().find(|p| p.name() == Some(plan.name.as_str())) else {
            rows.push(CheckResult::fail(
                row("exists"),
                "a usage plan with this name",
                "(none)",
                fix("aws_api_gateway_usage_plan"),
            ));
            continue;
        };
        rows.push(CheckResult::pass(
            row("exists"),
            "a usage plan with this name",
            format!("id {}", found.id().unwrap_or("?")),
        ));
        if plan.burst_limit.is_some() || plan.rate_limit.is_some() {
            let want = format!(
                "burst {} rate {}",
                plan.burst_limit.map_or("-".into(), |b| b.to_string()),
                plan.rate_limit.map_or("-".into(), |r| r.to_string())
            );
            let throttle = found.throttle();
            let got = format!(
                "burst {} rate {}",
                match (plan.burst_limit, throttle) {
                    (None, _) => "-".into(),
                    (Some(_), Some(t)) => t.burst_limit().to_string(),
                    (Some(_), None) => "(none)".into(),
                },
                match (plan.rate_limit, throttle) {
                    (None, _) => "-".into(),
                    (Some(_), Some(t)) => t.rate_limit().to_string(),
                    (Some(_), None) => "(none)".into(),
                },
            );
            rows.push(CheckResult::equal(
                row("throttle"),
                want,
                got,
                fix("throttle_settings"),
            ));
        }
        if plan.quota_limit.is_some() || plan.quota_period.is_some() {
            let want = format!(
                "{} per {}",
                plan.quota_limit.map_or("-".into(), |l| l.to_string()),
                plan.quota_period.as_deref().unwrap_or("-")
            );
            let got = match found.quota() {
                Some(q) => format!(
                    "{} per {}",
                    if plan.quota_limit.is_some() {
                        q.limit().to_string()
                    } else {
                        "-".into()
                    },
                    if plan.quota_period.is_some() {
                        q.period().map_or("(none)", |p| p.as_str()).to_owned()
                    } else {
                        "-".into()
                    }
                ),
                None => "(no quota)".to_owned(),
            };
            rows.push(CheckResult::equal(
                row("quota"),
                want,
                got,
                fix("quota_settings"),
            ));
        }
        for stage in &plan.stages {
            let associated = found
                .api_stages()
                .iter()
                .any(|s| s.api_id() == Some(id) && s.stage() == Some(stage.as_str()));
            rows.push(CheckResult::compare(
                row(&format!("stage {stage}")),
                format!("associated with {api}/{stage}"),
                if associated {
                    format!("associated with {api}/{stage}")
                } else {
                    "not associated".to_owned()
                },
                associated,
                fix("api_stages"),
            ));
        }
    }
    rows
}

async fn stage_checks(
    apigateway: &aws_sdk_apigateway::Client,
    api: &str,
    id: &str,
    expected: &ExpectedStage,
) -> Vec<CheckResult> {
    let stage_name = &expected.name;
    let row = |what: &str| format!("apigateway {api} stage {stage_name}: {what}");
    let fix = |what: &str| reapply(&format!("{what} of stage {stage_name} of REST API {api}"));
    let stage = match apigateway
        .get_stage()
        .rest_api_id(id)
        .stage_name(stage_name)
        .send()
        .await
    {
        Ok(stage) => stage,
        Err(e) => {
            return vec![CheckResult::fail(
                row("exists"),
                "stage exists",
                sdk_error(&e),
                format!(
                    "stage {stage_name} of REST API {api} is missing: apply the stack (aws_api_gateway_stage + deployment)"
                ),
            )];
        }
    };
    let mut rows = vec![CheckResult::pass(row("exists"), "stage exists", "exists")];
    rows.push(CheckResult::equal(
        row("X-Ray tracing"),
        expected.xray_tracing,
        stage.tracing_enabled(),
        fix("xray_tracing_enabled"),
    ));
    if let Some(access_log) = &expected.access_log {
        let live = stage.access_log_settings();
        let destination = live.and_then(|l| l.destination_arn());
        let ok = match (&access_log.destination, destination) {
            (_, None) => false,
            (LogDestination::Arn(arn), Some(live)) => arn == live,
            (LogDestination::LogGroup(group), Some(live)) => live
                .trim_end_matches(":*")
                .ends_with(&format!(":log-group:{group}")),
            (LogDestination::Unresolved(_), Some(_)) => true,
        };
        rows.push(CheckResult::compare(
            row("access log destination"),
            &access_log.destination,
            destination.unwrap_or("(access logging off)"),
            ok,
            fix("access_log_settings.destination_arn"),
        ));
        if let Some(format) = &access_log.format {
            let live_format = live.and_then(|l| l.format()).unwrap_or("(none)");
            rows.push(CheckResult::compare(
                row("access log format"),
                "the synthesized format",
                if live_format == format {
                    "the synthesized format".to_owned()
                } else {
                    live_format.to_owned()
                },
                live_format == format,
                fix("access_log_settings.format"),
            ));
        }
    }
    for settings in &expected.method_settings {
        let live = stage
            .method_settings()
            .and_then(|m| m.get(&settings.method_path));
        rows.extend(method_settings_checks(
            &row(&format!("method settings {}", settings.method_path)),
            settings,
            live,
            &fix("aws_api_gateway_method_settings"),
        ));
    }
    rows
}

fn method_settings_checks(
    row: &str,
    expected: &ExpectedMethodSettings,
    live: Option<&MethodSetting>,
    fix: &str,
) -> Vec<CheckResult> {
    let Some(live) = live else {
        return vec![CheckResult::fail(
            row,
            "method settings present",
            "(no method settings)",
            fix,
        )];
    };
    let mut rows = Vec::new();
    let check = |what: &str| format!("{row} {what}");
    if expected.throttling_burst_limit.is_some() || expected.throttling_rate_limit.is_some() {
        let want = format!(
            "burst {} rate {}",
            expected
                .throttling_burst_limit
                .map_or("-".into(), |b| b.to_string()),
            expected
                .throttling_rate_limit
                .map_or("-".into(), |r| r.to_string())
        );
        let got = format!(
            "burst {} rate {}",
            if expected.throttling_burst_limit.is_some() {
                live.throttling_burst_limit().to_string()
            } else {
                "-".into()
            },
            if expected.throttling_rate_limit.is_some() {
                live.throttling_rate_limit().to_string()
            } else {
                "-".into()
            },
        );
        rows.push(CheckResult::equal(check("throttling"), want, got, fix));
    }
    if let Some(level) = &expected.logging_level {
        rows.push(CheckResult::equal(
            check("logging level"),
            level,
            live.logging_level().unwrap_or("OFF"),
            fix,
        ));
    }
    if let Some(metrics) = expected.metrics_enabled {
        rows.push(CheckResult::equal(
            check("metrics"),
            metrics,
            live.metrics_enabled(),
            fix,
        ));
    }
    if let Some(trace) = expected.data_trace_enabled {
        rows.push(CheckResult::equal(
            check("data trace"),
            trace,
            live.data_trace_enabled(),
            fix,
        ));
    }
    if let Some(caching) = expected.caching_enabled {
        rows.push(CheckResult::equal(
            check("caching"),
            caching,
            live.caching_enabled(),
            fix,
        ));
    }
    rows
}

async fn authorizer_checks(
    apigateway: &aws_sdk_apigateway::Client,
    expected: &ExpectedRestApi,
    id: &str,
) -> Vec<CheckResult> {
    let api = &expected.name;
    let live = match apigateway
        .get_authorizers()
        .rest_api_id(id)
        .limit(500)
        .send()
        .await
    {
        Ok(out) => out.items().to_vec(),
        Err(e) => {
            return vec![CheckResult::fail(
                format!("apigateway {api}: authorizers"),
                "readable",
                sdk_error(&e),
                "check credentials (apigateway:GET)",
            )];
        }
    };
    expected
        .authorizers
        .iter()
        .map(|want| {
            let check = format!("apigateway {api} authorizer {}", want.name);
            let expected_text = format!(
                "{} ttl {}s identity {}",
                want.kind,
                want.ttl_seconds,
                want.identity_source.as_deref().unwrap_or("-")
            );
            let fix = reapply(&format!(
                "authorizer {} (securitySchemes in the REST API body)",
                want.name
            ));
            match live.iter().find(|a| a.name() == Some(want.name.as_str())) {
                None => {
                    CheckResult::fail(check, expected_text, "(no authorizer with this name)", fix)
                }
                Some(found) => {
                    let actual = format!(
                        "{} ttl {}s identity {}",
                        found.r#type().map_or("?", |t| t.as_str()),
                        found.authorizer_result_ttl_in_seconds().unwrap_or(300),
                        if want.identity_source.is_some() {
                            found.identity_source().unwrap_or("(none)")
                        } else {
                            "-"
                        }
                    );
                    CheckResult::equal(check, expected_text, actual, fix)
                }
            }
        })
        .collect()
}

pub(super) fn domain_probe(clients: &AwsClients, domain: &ExpectedDomain) -> Probe {
    let apigateway = clients.apigateway.clone();
    let expected = domain.clone();
    Probe::new(format!("apigateway domain {}", domain.name), async move {
        let name = &expected.name;
        let check = format!("apigateway domain {name}: exists");
        if let Err(e) = apigateway.get_domain_name().domain_name(name).send().await {
            return vec![CheckResult::fail(
                check,
                "custom domain exists",
                sdk_error(&e),
                format!(
                    "custom domain {name} is missing: apply the stack (aws_api_gateway_domain_name; needs the ACM certificate validated)"
                ),
            )];
        }
        let mut rows = vec![CheckResult::pass(check, "custom domain exists", "exists")];
        if let Some((api, stage)) = &expected.mapping {
            let check = format!("apigateway domain {name}: base path mapping");
            let expected_text = format!("{api} stage {stage}");
            let fix = reapply(&format!(
                "base path mapping of {name} (aws_api_gateway_base_path_mapping)"
            ));
            let api_id = find_rest_api(&apigateway, api).await.ok().flatten();
            rows.push(
                match apigateway
                    .get_base_path_mappings()
                    .domain_name(name)
                    .send()
                    .await
                {
                    Ok(out) => {
                        let found = out.items().iter().find(|m| {
                            m.rest_api_id() == api_id.as_deref()
                                && m.stage() == Some(stage.as_str())
                        });
                        let actual = out
                            .items()
                            .iter()
                            .map(|m| {
                                format!(
                                    "{} stage {}",
                                    m.rest_api_id().unwrap_or("?"),
                                    m.stage().unwrap_or("?")
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("; ");
                        if found.is_some() {
                            CheckResult::pass(check, expected_text.clone(), expected_text)
                        } else {
                            CheckResult::fail(
                                check,
                                expected_text,
                                if actual.is_empty() {
                                    "(no mappings)".into()
                                } else {
                                    actual
                                },
                                fix,
                            )
                        }
                    }
                    Err(e) => CheckResult::fail(check, expected_text, sdk_error(&e), fix),
                },
            );
        }
        rows
    })
}
