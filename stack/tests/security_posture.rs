//! Our own security checks on the synthesized stack (beyond checkov): named IAM actions only,
//! the bucket encrypted with the CMK and TLS-only, log retention everywhere, tracing on every
//! function, access logs and throttling on the stage.

mod support;

use serde_json::Value;
use support::*;

fn doc() -> Value {
    synth(&committed_config()).stacks()["callflow"].clone()
}

fn resources<'a>(doc: &'a Value, kind: &str) -> Vec<(&'a String, &'a Value)> {
    doc["resource"][kind]
        .as_object()
        .map(|m| m.iter().collect())
        .unwrap_or_default()
}

/// Policy documents as JSON, with interpolations replaced by a placeholder ARN.
fn policies(doc: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (kind, attr) in [
        ("aws_iam_role_policy", "policy"),
        ("aws_iam_role", "assume_role_policy"),
        ("aws_s3_bucket_policy", "policy"),
        ("aws_kms_key", "policy"),
        ("aws_sns_topic_policy", "policy"),
    ] {
        for (name, body) in resources(doc, kind) {
            let text = body[attr]
                .as_str()
                .unwrap_or_else(|| panic!("{kind}.{name}.{attr} is a string"));
            let mut rendered = String::new();
            for part in callflow_stack::dsl::parse_template(text) {
                match part {
                    callflow_stack::dsl::TemplatePart::Literal(s) => rendered.push_str(&s),
                    callflow_stack::dsl::TemplatePart::Interpolation(_) => {
                        rendered.push_str("arn:aws:x:::ref")
                    }
                }
            }
            let parsed: Value = serde_json::from_str(&rendered)
                .unwrap_or_else(|e| panic!("{kind}.{name}: {e}: {rendered}"));
            out.push((format!("{kind}.{name}"), parsed));
        }
    }
    out
}

#[test]
fn no_allow_statement_has_a_wildcard_action() {
    let doc = doc();
    let policies = policies(&doc);
    assert!(
        policies.len() >= 10,
        "expected the role, bucket, key and topic policies"
    );
    for (address, policy) in policies {
        for statement in policy["Statement"].as_array().expect("statements") {
            let actions: Vec<&str> = match &statement["Action"] {
                Value::String(s) => vec![s.as_str()],
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                other => panic!("{address}: Action {other}"),
            };
            if statement["Effect"] == "Allow" {
                for a in actions {
                    assert!(
                        !a.contains('*'),
                        "{address} ({}): wildcard action {a}",
                        statement["Sid"]
                    );
                }
            } else {
                assert_eq!(statement["Effect"], "Deny", "{address}");
            }
        }
    }
}

#[test]
fn wildcard_resources_appear_only_where_aws_requires_them() {
    for (address, policy) in policies(&doc()) {
        for statement in policy["Statement"].as_array().expect("statements") {
            let sid = statement["Sid"].as_str().unwrap_or_default();
            let resources: Vec<&str> = match &statement["Resource"] {
                Value::String(s) => vec![s.as_str()],
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            if resources.contains(&"*") {
                // X-Ray has no resource-level permissions; key policies name their own key as "*".
                let allowed =
                    sid == "XRayRequiresWildcardResource" || address.starts_with("aws_kms_key.");
                assert!(allowed, "{address} ({sid}) uses Resource \"*\"");
            }
        }
    }
}

#[test]
fn every_bucket_is_encrypted_with_the_cmk_tls_only_and_private() {
    let doc = doc();
    for (name, _) in resources(&doc, "aws_s3_bucket") {
        let bucket_ref = format!("${{aws_s3_bucket.{name}.bucket}}");
        let for_bucket = |kind: &str| {
            resources(&doc, kind)
                .into_iter()
                .find(|(_, b)| b["bucket"] == bucket_ref.as_str())
                .map(|(_, b)| b.clone())
        };
        let sse =
            for_bucket("aws_s3_bucket_server_side_encryption_configuration").expect("encryption");
        let rule = &sse["rule"][0]["apply_server_side_encryption_by_default"];
        assert_eq!(rule["sse_algorithm"], "aws:kms");
        assert!(
            rule["kms_master_key_id"]
                .as_str()
                .is_some_and(|k| k.starts_with("${aws_kms_key.")),
            "{rule}"
        );
        let pab = for_bucket("aws_s3_bucket_public_access_block").expect("public access block");
        for flag in [
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        ] {
            assert_eq!(pab[flag], true, "{flag}");
        }
        let policy = for_bucket("aws_s3_bucket_policy").expect("bucket policy");
        let text = policy["policy"].as_str().expect("policy");
        assert!(
            text.contains(r#""Condition":{"Bool":{"aws:SecureTransport":["false"]}}"#)
                && text.contains(r#""Effect":"Deny""#),
            "{text}"
        );
        assert_eq!(
            for_bucket("aws_s3_bucket_versioning").expect("versioning")["versioning_configuration"]
                ["status"],
            "Enabled"
        );
        let lifecycle = for_bucket("aws_s3_bucket_lifecycle_configuration").expect("lifecycle");
        let rule = &lifecycle["rule"][0];
        assert_eq!(rule["id"], "archive-old-events");
        assert_eq!(
            rule["transition"],
            serde_json::json!([{"days": 90, "storage_class": "STANDARD_IA"}, {"days": 365, "storage_class": "GLACIER"}])
        );
        assert!(rule["noncurrent_version_expiration"][0]["noncurrent_days"].is_number());
    }
    assert_eq!(
        doc["resource"]["aws_kms_key"]["events"]["enable_key_rotation"],
        true
    );
}

#[test]
fn every_log_group_has_retention_and_the_cmk() {
    let doc = doc();
    let groups = resources(&doc, "aws_cloudwatch_log_group");
    assert_eq!(groups.len(), 4, "three functions and the API access log");
    for (name, g) in groups {
        assert!(
            g["retention_in_days"].as_i64().is_some_and(|d| d > 0),
            "{name}"
        );
        assert!(
            g["kms_key_id"]
                .as_str()
                .is_some_and(|k| k.starts_with("${aws_kms_key.")),
            "{name}"
        );
    }
}

#[test]
fn every_function_traces_and_runs_the_expected_artifact() {
    let doc = doc();
    let functions = resources(&doc, "aws_lambda_function");
    assert_eq!(functions.len(), 3);
    for (name, f) in functions {
        assert_eq!(f["tracing_config"]["mode"], "Active", "{name}");
        assert_eq!(f["runtime"], "provided.al2023");
        assert_eq!(f["architectures"], serde_json::json!(["arm64"]));
        assert_eq!(f["handler"], "bootstrap");
        assert!(
            f["source_code_hash"]
                .as_str()
                .is_some_and(|h| h.starts_with("${filebase64sha256(")),
            "{name}"
        );
        // Created after its log group so retention applies from the first invocation.
        let deps = f["depends_on"].as_array().expect("depends_on");
        assert!(
            deps.iter()
                .any(|d| d == &serde_json::json!(format!("aws_cloudwatch_log_group.{name}"))),
            "{name}: {deps:?}"
        );
        // Synchronous (API Gateway) functions need no DLQ; an async one would.
        assert!(f.get("dead_letter_config").is_none());
    }
}

#[test]
fn stage_has_access_logs_tracing_and_throttling() {
    let doc = doc();
    let stage = &doc["resource"]["aws_api_gateway_stage"]["v1"];
    assert_eq!(stage["stage_name"], "v1");
    assert_eq!(stage["xray_tracing_enabled"], true);
    let format: Value = serde_json::from_str(
        stage["access_log_settings"]["format"]
            .as_str()
            .expect("format"),
    )
    .expect("JSON access log");
    for key in [
        "requestId",
        "ip",
        "httpMethod",
        "resourcePath",
        "status",
        "responseLatency",
        "principalId",
    ] {
        assert!(format.get(key).is_some(), "access log lacks {key}");
    }
    let settings = &doc["resource"]["aws_api_gateway_method_settings"]["all"]["settings"];
    assert_eq!(settings["throttling_burst_limit"], 200);
    assert_eq!(settings["throttling_rate_limit"], 100.0);
    assert_eq!(settings["metrics_enabled"], true);
    assert_eq!(settings["data_trace_enabled"], false);
}

#[test]
fn handlers_may_be_invoked_only_for_their_own_routes() {
    let doc = doc();
    let mut arns: Vec<(String, String)> = resources(&doc, "aws_lambda_permission")
        .into_iter()
        .map(|(_, p)| {
            (
                p["function_name"].as_str().unwrap_or_default().to_string(),
                p["source_arn"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    arns.sort();
    let exec = "${aws_api_gateway_rest_api.api.execution_arn}";
    assert_eq!(
        arns,
        vec![
            (
                "${aws_lambda_function.authorizer.function_name}".to_string(),
                format!("{exec}/authorizers/*")
            ),
            (
                "${aws_lambda_function.event_retriever.function_name}".to_string(),
                format!("{exec}/*/GET/events")
            ),
            (
                "${aws_lambda_function.event_retriever.function_name}".to_string(),
                format!("{exec}/*/GET/events/*")
            ),
            (
                "${aws_lambda_function.event_storer.function_name}".to_string(),
                format!("{exec}/*/POST/events")
            ),
        ]
    );
}

#[test]
fn storer_writes_only_events_and_index_prefixes() {
    let doc = doc();
    let policy = doc["resource"]["aws_iam_role_policy"]["event_storer_write"]["policy"]
        .as_str()
        .expect("policy");
    assert!(policy.contains(r#""Action":["s3:PutObject"],"Resource":["${aws_s3_bucket.events.arn}/events/*","${aws_s3_bucket.events.arn}/metadata/indexes/*"]"#), "{policy}");
    let retriever = doc["resource"]["aws_iam_role_policy"]
        .as_object()
        .expect("policies");
    assert!(
        retriever
            .keys()
            .all(|k| !(k.starts_with("event_retriever") && k.ends_with("_write"))),
        "the retriever must not write"
    );
}
