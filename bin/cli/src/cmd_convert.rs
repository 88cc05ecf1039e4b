//! `callflow convert`: a Terraform configuration (HCL or JSON) or a synthesized `cdk.tf.json`
//! becomes a Rust Cargo package on the DSL and generated bindings (crate `callflow-convert`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use callflow_convert::{ConvertError, Options};

/// Arguments of `callflow convert`.
#[derive(clap::Args, Debug)]
pub struct ConvertArgs {
    /// A Terraform configuration directory (`*.tf` and `*.tf.json`, read together) or one
    /// synthesized stack file (`cdk.tf.json`, e.g. a cdktf project's output).
    source: PathBuf,
    /// The directory of the new Cargo package (created; files of the same names replaced).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// A provider schema document (`terraform providers schema -json`, the document
    /// `callflow get --schema` reads); repeat for several providers.
    #[arg(long, value_name = "FILE")]
    schema: Vec<PathBuf>,
    /// The `callflow-dsl` crate the package depends on by path (default: the one in the
    /// checkout this `callflow` was built from).
    #[arg(long, value_name = "DIR")]
    dsl_path: Option<PathBuf>,
    /// The stack's name (default: the file's `stackName`, else the directory's name).
    #[arg(long)]
    stack: Option<String>,
}

/// Converts and writes the package; prints a summary, then every gap.
///
/// Exit status: 0 converted, 1 converted with gaps (listed), 2 error.
pub fn run(args: &ConvertArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let mut options = Options::new(&args.source);
    options.schemas = args.schema.clone();
    options.stack_name = args.stack.clone();
    if let Some(dsl) = &args.dsl_path {
        options.dsl_path = std::path::absolute(dsl)
            .with_context(|| format!("resolving --dsl-path {}", dsl.display()))?;
    }
    if !options.dsl_path.join("Cargo.toml").is_file() {
        anyhow::bail!(
            "{} is not the callflow-dsl crate (no Cargo.toml); pass --dsl-path <checkout>/stack/dsl",
            options.dsl_path.display()
        );
    }
    let conversion = match callflow_convert::convert(&options) {
        Ok(c) => c,
        Err(e @ ConvertError::Io { .. }) => return Err(e.into()),
        Err(e) => anyhow::bail!("{e}"),
    };
    conversion
        .write_to(&args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    let elapsed = started.elapsed();
    let mut stdout = std::io::stdout().lock();
    let s = conversion.stats;
    writeln!(
        stdout,
        "converted stack `{}`: {} resources, {} data sources, {} variables/locals/outputs, bindings of {} types, src/main.rs {} lines, to {} in {:.0} ms",
        conversion.stack_name,
        s.resources,
        s.data_sources,
        s.values,
        s.binding_types,
        s.main_lines,
        args.out.display(),
        elapsed.as_secs_f64() * 1000.0
    )?;
    if !conversion.formatted {
        writeln!(
            stdout,
            "note: rustfmt was not found (set RUSTFMT): src/main.rs is written unformatted"
        )?;
    }
    writeln!(
        stdout,
        "build and synthesize: cargo run --manifest-path {}",
        args.out.join("Cargo.toml").display()
    )?;
    if conversion.gaps.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        stdout,
        "\n{} construct(s) without a typed form in the DSL yet:",
        conversion.gaps.len()
    )?;
    for gap in &conversion.gaps {
        writeln!(stdout, "  {gap}")?;
    }
    Ok(ExitCode::from(1))
}
