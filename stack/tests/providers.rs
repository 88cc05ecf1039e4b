//! The generated aws provider type: the Callflow stack's provider block is exactly what it
//! declared, a second region is a typed alias that resources take, and every configuration is
//! valid against the provider schema's `provider` block.

mod support;

use callflow_stack::aws::AwsProvider;
use callflow_stack::aws::acm::AcmCertificate;
use callflow_stack::aws::provider::{AwsProviderAssumeRole, AwsProviderDefaultTags};
use callflow_stack::dsl::{Provider, Stack, Tf};
use serde_json::json;
use support::{provider_schema, validate_document};

#[test]
fn the_callflow_stack_declares_its_provider_through_the_generated_type() {
    let synth = support::synth(&support::committed_config());
    for doc in synth.stacks().values() {
        let configs = doc["provider"]["aws"].as_array().expect("provider.aws");
        assert_eq!(configs.len(), 1, "one default configuration");
        assert!(configs[0]["region"].is_string());
        assert_eq!(
            configs[0]["default_tags"][0]["tags"]["ManagedBy"],
            "callflow-stack"
        );
        assert_eq!(
            doc["terraform"]["required_providers"]["aws"],
            json!({"source": "hashicorp/aws", "version": AwsProvider::VERSION})
        );
        assert!(validate_document(doc, &provider_schema()).is_empty());
    }
}

#[test]
fn a_certificate_in_us_east_1_beside_a_stack_in_eu_west_1() {
    let mut stack = Stack::new("edge");
    stack.add_provider(
        AwsProvider::new()
            .set_region("eu-west-1")
            .set_default_tags(vec![
                AwsProviderDefaultTags::new().set_tags(Tf::from([("Service", "callflow")])),
            ]),
    );
    let us_east_1 = stack.add_provider_alias(
        "us_east_1",
        AwsProvider::new()
            .set_region("us-east-1")
            .set_assume_role(vec![
                AwsProviderAssumeRole::new()
                    .set_role_arn("arn:aws:iam::123456789012:role/deployer")
                    .set_session_name("callflow"),
            ])
            .set_max_retries(5),
    );
    let cert = stack.resource(
        "edge",
        AcmCertificate::new()
            .set_domain_name("api.example.com")
            .set_validation_method("DNS"),
    );
    stack.use_provider(&cert, &us_east_1);
    let doc = stack.synth().expect("synth");
    assert_eq!(
        doc["provider"]["aws"],
        json!([
            {"default_tags": [{"tags": {"Service": "callflow"}}], "region": "eu-west-1"},
            {
                "alias": "us_east_1",
                "assume_role": [{
                    "role_arn": "arn:aws:iam::123456789012:role/deployer",
                    "session_name": "callflow"
                }],
                "max_retries": 5,
                "region": "us-east-1"
            }
        ])
    );
    assert_eq!(
        doc["resource"]["aws_acm_certificate"]["edge"]["provider"],
        "aws.us_east_1"
    );
    let problems = validate_document(&doc, &provider_schema());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn a_provider_argument_the_schema_lacks_is_reported() {
    let mut stack = Stack::new("bad");
    stack.add_provider(AwsProvider::new().set_region("eu-west-1"));
    let mut doc = stack.synth().expect("synth");
    doc["provider"]["aws"][0]["regoin"] = json!("typo");
    let problems = validate_document(&doc, &provider_schema());
    assert!(
        problems
            .iter()
            .any(|p| p.contains("provider.aws[0]") && p.contains("regoin")),
        "{problems:#?}"
    );
}
