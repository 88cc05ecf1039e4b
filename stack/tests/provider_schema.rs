//! Every synthesized resource is what the hashicorp/aws 6.25 provider accepts: known attributes
//! and blocks, required ones present, single blocks as objects, list blocks as arrays, value
//! types right, and every `${...}` reference pointing at a declared element and a real attribute.

mod support;

use callflow_stack::aws::s3::{
    S3Bucket, S3BucketVersioning, S3BucketVersioningVersioningConfiguration,
};
use callflow_stack::dsl::{Stack, Tf};
use serde_json::json;
use support::*;

#[test]
fn committed_stack_matches_the_provider_schema() {
    let schema = provider_schema();
    for (name, doc) in synth(&committed_config()).stacks() {
        let problems = validate_document(doc, &schema);
        assert!(
            problems.is_empty(),
            "stack {name}:\n{}",
            problems.join("\n")
        );
    }
}

#[test]
fn stack_without_custom_domain_matches_the_provider_schema() {
    let mut config = base_config();
    config.domain = None;
    config.alarms.email = None;
    let app = callflow_stack::callflow::AppConfig {
        stacks: vec![config],
    };
    let synthesized = synth(&app);
    let doc = &synthesized.stacks()["callflow"];
    let problems = validate_document(doc, &provider_schema());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The domain resources are absent and the URL output falls back to the stage URL.
    assert!(
        doc.pointer("/resource/aws_api_gateway_domain_name")
            .is_none()
    );
    assert!(doc.pointer("/resource/aws_acm_certificate").is_none());
    assert!(
        doc.pointer("/resource/aws_sns_topic_subscription")
            .is_none()
    );
    assert_eq!(
        doc["output"]["custom_domain_url"]["value"],
        json!("${aws_api_gateway_stage.v1.invoke_url}")
    );
}

#[test]
fn validator_reports_each_mistake_with_address_and_path() {
    let mut stack = Stack::new("broken");
    let bucket = stack.resource("b", S3Bucket::new().set_bucket("x"));
    stack.add_override(&bucket, "bucket_nmae", json!("typo"));
    stack.add_override(&bucket, "force_destroy", json!("yes"));
    stack.add_override(&bucket, "tags_all", json!({}));
    let versioning = stack.resource(
        "b",
        S3BucketVersioning::new(
            bucket.bucket(),
            S3BucketVersioningVersioningConfiguration::new(Tf::from("Enabled")),
        ),
    );
    stack.add_override(
        &versioning,
        "versioning_configuration",
        json!([{ "status": "Enabled" }]),
    );
    stack.add_override(&versioning, "bucket", serde_json::Value::Null);
    let doc = stack.synth().expect("synth");
    let problems = validate_document(&doc, &provider_schema());
    let expected = [
        "aws_s3_bucket.b: bucket_nmae: unknown attribute or block",
        "aws_s3_bucket.b: force_destroy: value \"yes\" does not have type \"bool\"",
        "aws_s3_bucket.b: tags_all: read-only (computed) attribute is set",
        "aws_s3_bucket_versioning.b: versioning_configuration: single block must be an object, found an array",
        "aws_s3_bucket_versioning.b: bucket: required attribute is missing",
    ];
    for e in expected {
        assert!(
            problems.iter().any(|p| p == e),
            "missing `{e}` in:\n{}",
            problems.join("\n")
        );
    }
    assert_eq!(problems.len(), expected.len(), "{}", problems.join("\n"));
}

#[test]
fn validator_rejects_references_to_attributes_the_schema_lacks() {
    let mut stack = Stack::new("refs");
    stack.resource("b", S3Bucket::new());
    // Typed references cannot name a missing attribute; an untyped template (the escape hatch)
    // can, and the validator catches it. A required block can only go missing by override.
    let v = stack.resource(
        "v",
        S3BucketVersioning::new(
            Tf::from_rendered("${aws_s3_bucket.b.no_such_attribute}"),
            S3BucketVersioningVersioningConfiguration::new("Enabled"),
        ),
    );
    stack.add_override(&v, "versioning_configuration", serde_json::Value::Null);
    let doc = stack.synth().expect("synth");
    let problems = validate_document(&doc, &provider_schema());
    assert!(
        problems
            .iter()
            .any(|p| p.contains("`aws_s3_bucket` has no attribute `no_such_attribute`")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("versioning_configuration: required block is missing")),
        "{problems:?}"
    );
}
