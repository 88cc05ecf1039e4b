//! `callflow get`: generates the typed provider bindings the project's `callflow.toml` selects
//! (`[[providers]]`), from `--schema FILE` or from `terraform providers schema -json`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use callflow_codegen::crate_manifest::{
    CrateManifest, DslDependency, enclosing_workspace, workspace_lists,
};
use callflow_codegen::project::{ProjectBindings, ProviderBinding};

use crate::project::ConfigArgs;

/// Arguments of `callflow get`.
#[derive(clap::Args, Debug)]
pub struct GetArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// A provider schema document (the output of `terraform providers schema -json`) to generate
    /// from instead of running terraform; it may hold the schemas of several providers.
    #[arg(long, value_name = "FILE")]
    schema: Option<PathBuf>,
    /// Compare instead of writing: exit 1 when the committed bindings differ from a fresh
    /// generation.
    #[arg(long)]
    check: bool,
}

/// Generates and writes every provider's bindings; prints one summary line.
pub fn run(args: &GetArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let config_path = &args.config.config;
    let text = std::fs::read_to_string(config_path)
        .with_context(|| format!("reading {}", config_path.display()))?;
    let project = ProjectBindings::from_toml(&config_path.display().to_string(), &text)?;
    let root = config_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));

    let mut totals = callflow_codegen::Stats::default();
    let mut stale = Vec::new();
    let mut notes = Vec::new();
    for provider in &project.providers {
        let (file, schema) = match &args.schema {
            Some(path) => (
                path.display().to_string(),
                std::fs::read_to_string(path)
                    .with_context(|| format!("reading the schema {}", path.display()))?,
            ),
            None => (
                format!("terraform providers schema -json ({})", provider.source),
                schema_from_terraform(provider)?,
            ),
        };
        let generated =
            callflow_codegen::generate(&file, &schema, &provider.selection(), &provider.options())?;
        let src = provider.src_dir(root);
        let schema_path = provider.schema_path(root);
        if args.check {
            if !is_current(&src, &generated.files)
                || std::fs::read_to_string(&schema_path).ok().as_deref()
                    != Some(generated.trimmed_schema.as_str())
            {
                stale.push(src.display().to_string());
            }
        } else {
            callflow_codegen::write_dir(&src, &generated.files)?;
            write_file(&schema_path, &generated.trimmed_schema)?;
            if let Some(note) = write_crate_manifest(root, provider)? {
                notes.push(note);
            }
        }
        let s = generated.stats;
        totals.resources += s.resources;
        totals.data_sources += s.data_sources;
        totals.modules += s.modules;
        totals.structs += s.structs;
        totals.lines += s.lines;
    }
    let dirs: Vec<String> = project
        .providers
        .iter()
        .map(|p| p.crate_dir.display().to_string())
        .collect();
    writeln!(
        std::io::stdout(),
        "{} {} provider(s), {} types ({} resources, {} data sources), {} modules, {} structs, {} lines in {:.0} ms: {}",
        if args.check { "checked" } else { "generated" },
        project.providers.len(),
        totals.resources + totals.data_sources,
        totals.resources,
        totals.data_sources,
        totals.modules,
        totals.structs,
        totals.lines,
        started.elapsed().as_secs_f64() * 1000.0,
        dirs.join(", ")
    )?;
    for note in &notes {
        writeln!(std::io::stdout(), "{note}")?;
    }
    if !stale.is_empty() {
        writeln!(
            std::io::stderr(),
            "stale bindings: {} (run `callflow get` and commit them)",
            stale.join(", ")
        )?;
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `<crate_dir>/Cargo.toml` when the crate has none, so a provider's first `callflow get`
/// leaves a crate that builds; returns what the user still has to do (add it to the workspace),
/// or `None` when the manifest existed or the workspace already lists the crate.
fn write_crate_manifest(root: &Path, provider: &ProviderBinding) -> Result<Option<String>> {
    let crate_dir = root.join(&provider.crate_dir);
    let manifest_path = crate_dir.join("Cargo.toml");
    if manifest_path.exists() {
        return Ok(None);
    }
    let workspace = enclosing_workspace(&crate_dir);
    let dsl = match &workspace {
        Some((_, true)) => DslDependency::Workspace,
        // The DSL of the checkout this binary was built from.
        _ => DslDependency::Path(
            std::path::absolute(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stack/dsl"))
                .context("locating callflow-dsl")?,
        ),
    };
    let manifest = CrateManifest {
        local_name: provider.name.clone(),
        source: provider.source.clone(),
        version: provider
            .schema_version
            .clone()
            .unwrap_or_else(|| provider.version.clone()),
        dsl,
    };
    let tmp = manifest_path.with_extension("toml.tmp");
    std::fs::write(&tmp, manifest.render())
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &manifest_path)
        .with_context(|| format!("writing {}", manifest_path.display()))?;
    let package = manifest.package_name();
    let Some((ws_root, _)) = workspace else {
        return Ok(Some(format!(
            "created the crate {package} in {} (its own package: `cargo build --manifest-path {}`)",
            crate_dir.display(),
            manifest_path.display()
        )));
    };
    let absolute = std::path::absolute(&crate_dir).context("locating the crate")?;
    let member = absolute
        .strip_prefix(&ws_root)
        .unwrap_or(&absolute)
        .display()
        .to_string();
    if workspace_lists(&ws_root, &member) {
        return Ok(Some(format!("created the crate {package} in {member}")));
    }
    Ok(Some(format!(
        "created the crate {package}; add it to the workspace: members = [..., \"{member}\"] in {}",
        ws_root.join("Cargo.toml").display()
    )))
}

fn is_current(dir: &Path, files: &std::collections::BTreeMap<String, String>) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    let count = entries.filter_map(Result::ok).count();
    count == files.len()
        && files.iter().all(|(name, text)| {
            std::fs::read_to_string(dir.join(name)).ok().as_deref() == Some(text)
        })
}

/// Writes a file through a temporary sibling and a rename.
fn write_file(path: &Path, contents: &str) -> Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, contents).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))
}

/// `terraform init` + `terraform providers schema -json` in a temporary directory whose only
/// content is the provider requirement.
fn schema_from_terraform(provider: &ProviderBinding) -> Result<String> {
    let terraform = std::env::var_os("TERRAFORM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("terraform"));
    let dir = tempfile::tempdir().context("creating a temporary directory for terraform")?;
    let main = serde_json::json!({
        "terraform": { "required_providers": { provider.name.clone(): {
            "source": provider.source, "version": provider.version,
        }}}
    });
    std::fs::write(dir.path().join("main.tf.json"), main.to_string())?;
    // An empty CLI configuration: the environment may point TF_CLI_CONFIG_FILE at a missing file.
    let cli_config = dir.path().join("terraformrc");
    std::fs::write(&cli_config, "")?;
    let run = |args: &[&str]| {
        Command::new(&terraform)
            .args(args)
            .current_dir(dir.path())
            .env("TF_CLI_CONFIG_FILE", &cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .output()
    };
    let how_to = format!(
        "Pass a saved schema instead: `callflow get --schema FILE`. To make FILE, run \
         `terraform init && terraform providers schema -json > FILE` in a directory whose \
         configuration requires {source} {version} (e.g. a main.tf with \
         `terraform {{ required_providers {{ {name} = {{ source = \"{source}\", version = \"{version}\" }} }} }}`), \
         on a machine that can reach the registry or a provider mirror \
         (`provider_installation` in the CLI configuration); then copy FILE here.",
        source = provider.source,
        version = provider.version,
        name = provider.name,
    );
    let init = match run(&["init", "-input=false", "-no-color", "-backend=false"]) {
        Ok(out) => out,
        Err(e) => bail!(
            "could not run `{}` to obtain the schema of {} ({e}). {how_to}",
            terraform.display(),
            provider.source
        ),
    };
    if !init.status.success() {
        let stderr = String::from_utf8_lossy(&init.stderr);
        let reason = stderr
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("Error:") || l.contains("could not"))
            .unwrap_or("terraform init failed")
            .trim_start_matches("Error: ");
        bail!(
            "could not obtain the schema of {} {}: `terraform init` could not install the provider \
             in a temporary directory ({reason}); it needs the provider's registry (or a \
             provider mirror), which this machine cannot reach. {how_to}",
            provider.source,
            provider.version
        );
    }
    let out =
        run(&["providers", "schema", "-json"]).context("running terraform providers schema")?;
    if !out.status.success() {
        bail!(
            "`terraform providers schema -json` failed: {}. {how_to}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8(out.stdout).context("terraform printed a schema that is not UTF-8")
}
