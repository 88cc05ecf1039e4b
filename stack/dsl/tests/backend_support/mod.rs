//! Shared by the backend and cross-stack tests: a minimal typed `terraform_data` (Terraform's
//! builtin provider, no download) and the real `terraform` CLI, run offline.
//!
//! Terraform is found through `$TERRAFORM`, else `/usr/local/bin/terraform`, else `PATH`.
//! Without it the tests print `SKIPPED` and pass, unless `CALLFLOW_REQUIRE_TERRAFORM=1`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use callflow_dsl::{Expression, FromExpression, Resource, Tf};
use serde::Serialize;

/// `terraform_data`: stores `input` and echoes it as `output` (replaced when it changes).
#[derive(Serialize)]
pub struct TerraformData {
    /// Any value; `output` becomes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<Tf<String>>,
}

impl TerraformData {
    /// A `terraform_data` whose input is `input`.
    pub fn new(input: impl Into<Tf<String>>) -> Self {
        Self {
            input: Some(input.into()),
        }
    }
}

/// The attributes of a declared `terraform_data`.
#[derive(Clone, Debug)]
pub struct TerraformDataRefs(Expression);

impl FromExpression for TerraformDataRefs {
    fn from_expression(e: Expression) -> Self {
        Self(e)
    }
}

impl TerraformDataRefs {
    /// `output`: the stored input.
    pub fn output(&self) -> Tf<String> {
        Tf::expr(self.0.attr("output"))
    }

    /// `id`: a random id of the instance.
    pub fn id(&self) -> Tf<String> {
        Tf::expr(self.0.attr("id"))
    }
}

impl Resource for TerraformData {
    const TYPE: &'static str = "terraform_data";
    type Refs = TerraformDataRefs;
}

/// The terraform binary with an empty CLI configuration, or `None` (test skipped).
pub struct Terraform {
    binary: PathBuf,
    config: PathBuf,
}

impl Terraform {
    /// Finds terraform; `scratch` holds its empty CLI configuration file.
    pub fn find(scratch: &Path) -> Option<Self> {
        let binary = std::env::var_os("TERRAFORM")
            .map(PathBuf::from)
            .or_else(|| Some(PathBuf::from("/usr/local/bin/terraform")).filter(|p| p.is_file()))
            .or_else(|| {
                std::env::var_os("PATH").and_then(|paths| {
                    std::env::split_paths(&paths)
                        .map(|p| p.join("terraform"))
                        .find(|p| p.is_file())
                })
            });
        let Some(binary) = binary else {
            assert!(
                std::env::var_os("CALLFLOW_REQUIRE_TERRAFORM").is_none(),
                "terraform is required (CALLFLOW_REQUIRE_TERRAFORM is set) but was not found"
            );
            eprintln!("SKIPPED: no terraform binary ($TERRAFORM, /usr/local/bin/terraform, PATH)");
            return None;
        };
        let config = scratch.join("empty.tfrc");
        std::fs::write(&config, "").expect("write empty CLI config");
        Some(Self { binary, config })
    }

    /// Runs `terraform <args>` in `dir`, offline-friendly (no IMDS probing, no input).
    pub fn run(&self, dir: &Path, args: &[&str]) -> Output {
        Command::new(&self.binary)
            .args(args)
            .current_dir(dir)
            .env("TF_CLI_CONFIG_FILE", &self.config)
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .expect("run terraform")
    }

    /// Runs terraform and fails the test, with its output, unless it succeeds.
    pub fn ok(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.run(dir, args);
        let text = text(&out);
        assert!(
            out.status.success(),
            "terraform {args:?} in {} failed:\n{text}",
            dir.display()
        );
        text
    }
}

/// Standard output and error of a run, as text.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
