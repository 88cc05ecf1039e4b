//! Running the real `terraform` CLI: `init`, `plan -out`, `show -json`.
//!
//! Every command runs with `-no-color` and `-input=false` where it applies, with stdin closed
//! and stdout/stderr captured. The child inherits this process's environment, so `TF_*`
//! variables (`TF_CLI_CONFIG_FILE`, `TF_PLUGIN_CACHE_DIR`, `TF_VAR_*`, `TF_LOG`, ...) and AWS
//! credentials reach terraform unchanged; [`TerraformCli::env`] adds or overrides variables.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::str::FromStr;

use crate::document::{DocumentError, PlanDocument};

/// The environment variable naming the terraform binary when `--terraform` is not given.
pub const TERRAFORM_ENV: &str = "TERRAFORM";

/// The plan file written in the stack's working directory by [`TerraformCli::plan`].
pub const DEFAULT_PLAN_FILE: &str = "callflow.tfplan";

/// A handle on one terraform binary, plus environment additions for its runs.
#[derive(Debug, Clone)]
pub struct TerraformCli {
    binary: PathBuf,
    source: BinarySource,
    env: Vec<(OsString, OsString)>,
}

/// Where the terraform binary path came from (quoted in [`TerraformError::NotInstalled`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinarySource {
    /// Given explicitly (the CLI's `--terraform` flag).
    Explicit,
    /// The `TERRAFORM` environment variable.
    EnvVar,
    /// Found as `terraform` on `PATH`.
    Path,
}

impl fmt::Display for BinarySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Explicit => "given with --terraform",
            Self::EnvVar => "from the TERRAFORM environment variable",
            Self::Path => "found on PATH",
        })
    }
}

/// A `-var name=value` for `terraform plan`, parsed from `name=value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerraformVar {
    /// The variable name.
    pub name: String,
    /// The value, as Terraform parses it (strings as-is, HCL for complex types).
    pub value: String,
}

impl FromStr for TerraformVar {
    type Err = TerraformError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => Ok(Self {
                name: name.trim().to_owned(),
                value: value.to_owned(),
            }),
            _ => Err(TerraformError::InvalidVar {
                text: text.to_owned(),
            }),
        }
    }
}

/// A `-backend-config` value for `terraform init`: a file, or one `key=value` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendConfig {
    /// A backend configuration file.
    File(PathBuf),
    /// One backend setting.
    Setting {
        /// The backend argument name.
        key: String,
        /// Its value.
        value: String,
    },
}

impl FromStr for BackendConfig {
    type Err = std::convert::Infallible;

    /// Like terraform itself: `key=value` is a setting, anything else a file path.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match text.split_once('=') {
            Some((key, value)) if !key.is_empty() => Self::Setting {
                key: key.to_owned(),
                value: value.to_owned(),
            },
            _ => Self::File(PathBuf::from(text)),
        })
    }
}

impl BackendConfig {
    fn to_arg(&self) -> OsString {
        let mut arg = OsString::from("-backend-config=");
        match self {
            Self::File(path) => arg.push(path),
            Self::Setting { key, value } => arg.push(format!("{key}={value}")),
        }
        arg
    }
}

/// What the user passes through to terraform.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// `-var` values for `plan`, in order.
    pub vars: Vec<TerraformVar>,
    /// `-var-file` paths for `plan`, in order (relative paths are relative to the stack dir).
    pub var_files: Vec<PathBuf>,
    /// `-backend-config` values for `init`, in order.
    pub backend_config: Vec<BackendConfig>,
    /// The plan file name, relative to the stack dir; [`DEFAULT_PLAN_FILE`] when `None`.
    pub plan_file: Option<PathBuf>,
}

impl PlanOptions {
    /// The plan file path relative to the stack dir.
    pub fn plan_file(&self) -> &Path {
        self.plan_file
            .as_deref()
            .unwrap_or(Path::new(DEFAULT_PLAN_FILE))
    }
}

/// Why a terraform step failed. Each message is one paragraph ending in what to do.
#[derive(Debug, thiserror::Error)]
pub enum TerraformError {
    /// No terraform binary at the path tried.
    #[error(
        "terraform is not installed: {detail}. Install Terraform 1.x (https://developer.hashicorp.com/terraform/install) or point --terraform or the TERRAFORM environment variable at the binary"
    )]
    NotInstalled {
        /// What was tried, e.g. `/opt/tf/terraform (given with --terraform) does not exist`.
        detail: String,
    },
    /// The binary exists but could not be started.
    #[error(
        "could not run {binary}: {source}. Check that it is an executable terraform binary for this machine"
    )]
    Spawn {
        /// The binary.
        binary: PathBuf,
        /// The operating system error.
        source: std::io::Error,
    },
    /// `terraform init` failed.
    #[error("terraform init failed in {dir}: {failure}")]
    InitFailed {
        /// The stack working directory.
        dir: PathBuf,
        /// What went wrong, recognised from stderr.
        failure: InitFailure,
    },
    /// `terraform plan` failed.
    #[error(
        "terraform plan failed in {dir}: {summary}. Check the -var/-var-file values, the AWS credentials in the environment and the synthesized configuration, then retry"
    )]
    PlanFailed {
        /// The stack working directory.
        dir: PathBuf,
        /// The error lines terraform printed, joined.
        summary: String,
    },
    /// `terraform show -json` failed.
    #[error(
        "terraform show -json failed for {plan_file}: {summary}. Re-run the plan with the same terraform version and retry"
    )]
    ShowFailed {
        /// The plan file.
        plan_file: PathBuf,
        /// The error lines terraform printed, joined.
        summary: String,
    },
    /// `terraform show -json` printed something that is not a readable plan document.
    #[error(
        "terraform show -json for {plan_file} printed an unreadable plan: {source}. Use Terraform 1.x"
    )]
    InvalidPlan {
        /// The plan file.
        plan_file: PathBuf,
        /// The parse error.
        source: DocumentError,
    },
    /// A `-var` value without `name=`.
    #[error("invalid -var {text:?}: write it as name=value")]
    InvalidVar {
        /// The rejected text.
        text: String,
    },
}

/// What made `terraform init` fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitFailure {
    /// The provider registry could not be reached (an offline machine).
    ProviderDownload {
        /// The provider that could not be downloaded, e.g. `hashicorp/aws`.
        provider: String,
    },
    /// Anything else (backend configuration, syntax, a version constraint no release meets).
    Other {
        /// The error lines terraform printed, joined.
        summary: String,
    },
}

impl fmt::Display for InitFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ProviderDownload { provider } => write!(
                f,
                "terraform could not download the {provider} provider: no network access to the registry; pre-install it with a provider mirror / plugin cache (TF_PLUGIN_CACHE_DIR or provider_installation in a CLI config) and retry"
            ),
            Self::Other { summary } => write!(
                f,
                "{summary}. Fix the configuration or the -backend-config values and retry; `terraform init` in that directory shows the full output"
            ),
        }
    }
}

impl TerraformCli {
    /// Finds the binary: `explicit` (the `--terraform` flag) if given, else `$TERRAFORM`, else
    /// `terraform` on `PATH`. A bare name (`terraform1.11`) in the flag or the variable is
    /// looked up on `PATH` too. Fails with [`TerraformError::NotInstalled`] saying what was
    /// tried.
    pub fn locate(explicit: Option<&Path>) -> Result<Self, TerraformError> {
        if let Some(path) = explicit {
            return Self::existing(path, BinarySource::Explicit);
        }
        if let Some(path) = std::env::var_os(TERRAFORM_ENV).filter(|p| !p.is_empty()) {
            return Self::existing(Path::new(&path), BinarySource::EnvVar);
        }
        find_on_path(OsStr::new("terraform"))
            .map(|binary| Self::at(binary, BinarySource::Path))
            .ok_or_else(|| TerraformError::NotInstalled {
                detail: "no `terraform` executable on PATH".to_owned(),
            })
    }

    /// A handle on `binary` without checking it; a missing binary surfaces as
    /// [`TerraformError::NotInstalled`] on the first run.
    pub fn at(binary: impl Into<PathBuf>, source: BinarySource) -> Self {
        Self {
            binary: binary.into(),
            source,
            env: Vec::new(),
        }
    }

    fn existing(binary: &Path, source: BinarySource) -> Result<Self, TerraformError> {
        let bare_name = binary.components().count() == 1 && binary.parent() == Some(Path::new(""));
        if bare_name {
            return find_on_path(binary.as_os_str())
                .map(|found| Self::at(found, source))
                .ok_or_else(|| TerraformError::NotInstalled {
                    detail: format!("no `{}` ({source}) on PATH", binary.display()),
                });
        }
        if binary.is_file() {
            Ok(Self::at(binary, source))
        } else {
            Err(TerraformError::NotInstalled {
                detail: format!("{} ({source}) does not exist", binary.display()),
            })
        }
    }

    /// Sets an environment variable for every terraform run (on top of the inherited ones).
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// The binary this handle runs.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// `terraform version -json` → the version string, e.g. `1.11.4`.
    pub fn version(&self) -> Result<String, TerraformError> {
        let output = self.run(Path::new("."), ["version", "-json"])?;
        let parsed: Option<String> = serde_json::from_slice::<serde_json::Value>(&output.stdout)
            .ok()
            .and_then(|v| v.get("terraform_version")?.as_str().map(str::to_owned));
        parsed.ok_or_else(|| TerraformError::NotInstalled {
            detail: format!(
                "{} ({}) did not report a terraform version",
                self.binary.display(),
                self.source
            ),
        })
    }

    /// `terraform init -input=false -no-color [-backend-config=...]` in `dir`.
    pub fn init(&self, dir: &Path, options: &PlanOptions) -> Result<(), TerraformError> {
        let mut args: Vec<OsString> =
            vec!["init".into(), "-input=false".into(), "-no-color".into()];
        args.extend(options.backend_config.iter().map(BackendConfig::to_arg));
        let output = self.run(dir, &args)?;
        if output.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(TerraformError::InitFailed {
            dir: dir.to_path_buf(),
            failure: classify_init_failure(&stderr),
        })
    }

    /// `terraform plan -input=false -no-color -out=<plan file> [-var ...] [-var-file ...]` in
    /// `dir`; returns the plan file path (inside `dir`).
    pub fn plan(&self, dir: &Path, options: &PlanOptions) -> Result<PathBuf, TerraformError> {
        let mut out_arg = OsString::from("-out=");
        out_arg.push(options.plan_file());
        let mut args: Vec<OsString> = vec![
            "plan".into(),
            "-input=false".into(),
            "-no-color".into(),
            out_arg,
        ];
        for var in &options.vars {
            args.push("-var".into());
            args.push(format!("{}={}", var.name, var.value).into());
        }
        for file in &options.var_files {
            let mut arg = OsString::from("-var-file=");
            arg.push(file);
            args.push(arg);
        }
        let output = self.run(dir, &args)?;
        if !output.status.success() {
            return Err(TerraformError::PlanFailed {
                dir: dir.to_path_buf(),
                summary: summarize_stderr(&String::from_utf8_lossy(&output.stderr)),
            });
        }
        Ok(dir.join(options.plan_file()))
    }

    /// `terraform show -json -no-color <plan file>` in `dir`, parsed.
    pub fn show_json(&self, dir: &Path, plan_file: &Path) -> Result<PlanDocument, TerraformError> {
        let args: [&OsStr; 4] = [
            "show".as_ref(),
            "-json".as_ref(),
            "-no-color".as_ref(),
            plan_file.as_os_str(),
        ];
        let output = self.run(dir, args)?;
        if !output.status.success() {
            return Err(TerraformError::ShowFailed {
                plan_file: plan_file.to_path_buf(),
                summary: summarize_stderr(&String::from_utf8_lossy(&output.stderr)),
            });
        }
        let text = String::from_utf8_lossy(&output.stdout);
        PlanDocument::from_json(&text).map_err(|source| TerraformError::InvalidPlan {
            plan_file: plan_file.to_path_buf(),
            source,
        })
    }

    /// `init`, `plan -out`, `show -json` in `dir`, in that order; the plan document.
    pub fn plan_document(
        &self,
        dir: &Path,
        options: &PlanOptions,
    ) -> Result<PlanDocument, TerraformError> {
        self.init(dir, options)?;
        let plan_file = self.plan(dir, options)?;
        self.show_json(dir, &plan_file)
    }

    fn run<I, S>(&self, dir: &Path, args: I) -> Result<Output, TerraformError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command.output().map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound && !self.binary.exists() {
                TerraformError::NotInstalled {
                    detail: format!("{} ({}) does not exist", self.binary.display(), self.source),
                }
            } else {
                TerraformError::Spawn {
                    binary: self.binary.clone(),
                    source,
                }
            }
        })
    }
}

fn find_on_path(name: &OsStr) -> Option<PathBuf> {
    let path_var = std::env::var_os("PATH")?;
    std::env::split_paths(&path_var)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable_file(candidate))
}

fn is_executable_file(path: &Path) -> bool {
    let Ok(metadata) = path.metadata() else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        metadata.is_file() && metadata.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        metadata.is_file()
    }
}

/// Phrases terraform's stderr contains when the registry cannot be reached.
const NETWORK_MARKERS: &[&str] = &[
    "could not connect to registry",
    "failed to request discovery document",
    "no such host",
    "dial tcp",
    "i/o timeout",
    "connection refused",
    "network is unreachable",
    "TLS handshake timeout",
];

/// Phrases of terraform's provider installation errors.
const PROVIDER_INSTALL_MARKERS: &[&str] = &[
    "Failed to query available provider packages",
    "Failed to install provider",
    "Failed to resolve provider packages",
];

/// Tells the offline provider download failure apart from other init failures.
pub fn classify_init_failure(stderr: &str) -> InitFailure {
    let text = unbox(stderr);
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let provider_error = PROVIDER_INSTALL_MARKERS.iter().any(|m| flat.contains(m));
    let network = NETWORK_MARKERS.iter().any(|m| flat.contains(m));
    if provider_error && network {
        let provider = flat
            .split_once("for provider ")
            .or_else(|| flat.split_once("provider "))
            .and_then(|(_, rest)| rest.split([':', ' ', ',']).next())
            .filter(|p| p.contains('/'))
            .unwrap_or("hashicorp/aws")
            .to_owned();
        return InitFailure::ProviderDownload { provider };
    }
    InitFailure::Other {
        summary: summarize_stderr(stderr),
    }
}

/// Longest summary kept from terraform's stderr.
const MAX_SUMMARY_CHARS: usize = 600;

/// The `Error:` diagnostics of terraform's stderr, each as `title: first paragraph`, joined
/// with `; ` on one line; the last lines when there is no `Error:` (warnings are dropped).
pub fn summarize_stderr(stderr: &str) -> String {
    let text = unbox(stderr);
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut errors = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if let Some(title) = lines[i].strip_prefix("Error: ") {
            let mut body = Vec::new();
            let mut j = i + 1;
            while j < lines.len() && lines[j].is_empty() {
                j += 1;
            }
            // The source snippet (`on main.tf line 3:`) is skipped up to the blank line after it.
            if j < lines.len() && lines[j].starts_with("on ") {
                while j < lines.len() && !lines[j].is_empty() {
                    j += 1;
                }
                while j < lines.len() && lines[j].is_empty() {
                    j += 1;
                }
            }
            while j < lines.len() && !lines[j].is_empty() && !lines[j].starts_with("Error: ") {
                body.push(lines[j]);
                j += 1;
            }
            let title = title.trim_end_matches('.');
            errors.push(if body.is_empty() {
                title.to_owned()
            } else {
                format!("{title}: {}", body.join(" ").trim_end_matches('.'))
            });
            i = j;
        } else {
            i += 1;
        }
    }
    let summary = if errors.is_empty() {
        let tail: Vec<&str> = lines
            .iter()
            .rev()
            .filter(|l| !l.is_empty())
            .take(3)
            .copied()
            .collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        if tail.is_empty() {
            "terraform exited with an error and printed nothing".to_owned()
        } else {
            tail.join(" ")
        }
    } else {
        errors.join("; ")
    };
    if summary.chars().count() > MAX_SUMMARY_CHARS {
        let kept: String = summary.chars().take(MAX_SUMMARY_CHARS - 1).collect();
        format!("{kept}…")
    } else {
        summary
    }
}

/// Removes the box-drawing frame terraform draws around diagnostics (`╷`, `│ `, `╵`).
fn unbox(stderr: &str) -> String {
    stderr
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with('╷') || trimmed.starts_with('╵') {
                ""
            } else {
                trimmed.strip_prefix('│').unwrap_or(line)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from `terraform init` 1.11.4 on a machine without network access.
    const OFFLINE_INIT_STDERR: &str = "
Error: Failed to query available provider packages

Could not retrieve the list of available versions for provider hashicorp/aws:
could not connect to registry.terraform.io: failed to request discovery
document: Get \"https://registry.terraform.io/.well-known/terraform.json\":
dial tcp: lookup registry.terraform.io on 10.255.255.53:53: no such host

To see which modules are currently depending on hashicorp/aws and what
versions are specified, run the following command:
    terraform providers
";

    #[test]
    fn recognises_the_offline_registry_failure() {
        assert_eq!(
            classify_init_failure(OFFLINE_INIT_STDERR),
            InitFailure::ProviderDownload {
                provider: "hashicorp/aws".to_owned()
            }
        );
    }

    #[test]
    fn summary_keeps_errors_and_drops_warnings_and_boxes() {
        let stderr = "╷
│ Warning: Unable to open CLI configuration file
│
│ The CLI configuration file at \"/nope\" does not exist.
╵
╷
│ Error: Unsupported argument
│
│   on cdk.tf.json line 3, in resource.aws_s3_bucket.b:
│    3:   \"bucket_nmae\": \"x\"
│
│ An argument named \"bucket_nmae\" is not expected here.
╵
";
        assert_eq!(
            summarize_stderr(stderr),
            "Unsupported argument: An argument named \"bucket_nmae\" is not expected here"
        );
    }

    #[test]
    fn a_bare_binary_name_is_looked_up_on_path() {
        let error = TerraformCli::locate(Some(Path::new("no-such-terraform-1.0")))
            .expect_err("not on PATH");
        assert_eq!(
            error.to_string(),
            "terraform is not installed: no `no-such-terraform-1.0` (given with --terraform) on PATH. Install Terraform 1.x (https://developer.hashicorp.com/terraform/install) or point --terraform or the TERRAFORM environment variable at the binary"
        );
    }

    #[test]
    fn vars_and_backend_config_parse_at_the_boundary() {
        let var: TerraformVar = "region=eu-west-1".parse().expect("valid var");
        assert_eq!(
            (var.name.as_str(), var.value.as_str()),
            ("region", "eu-west-1")
        );
        let var: TerraformVar = "tags={a=\"b\"}".parse().expect("value may hold '='");
        assert_eq!(var.value, "{a=\"b\"}");
        assert!("novalue".parse::<TerraformVar>().is_err());
        assert!("=x".parse::<TerraformVar>().is_err());
        assert_eq!(
            "backend.hcl".parse::<BackendConfig>(),
            Ok(BackendConfig::File("backend.hcl".into()))
        );
        assert_eq!(
            "bucket=state".parse::<BackendConfig>(),
            Ok(BackendConfig::Setting {
                key: "bucket".into(),
                value: "state".into()
            })
        );
    }
}
