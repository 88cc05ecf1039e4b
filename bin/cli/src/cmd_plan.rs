//! `callflow plan`: synth, then the real `terraform` (init, plan, show -json) on one stack — or
//! a plan made elsewhere (`--plan-file`) — and a summary for humans, CI or a pull request, with
//! gates on destructive changes to stateful resources and on security changes.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use callflow_plan::{
    BackendConfig, GatePolicy, PlanOptions, PlanSummary, RequireApproval, TerraformCli,
    TerraformVar, plan_stack, read_plan_file,
};

use callflow_stack::dsl::manifest::Manifest;

use crate::project::{ConfigArgs, synthesize};

/// Output format of `plan`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Counts, one line per resource with changed attributes, security changes, warnings.
    Human,
    /// The summary as JSON for CI.
    Json,
    /// Markdown for a pull request comment (under 65,000 characters).
    Markdown,
}

/// `--require-approval`: which security changes stop the plan (as `cdk deploy`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Approval {
    /// No security change stops the plan.
    Never,
    /// Changes that broaden access stop it (exit 4).
    Broadening,
    /// Every security change stops it: broadening exit 4, any other exit 5.
    AnyChange,
}

impl From<Approval> for RequireApproval {
    fn from(value: Approval) -> Self {
        match value {
            Approval::Never => Self::Never,
            Approval::Broadening => Self::Broadening,
            Approval::AnyChange => Self::AnyChange,
        }
    }
}

/// Arguments of `callflow plan`.
#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Synth output directory (synthesized again before planning).
    #[arg(long, default_value = "cdktf.out")]
    out: PathBuf,
    /// Stack to plan (a name from manifest.json); repeat it to plan several, which are planned
    /// in dependency order (a stack after the stacks whose outputs it reads).
    #[arg(long, default_value = "callflow")]
    stack: Vec<String>,
    /// Summarize this saved plan instead of synthesizing and planning: `terraform show -json`
    /// output, or a binary plan file (`terraform plan -out=FILE`), which is shown with
    /// `terraform show -json` in the current directory. No synth, no init.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["vars", "var_files", "backend_config"])]
    plan_file: Option<PathBuf>,
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
    /// Which security changes (IAM and resource policies, Lambda permissions, API
    /// authorization, public access blocks, encryption) stop the plan: never; broadening
    /// (exit 4); any-change (broadening exit 4, others exit 5).
    #[arg(long, value_enum, default_value_t = Approval::Broadening)]
    require_approval: Approval,
    /// Approve the security changes --require-approval would stop (after reviewing them).
    #[arg(long)]
    allow_broadening: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// Runs synth + terraform (or reads `--plan-file`), prints the summary, applies the gates:
/// exit 0 ok, 2 error, 3 destructive changes blocked, 4 broadening blocked, 5 other security
/// changes blocked (`any-change`).
pub fn run(args: &PlanArgs) -> Result<ExitCode> {
    let summaries: Vec<(String, PlanSummary)> = match &args.plan_file {
        Some(file) => {
            let plan = read_plan_file(file, || TerraformCli::locate(args.terraform.as_deref()))?;
            vec![(String::new(), PlanSummary::from_document(&plan))]
        }
        None => plan_synthesized(args)?,
    };
    let several = summaries.len() > 1;
    let mut stdout = std::io::stdout().lock();
    if several && args.format == Format::Json {
        // One document: the stacks in the order they were planned.
        let stacks: Vec<serde_json::Value> = summaries
            .iter()
            .map(|(stack, summary)| serde_json::json!({ "stack": stack, "plan": summary }))
            .collect();
        stdout.write_all(serde_json::to_string_pretty(&stacks)?.as_bytes())?;
    } else {
        for (stack, summary) in &summaries {
            match args.format {
                Format::Json => stdout.write_all(summary.render_json().as_bytes())?,
                Format::Markdown => {
                    if several {
                        writeln!(stdout, "## Stack `{stack}`\n")?;
                    }
                    stdout.write_all(summary.render_markdown().as_bytes())?;
                    stdout.write_all(b"\n")?;
                }
                Format::Human => {
                    if several {
                        writeln!(stdout, "Stack {stack}:")?;
                    }
                    let color =
                        std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
                    stdout.write_all(summary.render_human(color).as_bytes())?;
                }
            }
        }
    }
    stdout.flush()?;
    let policy = GatePolicy {
        allow_destroy: args.allow_destroy,
        require_approval: args.require_approval.into(),
        allow_broadening: args.allow_broadening,
    };
    // Every stack's gate; the lowest exit code of all blocked stacks wins, as within one.
    let mut code = None;
    for (stack, summary) in &summaries {
        if let Err(blocked) = summary.check(&policy) {
            for reason in &blocked.reasons {
                match several {
                    true => eprintln!("error: stack {stack}: {reason}"),
                    false => eprintln!("error: {reason}"),
                }
            }
            let this = u8::try_from(blocked.exit_code()).unwrap_or(2);
            code = Some(code.map_or(this, |c: u8| c.min(this)));
        }
    }
    Ok(code.map_or(ExitCode::SUCCESS, ExitCode::from))
}

/// Synthesizes, then plans each requested stack in dependency order (manifest.json).
fn plan_synthesized(args: &PlanArgs) -> Result<Vec<(String, PlanSummary)>> {
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
    let manifest = Manifest::load(&args.out)?;
    let names: Vec<&str> = args.stack.iter().map(String::as_str).collect();
    let mut summaries = Vec::new();
    for entry in manifest.order_stacks(&names)? {
        let name = entry.name.as_str();
        summaries.push((
            name.to_owned(),
            plan_stack(&args.out, name, &terraform, &options)?,
        ));
    }
    Ok(summaries)
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
