//! Terraform provider schemas to typed Rust bindings for [`callflow-dsl`](../callflow_dsl).
//!
//! Input is any document in the format of `terraform providers schema -json` (format_version
//! 1.x): primitive and collection type expressions, object and tuple types, `nested_type`
//! attributes (nesting single/list/set/map), blocks (nesting single/list/set/map/group with
//! min/max items), required / optional / computed attributes, `sensitive`, `deprecated` and
//! descriptions. For the selected resource and data-source types it emits one module per service
//! (`aws_s3_*` → `s3`), and in it, per type and per nested block / object type:
//!
//! - an argument struct: required arguments are the parameters of `new` (forgetting one does not
//!   compile), optional ones are `Option`s (or empty collections) left out of the JSON, set
//!   with `set_*`; numbers are [`callflow_dsl::Number`] (integers and floats without loss);
//! - a references struct (`<Name>Refs`), which the type's handle dereferences to: one method per
//!   attribute, computed ones included, each returning a typed reference (`Tf<String>`,
//!   `Tf<Number>`, `ListRef<..>`, `MapRef<..>`, nested `..Refs`).
//!
//! The output is deterministic and laid out as rustfmt would (no formatter pass needed).
//!
//! ```
//! let schema = r#"{"format_version": "1.0", "provider_schemas": {"registry.terraform.io/acme/demo": {
//!   "resource_schemas": {"demo_thing": {"version": 0, "block": {"attributes": {
//!     "name": {"type": "string", "required": true},
//!     "id": {"type": "string", "computed": true}}}}}}}}"#;
//! let options = callflow_codegen::Options::new("acme/demo");
//! let selection = callflow_codegen::Selection::all();
//! let out = callflow_codegen::generate("demo.json", schema, &selection, &options).unwrap();
//! assert!(out.files["thing.rs"].contains("pub fn new(name: impl Into<Tf<String>>) -> Self {"));
//! assert_eq!(out.stats.resources, 1);
//! ```
#![deny(missing_docs)]

pub mod crate_manifest;
mod emit;
mod error;
pub mod functions;
mod names;
pub mod project;
pub mod schema;
mod select;
mod write;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

pub use emit::{ProviderInfo, TopKind};
pub use error::{CodegenError, SchemaError};
pub use select::glob_match;
pub use write::write_dir;

/// Which types to generate: names or globs (`aws_s3_bucket*`, `*`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// Resource types.
    pub resources: Vec<String>,
    /// Data sources.
    pub data_sources: Vec<String>,
}

impl Selection {
    /// Every resource type and data source of the provider.
    pub fn all() -> Self {
        Self {
            resources: vec!["*".into()],
            data_sources: vec!["*".into()],
        }
    }
}

/// How to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The provider: its source (`hashicorp/aws`) or full address
    /// (`registry.terraform.io/hashicorp/aws`).
    pub provider: String,
    /// The prefix of its type names without `_` (default: the source's last segment, `aws`).
    pub type_prefix: Option<String>,
    /// Multi-word service names that group types into one module (`api_gateway` puts
    /// `aws_api_gateway_*` into `api_gateway`); otherwise the first word after the prefix does.
    pub services: Vec<String>,
    /// The crate (or path) of the DSL runtime the bindings use.
    pub runtime: String,
    /// The file that declares the modules: `lib.rs` for a crate, `mod.rs` for a module.
    pub root_file: String,
    /// What the header says produced the files, e.g. ``callflow get` (callflow.toml)`.
    pub command: String,
    /// The provider version the schema is of, for the header (e.g. `6.25.0`).
    pub version: Option<String>,
    /// The version constraint the generated provider type requires (`~> 6.25`): declaring the
    /// provider adds it to `required_providers`.
    pub version_constraint: Option<String>,
    /// A `rustfmt` to pass the few modules through whose lines exceed 100 columns (very long
    /// generated names, where rustfmt's layout choices are not worth re-implementing); `None`
    /// writes every module as emitted (the fast path: the full AWS provider).
    pub rustfmt: Option<std::path::PathBuf>,
}

impl Options {
    /// Defaults for `provider`: runtime `callflow_dsl`, root file `lib.rs`.
    pub fn new(provider: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            type_prefix: None,
            services: Vec::new(),
            runtime: "callflow_dsl".into(),
            root_file: "lib.rs".into(),
            command: "callflow get".into(),
            version: None,
            version_constraint: None,
            rustfmt: None,
        }
    }
}

/// What [`generate`] produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Generated {
    /// File name (relative to the output directory) → contents.
    pub files: BTreeMap<String, String>,
    /// The schema document reduced to the selected types (what to commit as the input).
    pub trimmed_schema: String,
    /// Counts for the summary line.
    pub stats: Stats,
}

/// Counts of one generation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Resource types generated.
    pub resources: usize,
    /// Data sources generated.
    pub data_sources: usize,
    /// Service modules.
    pub modules: usize,
    /// Structs (argument and references structs).
    pub structs: usize,
    /// Lines of Rust.
    pub lines: usize,
}

/// Generates the bindings of the selected types of one provider from a schema document's text;
/// `file` names the document in errors.
pub fn generate(
    file: &str,
    text: &str,
    selection: &Selection,
    options: &Options,
) -> Result<Generated, CodegenError> {
    let root: Value = serde_json::from_str(text).map_err(|e| SchemaError {
        file: file.into(),
        type_name: None,
        path: format!("line {}, column {}", e.line(), e.column()),
        message: format!("not a JSON document: {e}"),
    })?;
    generate_from_value(file, &root, selection, options)
}

/// [`generate`] for an already parsed document.
pub fn generate_from_value(
    file: &str,
    root: &Value,
    selection: &Selection,
    options: &Options,
) -> Result<Generated, CodegenError> {
    let doc = schema::parse_value(file, root)?;
    let (address, provider) = doc
        .providers
        .iter()
        .find(|(addr, _)| {
            *addr == &options.provider || addr.ends_with(&format!("/{}", options.provider))
        })
        .ok_or_else(|| CodegenError::NoProvider {
            file: file.into(),
            provider: options.provider.clone(),
            found: doc.providers.keys().cloned().collect::<Vec<_>>().join(", "),
        })?;
    let short = address.rsplit('/').next().unwrap_or(address).to_string();
    let local_name = options.type_prefix.clone().unwrap_or(short);
    let type_prefix = format!("{local_name}_");
    let display = address
        .strip_prefix("registry.terraform.io/")
        .unwrap_or(address)
        .to_string();

    let pick = |kind: &'static str,
                patterns: &[String],
                available: &BTreeMap<String, schema::TypeSchema>| {
        select::select(patterns, available.keys()).map_err(|pattern| CodegenError::UnknownType {
            file: file.into(),
            provider: display.clone(),
            kind,
            suggestions: select::suggestions(&pattern, available.keys()),
            pattern,
        })
    };
    let resources = pick("resource type", &selection.resources, &provider.resources)?;
    let data_sources = pick(
        "data source",
        &selection.data_sources,
        &provider.data_sources,
    )?;

    // Group by module.
    let mut modules: BTreeMap<String, Vec<(TopKind, &String)>> = BTreeMap::new();
    for name in &resources {
        modules
            .entry(module_of(name, &type_prefix, &options.services))
            .or_default()
            .push((TopKind::Resource, name));
    }
    for name in &data_sources {
        modules
            .entry(module_of(name, &type_prefix, &options.services))
            .or_default()
            .push((TopKind::Data, name));
    }

    let version = options
        .version
        .as_deref()
        .map(|v| format!(" {v}"))
        .unwrap_or_default();
    let header = format!(
        "// @generated by `{}` from the schema of {display}{version}; do not edit.\n",
        options.command
    );
    let mut files = BTreeMap::new();
    let mut stats = Stats {
        resources: resources.len(),
        data_sources: data_sources.len(),
        modules: modules.len(),
        ..Stats::default()
    };
    // The provider's configuration type, in a module of its own.
    let provider_module = provider.provider.as_ref().map(|schema| {
        let module = if modules.contains_key("provider") {
            "provider_config"
        } else {
            "provider"
        };
        let mut emitter = emit::ModuleEmitter::new(&display, &type_prefix);
        let name = emitter.claim_provider(&local_name);
        let info = ProviderInfo {
            local_name: local_name.clone(),
            source: display.clone(),
            version: options.version_constraint.clone(),
        };
        emitter.provider(&name, &info, schema);
        let (items, counts) = emitter.finish();
        (module.to_string(), name, items, counts)
    });
    let mut root_text = header.clone();
    let _ = std::fmt::Write::write_fmt(
        &mut root_text,
        format_args!(
            "//! Bindings of {display}{version}: {} resource type(s) and {} data source(s) in {} module(s), one per service.\n",
            resources.len(),
            data_sources.len(),
            modules.len()
        ),
    );
    if !modules.is_empty() || provider_module.is_some() || !provider.functions.is_empty() {
        root_text.push('\n');
    }
    let mut module_lines = BTreeMap::new();
    if let Some((module, name, items, counts)) = &provider_module {
        stats.structs += counts.structs;
        let text = format!(
            "{header}//! The configuration of the {display} provider: [`{name}`].\n#![allow(clippy::too_many_arguments, clippy::wrong_self_convention)]\n\nuse {}::bindings::*;\nuse serde::Serialize;\n{items}",
            options.runtime
        );
        let text = match &options.rustfmt {
            Some(rustfmt) if has_long_lines(&text) => format_with(rustfmt, &text, module)?,
            _ => text,
        };
        module_lines.insert(
            module.clone(),
            format!("pub mod {};\n", names::ident(module)),
        );
        files.insert(format!("{module}.rs"), text);
    }
    for (module, types) in &modules {
        let mut emitter = emit::ModuleEmitter::new(&display, &type_prefix);
        if let Some((provider_mod, name, _, _)) = &provider_module {
            emitter = emitter.provided_by(format!("super::{provider_mod}::{name}"));
        }
        let names: Vec<String> = types
            .iter()
            .map(|(kind, name)| emitter.claim_top(*kind, name))
            .collect();
        let schema_of = |kind: &TopKind, type_name: &str| match kind {
            TopKind::Resource => &provider.resources[type_name],
            TopKind::Data => &provider.data_sources[type_name],
        };
        for ((kind, type_name), name) in types.iter().zip(&names) {
            emitter.reserve_direct(name, schema_of(kind, type_name));
        }
        for ((kind, type_name), name) in types.iter().zip(&names) {
            emitter.top(*kind, type_name, name, schema_of(kind, type_name));
        }
        let (items, counts) = emitter.finish();
        stats.structs += counts.structs;
        let list: Vec<String> = types.iter().map(|(_, n)| format!("`{n}`")).collect();
        let text = format!(
            "{header}//! {display} types of service `{module}`: {}.\n#![allow(\n    clippy::too_many_arguments,\n    clippy::type_complexity,\n    clippy::wrong_self_convention\n)]\n\nuse {}::bindings::*;\nuse serde::Serialize;\n{items}",
            list.join(", "),
            options.runtime
        );
        let text = match &options.rustfmt {
            Some(rustfmt) if has_long_lines(&text) => format_with(rustfmt, &text, module)?,
            _ => text,
        };
        let ident = names::ident(module);
        module_lines.insert(module.clone(), format!("pub mod {ident};\n"));
        files.insert(format!("{module}.rs"), text);
    }
    // The provider's functions, in a module of their own.
    let functions_module = if modules.contains_key("functions") {
        "functions_"
    } else {
        "functions"
    };
    if let Some(text) = functions::provider_module(
        &provider.functions,
        &local_name,
        &header,
        &display,
        &options.runtime,
    ) {
        let text = match &options.rustfmt {
            Some(rustfmt) if has_long_lines(&text) => {
                format_with(rustfmt, &text, functions_module)?
            }
            _ => text,
        };
        module_lines.insert(
            functions_module.to_string(),
            format!("pub mod {functions_module};\n"),
        );
        files.insert(format!("{functions_module}.rs"), text);
    }
    for line in module_lines.values() {
        root_text.push_str(line);
    }
    if let Some((module, name, _, _)) = &provider_module {
        let _ = std::fmt::Write::write_fmt(
            &mut root_text,
            format_args!("\npub use {}::{name};\n", names::ident(module)),
        );
    }
    files.insert(options.root_file.clone(), root_text);
    stats.lines = files.values().map(|t| t.lines().count()).sum();

    let trimmed_schema = trim(root, address, &resources, &data_sources);
    Ok(Generated {
        files,
        trimmed_schema,
        stats,
    })
}

/// Whether a module has code lines wider than rustfmt's 100 columns (comments do not count).
fn has_long_lines(text: &str) -> bool {
    text.lines()
        .any(|l| l.len() > 100 && !l.trim_start().starts_with("//"))
}

/// `rustfmt --edition 2024` over one module's text (stdin to stdout).
fn format_with(
    rustfmt: &std::path::Path,
    text: &str,
    module: &str,
) -> Result<String, CodegenError> {
    use std::io::Write as _;
    let fail = |message: String| CodegenError::Rustfmt {
        module: module.to_string(),
        message,
    };
    let mut child = std::process::Command::new(rustfmt)
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run {}: {e}", rustfmt.display())))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(text.as_bytes())
            .map_err(|e| fail(format!("writing to rustfmt: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("waiting for rustfmt: {e}")))?;
    if !out.status.success() {
        return Err(fail(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| fail(format!("rustfmt output is not UTF-8: {e}")))
}

/// The module a type goes to: the longest configured service it starts with, else the first
/// word after the provider prefix.
fn module_of(type_name: &str, prefix: &str, services: &[String]) -> String {
    let bare = type_name.strip_prefix(prefix).unwrap_or(type_name);
    let mut best: Option<&String> = None;
    for s in services {
        if (bare == s || bare.starts_with(&format!("{s}_")))
            && best.is_none_or(|b| s.len() > b.len())
        {
            best = Some(s);
        }
    }
    let service = match best {
        Some(s) => s.as_str(),
        None => bare.split('_').next().unwrap_or(bare),
    };
    let module = names::snake(service);
    // `main.rs` / `lib.rs` would be taken for a crate root, `mod.rs` for a directory module.
    if matches!(module.as_str(), "main" | "lib" | "mod") {
        format!("{module}_")
    } else {
        module
    }
}

/// The document with only the selected types of one provider (what the bindings came from).
fn trim(
    root: &Value,
    address: &str,
    resources: &std::collections::BTreeSet<String>,
    data_sources: &std::collections::BTreeSet<String>,
) -> String {
    let provider = &root["provider_schemas"][address];
    let keep = |key: &str, names: &std::collections::BTreeSet<String>| -> Value {
        let mut m = Map::new();
        for n in names {
            if let Some(v) = provider.get(key).and_then(|t| t.get(n)) {
                m.insert(n.clone(), v.clone());
            }
        }
        Value::Object(m)
    };
    let mut p = Map::new();
    p.insert(
        "data_source_schemas".into(),
        keep("data_source_schemas", data_sources),
    );
    // The provider's configuration block and functions, which are generated too.
    if let Some(functions) = provider.get("functions") {
        p.insert("functions".into(), functions.clone());
    }
    if let Some(config) = provider.get("provider") {
        p.insert("provider".into(), config.clone());
    }
    p.insert(
        "resource_schemas".into(),
        keep("resource_schemas", resources),
    );
    let mut providers = Map::new();
    providers.insert(address.into(), Value::Object(p));
    let mut doc = Map::new();
    if let Some(note) = root.get("//") {
        doc.insert("//".into(), note.clone());
    }
    doc.insert(
        "format_version".into(),
        root.get("format_version").cloned().unwrap_or(Value::Null),
    );
    doc.insert("provider_schemas".into(), Value::Object(providers));
    let mut text = serde_json::to_string_pretty(&Value::Object(doc)).unwrap_or_default();
    text.push('\n');
    text
}
