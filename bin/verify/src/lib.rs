//! Post-deploy verification: live infrastructure drift checks and end-to-end API smoke tests.
//!
//! Expected values come from the synthesized stack (`cdktf.out`), never from a second list:
//! [`ExpectedStack::from_synth`] reads them, [`infra_probes`] checks each resource through the
//! AWS SDKs, [`api::api_probes`] exercises the deployed API, [`run_probes`] runs everything
//! concurrently and [`Report`] renders the table, JSON or JUnit XML.

#![deny(missing_docs)]

pub mod api;
pub mod aws;
pub mod check;
pub mod expected;
mod infra;
pub mod probe;
pub mod report;
pub mod synth_doc;
#[cfg(feature = "test-support")]
pub mod testing;

pub use aws::{AwsClients, AwsTarget};
pub use check::{CheckResult, Verdict};
pub use expected::{ExpectedError, ExpectedStack};
pub use infra::infra_probes;
pub use probe::{Probe, Progress, run_probes};
pub use report::Report;
