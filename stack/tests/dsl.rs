//! The DSL's guarantees: unique ids, checked references, override precedence, escaping,
//! meta-arguments, deterministic output.

use callflow_stack::aws::s3::{
    S3Bucket, S3BucketPolicy, S3BucketVersioning, S3BucketVersioningVersioningConfiguration,
};
use callflow_stack::dsl::{Lifecycle, Output, Stack, StackError, Tf, Variable, functions};
use callflow_stack::iam::{PolicyDocument, Principal, Statement};
use serde_json::json;

fn bucket_stack() -> (Stack, callflow_stack::dsl::Handle<S3Bucket>) {
    let mut stack = Stack::new("t");
    let bucket = stack.resource("events", S3Bucket::new().set_bucket("my-bucket"));
    (stack, bucket)
}

#[test]
fn typed_references_synthesize_as_interpolations() {
    let (mut stack, bucket) = bucket_stack();
    stack.resource(
        "events",
        S3BucketVersioning::new(
            bucket.bucket(),
            S3BucketVersioningVersioningConfiguration::new("Enabled"),
        ),
    );
    let doc = stack.synth().expect("synth");
    assert_eq!(bucket.address(), "aws_s3_bucket.events");
    assert_eq!(
        doc["resource"]["aws_s3_bucket_versioning"]["events"],
        json!({ "bucket": "${aws_s3_bucket.events.bucket}", "versioning_configuration": { "status": "Enabled" } })
    );
    // Unset optional fields are absent.
    assert_eq!(
        doc["resource"]["aws_s3_bucket"]["events"],
        json!({ "bucket": "my-bucket" })
    );
}

#[test]
fn duplicate_ids_are_a_synth_error_not_an_overwrite() {
    let (mut stack, _) = bucket_stack();
    stack.resource("events", S3Bucket::new().set_bucket("other"));
    let err = stack.synth().expect_err("duplicate must fail");
    assert_eq!(
        err.errors,
        vec![StackError::DuplicateId {
            address: "aws_s3_bucket.events".into()
        }]
    );
    assert!(
        err.to_string()
            .contains("t: duplicate logical id: `aws_s3_bucket.events` is declared twice"),
        "{err}"
    );
}

#[test]
fn references_to_resources_of_another_stack_fail_synth() {
    let (_, foreign) = bucket_stack();
    let mut stack = Stack::new("other");
    stack.resource(
        "v",
        S3BucketVersioning::new(
            foreign.bucket(),
            S3BucketVersioningVersioningConfiguration::new("Enabled"),
        ),
    );
    stack.output(
        "x",
        Output {
            value: Tf::from_rendered("${var.missing}"),
            description: "d".into(),
            sensitive: false,
        },
    );
    let err = stack.synth().expect_err("unknown references must fail");
    let text = err.to_string();
    // A handle of a stack outside the app: synth names the value and the stack it belongs to
    // (inside one App it would become a cross-stack reference through remote state).
    assert!(
        text.contains("uses `aws_s3_bucket.events.bucket` of stack `t`, which is not in this app"),
        "{text}"
    );
    assert!(
        text.contains("reference `var.missing` at `output.x.value`"),
        "{text}"
    );
}

#[test]
fn invalid_logical_ids_are_rejected() {
    let mut stack = Stack::new("t");
    stack.resource("9-bad", S3Bucket::new());
    stack.resource("has.dot", S3Bucket::new());
    let err = stack.synth().expect_err("invalid ids");
    assert_eq!(err.errors.len(), 2, "{err}");
}

#[test]
fn overrides_are_applied_last_and_win() {
    let (mut stack, bucket) = bucket_stack();
    stack.lifecycle(
        &bucket,
        Lifecycle {
            prevent_destroy: true,
            ..Default::default()
        },
    );
    stack.add_override(&bucket, "bucket", json!("overridden"));
    stack.add_override(&bucket, "lifecycle.prevent_destroy", json!(false));
    stack.add_override(&bucket, "versioning.enabled", json!(true));
    stack.add_override(&bucket, "tags", json!({"a": "b"}));
    stack.add_override(&bucket, "tags", serde_json::Value::Null);
    let doc = stack.synth().expect("synth");
    assert_eq!(
        doc["resource"]["aws_s3_bucket"]["events"],
        json!({ "bucket": "overridden", "lifecycle": { "prevent_destroy": false }, "versioning": { "enabled": true } })
    );
}

#[test]
fn override_into_a_list_needs_a_valid_index() {
    let (mut stack, bucket) = bucket_stack();
    stack.add_override(
        &bucket,
        "grant",
        json!([{ "type": "CanonicalUser", "permissions": ["READ"] }]),
    );
    stack.add_override(&bucket, "grant.0.id", json!("abc"));
    stack.add_override(&bucket, "grant.5.id", json!("abc"));
    let err = stack.synth().expect_err("out of range");
    assert!(
        err.to_string()
            .contains("index 5 of `grant.5.id` is out of range (list has 1)"),
        "{err}"
    );
}

#[test]
fn meta_arguments_variables_outputs_and_functions() {
    let (mut stack, bucket) = bucket_stack();
    let policy = stack.resource(
        "p",
        S3BucketPolicy::new(
            bucket.bucket(),
            functions::jsonencode(Tf::Literal(vec!["a".to_string()])),
        ),
    );
    stack.depends_on(&policy, &[&bucket]);
    stack.lifecycle(
        &policy,
        Lifecycle {
            create_before_destroy: true,
            ignore_changes: vec!["policy".into()],
            ..Default::default()
        },
    );
    let region = stack.variable(
        "region",
        Variable {
            type_constraint: "string".into(),
            default: Some(json!("eu-west-1")),
            ..Default::default()
        },
    );
    stack.output(
        "bucket_arn",
        Output {
            value: bucket.arn(),
            description: "ARN".into(),
            sensitive: false,
        },
    );
    stack.output(
        "region",
        Output {
            value: region,
            description: "Region".into(),
            sensitive: true,
        },
    );
    let doc = stack.synth().expect("synth");
    let p = &doc["resource"]["aws_s3_bucket_policy"]["p"];
    assert_eq!(p["depends_on"], json!(["aws_s3_bucket.events"]));
    assert_eq!(
        p["lifecycle"],
        json!({ "create_before_destroy": true, "ignore_changes": ["policy"] })
    );
    assert_eq!(p["policy"], json!("${jsonencode([\"a\"])}"));
    assert_eq!(
        doc["variable"]["region"],
        json!({ "type": "string", "default": "eu-west-1" })
    );
    assert_eq!(
        doc["output"]["region"],
        json!({ "value": "${var.region}", "description": "Region", "sensitive": true })
    );
    assert_eq!(
        doc["terraform"]["backend"],
        json!({ "local": { "path": "terraform.t.tfstate" } })
    );
}

#[test]
fn policy_documents_keep_references_and_escape_literals() {
    let (mut stack, bucket) = bucket_stack();
    let doc = PolicyDocument::new(vec![
        Statement::allow(
            "Read",
            &["s3:GetObject"],
            vec![bucket.arn().suffixed("/events/*")],
        )
        .with_principal(Principal::aws("arn:aws:iam::123456789012:root"))
        .with_condition(
            "StringLike",
            "s3:prefix",
            vec!["home/${aws:username}/*".into()],
        ),
    ]);
    stack.resource("p", S3BucketPolicy::new(bucket.bucket(), doc.to_tf()));
    let out = stack.synth().expect("synth");
    let policy = out["resource"]["aws_s3_bucket_policy"]["p"]["policy"]
        .as_str()
        .expect("string");
    assert!(
        policy.contains(r#""Resource":["${aws_s3_bucket.events.arn}/events/*"]"#),
        "{policy}"
    );
    // An IAM policy variable is literal text for Terraform: escaped.
    assert!(policy.contains("home/$${aws:username}/*"), "{policy}");
    // Once Terraform renders the template, the policy is valid JSON.
    let rendered = policy
        .replace("${aws_s3_bucket.events.arn}", "arn:aws:s3:::my-bucket")
        .replace("$${", "${");
    let parsed: serde_json::Value =
        serde_json::from_str(&rendered).expect("valid JSON after interpolation");
    assert_eq!(
        parsed["Statement"][0]["Resource"][0],
        "arn:aws:s3:::my-bucket/events/*"
    );
}

#[test]
fn wildcard_actions_are_refused() {
    assert!(callflow_stack::iam::IamAction::parse("s3:*").is_err());
    assert!(callflow_stack::iam::IamAction::parse("*").is_err());
    assert!(callflow_stack::iam::IamAction::parse("s3:Get*").is_err());
    assert!(callflow_stack::iam::IamAction::parse("s3:GetObject").is_ok());
}

#[test]
fn keys_are_sorted_for_reviewable_diffs() {
    let (stack, _) = bucket_stack();
    let text = callflow_stack::dsl::render(&stack.synth().expect("synth"));
    let top: Vec<&str> = text.lines().filter(|l| l.starts_with("  \"")).collect();
    let mut sorted = top.clone();
    sorted.sort();
    assert_eq!(top, sorted);
}

#[test]
fn templatefile_and_s3_backend() {
    let (mut stack, bucket) = bucket_stack();
    let vars: std::collections::BTreeMap<String, Tf<String>> = [
        ("bucket".to_string(), bucket.arn()),
        ("env".to_string(), "prod".into()),
    ]
    .into();
    let path = Tf::template([
        Tf::expr(callflow_stack::dsl::Expression::raw("path.module")),
        "/policy.tftpl".into(),
    ]);
    // `templatefile` returns `dynamic` (a template of one interpolation can yield any type).
    let rendered = functions::templatefile(&path, &vars).as_type::<String>();
    stack.resource("p", S3BucketPolicy::new(bucket.bucket(), rendered));
    stack.backend(
        callflow_stack::dsl::S3Backend::new("state", "callflow/prod.tfstate")
            .region("eu-west-1")
            .use_lockfile(true),
    );
    let doc = stack.synth().expect("synth");
    assert_eq!(
        doc["resource"]["aws_s3_bucket_policy"]["p"]["policy"],
        json!(
            "${templatefile(\"${path.module}/policy.tftpl\", {\"bucket\" = aws_s3_bucket.events.arn, \"env\" = \"prod\"})}"
        )
    );
    assert_eq!(doc["terraform"]["backend"]["s3"]["bucket"], "state");
    assert_eq!(doc["terraform"]["backend"]["s3"]["use_lockfile"], true);
    assert_eq!(doc["//"]["metadata"]["backend"], "s3");
}

#[test]
fn a_rejected_iam_action_is_a_synth_error_not_a_panic() {
    let (mut stack, bucket) = bucket_stack();
    let doc = PolicyDocument::new(vec![Statement::allow(
        "TooBroad",
        &["s3:*", "s3:GetObject"],
        vec![bucket.arn()],
    )]);
    let policy = doc.render(&mut stack, "Test");
    stack.resource("p", S3BucketPolicy::new(bucket.bucket(), policy));
    let err = stack
        .synth()
        .expect_err("a wildcard action must fail synth");
    assert_eq!(
        err.to_string(),
        "stack `t` has 1 problem(s):\n  t: Test: statement `TooBroad`: IAM action `s3:*` is not allowed: name each action, no wildcards"
    );
}
