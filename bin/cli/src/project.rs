//! Loading the stack configuration and synthesizing the app in memory.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use callflow_stack::callflow::{AppConfig, callflow_app};
use callflow_stack::dsl::{Rendered, Synthesized};

/// `--config`: where the stack configuration lives.
#[derive(clap::Args, Debug, Clone)]
pub struct ConfigArgs {
    /// Stack configuration file (TOML; one environment, or several under [[stack]]).
    #[arg(long, default_value = "callflow.toml", env = "CALLFLOW_CONFIG")]
    pub config: PathBuf,
}

/// Reads the configuration and synthesizes every stack in memory.
pub fn synthesize(config: &Path) -> Result<Synthesized> {
    load(config)?.synth().map_err(synthesis_failed)
}

/// Reads the configuration and renders every stack's output files (parallel, low memory).
pub fn render(config: &Path) -> Result<Rendered> {
    callflow_stack::callflow::render_callflow_app(&load_config(config)?).map_err(synthesis_failed)
}

fn load(config: &Path) -> Result<callflow_stack::dsl::App> {
    Ok(callflow_app(&load_config(config)?))
}

fn load_config(config: &Path) -> Result<AppConfig> {
    let text = std::fs::read_to_string(config)
        .with_context(|| format!("reading the stack configuration {}", config.display()))?;
    AppConfig::from_toml(&text).with_context(|| format!("in {}", config.display()))
}

fn synthesis_failed(errors: Vec<callflow_stack::dsl::SynthError>) -> anyhow::Error {
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    anyhow::anyhow!("synthesis failed:\n{}", text.join("\n"))
}
