//! The `[[providers]]` tables of a project's `callflow.toml`: which providers and types the
//! project uses and where their bindings live. `callflow get` and the test that checks the
//! committed bindings both read them here, so both generate with the same options.
//!
//! ```toml
//! [[providers]]
//! name = "aws"                       # the provider's local name (prefix of its type names)
//! source = "hashicorp/aws"
//! version = "~> 6.25"                # the constraint `terraform init` resolves
//! schema_version = "6.25.0"          # the version the committed schema is of (header only)
//! crate_dir = "stack/providers/aws"  # bindings go to <crate_dir>/src, the trimmed schema to <crate_dir>/schema.json
//! services = ["api_gateway"]         # multi-word service names (module grouping)
//! resources = ["aws_s3_bucket*", "aws_kms_key"]
//! data_sources = ["aws_region"]
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::{Options, Selection};

/// The providers section of a project configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ProjectBindings {
    /// One entry per provider.
    #[serde(default)]
    pub providers: Vec<ProviderBinding>,
}

/// One `[[providers]]` table.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderBinding {
    /// Local name, e.g. `aws`.
    pub name: String,
    /// Registry source, e.g. `hashicorp/aws`.
    pub source: String,
    /// Version constraint for `required_providers`, e.g. `~> 6.25`.
    pub version: String,
    /// The exact version the committed schema is of, named in the generated header.
    #[serde(default)]
    pub schema_version: Option<String>,
    /// Directory of the bindings crate, relative to the configuration file.
    pub crate_dir: PathBuf,
    /// Multi-word service names.
    #[serde(default)]
    pub services: Vec<String>,
    /// Resource types (names or globs).
    #[serde(default)]
    pub resources: Vec<String>,
    /// Data sources (names or globs).
    #[serde(default)]
    pub data_sources: Vec<String>,
}

/// An unreadable providers section.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ProjectError {
    /// The configuration file.
    pub file: String,
    /// What is wrong (with the TOML location).
    pub message: String,
}

impl ProjectBindings {
    /// Reads the `[[providers]]` tables of a configuration file's text (other keys are ignored).
    pub fn from_toml(file: &str, text: &str) -> Result<Self, ProjectError> {
        let bindings: Self = toml::from_str(text).map_err(|e| ProjectError {
            file: file.into(),
            message: e.to_string().trim_end().to_string(),
        })?;
        if bindings.providers.is_empty() {
            return Err(ProjectError {
                file: file.into(),
                message: "no [[providers]] table: list the providers and types to generate".into(),
            });
        }
        Ok(bindings)
    }
}

impl ProviderBinding {
    /// The types to generate.
    pub fn selection(&self) -> Selection {
        Selection {
            resources: self.resources.clone(),
            data_sources: self.data_sources.clone(),
        }
    }

    /// The generator options `callflow get` uses for this provider.
    pub fn options(&self) -> Options {
        let mut options = Options::new(self.source.clone());
        options.type_prefix = Some(self.name.clone());
        options.services = self.services.clone();
        options.command = "callflow get".into();
        options.version_constraint = Some(self.version.clone());
        options.rustfmt = Some("rustfmt".into());
        options.version = Some(
            self.schema_version
                .clone()
                .unwrap_or_else(|| self.version.clone()),
        );
        options
    }

    /// Where the generated sources go (`<crate_dir>/src`), relative to `root`.
    pub fn src_dir(&self, root: &Path) -> PathBuf {
        root.join(&self.crate_dir).join("src")
    }

    /// Where the trimmed schema goes (`<crate_dir>/schema.json`), relative to `root`.
    pub fn schema_path(&self, root: &Path) -> PathBuf {
        root.join(&self.crate_dir).join("schema.json")
    }
}
