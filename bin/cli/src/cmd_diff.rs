//! `callflow diff`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use callflow_stack::dsl::{SynthDiff, Synthesized};

use crate::project::{ConfigArgs, synthesize};

/// Output format of `diff`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Summary and coloured unified JSON diffs.
    Human,
    /// `{"changed": bool, "changes": [...]}` for machines.
    Json,
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
    let diff = SynthDiff::between(&old, &new);
    let mut stdout = std::io::stdout().lock();
    let text = match args.format {
        Format::Json => diff.render_json(),
        Format::Human => {
            let color = match args.color.as_str() {
                "always" => true,
                "never" => false,
                _ => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            };
            diff.render_human(color)
        }
    };
    stdout.write_all(text.as_bytes())?;
    Ok(if args.exit_code && !diff.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
