//! Facts the stack and the handlers share, checked where they meet: each function's environment
//! is exactly what `callflow_deployment` lists for its handler, the IAM scopes are computed from
//! the key layout's prefixes, the storer's defaults, and the idempotency window of the contract
//! that the bucket's lifecycle rule enforces.

use std::path::Path;

use callflow_core::{AcceptanceWindow, Config, layout};
use callflow_deployment::{Handler, SetBy};
use callflow_stack::callflow::{AcceptanceWindowConfig, AppConfig, callflow_app};
use serde_json::Value;

fn synthesized() -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("callflow.toml")).expect("callflow.toml");
    let config = AppConfig::from_toml(&text).expect("valid callflow.toml");
    let synth = callflow_app(&config).synth().expect("synth");
    let files = synth.files();
    let (_, doc) = files
        .iter()
        .find(|(path, _)| path.ends_with("cdk.tf.json"))
        .expect("a stack document");
    serde_json::from_str(doc).expect("JSON")
}

#[test]
fn each_function_gets_exactly_the_variables_its_handler_lists() {
    let doc = synthesized();
    let functions = doc["resource"]["aws_lambda_function"]
        .as_object()
        .expect("functions");
    for handler in Handler::ALL {
        let (_, function) = functions
            .iter()
            .find(|(_, f)| {
                f["filename"]
                    .as_str()
                    .is_some_and(|z| z.contains(&format!("/{}/", handler.binary_name())))
            })
            .unwrap_or_else(|| panic!("a function running {}", handler.binary_name()));
        let mut set: Vec<&str> = function["environment"]["variables"]
            .as_object()
            .expect("variables")
            .keys()
            .map(String::as_str)
            .collect();
        let mut listed: Vec<&str> = handler
            .environment()
            .iter()
            .filter(|v| v.set_by == SetBy::Stack)
            .map(|v| v.name)
            .collect();
        set.sort_unstable();
        listed.sort_unstable();
        assert_eq!(set, listed, "{handler:?}: set by the stack vs listed");
    }
}

#[test]
fn only_the_storer_may_touch_idempotency_records() {
    let doc = synthesized();
    let policies = doc["resource"]["aws_iam_role_policy"]
        .as_object()
        .expect("role policies");
    let scope = format!("/{}*", layout::IDEMPOTENCY_PREFIX);
    let granted: Vec<&str> = policies
        .iter()
        .filter(|(_, p)| p["policy"].as_str().is_some_and(|t| t.contains(&scope)))
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(granted, ["event_storer_idempotency"]);
    let policy: Value = serde_json::from_str(
        policies["event_storer_idempotency"]["policy"]
            .as_str()
            .expect("policy text"),
    )
    .expect("policy JSON");
    let actions = &policy["Statement"][0]["Action"];
    assert_eq!(
        actions,
        &serde_json::json!(["s3:PutObject", "s3:GetObject"])
    );
}

#[test]
fn the_lifecycle_rule_expires_records_after_the_contracts_window() {
    let doc = synthesized();
    let rules = doc["resource"]["aws_s3_bucket_lifecycle_configuration"]["events"]["rule"]
        .as_array()
        .expect("rules");
    let rule = rules
        .iter()
        .find(|r| r["filter"][0]["prefix"] == layout::IDEMPOTENCY_PREFIX)
        .expect("a rule on the idempotency prefix");
    let days = callflow_openapi::idempotency_window_days().expect("the spec states it");
    assert_eq!(rule["expiration"][0]["days"], u64::from(days));
    assert_eq!(rule["status"], "Enabled");
}

#[test]
fn the_storers_environment_is_what_its_config_reads_with_the_same_defaults() {
    let doc = synthesized();
    let variables =
        doc["resource"]["aws_lambda_function"]["event_storer"]["environment"]["variables"]
            .as_object()
            .expect("storer variables")
            .clone();
    let lookup = |name: &str| match name {
        // References resolved at apply time; any valid value stands in.
        "S3_BUCKET" => Some("callflow-events-prod".to_owned()),
        "LOG_LEVEL" => Some("info".to_owned()),
        "INDEX_HASH_KEY" => Some("k".repeat(32)),
        _ => variables
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned),
    };
    let config = Config::from_lookup(lookup).expect("the storer starts with the stack's env");
    let declared = AcceptanceWindowConfig::default();
    assert_eq!(
        config.acceptance_window.max_age.as_secs(),
        declared.max_age_seconds
    );
    assert_eq!(
        config.acceptance_window.max_future.as_secs(),
        declared.max_future_seconds
    );
    // Where the variables are unset (callflow dev in-process), the handler's defaults are the
    // stack's.
    let handler_default = AcceptanceWindow::default();
    assert_eq!(handler_default.max_age.as_secs(), declared.max_age_seconds);
    assert_eq!(
        handler_default.max_future.as_secs(),
        declared.max_future_seconds
    );
}

/// The S3 key prefixes (resources) and list prefixes (`s3:prefix`) a role policy grants.
fn s3_scopes(doc: &Value, policy: &str, action: &str) -> Vec<String> {
    let text = doc["resource"]["aws_iam_role_policy"][policy]["policy"]
        .as_str()
        .unwrap_or_else(|| panic!("policy {policy}"));
    let policy: Value = serde_json::from_str(text).expect("policy JSON");
    let mut scopes = Vec::new();
    for statement in policy["Statement"].as_array().expect("statements") {
        if !statement["Action"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == action))
        {
            continue;
        }
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        };
        if action == "s3:ListBucket" {
            scopes.extend(strings(&statement["Condition"]["StringLike"]["s3:prefix"]));
        } else {
            scopes.extend(
                strings(&statement["Resource"])
                    .into_iter()
                    .filter_map(|r| r.split_once("}/").map(|(_, key)| key.to_owned())),
            );
        }
    }
    scopes
}

/// Every prefix the query plans list and read (the events, the by-call and the by-type index)
/// is within the retriever's scopes, and the idempotency records are outside them; the storer
/// may write both indexes.
#[test]
fn the_roles_cover_every_index_the_handlers_use_and_nothing_else() {
    let doc = synthesized();
    let covered = |scopes: &[String], prefix: &str| {
        scopes
            .iter()
            .any(|s| s.strip_suffix('*').is_some_and(|p| prefix.starts_with(p)))
    };
    let used = [
        layout::EVENTS_PREFIX,
        layout::CALL_INDEX_PREFIX,
        layout::TYPE_INDEX_PREFIX,
    ];
    for (policy, action) in [
        ("event_retriever_read", "s3:GetObject"),
        ("event_retriever_read", "s3:ListBucket"),
        ("event_storer_write", "s3:PutObject"),
    ] {
        let scopes = s3_scopes(&doc, policy, action);
        for prefix in used {
            assert!(
                covered(&scopes, prefix),
                "{policy} {action} misses {prefix}: {scopes:?}"
            );
        }
        assert!(
            !covered(&scopes, layout::IDEMPOTENCY_PREFIX),
            "{policy} {action} reaches the idempotency records: {scopes:?}"
        );
    }
}
