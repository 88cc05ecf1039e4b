//! Runs the real terraform CLI on synthesized stacks and renders plans for humans and CI.
//!
//! `callflow plan` synthesizes `cdktf.out/`, then uses this crate to:
//!
//! 1. find the stack's working directory through `cdktf.out/manifest.json` ([`Manifest`]);
//! 2. run `terraform init`, `plan -out`, `show -json` there ([`TerraformCli`]), passing
//!    `-var`, `-var-file` and `-backend-config` through ([`PlanOptions`]) and inheriting the
//!    `TF_*` environment;
//! 3. parse the plan ([`PlanDocument`]) and summarize it ([`PlanSummary`]): counts per action,
//!    one line per resource with its changed attributes (sensitive values masked, unknown ones
//!    shown as `(known after apply)`), and warnings for deletes and replaces of stateful
//!    resources ([`StatefulKind`]);
//! 4. gate on those warnings ([`PlanSummary::gate`]).
//!
//! # Exit codes
//! The CLI maps outcomes to the codes in [`exit_code`]: `0` the plan has no destructive
//! changes (or `--allow-destroy` allowed them), `3` destructive changes were blocked
//! ([`DestructiveChanges`]), `2` any error ([`PlanError`]: no terraform, failed init, plan or
//! show, unknown stack).
//!
//! # Example
//! ```
//! use callflow_plan::{PlanDocument, PlanSummary};
//!
//! let plan = PlanDocument::from_json(r#"{
//!   "format_version": "1.2",
//!   "resource_changes": [{
//!     "address": "aws_s3_bucket.events", "mode": "managed", "type": "aws_s3_bucket",
//!     "name": "events",
//!     "change": {"actions": ["delete"], "before": {"bucket": "events"}, "after": null,
//!                "after_unknown": {}, "before_sensitive": {}, "after_sensitive": false}
//!   }]
//! }"#)?;
//! let summary = PlanSummary::from_document(&plan);
//! assert_eq!(summary.counts.delete, 1);
//! assert!(summary.render_human(false).contains("will be DELETED"));
//! let blocked = summary.gate(false).unwrap_err();
//! assert_eq!(blocked.changes[0].address, "aws_s3_bucket.events");
//! assert!(summary.gate(true).is_ok());
//! # Ok::<(), callflow_plan::DocumentError>(())
//! ```
#![deny(missing_docs)]

pub mod diff;
pub mod document;
pub mod rename;
pub mod stateful;
pub mod summary;
pub mod terraform;

use std::path::Path;

pub use callflow_dsl::manifest::{Manifest, ManifestError, StackEntry, StackName};
pub use diff::{AttributeChange, AttributePath, PathStep, ShownValue, changed_attributes};
pub use document::{Action, Change, DocumentError, PlanDocument, ResourceChange, ResourceMode};
pub use rename::likely_renames;
pub use stateful::StatefulKind;
pub use summary::{
    ChangeCounts, DestructiveChange, DestructiveChanges, OutputLine, PlanSummary, ResourceLine,
};
pub use terraform::{
    BackendConfig, BinarySource, InitFailure, PlanOptions, TerraformCli, TerraformError,
    TerraformVar,
};

/// The process exit codes of `callflow plan`.
pub mod exit_code {
    /// The plan was made and has no destructive changes to stateful resources, or
    /// `--allow-destroy` allowed them.
    pub const OK: i32 = 0;
    /// Any error: terraform missing, `init` / `plan` / `show` failed, unknown stack, bad input.
    pub const ERROR: i32 = 2;
    /// The plan deletes or replaces stateful resources and `--allow-destroy` was not given.
    pub const DESTRUCTIVE_BLOCKED: i32 = 3;
}

/// Any failure on the way from `cdktf.out/` to a plan summary (exit code
/// [`exit_code::ERROR`]).
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The stack could not be found through the manifest.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// A terraform step failed.
    #[error(transparent)]
    Terraform(#[from] TerraformError),
}

impl PlanError {
    /// The process exit code for an error: [`exit_code::ERROR`].
    pub const EXIT_CODE: i32 = exit_code::ERROR;
}

/// Plans stack `stack` of the synth output `out_dir` (e.g. `cdktf.out`) with `terraform`, and
/// summarizes the plan. The plan file stays in the stack's working directory.
pub fn plan_stack(
    out_dir: &Path,
    stack: &str,
    terraform: &TerraformCli,
    options: &PlanOptions,
) -> Result<PlanSummary, PlanError> {
    let manifest = Manifest::load(out_dir)?;
    let dir = manifest.working_dir(stack)?;
    let plan = terraform.plan_document(&dir, options)?;
    Ok(PlanSummary::from_document(&plan))
}
