//! Lambda functions: runtime, architecture, memory, timeout, environment variable names, tracing.

use std::collections::BTreeSet;

use super::reapply;
use crate::aws::{AwsClients, sdk_error};
use crate::check::CheckResult;
use crate::expected::ExpectedFunction;
use crate::probe::Probe;

pub(super) fn probe(clients: &AwsClients, function: &ExpectedFunction) -> Probe {
    let lambda = clients.lambda.clone();
    let expected = function.clone();
    Probe::new(format!("lambda {}", function.name), async move {
        let name = &expected.name;
        let row = |what: &str| format!("lambda {name}: {what}");
        let fix = |what: &str| reapply(&format!("{what} of function {name} (aws_lambda_function)"));
        let config = match lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
        {
            Ok(config) => config,
            Err(e) => {
                return vec![CheckResult::fail(
                    row("exists"),
                    "function exists",
                    sdk_error(&e),
                    format!(
                        "function {name} is missing or not readable: apply the stack, or check --region/--profile"
                    ),
                )];
            }
        };
        let runtime = config.runtime().map_or("(none)", |r| r.as_str());
        let architectures: Vec<&str> = config.architectures().iter().map(|a| a.as_str()).collect();
        let architectures = if architectures.is_empty() {
            "x86_64".to_owned()
        } else {
            architectures.join(",")
        };
        let live_env: BTreeSet<String> = config
            .environment()
            .and_then(|e| e.variables())
            .map(|vars| vars.keys().cloned().collect())
            .unwrap_or_default();
        let names = |set: &BTreeSet<String>| {
            if set.is_empty() {
                "(none)".to_owned()
            } else {
                set.iter().cloned().collect::<Vec<_>>().join(",")
            }
        };
        let tracing = config
            .tracing_config()
            .and_then(|t| t.mode())
            .map_or("PassThrough", |m| m.as_str());
        let mut rows = vec![CheckResult::pass(
            row("exists"),
            "function exists",
            "exists",
        )];
        if let Some(expected_runtime) = &expected.runtime {
            rows.push(CheckResult::equal(
                row("runtime"),
                expected_runtime,
                runtime,
                fix("runtime"),
            ));
        }
        rows.push(CheckResult::equal(
            row("architecture"),
            expected.architectures.join(","),
            architectures,
            fix("architectures"),
        ));
        rows.push(CheckResult::equal(
            row("memory (MB)"),
            expected.memory_mb,
            config.memory_size().unwrap_or(128),
            fix("memory_size"),
        ));
        rows.push(CheckResult::equal(
            row("timeout (s)"),
            expected.timeout_s,
            config.timeout().unwrap_or(3),
            fix("timeout"),
        ));
        rows.push(CheckResult::compare(
            row("environment variable names"),
            names(&expected.env_var_names),
            names(&live_env),
            live_env == expected.env_var_names,
            fix("environment.variables"),
        ));
        rows.push(CheckResult::equal(
            row("tracing"),
            &expected.tracing_mode,
            tracing,
            fix("tracing_config.mode"),
        ));
        rows
    })
}
