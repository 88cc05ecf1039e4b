//! The cdktf output layout: `manifest.json` plus `stacks/<name>/cdk.tf.json`, written and read.

use crate::manifest::{Manifest, ManifestError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

/// The manifest format version we write (the cdktf release whose layout we keep).
pub const MANIFEST_VERSION: &str = "0.20.0";

/// Errors reading or writing synthesized output.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file is not the JSON we expect.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The manifest is missing, malformed, or points a stack outside the output directory.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

/// Synthesized stacks by name: each a Terraform JSON document with sorted keys.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Synthesized {
    stacks: BTreeMap<String, Value>,
    /// Each stack's dependencies (stacks whose values it reads), when it has any.
    dependencies: BTreeMap<String, Vec<String>>,
}

impl Synthesized {
    /// Wraps synthesized documents.
    pub fn new(stacks: BTreeMap<String, Value>) -> Self {
        Self {
            stacks,
            dependencies: BTreeMap::new(),
        }
    }

    /// The same stacks with their dependencies (the manifest's `dependencies`), by stack name.
    pub fn with_dependencies(mut self, dependencies: BTreeMap<String, Vec<String>>) -> Self {
        self.dependencies = dependencies;
        self
    }

    /// The stacks `stack` depends on (empty when none).
    pub fn dependencies_of(&self, stack: &str) -> &[String] {
        self.dependencies.get(stack).map_or(&[], Vec::as_slice)
    }

    /// The documents by stack name.
    pub fn stacks(&self) -> &BTreeMap<String, Value> {
        &self.stacks
    }

    /// Total number of resources across stacks.
    pub fn resource_count(&self) -> usize {
        self.stacks.values().map(count_resources).sum()
    }

    /// The `manifest.json` document (cdktf's shape).
    pub fn manifest(&self) -> Value {
        manifest(self.stacks.keys(), &self.dependencies)
    }

    /// Every file of the output, by path relative to the output directory, as written.
    pub fn files(&self) -> BTreeMap<PathBuf, String> {
        files(
            &self.manifest(),
            self.stacks.iter().map(|(n, d)| (n, render(d))),
        )
    }

    /// Writes the output under `dir`, replacing the directories of stacks that no longer exist.
    pub fn write_to(&self, dir: &Path) -> Result<(), OutputError> {
        let files = self.files();
        let entries = files.iter().map(|(p, t)| (p.clone(), t.as_str()));
        write_files(dir, entries, |name| self.stacks.contains_key(name))
    }

    /// Reads a previous synth from `dir` through its `manifest.json`.
    pub fn read_from(dir: &Path) -> Result<Self, OutputError> {
        read_from(dir)
    }
}

/// Rendered stacks: the text of each `cdk.tf.json`, ready to write ([`crate::App::render`]).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Rendered {
    stacks: BTreeMap<String, String>,
    resources: usize,
    dependencies: BTreeMap<String, Vec<String>>,
}

impl Rendered {
    /// Wraps rendered documents and their resource count.
    pub fn new(stacks: BTreeMap<String, String>, resources: usize) -> Self {
        Self {
            stacks,
            resources,
            dependencies: BTreeMap::new(),
        }
    }

    /// The same stacks with their dependencies (the manifest's `dependencies`), by stack name.
    pub fn with_dependencies(mut self, dependencies: BTreeMap<String, Vec<String>>) -> Self {
        self.dependencies = dependencies;
        self
    }

    /// Number of stacks.
    pub fn stack_count(&self) -> usize {
        self.stacks.len()
    }

    /// Total number of resources across stacks.
    pub fn resource_count(&self) -> usize {
        self.resources
    }

    /// Every file of the output, by path relative to the output directory.
    pub fn files(&self) -> BTreeMap<PathBuf, String> {
        files(
            &manifest(self.stacks.keys(), &self.dependencies),
            self.stacks.iter().map(|(n, t)| (n, t.clone())),
        )
    }

    /// Writes the output under `dir`, replacing the directories of stacks that no longer exist.
    pub fn write_to(&self, dir: &Path) -> Result<(), OutputError> {
        let manifest = render(&manifest(self.stacks.keys(), &self.dependencies));
        let entries = std::iter::once((PathBuf::from("manifest.json"), manifest.as_str()))
            .chain(self.stacks.iter().map(|(n, t)| (stack_path(n), t.as_str())));
        write_files(dir, entries, |name| self.stacks.contains_key(name))
    }
}

fn stack_path(name: &str) -> PathBuf {
    Path::new("stacks").join(name).join("cdk.tf.json")
}

/// Number of resources in one Terraform JSON document.
pub fn count_resources(doc: &Value) -> usize {
    doc.get("resource")
        .and_then(Value::as_object)
        .map_or(0, |types| {
            types
                .values()
                .filter_map(Value::as_object)
                .map(|m| m.len())
                .sum()
        })
}

fn files<'a>(
    manifest: &Value,
    stacks: impl Iterator<Item = (&'a String, String)>,
) -> BTreeMap<PathBuf, String> {
    let mut files = BTreeMap::new();
    files.insert(PathBuf::from("manifest.json"), render(manifest));
    for (name, text) in stacks {
        files.insert(stack_path(name), text);
    }
    files
}

fn manifest<'a>(
    names: impl Iterator<Item = &'a String>,
    dependencies: &BTreeMap<String, Vec<String>>,
) -> Value {
    let stacks: serde_json::Map<String, Value> = names
        .map(|name| {
            (
                name.clone(),
                json!({
                    "name": name,
                    "constructPath": name,
                    "workingDirectory": format!("stacks/{name}"),
                    "synthesizedStackPath": format!("stacks/{name}/cdk.tf.json"),
                    "annotations": [],
                    "dependencies": dependencies.get(name).cloned().unwrap_or_default(),
                }),
            )
        })
        .collect();
    json!({ "version": MANIFEST_VERSION, "stacks": stacks })
}

fn write_files<'a>(
    dir: &Path,
    files: impl Iterator<Item = (PathBuf, &'a str)>,
    keep: impl Fn(&str) -> bool,
) -> Result<(), OutputError> {
    let stacks_dir = dir.join("stacks");
    if stacks_dir.is_dir() {
        for entry in std::fs::read_dir(&stacks_dir).map_err(io(&stacks_dir))? {
            let entry = entry.map_err(io(&stacks_dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !keep(&name) && entry.path().join("cdk.tf.json").exists() {
                std::fs::remove_dir_all(entry.path()).map_err(io(&entry.path()))?;
            }
        }
    }
    let files: Vec<(PathBuf, &str)> = files.collect();
    // After a failed write no further file is started (as a loop would stop).
    let failed = AtomicBool::new(false);
    let write_one = |(rel, contents): &(PathBuf, &str)| -> Result<(), OutputError> {
        if failed.load(Ordering::Relaxed) {
            return Ok(());
        }
        let written = write_if_changed(&dir.join(rel), contents);
        if written.is_err() {
            failed.store(true, Ordering::Relaxed);
        }
        written
    };
    // Many stacks: their files are written on all cores (each is a directory, an open, a
    // compare and a write; 100 stacks took ~5 ms on one core).
    super::parallel::map_parallel(&files, 16, write_one)
        .into_iter()
        .collect()
}

/// Writes `contents` to `path` (creating its directory) unless the file already holds them.
fn write_if_changed(path: &Path, contents: &str) -> Result<(), OutputError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    if std::fs::read(path).ok().as_deref() == Some(contents.as_bytes()) {
        return Ok(());
    }
    std::fs::write(path, contents).map_err(io(path))
}

/// The error of an I/O operation on `path`, for `map_err`.
fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError {
    let path = path.to_path_buf();
    move |source| OutputError::Io { path, source }
}

fn read_from(dir: &Path) -> Result<Synthesized, OutputError> {
    let manifest = Manifest::load(dir)?;
    let mut stacks = BTreeMap::new();
    let mut dependencies = BTreeMap::new();
    for entry in manifest.stacks() {
        stacks.insert(
            entry.name.as_str().to_owned(),
            read_json(&dir.join(&entry.synthesized_stack_path))?,
        );
        if !entry.dependencies.is_empty() {
            dependencies.insert(
                entry.name.as_str().to_owned(),
                entry
                    .dependencies
                    .iter()
                    .map(|d| d.as_str().to_owned())
                    .collect(),
            );
        }
    }
    Ok(Synthesized {
        stacks,
        dependencies,
    })
}

fn read_json(path: &Path) -> Result<Value, OutputError> {
    let text = std::fs::read_to_string(path).map_err(|source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| OutputError::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Pretty JSON with two-space indentation and a final newline, as cdktf writes it: exactly
/// `serde_json::to_string_pretty` and a newline, written by a faster writer.
///
/// ```
/// let doc = serde_json::json!({"a": [1, "x\"y"], "b": {}});
/// assert_eq!(
///     callflow_dsl::render(&doc),
///     format!("{}\n", serde_json::to_string_pretty(&doc).unwrap()),
/// );
/// ```
pub fn render(doc: &Value) -> String {
    super::pretty::render(doc)
}
