//! Facts the stack and the handlers both hold, tied together until they have one home: the key
//! prefixes the IAM scopes are computed from, the storer's environment and its defaults, and the
//! idempotency window of the contract that the bucket's lifecycle rule enforces.

use std::path::Path;

use callflow_core::{AcceptanceWindow, Config, layout};
use callflow_stack::callflow::{
    AcceptanceWindowConfig, AppConfig, IDEMPOTENCY_PREFIX, INDEX_PREFIX, OBJECT_PREFIX,
    callflow_app,
};
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
fn the_stacks_key_prefixes_are_the_handlers() {
    assert_eq!(OBJECT_PREFIX, layout::EVENTS_PREFIX);
    assert!(layout::CALL_INDEX_PREFIX.starts_with(INDEX_PREFIX));
    assert_eq!(IDEMPOTENCY_PREFIX, layout::IDEMPOTENCY_PREFIX);
    assert!(
        !layout::IDEMPOTENCY_PREFIX.starts_with(INDEX_PREFIX),
        "the retriever's read scope must not cover the idempotency records"
    );
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
