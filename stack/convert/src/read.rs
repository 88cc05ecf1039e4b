//! Reading the input: a directory of `*.tf` and `*.tf.json` files (read together, as Terraform
//! reads them) or one synthesized `cdk.tf.json`, into one [`Config`].
//!
//! HCL is parsed with `hcl-edit` (spans, for line numbers) and translated to Terraform's JSON
//! syntax here: literals stay literals (strings escaped), string templates stay templates, and
//! every other expression becomes one interpolation `${...}` of its HCL text (formatted by
//! `hcl-rs`), which Terraform evaluates to the same value. Arguments Terraform reads as static
//! references (`depends_on`, `provider`, `ignore_changes`, `moved.from`, a variable's `type`...)
//! are written bare, as Terraform's JSON syntax wants them.

use std::path::{Path, PathBuf};

use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::repr::Span;
use hcl_edit::structure::{BlockLabel, Body, Structure};
use hcl_edit::template::{Directive, Element as TemplateElement, Template};
use serde_json::{Map, Value};

use crate::error::ConvertError;
use crate::ir::{Block, Config, Element, Location, SourceKind};

/// Reads a configuration directory or a synthesized stack file. `stack_name` overrides the
/// name the converted stack gets (default: the synthesized file's `stackName`, else the
/// directory's name).
pub fn read(path: &Path, stack_name: Option<&str>) -> Result<Config, ConvertError> {
    let meta = std::fs::metadata(path).map_err(|source| ConvertError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut config = if meta.is_dir() {
        read_dir(path)?
    } else {
        let text = read_text(path)?;
        let mut config = Config::new(SourceKind::Synthesized, "");
        if path.extension().is_some_and(|e| e == "tf") {
            add_hcl(&mut config, path, &text)?;
        } else {
            add_json(&mut config, path, &text)?;
        }
        config
    };
    let from_meta = config
        .root_comment
        .as_ref()
        .and_then(|c| c.pointer("/metadata/stackName"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let from_path = || {
        let dir = if meta.is_dir() {
            Some(path)
        } else {
            path.parent()
        };
        dir.and_then(|d| {
            std::fs::canonicalize(d)
                .ok()
                .and_then(|d| d.file_name().map(|n| n.to_string_lossy().to_string()))
        })
        .unwrap_or_else(|| "main".into())
    };
    let name = stack_name
        .map(str::to_string)
        .or(from_meta)
        .unwrap_or_else(from_path);
    config.stack_name = sanitize_id(&name);
    check_duplicates(&config)?;
    Ok(config)
}

/// A logical id from any name: characters Terraform does not accept become `_`.
fn sanitize_id(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    out
}

fn read_text(path: &Path) -> Result<String, ConvertError> {
    std::fs::read_to_string(path).map_err(|source| ConvertError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn read_dir(dir: &Path) -> Result<Config, ConvertError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ConvertError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| ConvertError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().to_string();
        if (name.ends_with(".tf") || name.ends_with(".tf.json")) && !name.starts_with('.') {
            files.push(entry.path());
        }
    }
    // Terraform reads a module's files in lexical order.
    files.sort();
    if files.is_empty() {
        return Err(ConvertError::NoInput {
            path: dir.to_path_buf(),
        });
    }
    let mut config = Config::new(SourceKind::Directory, "");
    for file in &files {
        let text = read_text(file)?;
        if file.to_string_lossy().ends_with(".tf.json") {
            add_json(&mut config, file, &text)?;
        } else {
            add_hcl(&mut config, file, &text)?;
        }
    }
    Ok(config)
}

fn check_duplicates(config: &Config) -> Result<(), ConvertError> {
    let mut seen: std::collections::BTreeMap<String, Location> = Default::default();
    let mut check = |address: String, location: &Location| -> Result<(), ConvertError> {
        if let Some(first) = seen.get(&address) {
            return Err(ConvertError::Duplicate {
                location: location.clone(),
                address,
                first: first.clone(),
            });
        }
        seen.insert(address, location.clone());
        Ok(())
    };
    for e in &config.resources {
        check(format!("{}.{}", e.type_name, e.name), &e.location)?;
    }
    for e in &config.data {
        check(format!("data.{}.{}", e.type_name, e.name), &e.location)?;
    }
    for (kind, blocks) in [
        ("var", &config.variables),
        ("local", &config.locals),
        ("output", &config.outputs),
        ("module", &config.modules),
        ("check", &config.checks),
    ] {
        for b in blocks {
            check(format!("{kind}.{}", b.name), &b.location)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Terraform JSON files

/// The 1-based line of the first occurrence of each key in turn (`"resource"`, then the type,
/// then the name after it): JSON parsers keep no positions, and these keys are unique enough.
fn json_line(text: &str, keys: &[&str]) -> usize {
    let mut from = 0;
    for key in keys {
        let quoted = format!("\"{key}\"");
        if let Some(i) = text[from..].find(&quoted) {
            from += i + quoted.len();
        }
    }
    text[..from].matches('\n').count() + 1
}

/// The objects of a JSON value that Terraform accepts as an object or an array of objects.
fn objects(v: &Value) -> Vec<&Map<String, Value>> {
    match v {
        Value::Object(m) => vec![m],
        Value::Array(items) => items.iter().flat_map(objects).collect(),
        _ => Vec::new(),
    }
}

fn add_json(config: &mut Config, file: &Path, text: &str) -> Result<(), ConvertError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| ConvertError::Json {
        location: Location {
            file: file.to_path_buf(),
            line: e.line(),
        },
        message: e.to_string(),
    })?;
    let Value::Object(root) = doc else {
        return Err(ConvertError::Invalid {
            location: Location {
                file: file.to_path_buf(),
                line: 1,
            },
            construct: "document".into(),
            message: "a Terraform JSON file is an object".into(),
        });
    };
    let loc = |keys: &[&str]| Location {
        file: file.to_path_buf(),
        line: json_line(text, keys),
    };
    for (key, value) in &root {
        match key.as_str() {
            "//" => config.root_comment = Some(value.clone()),
            "resource" | "data" => {
                for by_type in objects(value) {
                    for (type_name, by_name) in by_type {
                        for named in objects(by_name) {
                            for (name, body) in named {
                                let location = loc(&[key, type_name, name]);
                                let Value::Object(body) = body else {
                                    return Err(ConvertError::Invalid {
                                        location,
                                        construct: format!("{key} \"{type_name}\" \"{name}\""),
                                        message: "the body is not an object".into(),
                                    });
                                };
                                let element = Element {
                                    type_name: type_name.clone(),
                                    name: name.clone(),
                                    body: body.clone(),
                                    location,
                                };
                                if key == "resource" {
                                    config.resources.push(element);
                                } else {
                                    config.data.push(element);
                                }
                            }
                        }
                    }
                }
            }
            "provider" => {
                for by_name in objects(value) {
                    for (name, configs) in by_name {
                        let bodies: Vec<&Value> = match configs {
                            Value::Array(items) => items.iter().collect(),
                            other => vec![other],
                        };
                        for body in bodies {
                            config.providers.push(Block {
                                name: name.clone(),
                                body: body.clone(),
                                location: loc(&[key, name]),
                            });
                        }
                    }
                }
            }
            "terraform" => {
                for body in objects(value) {
                    config.terraform.push(Block {
                        name: String::new(),
                        body: Value::Object(body.clone()),
                        location: loc(&[key]),
                    });
                }
            }
            "variable" | "locals" | "output" | "module" | "check" => {
                for named in objects(value) {
                    for (name, body) in named {
                        let block = Block {
                            name: name.clone(),
                            body: body.clone(),
                            location: loc(&[key, name]),
                        };
                        match key.as_str() {
                            "variable" => config.variables.push(block),
                            "locals" => config.locals.push(block),
                            "output" => config.outputs.push(block),
                            "module" => config.modules.push(block),
                            _ => config.checks.push(block),
                        }
                    }
                }
            }
            "moved" | "import" | "removed" => {
                for body in objects(value) {
                    let block = Block {
                        name: String::new(),
                        body: Value::Object(body.clone()),
                        location: loc(&[key]),
                    };
                    match key.as_str() {
                        "moved" => config.moved.push(block),
                        "import" => config.imports.push(block),
                        _ => config.removed.push(block),
                    }
                }
            }
            _ => config.other.push((
                key.clone(),
                Block {
                    name: key.clone(),
                    body: value.clone(),
                    location: loc(&[key]),
                },
            )),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// HCL files

/// One HCL file being translated: its name and where its lines start.
struct Hcl<'a> {
    file: &'a Path,
    line_starts: Vec<usize>,
}

impl Hcl<'_> {
    fn location(&self, span: Option<std::ops::Range<usize>>) -> Location {
        let offset = span.map_or(0, |s| s.start);
        let line = self.line_starts.partition_point(|&s| s <= offset);
        Location {
            file: self.file.to_path_buf(),
            line: line.max(1),
        }
    }
}

/// How an argument's expression is written in Terraform JSON.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A value: literals as JSON, other expressions as `${...}`.
    Value,
    /// A static reference or type (`depends_on`, `provider`, `type`): its bare text.
    Bare,
}

/// The nested-block context of a body, deciding which arguments are static references.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Resource,
    Lifecycle,
    Module,
    Moved,
    Import,
    Removed,
    Variable,
    Output,
    /// The `terraform` block: every nested block appears once (an object in JSON).
    Terraform,
    Other,
}

impl Context {
    fn bare(self, key: &str) -> bool {
        match self {
            Context::Resource => matches!(key, "depends_on" | "provider"),
            Context::Lifecycle => matches!(key, "ignore_changes" | "replace_triggered_by"),
            Context::Module => matches!(key, "depends_on" | "providers"),
            Context::Moved => matches!(key, "from" | "to"),
            Context::Import => matches!(key, "to" | "provider"),
            Context::Removed => matches!(key, "from"),
            Context::Variable => key == "type",
            Context::Output => key == "depends_on",
            Context::Terraform | Context::Other => false,
        }
    }

    fn nested(self, block: &str) -> Context {
        match (self, block) {
            (Context::Resource | Context::Removed, "lifecycle") => Context::Lifecycle,
            (Context::Terraform, _) => Context::Terraform,
            _ => Context::Other,
        }
    }
}

fn add_hcl(config: &mut Config, file: &Path, text: &str) -> Result<(), ConvertError> {
    let mut line_starts = vec![0];
    line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    let hcl = Hcl { file, line_starts };
    let body = hcl_edit::parser::parse_body(text).map_err(|e| ConvertError::Hcl {
        location: Location {
            file: file.to_path_buf(),
            line: e.location().line(),
        },
        message: format!(
            "{} (column {}): {}",
            e.message(),
            e.location().column(),
            e.line().trim_end()
        ),
    })?;
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attr) => {
                return Err(ConvertError::Invalid {
                    location: hcl.location(attr.span()),
                    construct: format!("argument `{}`", attr.key.as_str()),
                    message: "arguments are not allowed at the top level of a configuration".into(),
                });
            }
            Structure::Block(block) => add_hcl_block(config, &hcl, block)?,
        }
    }
    Ok(())
}

fn label(l: &BlockLabel) -> String {
    match l {
        BlockLabel::Ident(i) => i.as_str().to_string(),
        BlockLabel::String(s) => s.as_str().to_string(),
    }
}

fn add_hcl_block(
    config: &mut Config,
    hcl: &Hcl<'_>,
    block: &hcl_edit::structure::Block,
) -> Result<(), ConvertError> {
    let kind = block.ident.as_str();
    let labels: Vec<String> = block.labels.iter().map(label).collect();
    let location = hcl.location(block.span());
    let want = |n: usize| -> Result<(), ConvertError> {
        if labels.len() == n {
            Ok(())
        } else {
            Err(ConvertError::Invalid {
                location: location.clone(),
                construct: format!("{kind} block"),
                message: format!("takes {n} label(s), has {}", labels.len()),
            })
        }
    };
    let named = |ctx: Context| -> Result<Block, ConvertError> {
        Ok(Block {
            name: labels.first().cloned().unwrap_or_default(),
            body: Value::Object(body_json(hcl, &block.body, ctx)?),
            location: location.clone(),
        })
    };
    match kind {
        "resource" | "data" => {
            want(2)?;
            let element = Element {
                type_name: labels[0].clone(),
                name: labels[1].clone(),
                body: body_json(hcl, &block.body, Context::Resource)?,
                location: location.clone(),
            };
            if kind == "resource" {
                config.resources.push(element);
            } else {
                config.data.push(element);
            }
        }
        "variable" => {
            want(1)?;
            config.variables.push(named(Context::Variable)?);
        }
        "output" => {
            want(1)?;
            config.outputs.push(named(Context::Output)?);
        }
        "provider" => {
            want(1)?;
            config.providers.push(named(Context::Other)?);
        }
        "module" => {
            want(1)?;
            config.modules.push(named(Context::Module)?);
        }
        "check" => {
            want(1)?;
            config.checks.push(named(Context::Other)?);
        }
        "terraform" => {
            want(0)?;
            config.terraform.push(named(Context::Terraform)?);
        }
        "moved" => {
            want(0)?;
            config.moved.push(named(Context::Moved)?);
        }
        "import" => {
            want(0)?;
            config.imports.push(named(Context::Import)?);
        }
        "removed" => {
            want(0)?;
            config.removed.push(named(Context::Removed)?);
        }
        "locals" => {
            want(0)?;
            for structure in block.body.iter() {
                match structure {
                    Structure::Attribute(attr) => config.locals.push(Block {
                        name: attr.key.as_str().to_string(),
                        body: expr_json(&attr.value, Mode::Value),
                        location: hcl.location(attr.span()),
                    }),
                    Structure::Block(b) => {
                        return Err(ConvertError::Invalid {
                            location: hcl.location(b.span()),
                            construct: "locals".into(),
                            message: format!(
                                "blocks are not allowed in locals (`{}`)",
                                b.ident.as_str()
                            ),
                        });
                    }
                }
            }
        }
        _ => {
            let mut body = Value::Object(body_json(hcl, &block.body, Context::Other)?);
            for l in labels.iter().rev() {
                let mut m = Map::new();
                m.insert(l.clone(), body);
                body = Value::Object(m);
            }
            config.other.push((
                kind.to_string(),
                Block {
                    name: kind.to_string(),
                    body,
                    location,
                },
            ));
        }
    }
    Ok(())
}

/// A body in Terraform JSON: arguments as values (or bare references where `ctx` says so),
/// nested blocks as arrays of bodies under their type (labelled ones under their labels;
/// provisioners as an ordered array of `{type: body}`).
fn body_json(hcl: &Hcl<'_>, body: &Body, ctx: Context) -> Result<Map<String, Value>, ConvertError> {
    let mut out = Map::new();
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attr) => {
                let key = attr.key.as_str();
                let mode = if ctx.bare(key) {
                    Mode::Bare
                } else {
                    Mode::Value
                };
                out.insert(key.to_string(), expr_json(&attr.value, mode));
            }
            Structure::Block(block) => {
                let kind = block.ident.as_str();
                let inner_ctx = match (ctx, kind) {
                    // A check's scoped data source is a data source.
                    (Context::Other, "data") => Context::Resource,
                    _ => ctx.nested(kind),
                };
                let labels: Vec<String> = block.labels.iter().map(label).collect();
                let inner = Value::Object(body_json(hcl, &block.body, inner_ctx)?);
                match labels.as_slice() {
                    // Blocks Terraform allows once are objects in its JSON syntax.
                    [] if inner_ctx == Context::Lifecycle
                        || ctx == Context::Terraform
                        || kind == "connection" =>
                    {
                        out.insert(kind.to_string(), inner);
                    }
                    [l] if ctx == Context::Terraform => {
                        let slot = out
                            .entry(kind.to_string())
                            .or_insert_with(|| Value::Object(Map::new()));
                        if let Value::Object(by_label) = slot {
                            by_label.insert(l.clone(), inner);
                        }
                    }
                    [] => push(&mut out, kind, inner),
                    [l] if kind == "provisioner" => {
                        let mut m = Map::new();
                        m.insert(l.clone(), inner);
                        push(&mut out, kind, Value::Object(m));
                    }
                    [first, rest @ ..] => {
                        let mut value = inner;
                        for l in rest.iter().rev() {
                            let mut m = Map::new();
                            m.insert(l.clone(), value);
                            value = Value::Object(m);
                        }
                        let slot = out
                            .entry(kind.to_string())
                            .or_insert_with(|| Value::Object(Map::new()));
                        match slot {
                            Value::Object(by_label) => push(by_label, first, value),
                            _ => {
                                return Err(ConvertError::Invalid {
                                    location: hcl.location(block.span()),
                                    construct: format!("{kind} block"),
                                    message: format!("`{kind}` is both an argument and a block"),
                                });
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

fn push(map: &mut Map<String, Value>, key: &str, value: Value) {
    match map.get_mut(key) {
        Some(Value::Array(items)) => items.push(value),
        _ => {
            map.insert(key.to_string(), Value::Array(vec![value]));
        }
    }
}

/// The HCL text of an expression, on one line where it can be (formatted by `hcl-rs`).
pub(crate) fn expr_text(expr: &Expression) -> String {
    use hcl::format::Format as _;
    let converted = hcl::Expression::from(expr.clone());
    let mut formatter = hcl::format::Formatter::builder().compact(true).build_vec();
    converted
        .format_string(&mut formatter)
        .unwrap_or_else(|_| expr.to_string().trim().to_string())
}

/// An expression in Terraform JSON.
fn expr_json(expr: &Expression, mode: Mode) -> Value {
    match (expr, mode) {
        (Expression::Null(_), _) => Value::Null,
        (Expression::Bool(b), _) => Value::Bool(*b.value()),
        (Expression::Number(n), _) => number_json(n.value()),
        (Expression::String(s), Mode::Value) => {
            Value::String(callflow_dsl::escape_literal(s.value()))
        }
        (Expression::String(s), Mode::Bare) => Value::String(s.value().clone()),
        (Expression::Array(items), _) => {
            Value::Array(items.iter().map(|e| expr_json(e, mode)).collect())
        }
        (Expression::Object(object), _) => {
            let mut out = Map::new();
            for (key, value) in object.iter() {
                let k = match key {
                    ObjectKey::Ident(i) => i.as_str().to_string(),
                    ObjectKey::Expression(Expression::String(s)) => s.value().clone(),
                    // A bare word as a key is the string of that word.
                    ObjectKey::Expression(Expression::Variable(v)) => v.as_str().to_string(),
                    ObjectKey::Expression(_) => return interpolation(expr, mode),
                };
                out.insert(k, expr_json(value.expr(), mode));
            }
            Value::Object(out)
        }
        (Expression::StringTemplate(t), Mode::Value) => {
            let mut s = String::new();
            template_text(t, &mut s);
            Value::String(s)
        }
        (Expression::HeredocTemplate(h), Mode::Value) => {
            let mut h = (**h).clone();
            if h.indent().is_some() {
                h.dedent();
            }
            let mut s = String::new();
            template_text(&h.template, &mut s);
            Value::String(s)
        }
        (Expression::Parenthesis(p), Mode::Bare) => expr_json(p.inner(), mode),
        _ => interpolation(expr, mode),
    }
}

fn interpolation(expr: &Expression, mode: Mode) -> Value {
    match mode {
        Mode::Value => Value::String(format!("${{{}}}", expr_text(expr))),
        Mode::Bare => Value::String(expr_text(expr)),
    }
}

fn number_json(n: &hcl_edit::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::from(i)
    } else if let Some(u) = n.as_u64() {
        Value::from(u)
    } else {
        n.as_f64().map_or(Value::Null, Value::from)
    }
}

/// A template in Terraform JSON's string form: literal text escaped, interpolations and
/// directives written out.
fn template_text(template: &Template, out: &mut String) {
    for element in template.iter() {
        match element {
            TemplateElement::Literal(s) => out.push_str(&callflow_dsl::escape_literal(s.value())),
            TemplateElement::Interpolation(i) => {
                out.push_str("${");
                out.push_str(&expr_text(&i.expr));
                out.push('}');
            }
            TemplateElement::Directive(d) => match &**d {
                Directive::If(d) => {
                    out.push_str("%{ if ");
                    out.push_str(&expr_text(&d.if_expr.cond_expr));
                    out.push_str(" }");
                    template_text(&d.if_expr.template, out);
                    if let Some(e) = &d.else_expr {
                        out.push_str("%{ else }");
                        template_text(&e.template, out);
                    }
                    out.push_str("%{ endif }");
                }
                Directive::For(d) => {
                    out.push_str("%{ for ");
                    if let Some(k) = &d.for_expr.key_var {
                        out.push_str(k.as_str());
                        out.push_str(", ");
                    }
                    out.push_str(d.for_expr.value_var.as_str());
                    out.push_str(" in ");
                    out.push_str(&expr_text(&d.for_expr.collection_expr));
                    out.push_str(" }");
                    template_text(&d.for_expr.template, out);
                    out.push_str("%{ endfor }");
                }
            },
        }
    }
}
