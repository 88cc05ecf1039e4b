//! The Callflow stack's shape: the resources the architecture asks for, the logical ids (renaming
//! one replaces real infrastructure, so they are snapshot-tested), configuration checks.

mod support;

use callflow_stack::callflow::{AppConfig, ConfigError};
use support::*;

#[test]
fn logical_ids_are_stable() {
    let synthesized = synth(&committed_config());
    let doc = &synthesized.stacks()["callflow"];
    let mut addresses = Vec::new();
    for (section, prefix) in [("data", "data."), ("resource", "")] {
        for (kind, names) in doc[section].as_object().into_iter().flatten() {
            for name in names.as_object().into_iter().flatten().map(|(n, _)| n) {
                addresses.push(format!("{prefix}{kind}.{name}"));
            }
        }
    }
    insta::assert_snapshot!("logical_ids", addresses.join("\n"));
}

#[test]
fn rest_api_body_is_the_openapi_spec_with_integrations_filled() {
    let synthesized = synth(&committed_config());
    let doc = &synthesized.stacks()["callflow"];
    let body_template = doc["resource"]["aws_api_gateway_rest_api"]["api"]["body"]
        .as_str()
        .expect("body");
    assert!(
        !body_template.contains("callflow:placeholder"),
        "every placeholder is filled"
    );
    let rendered = body_template
        .replace("${aws_lambda_function.event_storer.invoke_arn}", "STORER")
        .replace(
            "${aws_lambda_function.event_retriever.invoke_arn}",
            "RETRIEVER",
        )
        .replace("${aws_lambda_function.authorizer.invoke_arn}", "AUTHORIZER");
    assert!(
        !rendered.contains("${"),
        "no other interpolation in the body"
    );
    let body: serde_json::Value =
        serde_json::from_str(&rendered.replace("$${", "${")).expect("body is JSON");
    assert_eq!(
        body["paths"]["/events"]["post"]["x-amazon-apigateway-integration"]["uri"],
        "STORER"
    );
    assert_eq!(
        body["paths"]["/events"]["get"]["x-amazon-apigateway-integration"]["uri"],
        "RETRIEVER"
    );
    assert_eq!(
        body["paths"]["/events/{eventId}"]["get"]["x-amazon-apigateway-integration"]["uri"],
        "RETRIEVER"
    );
    let authorizer =
        &body["components"]["securitySchemes"]["bearerAuth"]["x-amazon-apigateway-authorizer"];
    assert_eq!(authorizer["authorizerUri"], "AUTHORIZER");
    assert_eq!(authorizer["type"], "token");
    assert_eq!(authorizer["authorizerResultTtlInSeconds"], 300);
    // Redeploys when the body changes.
    let deployment = &doc["resource"]["aws_api_gateway_deployment"]["api"];
    assert_eq!(
        deployment["triggers"]["redeployment"],
        "${sha1(aws_api_gateway_rest_api.api.body)}"
    );
    assert_eq!(deployment["lifecycle"]["create_before_destroy"], true);
}

#[test]
fn stateful_resources_are_protected_from_destroy() {
    let synthesized = synth(&committed_config());
    let doc = &synthesized.stacks()["callflow"];
    assert_eq!(
        doc["resource"]["aws_s3_bucket"]["events"]["lifecycle"]["prevent_destroy"],
        true
    );
    assert_eq!(
        doc["resource"]["aws_kms_key"]["events"]["lifecycle"]["prevent_destroy"],
        true
    );
}

#[test]
fn configuration_errors_are_all_reported_with_the_values() {
    let text = r#"
        service = "Call Flow"
        environment = ""
        region = "us-east-1"
        log_level = "loud"
        [jwt]
        issuer = "i"
        audience = "a"
        jwks_url = "http://insecure/jwks.json"
    "#;
    let err = AppConfig::from_toml(text).expect_err("invalid");
    let ConfigError::Invalid(problems) = err else {
        panic!("expected Invalid, got {err}")
    };
    let text = problems.join("\n");
    for needle in [
        "service `Call Flow`",
        "environment ``",
        "log_level `loud`",
        "jwt.jwks_url `http://insecure/jwks.json`",
    ] {
        assert!(text.contains(needle), "missing {needle} in:\n{text}");
    }
    let unknown = AppConfig::from_toml("environment = \"x\"\nregion = \"r\"\nbogus = 1\n[jwt]\nissuer=\"i\"\naudience=\"a\"\njwks_url=\"https://x\"\n").expect_err("unknown key");
    assert!(unknown.to_string().contains("bogus"), "{unknown}");
}

#[test]
fn several_environments_make_several_stacks() {
    let text = std::fs::read_to_string(repo_root().join("callflow.toml")).expect("config");
    // `[[providers]]` (the bindings `callflow get` generates) stays top-level; the rest moves
    // under each `[[stack]]`.
    let (stack_part, providers) = text.split_once("\n[[providers]]").unwrap_or((&text, ""));
    let body: String = stack_part
        .lines()
        .filter(|l| !l.starts_with("stack_name") && !l.starts_with("environment"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut multi = String::new();
    for env in ["staging", "prod"] {
        // Re-root every table of the single-environment file under [[stack]].
        multi.push_str(&format!(
            "[[stack]]\nstack_name = \"callflow-{env}\"\nenvironment = \"{env}\"\n"
        ));
        // Arrays of tables (`[[usage_plan.clients]]`) too.
        multi.push_str(
            &body
                .replace("\n[[", "\n\u{0}")
                .replace("\n[", "\n[stack.")
                .replace("\n\u{0}", "\n[[stack."),
        );
        multi.push('\n');
    }
    if !providers.is_empty() {
        multi.push_str(&format!("\n[[providers]]{providers}"));
    }
    let config = AppConfig::from_toml(&multi).expect("multi-stack config");
    let synthesized = synth(&config);
    assert_eq!(
        synthesized.stacks().keys().collect::<Vec<_>>(),
        ["callflow-prod", "callflow-staging"]
    );
    assert_eq!(
        synthesized.stacks()["callflow-staging"]["resource"]["aws_s3_bucket"]["events"]["bucket"],
        "callflow-events-staging"
    );
}

#[test]
fn construct_props_start_from_documented_defaults_and_override_them() {
    use callflow_stack::callflow::{
        Account, EventsBucket, EventsBucketProps, EventsKey, EventsKeyProps,
    };
    let mut stack = callflow_stack::dsl::Stack::new("t");
    let account = Account::declare(&mut stack);
    let mut key_props = EventsKeyProps::new("svc-dev");
    assert_eq!(key_props.deletion_window_days, 30);
    key_props.deletion_window_days = 7;
    let key = EventsKey::new(&mut stack, &key_props, &account);
    let mut props = EventsBucketProps::new("svc-events-dev", 3);
    assert_eq!(
        (
            props.infrequent_access_after_days,
            props.archive_after_days,
            props.noncurrent_version_days
        ),
        (90, 365, 30)
    );
    props.archive_after_days = 180;
    EventsBucket::new(&mut stack, &props, &key);
    let doc = stack.synth().expect("synth");
    let rules = &doc["resource"]["aws_s3_bucket_lifecycle_configuration"]["events"]["rule"];
    assert_eq!(
        rules[0]["transition"][1],
        serde_json::json!({"days": 180, "storage_class": "GLACIER"})
    );
    assert_eq!(rules[1]["expiration"][0]["days"], 3);
    assert_eq!(
        doc["resource"]["aws_kms_key"]["events"]["deletion_window_in_days"],
        7
    );
    assert_eq!(
        doc["resource"]["aws_s3_bucket"]["events"]["bucket"],
        "svc-events-dev"
    );
}

#[test]
fn usage_plan_clients_and_tiers_are_checked_all_at_once() {
    let text = r#"
environment = "prod"
region = "us-east-1"
[jwt]
issuer = "https://issuer.example/"
audience = "api"
jwks_url = "https://issuer.example/jwks.json"
[usage_plan]
burst_limit = 10
rate_limit = 5.0
quota_per_day = 0
[[usage_plan.tiers]]
name = "default"
burst_limit = 1
rate_limit = 1.0
quota_per_day = 1
[[usage_plan.clients]]
client_id = "short"
[[usage_plan.clients]]
client_id = "a-client-with-a-long-enough-id"
plan = "gold"
"#;
    let Err(ConfigError::Invalid(problems)) = AppConfig::from_toml(text) else {
        panic!("invalid usage plans are refused");
    };
    let joined = problems.join("\n");
    for expected in [
        "usage plan `default`: burst 10 / rate 5 / quota_per_day 0",
        "usage_plan.tiers name `default`",
        "client_id `short`: use 20-128",
        "plan `gold` is neither `default` nor a tier",
    ] {
        assert!(joined.contains(expected), "{expected:?} in:\n{joined}");
    }
}
