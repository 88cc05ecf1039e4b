//! `callflow plan`: synth, then the real `terraform` (init, plan, show -json) on one stack, and a
//! summary for humans or CI with a gate on destructive changes to stateful resources.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use callflow_plan::{
    BackendConfig, PlanOptions, TerraformCli, TerraformVar, exit_code, plan_stack,
};

use crate::project::{ConfigArgs, synthesize};

/// Output format of `plan`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Counts, one line per resource with changed attributes, warnings.
    Human,
    /// The summary as JSON for CI.
    Json,
}

/// Arguments of `callflow plan`.
#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Synth output directory (synthesized again before planning).
    #[arg(long, default_value = "cdktf.out")]
    out: PathBuf,
    /// Stack to plan (a name from manifest.json).
    #[arg(long, default_value = "callflow")]
    stack: String,
    /// Terraform binary (default: $TERRAFORM, then PATH).
    #[arg(long)]
    terraform: Option<PathBuf>,
    /// `-var NAME=VALUE`, passed to terraform plan (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// `-var-file FILE`, passed to terraform plan (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    var_files: Vec<PathBuf>,
    /// `-backend-config KEY=VALUE|FILE`, passed to terraform init (repeatable).
    #[arg(long = "backend-config", value_name = "KEY=VALUE|FILE")]
    backend_config: Vec<String>,
    /// Accept deletes and replacements of stateful resources (bucket, key, log groups, DNS).
    #[arg(long)]
    allow_destroy: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// Runs synth + terraform; exit 0 plan ok, 3 destructive changes blocked, 2 error.
pub fn run(args: &PlanArgs) -> Result<ExitCode> {
    let synthesized = synthesize(&args.config.config)?;
    synthesized
        .write_to(&args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    warn_missing_artifacts();
    let terraform = TerraformCli::locate(args.terraform.as_deref())?;
    let options = PlanOptions {
        vars: args
            .vars
            .iter()
            .map(|v| v.parse::<TerraformVar>())
            .collect::<Result<_, _>>()?,
        var_files: args.var_files.clone(),
        backend_config: args
            .backend_config
            .iter()
            .map(|b| {
                b.parse::<BackendConfig>()
                    .unwrap_or_else(|never| match never {})
            })
            .collect(),
        plan_file: None,
    };
    let summary = plan_stack(&args.out, &args.stack, &terraform, &options)?;
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Json => stdout.write_all(summary.render_json().as_bytes())?,
        Format::Human => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            stdout.write_all(summary.render_human(color).as_bytes())?;
        }
    }
    match summary.gate(args.allow_destroy) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(blocked) => {
            eprintln!("error: {blocked}");
            Ok(ExitCode::from(exit_code::DESTRUCTIVE_BLOCKED as u8))
        }
    }
}

/// The stack hashes the handler zips at plan time; say how to build them when they are absent.
fn warn_missing_artifacts() {
    let missing: Vec<&str> = [
        "callflow-authorizer",
        "callflow-event-storer",
        "callflow-event-retriever",
    ]
    .into_iter()
    .filter(|b| !PathBuf::from(format!("target/lambda/{b}/bootstrap.zip")).exists())
    .collect();
    if !missing.is_empty() {
        eprintln!(
            "warning: handler zips missing ({}): terraform's filebase64sha256 will fail. Build them with\n  \
             cargo lambda build --release --arm64 --output-format zip -p callflow-authorizer -p callflow-event-storer -p callflow-event-retriever",
            missing.join(", ")
        );
    }
}
