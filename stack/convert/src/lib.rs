//! `callflow convert`: a Terraform configuration becomes a Rust Cargo package on `callflow-dsl`
//! and generated provider bindings, whose synthesized `cdk.tf.json` is equivalent to the input.
//!
//! The pipeline: [`read`] (a directory of `*.tf` / `*.tf.json`, or one `cdk.tf.json`) gives
//! one [`Config`] (the intermediate representation, every body in Terraform JSON with its file
//! and line); the bindings of exactly the types it uses are generated from the provider
//! schema(s) with `callflow-codegen` and read back (their Rust API is what the program is
//! written against); the emitter writes `src/main.rs` as a person would write it on those
//! bindings. Constructs without a typed form in the DSL yet go through its raw escape hatches
//! and are listed as [`Gap`]s.
//!
//! The package (`--out DIR`):
//! - `Cargo.toml`: a binary depending on `callflow-dsl` (a path into this repository's
//!   checkout, [`Options::dsl_path`]), `serde_json`, and one bindings crate per provider;
//! - `src/main.rs`: `build()` declares the stack, `main` synthesizes it to `cdktf.out/`;
//! - `bindings/<provider>/`: the generated bindings (a library crate, so unused setters do not
//!   warn) with the trimmed schema they came from;
//! - `Cargo.lock`: the checkout's lock file when there is one, so the package builds offline
//!   with the versions the checkout already has.
#![deny(missing_docs)]

mod api;
mod emit;
mod error;
mod ir;
mod read;
mod rust;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

pub use error::{ConvertError, Gap, Handling};
pub use ir::{Block, Config, Element, Location, SourceKind};
pub use read::read;

/// What to convert and how.
#[derive(Clone, Debug)]
pub struct Options {
    /// The configuration directory or the synthesized stack file.
    pub source: PathBuf,
    /// Provider schema documents (`terraform providers schema -json`), one or more.
    pub schemas: Vec<PathBuf>,
    /// The `callflow-dsl` crate the package depends on (a directory with its Cargo.toml).
    pub dsl_path: PathBuf,
    /// The stack name (default: the synthesized file's, else the directory's name).
    pub stack_name: Option<String>,
    /// `rustfmt` to format the program with (`None`: written as emitted).
    pub rustfmt: Option<PathBuf>,
}

impl Options {
    /// Options for `source` with the DSL of the checkout this crate was built from and the
    /// `rustfmt` on `PATH` (or `$RUSTFMT`).
    pub fn new(source: impl Into<PathBuf>) -> Self {
        Self {
            source: source.into(),
            schemas: Vec::new(),
            dsl_path: default_dsl_path(),
            stack_name: None,
            rustfmt: find_rustfmt(),
        }
    }
}

/// The `callflow-dsl` of the checkout this crate was built from.
pub fn default_dsl_path() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dsl");
    std::fs::canonicalize(&path).unwrap_or(path)
}

/// `$RUSTFMT`, else `rustfmt` when it runs.
pub fn find_rustfmt() -> Option<PathBuf> {
    let candidate = std::env::var_os("RUSTFMT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("rustfmt"));
    std::process::Command::new(&candidate)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| candidate)
}

/// Counts of one conversion.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Resources converted.
    pub resources: usize,
    /// Data sources converted.
    pub data_sources: usize,
    /// Variables, locals and outputs.
    pub values: usize,
    /// Binding types generated.
    pub binding_types: usize,
    /// Lines of `src/main.rs`.
    pub main_lines: usize,
}

/// A finished conversion, not yet written.
#[derive(Clone, Debug)]
pub struct Conversion {
    /// The stack name.
    pub stack_name: String,
    /// Files of the package by path relative to its directory.
    pub files: BTreeMap<PathBuf, String>,
    /// What has no typed form (listed after converting; exit status 1 when any).
    pub gaps: Vec<Gap>,
    /// The document the program synthesizes (`cdk.tf.json`, keys sorted): the input in
    /// Terraform JSON, single nested blocks HCL wrote as arrays of one written as objects.
    pub expected: Value,
    /// Whether `src/main.rs` went through rustfmt.
    pub formatted: bool,
    /// Counts.
    pub stats: Stats,
}

impl Conversion {
    /// Writes the package into `dir` (created if needed; existing files of the same names are
    /// replaced, nothing else is touched).
    pub fn write_to(&self, dir: &Path) -> Result<(), ConvertError> {
        for (rel, text) in &self.files {
            let path = dir.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|source| ConvertError::Io {
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
            std::fs::write(&path, text).map_err(|source| ConvertError::Io { path, source })?;
        }
        Ok(())
    }
}

/// One provider of the given schemas.
struct Provider {
    /// Index into the schema documents.
    schema: usize,
    /// Its address, e.g. `registry.terraform.io/hashicorp/aws`.
    address: String,
    resources: BTreeSet<String>,
    data_sources: BTreeSet<String>,
}

/// Converts: reads the input, generates the bindings of the types it uses, emits the program.
pub fn convert(options: &Options) -> Result<Conversion, ConvertError> {
    let config = read(&options.source, options.stack_name.as_deref())?;

    // The schemas: which provider has which type.
    let mut documents: Vec<(PathBuf, Value)> = Vec::new();
    let mut providers: Vec<Provider> = Vec::new();
    for path in &options.schemas {
        let text = std::fs::read_to_string(path).map_err(|source| ConvertError::Io {
            path: path.clone(),
            source,
        })?;
        let value: Value = serde_json::from_str(&text).map_err(|e| ConvertError::Schema {
            path: path.clone(),
            message: format!("not JSON (line {}): {e}", e.line()),
        })?;
        let doc = callflow_codegen::schema::parse_value(&path.display().to_string(), &value)
            .map_err(|e| ConvertError::Schema {
                path: path.clone(),
                message: e.to_string(),
            })?;
        for (address, p) in &doc.providers {
            providers.push(Provider {
                schema: documents.len(),
                address: address.clone(),
                resources: p.resources.keys().cloned().collect(),
                data_sources: p.data_sources.keys().cloned().collect(),
            });
        }
        documents.push((path.clone(), value));
    }

    // The types used, by provider.
    let mut selected: BTreeMap<usize, callflow_codegen::Selection> = BTreeMap::new();
    let mut check_scoped = Vec::new();
    for c in &config.checks {
        // A check's scoped data sources are emitted raw with the check: no bindings needed.
        check_scoped.push(c.name.clone());
    }
    for (kind, elements) in [
        ("resource", &config.resources),
        ("data source", &config.data),
    ] {
        for e in elements {
            let found = providers.iter().position(|p| {
                if kind == "resource" {
                    p.resources.contains(&e.type_name)
                } else {
                    p.data_sources.contains(&e.type_name)
                }
            });
            let Some(i) = found else {
                return Err(unknown_type(kind, e, &documents, &providers));
            };
            let sel = selected.entry(i).or_default();
            let list = if kind == "resource" {
                &mut sel.resources
            } else {
                &mut sel.data_sources
            };
            if !list.contains(&e.type_name) {
                list.push(e.type_name.clone());
            }
        }
    }

    // Generate, and read the generated API back.
    let mut files = BTreeMap::new();
    let mut api = api::Api::default();
    let mut binding_types = 0;
    let mut crates: Vec<(String, String)> = Vec::new();
    let mut crate_names = BTreeSet::new();
    for (i, selection) in &selected {
        let provider = &providers[*i];
        let (path, value) = &documents[provider.schema];
        let short = provider
            .address
            .rsplit('/')
            .next()
            .unwrap_or("provider")
            .to_string();
        let mut package = format!("bindings-{short}");
        let mut n = 2;
        while !crate_names.insert(package.clone()) {
            package = format!("bindings-{short}{n}");
            n += 1;
        }
        let ident = package.replace('-', "_");
        let mut opts = callflow_codegen::Options::new(provider.address.clone());
        opts.command = "callflow convert".into();
        if provider.address == "terraform.io/builtin/terraform" {
            // `terraform_data` reads better as `terraform::TerraformData` than `data::Data`.
            opts.type_prefix = Some(String::new());
        }
        opts.rustfmt = options.rustfmt.clone();
        let generated = callflow_codegen::generate_from_value(
            &path.display().to_string(),
            value,
            selection,
            &opts,
        )?;
        binding_types += generated.stats.resources + generated.stats.data_sources;
        let dir = PathBuf::from("bindings").join(&package[("bindings-".len())..]);
        for (name, text) in &generated.files {
            if name != "lib.rs" {
                let module = name.trim_end_matches(".rs");
                api.add_module(&ident, module, text)
                    .map_err(|message| ConvertError::Bindings {
                        provider: provider.address.clone(),
                        message,
                    })?;
            }
            files.insert(dir.join("src").join(name), text.clone());
        }
        files.insert(dir.join("schema.json"), generated.trimmed_schema.clone());
        files.insert(
            dir.join("Cargo.toml"),
            bindings_manifest(&package, &provider.address, &options.dsl_path),
        );
        crates.push((package, dir.display().to_string()));
    }

    let dsl_comment = callflow_dsl::Stack::new(config.stack_name.clone())
        .synth()
        .ok()
        .and_then(|d| d.get("//").cloned())
        .unwrap_or(Value::Null);
    let emitted = emit::emit(&config, &api, &dsl_comment)?;
    let (main_rs, formatted) = match &options.rustfmt {
        Some(rustfmt) => match rustfmt_text(rustfmt, &emitted.main_rs) {
            Ok(text) => (text, true),
            Err(_) => (emitted.main_rs.clone(), false),
        },
        None => (emitted.main_rs.clone(), false),
    };
    let stats = Stats {
        resources: config.resources.len(),
        data_sources: config.data.len(),
        values: config.variables.len() + config.locals.len() + config.outputs.len(),
        binding_types,
        main_lines: main_rs.lines().count(),
    };
    files.insert(PathBuf::from("src/main.rs"), main_rs);
    files.insert(
        PathBuf::from("Cargo.toml"),
        package_manifest(&config.stack_name, &crates, &options.dsl_path),
    );
    let lock = options
        .dsl_path
        .parent()
        .and_then(Path::parent)
        .map(|root| root.join("Cargo.lock"));
    if let Some(text) = lock.and_then(|l| std::fs::read_to_string(l).ok()) {
        files.insert(PathBuf::from("Cargo.lock"), text);
    }
    files.insert(PathBuf::from(".gitignore"), "/target\n".into());
    Ok(Conversion {
        stack_name: config.stack_name.clone(),
        files,
        gaps: emitted.gaps,
        expected: emitted.expected,
        formatted,
        stats,
    })
}

fn unknown_type(
    kind: &'static str,
    e: &Element,
    documents: &[(PathBuf, Value)],
    providers: &[Provider],
) -> ConvertError {
    // codegen's own suggestions (closest names by edit distance), from the provider whose
    // prefix the type has, else from every provider.
    let prefix = e.type_name.split('_').next().unwrap_or("");
    let mut candidates: Vec<&Provider> = providers
        .iter()
        .filter(|p| p.address.rsplit('/').next() == Some(prefix))
        .collect();
    if candidates.is_empty() {
        candidates = providers.iter().collect();
    }
    let mut suggestions = Vec::new();
    for p in candidates {
        let mut selection = callflow_codegen::Selection::default();
        if kind == "resource" {
            selection.resources.push(e.type_name.clone());
        } else {
            selection.data_sources.push(e.type_name.clone());
        }
        let (path, value) = &documents[p.schema];
        let opts = callflow_codegen::Options::new(p.address.clone());
        if let Err(callflow_codegen::CodegenError::UnknownType { suggestions: s, .. }) =
            callflow_codegen::generate_from_value(
                &path.display().to_string(),
                value,
                &selection,
                &opts,
            )
        {
            suggestions.extend(s);
        }
    }
    if providers.is_empty() {
        return ConvertError::UnknownType {
            location: e.location.clone(),
            kind,
            type_name: e.type_name.clone(),
            suggestions: vec![
                "(no --schema given: pass the provider schema, `terraform providers schema -json`)"
                    .into(),
            ],
        };
    }
    ConvertError::UnknownType {
        location: e.location.clone(),
        kind,
        type_name: e.type_name.clone(),
        suggestions,
    }
}

fn toml_str(s: &str) -> String {
    // TOML basic strings escape like JSON strings.
    serde_json::to_string(s).unwrap_or_default()
}

fn package_manifest(stack: &str, crates: &[(String, String)], dsl: &Path) -> String {
    let name: String = stack
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let mut out = format!(
        "# Generated by `callflow convert`; the stack is src/main.rs.\n[package]\nname = {}\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\ncallflow-dsl = {{ path = {} }}\nserde_json = \"1\"\n",
        toml_str(&format!("stack-{}", name.trim_matches('-'))),
        toml_str(&dsl.display().to_string())
    );
    for (package, dir) in crates {
        out.push_str(&format!("{package} = {{ path = {} }}\n", toml_str(dir)));
    }
    out.push_str("\n# Not a member of any enclosing workspace.\n[workspace]\n");
    out
}

fn bindings_manifest(package: &str, provider: &str, dsl: &Path) -> String {
    format!(
        "# Generated by `callflow convert` from schema.json; do not edit.\n[package]\nname = {}\ndescription = {}\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\ncallflow-dsl = {{ path = {} }}\nserde = {{ version = \"1\", features = [\"derive\"] }}\n",
        toml_str(package),
        toml_str(&format!(
            "Typed bindings of the {provider} types the converted stack uses."
        )),
        toml_str(&dsl.display().to_string())
    )
}

/// `rustfmt --edition 2024` over a text (stdin to stdout).
fn rustfmt_text(rustfmt: &Path, text: &str) -> Result<String, String> {
    use std::io::Write as _;
    let mut child = std::process::Command::new(rustfmt)
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(text.as_bytes())
            .map_err(|e| e.to_string())?;
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).to_string());
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}
