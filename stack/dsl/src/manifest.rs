//! Reading `cdktf.out/manifest.json`: the one reader of the manifest (synth's `diff` and
//! `callflow plan` both use it), which refuses stack paths that leave the output directory.
//!
//! The manifest is the cdktf-compatible index `callflow synth` writes:
//!
//! ```json
//! {"version": "0.20.0",
//!  "stacks": {"callflow": {"name": "callflow",
//!                          "workingDirectory": "stacks/callflow",
//!                          "synthesizedStackPath": "stacks/callflow/cdk.tf.json",
//!                          "dependencies": []}}}
//! ```
//!
//! `dependencies` lists the stacks whose values a stack reads (cross-stack references, as
//! cdktf writes them); [`Manifest::stacks_in_dependency_order`] is the order to apply them in.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;

/// The file name of the manifest inside the synth output directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The name of a synthesized stack (a key of the manifest's `stacks` object).
///
/// Parsed at the boundary: 1..=128 characters of `[A-Za-z0-9._-]`, not `.` or `..`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StackName(String);

impl StackName {
    /// The name as written in the manifest.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StackName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for StackName {
    type Err = ManifestError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let valid_chars = name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if name.is_empty() || name.len() > 128 || !valid_chars || name == "." || name == ".." {
            return Err(ManifestError::InvalidStackName {
                name: name.to_owned(),
            });
        }
        Ok(Self(name.to_owned()))
    }
}

/// One stack entry of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackEntry {
    /// The stack's name.
    pub name: StackName,
    /// Where terraform runs for this stack, relative to the synth output directory
    /// (`stacks/<name>`).
    pub working_directory: PathBuf,
    /// The Terraform JSON file, relative to the synth output directory
    /// (`stacks/<name>/cdk.tf.json`).
    pub synthesized_stack_path: PathBuf,
    /// The stacks this one reads values of, which are applied before it.
    pub dependencies: Vec<StackName>,
}

/// The parsed `manifest.json` of one synth output directory.
#[derive(Debug, Clone)]
pub struct Manifest {
    out_dir: PathBuf,
    version: String,
    stacks: BTreeMap<StackName, StackEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    version: String,
    stacks: BTreeMap<String, RawStack>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawStack {
    name: String,
    working_directory: PathBuf,
    synthesized_stack_path: PathBuf,
    #[serde(default)]
    dependencies: Vec<String>,
}

impl Manifest {
    /// Reads `<out_dir>/manifest.json` (for example `cdktf.out/manifest.json`).
    ///
    /// Fails when the file is missing (with a hint to run `callflow synth`), is not the
    /// manifest format, names a stack invalidly, or points a stack outside `out_dir`.
    pub fn load(out_dir: impl AsRef<Path>) -> Result<Self, ManifestError> {
        let out_dir = out_dir.as_ref().to_path_buf();
        let path = out_dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| ManifestError::Read {
            path: path.clone(),
            source,
        })?;
        Self::parse(out_dir, &text).map_err(|error| match error {
            ManifestError::Parse { source, .. } => ManifestError::Parse { path, source },
            other => other,
        })
    }

    /// Parses manifest text as if it had been read from `<out_dir>/manifest.json`.
    pub fn parse(out_dir: impl Into<PathBuf>, text: &str) -> Result<Self, ManifestError> {
        let out_dir = out_dir.into();
        let raw: RawManifest =
            serde_json::from_str(text).map_err(|source| ManifestError::Parse {
                path: out_dir.join(MANIFEST_FILE),
                source,
            })?;
        let mut stacks = BTreeMap::new();
        for (key, stack) in raw.stacks {
            let name: StackName = key.parse()?;
            if stack.name != key {
                return Err(ManifestError::InconsistentStack {
                    key,
                    name: stack.name,
                });
            }
            for path in [&stack.working_directory, &stack.synthesized_stack_path] {
                if !is_relative_inside(path) {
                    return Err(ManifestError::PathOutsideOutput {
                        stack: name,
                        path: path.clone(),
                    });
                }
            }
            let dependencies = stack
                .dependencies
                .iter()
                .map(|d| d.parse())
                .collect::<Result<Vec<StackName>, _>>()?;
            stacks.insert(
                name.clone(),
                StackEntry {
                    name,
                    working_directory: stack.working_directory,
                    synthesized_stack_path: stack.synthesized_stack_path,
                    dependencies,
                },
            );
        }
        for entry in stacks.values() {
            if let Some(missing) = entry.dependencies.iter().find(|d| !stacks.contains_key(*d)) {
                return Err(ManifestError::UnknownDependency {
                    stack: entry.name.clone(),
                    dependency: missing.clone(),
                });
            }
        }
        Ok(Self {
            out_dir,
            version: raw.version,
            stacks,
        })
    }

    /// The synth output directory this manifest was read from.
    pub fn out_dir(&self) -> &Path {
        &self.out_dir
    }

    /// The manifest's `version` (the cdktf version the format follows).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// All stacks, ordered by name.
    pub fn stacks(&self) -> impl Iterator<Item = &StackEntry> {
        self.stacks.values()
    }

    /// The stack called `name`, or [`ManifestError::UnknownStack`] listing the stacks there are.
    pub fn stack(&self, name: &str) -> Result<&StackEntry, ManifestError> {
        let unknown = || ManifestError::UnknownStack {
            name: name.to_owned(),
            available: self.stacks.keys().cloned().collect(),
        };
        let parsed: StackName = name.parse().map_err(|_| unknown())?;
        self.stacks.get(&parsed).ok_or_else(unknown)
    }

    /// Every stack, each after the stacks it depends on (ties by name): the order to apply
    /// them in (destroy in reverse). A cycle is an error naming its stacks.
    pub fn stacks_in_dependency_order(&self) -> Result<Vec<&StackEntry>, ManifestError> {
        let mut order: Vec<&StackEntry> = Vec::with_capacity(self.stacks.len());
        let mut placed: std::collections::BTreeSet<&StackName> = std::collections::BTreeSet::new();
        while order.len() < self.stacks.len() {
            // The first stack by name whose dependencies are all placed (Kahn, deterministic).
            let next = self.stacks.values().find(|e| {
                !placed.contains(&e.name) && e.dependencies.iter().all(|d| placed.contains(d))
            });
            match next {
                Some(entry) => {
                    placed.insert(&entry.name);
                    order.push(entry);
                }
                None => {
                    let stacks = self
                        .stacks
                        .keys()
                        .filter(|n| !placed.contains(n))
                        .cloned()
                        .collect();
                    return Err(ManifestError::DependencyCycle { stacks });
                }
            }
        }
        Ok(order)
    }

    /// The given stacks (names as on the command line) in dependency order: each after those
    /// of them it depends on, directly or through stacks not given.
    pub fn order_stacks<'a>(
        &'a self,
        names: &[&str],
    ) -> Result<Vec<&'a StackEntry>, ManifestError> {
        let wanted = names
            .iter()
            .map(|n| self.stack(n).map(|e| &e.name))
            .collect::<Result<std::collections::BTreeSet<_>, _>>()?;
        Ok(self
            .stacks_in_dependency_order()?
            .into_iter()
            .filter(|e| wanted.contains(&e.name))
            .collect())
    }

    /// The directory terraform runs in for stack `name`: `<out_dir>/<workingDirectory>`.
    pub fn working_dir(&self, name: &str) -> Result<PathBuf, ManifestError> {
        Ok(self.out_dir.join(&self.stack(name)?.working_directory))
    }
}

/// A relative path with only normal components (no `..`, no root, no prefix).
fn is_relative_inside(path: &Path) -> bool {
    path.components().next().is_some()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// Why a stack could not be found through the manifest.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The manifest file could not be read (usually: not synthesized yet).
    #[error("cannot read the synth manifest {path}: {source}; run `callflow synth` first")]
    Read {
        /// The manifest path tried.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The manifest is not valid JSON of the manifest shape.
    #[error(
        "the synth manifest {path} is not a cdktf manifest ({source}); re-run `callflow synth`"
    )]
    Parse {
        /// The manifest path.
        path: PathBuf,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// A stack name that is not 1..=128 characters of `[A-Za-z0-9._-]`.
    #[error(
        "invalid stack name {name:?}: use 1 to 128 characters of letters, digits, '.', '_', '-'"
    )]
    InvalidStackName {
        /// The rejected name.
        name: String,
    },
    /// A manifest entry whose `name` differs from its key.
    #[error("the synth manifest lists stack {key:?} with name {name:?}; re-run `callflow synth`")]
    InconsistentStack {
        /// The key in `stacks`.
        key: String,
        /// The entry's `name`.
        name: String,
    },
    /// A stack path that is absolute or leaves the output directory.
    #[error(
        "the synth manifest points stack {stack} at {path:?}, outside the output directory; re-run `callflow synth`"
    )]
    PathOutsideOutput {
        /// The stack.
        stack: StackName,
        /// The offending path.
        path: PathBuf,
    },
    /// A stack depends on a stack the manifest does not list.
    #[error(
        "the synth manifest says stack {stack} depends on {dependency}, which it does not list; re-run `callflow synth`"
    )]
    UnknownDependency {
        /// The dependent stack.
        stack: StackName,
        /// The missing stack.
        dependency: StackName,
    },
    /// Stacks that depend on each other: no order applies them.
    #[error(
        "the stacks {} of the synth manifest depend on each other in a cycle; re-run `callflow synth`",
        stack_list(stacks)
    )]
    DependencyCycle {
        /// The stacks left unordered (the cycle and the stacks behind it).
        stacks: Vec<StackName>,
    },
    /// No stack of that name was synthesized.
    #[error(
        "no stack named {name:?} in the synth output; {}",
        available_list(available)
    )]
    UnknownStack {
        /// The requested name.
        name: String,
        /// The stacks the manifest has.
        available: Vec<StackName>,
    },
}

fn stack_list(stacks: &[StackName]) -> String {
    let names: Vec<&str> = stacks.iter().map(StackName::as_str).collect();
    names.join(", ")
}

fn available_list(available: &[StackName]) -> String {
    if available.is_empty() {
        return "the manifest lists no stacks at all".to_owned();
    }
    let names: Vec<&str> = available.iter().map(StackName::as_str).collect();
    format!("available stacks: {}", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"{
      "version": "0.20.0",
      "stacks": {
        "callflow": {"name": "callflow", "constructPath": "callflow",
                     "workingDirectory": "stacks/callflow",
                     "synthesizedStackPath": "stacks/callflow/cdk.tf.json",
                     "annotations": [], "dependencies": []},
        "callflow-dns": {"name": "callflow-dns",
                         "workingDirectory": "stacks/callflow-dns",
                         "synthesizedStackPath": "stacks/callflow-dns/cdk.tf.json"}
      }
    }"#;

    #[test]
    fn finds_a_stack_working_dir_by_name() {
        let manifest = Manifest::parse("cdktf.out", MANIFEST).expect("valid manifest");
        assert_eq!(
            manifest.working_dir("callflow").expect("known stack"),
            Path::new("cdktf.out/stacks/callflow")
        );
        assert_eq!(manifest.version(), "0.20.0");
        assert_eq!(manifest.stacks().count(), 2);
    }

    #[test]
    fn unknown_stack_lists_the_available_ones() {
        let manifest = Manifest::parse("cdktf.out", MANIFEST).expect("valid manifest");
        let error = manifest.stack("prod").expect_err("unknown stack");
        assert_eq!(
            error.to_string(),
            "no stack named \"prod\" in the synth output; available stacks: callflow, callflow-dns"
        );
        let error = manifest
            .stack("../etc")
            .expect_err("invalid name is unknown too");
        assert!(matches!(error, ManifestError::UnknownStack { .. }));
    }

    #[test]
    fn rejects_paths_outside_the_output_directory() {
        let text = r#"{"version": "1", "stacks": {"a": {"name": "a",
            "workingDirectory": "../../etc", "synthesizedStackPath": "stacks/a/cdk.tf.json"}}}"#;
        let error = Manifest::parse("out", text).expect_err("escaping path");
        assert!(
            matches!(error, ManifestError::PathOutsideOutput { .. }),
            "{error}"
        );
    }

    #[test]
    fn stacks_come_in_dependency_order() {
        let text = r#"{"version": "0.20.0", "stacks": {
            "app": {"name": "app", "workingDirectory": "stacks/app",
                    "synthesizedStackPath": "stacks/app/cdk.tf.json", "dependencies": ["network", "dns"]},
            "dns": {"name": "dns", "workingDirectory": "stacks/dns",
                    "synthesizedStackPath": "stacks/dns/cdk.tf.json", "dependencies": ["network"]},
            "network": {"name": "network", "workingDirectory": "stacks/network",
                        "synthesizedStackPath": "stacks/network/cdk.tf.json", "dependencies": []},
            "zzz": {"name": "zzz", "workingDirectory": "stacks/zzz",
                    "synthesizedStackPath": "stacks/zzz/cdk.tf.json"}}}"#;
        let manifest = Manifest::parse("out", text).expect("valid manifest");
        let order: Vec<&str> = manifest
            .stacks_in_dependency_order()
            .expect("acyclic")
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(order, ["network", "dns", "app", "zzz"]);
        let some: Vec<&str> = manifest
            .order_stacks(&["app", "network"])
            .expect("known stacks")
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(some, ["network", "app"]);
    }

    #[test]
    fn a_dependency_cycle_or_an_unknown_dependency_is_an_error() {
        let stack = |name: &str, deps: &str| {
            format!(
                r#""{name}": {{"name": "{name}", "workingDirectory": "stacks/{name}",
                    "synthesizedStackPath": "stacks/{name}/cdk.tf.json", "dependencies": [{deps}]}}"#
            )
        };
        let text = format!(
            r#"{{"version": "1", "stacks": {{{}, {}}}}}"#,
            stack("a", r#""b""#),
            stack("b", r#""a""#)
        );
        let error = Manifest::parse("out", &text)
            .expect("parses")
            .stacks_in_dependency_order()
            .expect_err("cycle");
        assert_eq!(
            error.to_string(),
            "the stacks a, b of the synth manifest depend on each other in a cycle; re-run `callflow synth`"
        );
        let text = format!(
            r#"{{"version": "1", "stacks": {{{}}}}}"#,
            stack("a", r#""gone""#)
        );
        let error = Manifest::parse("out", &text).expect_err("unknown dependency");
        assert!(
            matches!(error, ManifestError::UnknownDependency { .. }),
            "{error}"
        );
    }

    #[test]
    fn missing_manifest_says_to_synth_first() {
        let dir = tempfile::tempdir().expect("tempdir");
        let error = Manifest::load(dir.path()).expect_err("no manifest");
        assert!(
            error.to_string().contains("run `callflow synth` first"),
            "{error}"
        );
    }
}
