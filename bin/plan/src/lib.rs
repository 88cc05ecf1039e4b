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
//! 4. find what it grants or revokes ([`security`]): IAM and resource policies, Lambda
//!    permissions, API authorization, public access blocks and encryption, each change
//!    classified broadening or not ([`SecurityChange`]);
//! 5. render it for a terminal, CI (JSON) or a pull request comment (Markdown,
//!    [`PlanSummary::render_markdown`]), drift (`resource_drift`) in its own section;
//! 6. gate on it ([`PlanSummary::check`] with a [`GatePolicy`]).
//!
//! `callflow plan --plan-file FILE` skips steps 1-2 and reads a plan made elsewhere
//! ([`read_plan_file`]: `terraform show -json` output, or a binary plan file shown with the
//! terraform CLI). `callflow diff` uses the same security analysis on two synths
//! ([`security::analyze_synth_diff`], [`SynthReview`]).
//!
//! # Exit codes
//! The CLI maps outcomes to the codes in [`exit_code`]:
//!
//! | Code | Meaning |
//! |---|---|
//! | 0 | nothing blocked |
//! | 2 | any error ([`PlanError`]: no terraform, failed init, plan or show, unknown stack, unreadable plan file) |
//! | 3 | destructive changes to stateful resources without `--allow-destroy` ([`DestructiveChanges`]) |
//! | 4 | security broadening under `--require-approval broadening` (default) or `any-change`, without `--allow-broadening` |
//! | 5 | other security changes under `--require-approval any-change`, without `--allow-broadening` |
//!
//! Several blocked gates exit with the lowest code; every reason is printed.
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
pub mod gate;
pub mod markdown;
pub mod plan_file;
pub mod rename;
pub mod security;
pub mod stateful;
pub mod summary;
pub mod synth_review;
pub mod terraform;

use std::path::Path;

pub use callflow_dsl::manifest::{Manifest, ManifestError, StackEntry, StackName};
pub use diff::{AttributeChange, AttributePath, PathStep, ShownValue, changed_attributes};
pub use document::{Action, Change, DocumentError, PlanDocument, ResourceChange, ResourceMode};
pub use gate::{Blocked, GateFailure, GatePolicy, RequireApproval};
pub use plan_file::{PlanFileError, read_plan_file};
pub use rename::likely_renames;
pub use security::{ChangeSign, Direction, SecurityAspect, SecurityChange, StatementView};
pub use stateful::StatefulKind;
pub use summary::{
    ChangeCounts, DestructiveChange, DestructiveChanges, OutputLine, PlanSummary, ResourceLine,
};
pub use synth_review::SynthReview;
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
    /// The plan broadens access (IAM, resource policies, Lambda permissions, API
    /// authorization, public access, encryption) under `--require-approval broadening` (the
    /// default) or `any-change`, and `--allow-broadening` was not given.
    pub const SECURITY_BROADENING_BLOCKED: i32 = 4;
    /// The plan makes security changes that do not broaden access, under
    /// `--require-approval any-change`, and `--allow-broadening` was not given.
    pub const SECURITY_CHANGE_BLOCKED: i32 = 5;
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
    /// A saved plan could not be read.
    #[error(transparent)]
    PlanFile(#[from] PlanFileError),
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
