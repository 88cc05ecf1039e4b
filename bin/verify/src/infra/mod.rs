//! Infrastructure drift checks: each resource the synth declares, read back through the SDKs.

mod apigateway;
mod cloudwatch;
mod lambda;
mod route53;
mod s3;

#[cfg(feature = "test-support")]
pub use apigateway::find_rest_api as find_rest_api_id;

use crate::aws::AwsClients;
use crate::expected::ExpectedStack;
use crate::probe::Probe;

/// The probes for every resource of `expected`, ready to run concurrently.
pub fn infra_probes(clients: &AwsClients, expected: &ExpectedStack) -> Vec<Probe> {
    let mut probes = Vec::new();
    for bucket in &expected.buckets {
        probes.extend(s3::probes(clients, bucket));
    }
    for function in &expected.functions {
        probes.push(lambda::probe(clients, function));
    }
    for api in &expected.rest_apis {
        probes.push(apigateway::rest_api_probe(clients, api));
    }
    for domain in &expected.domains {
        probes.push(apigateway::domain_probe(clients, domain));
    }
    for record in &expected.alias_records {
        probes.push(route53::alias_probe(clients, record));
    }
    for alarm in &expected.alarms {
        probes.push(cloudwatch::alarm_probe(clients, alarm));
    }
    for dashboard in &expected.dashboards {
        probes.push(cloudwatch::dashboard_probe(clients, dashboard));
    }
    probes
}

/// The standard advice for drift: put the live resource back, or change the stack on purpose.
fn reapply(what: &str) -> String {
    format!(
        "{what}: run `terraform apply` on the synthesized stack to restore it; if the live value \
         is intended, change the stack in Rust, re-run `callflow synth` and commit cdktf.out"
    )
}
