//! Loading the stack configuration and synthesizing the app in memory.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use callflow_stack::callflow::{AppConfig, callflow_app};
use callflow_stack::dsl::Synthesized;

/// `--config`: where the stack configuration lives.
#[derive(clap::Args, Debug, Clone)]
pub struct ConfigArgs {
    /// Stack configuration file (TOML; one environment, or several under [[stack]]).
    #[arg(long, default_value = "callflow.toml", env = "CALLFLOW_CONFIG")]
    pub config: PathBuf,
}

/// Reads the configuration and synthesizes every stack in memory.
pub fn synthesize(config: &Path) -> Result<Synthesized> {
    let text = std::fs::read_to_string(config)
        .with_context(|| format!("reading the stack configuration {}", config.display()))?;
    let app_config =
        AppConfig::from_toml(&text).with_context(|| format!("in {}", config.display()))?;
    let app = callflow_app(&app_config);
    app.synth().map_err(|errors| {
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("synthesis failed:\n{}", text.join("\n"))
    })
}
