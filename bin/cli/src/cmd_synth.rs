//! `callflow synth`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::project::{ConfigArgs, render};

/// Arguments of `callflow synth`.
#[derive(clap::Args, Debug)]
pub struct SynthArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Output directory.
    #[arg(long, default_value = "cdktf.out")]
    out: PathBuf,
}

/// Synthesizes and writes the output; prints one summary line.
pub fn run(args: &SynthArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let rendered = render(&args.config.config)?;
    rendered
        .write_to(&args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    let elapsed = started.elapsed();
    writeln!(
        std::io::stdout(),
        "synthesized {} stack(s), {} resources to {} in {:.1} ms",
        rendered.stack_count(),
        rendered.resource_count(),
        args.out.display(),
        elapsed.as_secs_f64() * 1000.0
    )?;
    Ok(ExitCode::SUCCESS)
}
