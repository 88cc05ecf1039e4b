//! `callflow diff`: a fresh synth against a previous one, with the security changes between them.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use callflow_plan::{Blocked, GatePolicy, SynthReview};
use callflow_stack::dsl::{SynthDiff, Synthesized};

use crate::project::{ConfigArgs, synthesize};

/// Output format of `diff`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Summary and coloured unified JSON diffs.
    Human,
    /// `{"changed": bool, "changes": [...], "security": [...]}` for machines.
    Json,
    /// Markdown for a pull request comment: security changes first, elements, folded diffs.
    Markdown,
}

/// Arguments of `callflow diff`.
#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// The previous synth to compare with.
    #[arg(long, default_value = "cdktf.out")]
    against: PathBuf,
    /// Exit 1 when anything differs (for CI); 0 otherwise.
    #[arg(long)]
    exit_code: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Colour: auto (only on a terminal), always or never.
    #[arg(long, default_value = "auto", value_parser = ["auto", "always", "never"])]
    color: String,
    /// Which security changes make `diff` exit non-zero, as `callflow plan`: never (default);
    /// broadening (exit 4); any-change (broadening exit 4, others exit 5).
    #[arg(long, value_enum, default_value_t = crate::cmd_plan::Approval::Never)]
    require_approval: crate::cmd_plan::Approval,
    /// Approve the security changes --require-approval would stop.
    #[arg(long)]
    allow_broadening: bool,
}

/// Synthesizes in memory, compares, prints the report.
pub fn run(args: &DiffArgs) -> Result<ExitCode> {
    let new = synthesize(&args.config.config)?;
    let old = if args.against.join("manifest.json").exists() {
        Synthesized::read_from(&args.against)
            .with_context(|| format!("reading the previous synth in {}", args.against.display()))?
    } else {
        Synthesized::default()
    };
    let review = SynthReview::new(SynthDiff::between(&old, &new));
    let mut stdout = std::io::stdout().lock();
    let text = match args.format {
        Format::Json => review.render_json(),
        Format::Markdown => review.render_markdown(),
        Format::Human => {
            let color = match args.color.as_str() {
                "always" => true,
                "never" => false,
                _ => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            };
            review.render_security_human() + &review.diff.render_human(color)
        }
    };
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    let blocked = review.check(&GatePolicy {
        allow_destroy: true,
        require_approval: args.require_approval.into(),
        allow_broadening: args.allow_broadening,
    });
    for reason in &blocked {
        eprintln!("error: {reason}");
    }
    if let Some(code) = blocked.iter().map(Blocked::exit_code).min() {
        return Ok(ExitCode::from(u8::try_from(code).unwrap_or(2)));
    }
    Ok(if args.exit_code && !review.diff.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
