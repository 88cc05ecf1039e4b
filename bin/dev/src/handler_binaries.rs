//! Where the handler executables of process mode come from: the host build of the handler
//! crates in the workspace's target directory, checked against their sources.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// A handler executable that cannot be used as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BinaryProblem {
    /// It does not exist.
    Missing(PathBuf),
    /// A source file is newer than it.
    Stale {
        /// The executable.
        binary: PathBuf,
        /// A newer source.
        source: PathBuf,
    },
}

impl std::fmt::Display for BinaryProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing(path) => write!(f, "{} is missing", path.display()),
            Self::Stale { binary, source } => {
                write!(f, "{} is older than {}", binary.display(), source.display())
            }
        }
    }
}

/// Building the handlers failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Cargo could not be run.
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Cargo failed.
    #[error("`{command}` failed ({status})")]
    Failed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: std::process::ExitStatus,
    },
    /// The executables are still not usable.
    #[error("handler binaries unusable after the build: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    StillUnusable(Vec<BinaryProblem>),
}

/// The directory holding the handler executables (`target/debug` or `target/release`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryDir(PathBuf);

impl BinaryDir {
    /// `dir` itself.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self(dir.into())
    }

    /// The directory of the running executable: `callflow` in `target/debug` finds the
    /// handlers built beside it; a test or example in `target/debug/{deps,examples}` finds
    /// them one level up.
    pub fn beside_current_exe() -> std::io::Result<Self> {
        let exe = std::env::current_exe()?;
        let dir = exe.parent().unwrap_or(Path::new(".")).to_owned();
        let dir = match dir.file_name().and_then(|n| n.to_str()) {
            Some("deps" | "examples") => dir.parent().unwrap_or(&dir).to_owned(),
            _ => dir,
        };
        Ok(Self(dir))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The executable of crate `name`.
    pub fn executable(&self, name: &str) -> PathBuf {
        self.0
            .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
    }

    /// `true` for a `release` profile directory.
    fn is_release(&self) -> bool {
        self.0.file_name().is_some_and(|n| n == "release")
    }

    /// The problems of `crates`' executables: missing, or older than a file under
    /// `workspace`'s `handlers/`, `openapi/` or its `Cargo.lock` (when `workspace` is given).
    pub fn check(&self, crates: &[&str], workspace: Option<&Path>) -> Vec<BinaryProblem> {
        let newest = workspace.and_then(newest_source);
        crates
            .iter()
            .filter_map(|name| {
                let binary = self.executable(name);
                let built = std::fs::metadata(&binary).and_then(|m| m.modified());
                match (built, &newest) {
                    (Err(_), _) => Some(BinaryProblem::Missing(binary)),
                    (Ok(built), Some((source, changed))) if *changed > built => {
                        Some(BinaryProblem::Stale {
                            binary,
                            source: source.clone(),
                        })
                    }
                    _ => None,
                }
            })
            .collect()
    }

    /// The command that builds `crates` into this directory.
    pub fn build_command(&self, crates: &[&str]) -> String {
        let mut command = String::from("cargo build");
        if self.is_release() {
            command.push_str(" --release");
        }
        for name in crates {
            command.push_str(" -p ");
            command.push_str(name);
        }
        if let Some(target) = self.0.parent() {
            command = format!("CARGO_TARGET_DIR={} {command}", target.display());
        }
        command
    }

    /// Runs `cargo build` for `crates` in `workspace` into this directory, cargo's progress
    /// on stderr, then checks that every executable exists.
    pub fn build(&self, crates: &[&str], workspace: &Path) -> Result<(), BuildError> {
        let display = self.build_command(crates);
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command.arg("build").current_dir(workspace);
        if self.is_release() {
            command.arg("--release");
        }
        for name in crates {
            command.args(["-p", name]);
        }
        if let Some(target) = self.0.parent() {
            command.env("CARGO_TARGET_DIR", target);
        }
        let status = command.status().map_err(|source| BuildError::Spawn {
            command: display.clone(),
            source,
        })?;
        if !status.success() {
            return Err(BuildError::Failed {
                command: display,
                status,
            });
        }
        let missing: Vec<BinaryProblem> = self
            .check(crates, None)
            .into_iter()
            .filter(|p| matches!(p, BinaryProblem::Missing(_)))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(BuildError::StillUnusable(missing))
        }
    }
}

/// The most recently modified source of the handlers (`handlers/`, `openapi/`,
/// `Cargo.lock`), skipping `target`, `tests`, `examples` and `benches` directories.
fn newest_source(workspace: &Path) -> Option<(PathBuf, SystemTime)> {
    let mut newest: Option<(PathBuf, SystemTime)> = None;
    let mut pending = vec![
        workspace.join("handlers"),
        workspace.join("openapi"),
        workspace.join("Cargo.lock"),
    ];
    while let Some(path) = pending.pop() {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            // Tests, examples and benches are not part of the executables.
            if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| matches!(n, "target" | "tests" | "examples" | "benches"))
            {
                continue;
            }
            if let Ok(entries) = std::fs::read_dir(&path) {
                pending.extend(entries.filter_map(Result::ok).map(|e| e.path()));
            }
        } else if let Ok(modified) = meta.modified()
            && newest.as_ref().is_none_or(|(_, t)| modified > *t)
        {
            newest = Some((path, modified));
        }
    }
    newest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_stale_binaries_are_reported_with_the_build_command() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target").join("release");
        std::fs::create_dir_all(&target).unwrap();
        let workspace = dir.path().join("ws");
        std::fs::create_dir_all(workspace.join("handlers")).unwrap();
        let binaries = BinaryDir::new(&target);
        std::fs::write(binaries.executable("a"), b"").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(workspace.join("handlers").join("lib.rs"), b"").unwrap();
        let problems = binaries.check(&["a", "b"], Some(&workspace));
        assert!(
            matches!(&problems[0], BinaryProblem::Stale { .. }),
            "{problems:?}"
        );
        assert!(
            matches!(&problems[1], BinaryProblem::Missing(_)),
            "{problems:?}"
        );
        assert!(binaries.check(&["a"], None).is_empty());
        let command = binaries.build_command(&["a", "b"]);
        assert!(
            command.ends_with("cargo build --release -p a -p b"),
            "{command}"
        );
    }
}
