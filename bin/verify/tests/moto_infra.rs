//! The infrastructure checks against moto server seeded from the committed synth: all pass, then
//! each kind of drift is reported with expected and actual values.

use std::path::Path;

use callflow_stack::dsl::Synthesized;
use callflow_verify::testing::{MotoServer, drift, moto_or_skip, seed, seed_stack};
use callflow_verify::{ExpectedStack, Report, infra_probes, run_probes};
use serde_json::Value;

fn committed_synth() -> Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../cdktf.out");
    let synth = Synthesized::read_from(&dir).expect("committed cdktf.out");
    synth
        .stacks()
        .get("callflow")
        .expect("stack callflow")
        .clone()
}

async fn verify(endpoint: &str, doc: &Value) -> Report {
    let expected = ExpectedStack::from_synth(doc).expect("expectations");
    let clients =
        seed::moto_clients(endpoint, expected.region.as_deref().unwrap_or("us-east-1")).await;
    Report::new(run_probes(infra_probes(&clients, &expected), |_| {}).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_stack_passes_and_drift_is_reported() {
    let Some(moto) = moto_or_skip("seeded_stack_passes_and_drift_is_reported") else {
        return;
    };
    let server = MotoServer::start(&moto).expect("moto starts");
    let doc = seed_stack(server.endpoint(), &committed_synth())
        .await
        .expect("seeding");

    let report = verify(server.endpoint(), &doc).await;
    let failures: Vec<_> = report.failures().collect();
    assert!(
        failures.is_empty(),
        "after seeding, every check passes; failures: {failures:#?}"
    );
    let names: Vec<&str> = report.checks.iter().map(|c| c.check.as_str()).collect();
    for must in [
        "s3 callflow-events-prod: versioning",
        "s3 callflow-events-prod: lifecycle rules",
        "s3 callflow-events-prod: default encryption",
        "s3 callflow-events-prod: public access block",
        "lambda callflow-prod-event-storer: memory (MB)",
        "apigateway callflow-prod-api stage v1: method settings */* throttling",
        "apigateway callflow-prod-api authorizer bearerAuth",
        "cloudwatch alarm callflow-prod-api-5xx",
        "cloudwatch dashboard callflow-prod",
    ] {
        assert!(
            names.contains(&must),
            "missing check {must:?} in {names:#?}"
        );
    }
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("route53 events.callflow.example.com A")),
        "{names:#?}"
    );

    let clients = seed::moto_clients(server.endpoint(), "us-east-1").await;
    drift::suspend_versioning(&clients, "callflow-events-prod")
        .await
        .unwrap();
    drift::set_function_memory(&clients, "callflow-prod-event-storer", 512)
        .await
        .unwrap();
    drift::delete_alarm(&clients, "callflow-prod-api-5xx")
        .await
        .unwrap();
    drift::set_throttling(&clients, "callflow-prod-api", "v1", 10, 5.0)
        .await
        .unwrap();

    let report = verify(server.endpoint(), &doc).await;
    let failed: Vec<(&str, &str, &str)> = report
        .failures()
        .map(|c| (c.check.as_str(), c.expected.as_str(), c.actual.as_str()))
        .collect();
    assert_eq!(
        failed,
        vec![
            (
                "s3 callflow-events-prod: versioning",
                "Enabled",
                "Suspended"
            ),
            (
                "lambda callflow-prod-event-storer: memory (MB)",
                "256",
                "512"
            ),
            (
                "apigateway callflow-prod-api stage v1: method settings */* throttling",
                "burst 200 rate 100",
                "burst 10 rate 5"
            ),
            (
                "cloudwatch alarm callflow-prod-api-5xx",
                "AWS/ApiGateway/5XXError GreaterThanOrEqualToThreshold 5",
                "(alarm missing)"
            ),
        ]
    );
    assert!(report.failures().all(|c| {
        c.fix
            .as_deref()
            .is_some_and(|f| f.contains("terraform apply"))
    }));
}
