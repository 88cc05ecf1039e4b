//! `src/main.rs` of the converted package: the stack as a person would write it on the DSL and
//! the generated bindings.
//!
//! - one `stack.resource("name", Type::new(required...).set_x(...))` per resource (and
//!   `stack.data` per data source), in dependency order, bound to a `let` when something reads
//!   it later;
//! - a reference to another element's attribute is a typed reference through its handle
//!   (`bucket.arn()`); `var.x` and `local.y` are the values `stack.variable` / `stack.local`
//!   returned; every other expression stays a Terraform expression (`Tf::expr(Expression::raw(..))`,
//!   `Tf::from_rendered(..)`);
//! - what has no typed form goes through the DSL's escape hatches, and is listed as a [`Gap`]:
//!   `Stack::add_override` on a resource, or a statement on the synthesized document in `main`
//!   (modules, `moved`/`import`/`removed`/`check` blocks, data-source meta-arguments, ...).
//!
//! The seam for typed forms that land later (iteration, typed backends, lifecycle conditions,
//! `moved`...) is [`Emitter::resource_meta`] and [`Emitter::top_level`]: each construct is
//! matched there by name and either emitted typed or handed to [`Emitter::raw_resource`] /
//! [`Emitter::raw_doc`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use callflow_dsl::{Reference, TemplatePart, Tf, references_in};
use serde_json::{Map, Value};

use crate::api::{Api, RType, Struct, TopType};
use crate::error::{ConvertError, Gap, Handling};
use crate::ir::{Block, Config, Element, Location, SourceKind};
use crate::rust::{json_lit, json_width, number_lit, snake_ident, str_lit};

/// What emitting produced.
pub struct Emitted {
    /// The text of `src/main.rs` (before rustfmt).
    pub main_rs: String,
    /// Constructs without a typed form.
    pub gaps: Vec<Gap>,
    /// The document the program synthesizes (the input, with single blocks written as HCL
    /// gives them, as arrays of one, turned into objects).
    pub expected: Value,
}

/// Which kind of element a handle is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Resource,
    Data,
}

struct Handle {
    var: String,
    top: Option<TopType>,
}

struct Emitter<'a> {
    api: &'a Api,
    gaps: Vec<Gap>,
    /// `use` paths of binding types: (crate, module) → names.
    uses: BTreeMap<(String, String), BTreeSet<String>>,
    /// Names imported from `callflow_dsl`.
    dsl: BTreeSet<&'static str>,
    /// Handles by address (`aws_s3_bucket.b`, `data.aws_region.r`, `var.x`, `local.y`).
    handles: BTreeMap<String, Handle>,
    /// Handle variables read after their declaration.
    used: BTreeSet<String>,
    /// Statements of `build()`; `{let:VAR}` marks where a binding goes if `VAR` is used.
    body: String,
    /// Statements on the synthesized document.
    patches: String,
    /// Whether `json!` is used, and the widest literal.
    json_width: Option<usize>,
    /// The top type of the element being emitted (structs resolve in its module).
    current: Option<TopType>,
    /// Handle variables of elements with `count` / `for_each` (no attributes of their own).
    repeated: BTreeSet<String>,
}

/// Emits the program for `config` on the bindings described by `api`; `dsl_comment` is the
/// root comment the DSL writes (an input with another one gets it back through a patch).
pub fn emit(config: &Config, api: &Api, dsl_comment: &Value) -> Result<Emitted, ConvertError> {
    let mut config = config.clone();
    if config.source == SourceKind::Directory {
        normalize_single_blocks(&mut config, api);
    }
    check_references(&config)?;
    let mut e = Emitter {
        api,
        gaps: Vec::new(),
        uses: BTreeMap::new(),
        dsl: BTreeSet::new(),
        handles: BTreeMap::new(),
        used: BTreeSet::new(),
        body: String::new(),
        patches: String::new(),
        json_width: None,
        current: None,
        repeated: BTreeSet::new(),
    };
    e.dsl.insert("Stack");
    e.name_handles(&config);
    e.top_level(&config, dsl_comment);
    for v in &config.variables {
        e.variable(v);
    }
    for l in &config.locals {
        e.local(l);
    }
    for (kind, element) in dependency_order(&config) {
        e.element(kind, element);
    }
    e.refactors(&config);
    for c in &config.checks {
        e.check(c);
    }
    for o in &config.outputs {
        e.output(o);
    }
    let main_rs = e.finish(&config);
    let mut gaps = e.gaps;
    gaps.sort();
    Ok(Emitted {
        main_rs,
        gaps,
        expected: config.to_json(),
    })
}

/// HCL writes every nested block as an array; a block the schema nests as a single object is
/// written as one by the bindings (Terraform reads both the same).
fn normalize_single_blocks(config: &mut Config, api: &Api) {
    fn walk(api: &Api, top: &TopType, name: &str, body: &mut Map<String, Value>) {
        let Some(st) = api.struct_of(top, name) else {
            return;
        };
        for (key, value) in body.iter_mut() {
            let Some(field) = st.fields.get(key) else {
                continue;
            };
            match (field.ty.unoptional(), &mut *value) {
                (RType::Struct(inner), Value::Array(items)) if items.len() == 1 => {
                    if let Some(Value::Object(mut obj)) = items.pop() {
                        walk(api, top, inner, &mut obj);
                        *value = Value::Object(obj);
                    }
                }
                (RType::Vec(inner), Value::Array(items)) => {
                    if let RType::Struct(inner) = &**inner {
                        for item in items {
                            if let Value::Object(obj) = item {
                                walk(api, top, inner, obj);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    for e in &mut config.resources {
        if let Some(top) = api.resources.get(&e.type_name) {
            let top = top.clone();
            walk(api, &top, &top.name.clone(), &mut e.body);
        }
    }
    for e in &mut config.data {
        if let Some(top) = api.data_sources.get(&e.type_name) {
            let top = top.clone();
            walk(api, &top, &top.name.clone(), &mut e.body);
        }
    }
}

/// Every reference must name something the configuration declares (else the converted program
/// would fail its synth check, far from the input line).
fn check_references(config: &Config) -> Result<(), ConvertError> {
    let resources: BTreeSet<(&str, &str)> = config
        .resources
        .iter()
        .map(|e| (e.type_name.as_str(), e.name.as_str()))
        .collect();
    let data: BTreeSet<(&str, &str)> = config
        .data
        .iter()
        .map(|e| (e.type_name.as_str(), e.name.as_str()))
        .collect();
    let vars: BTreeSet<&str> = config.variables.iter().map(|b| b.name.as_str()).collect();
    let locals: BTreeSet<&str> = config.locals.iter().map(|b| b.name.as_str()).collect();
    let check = |value: &Value, location: &Location, what: &str| -> Result<(), ConvertError> {
        let mut bad = None;
        callflow_dsl::visit_strings(value, "", &mut |_, s| {
            for r in references_in(s) {
                let ok = match &r {
                    Reference::Resource { kind, name, .. } => {
                        resources.contains(&(kind.as_str(), name.as_str()))
                    }
                    Reference::Data { kind, name, .. } => {
                        data.contains(&(kind.as_str(), name.as_str()))
                    }
                    Reference::Variable(n) => vars.contains(n.as_str()),
                    Reference::Local(n) => locals.contains(n.as_str()),
                };
                if !ok && bad.is_none() {
                    bad = Some(r.to_string());
                }
            }
        });
        match bad {
            Some(r) => Err(ConvertError::Invalid {
                location: location.clone(),
                construct: what.to_string(),
                message: format!("reference `{r}` names nothing this configuration declares"),
            }),
            None => Ok(()),
        }
    };
    for e in config.resources.iter().chain(&config.data) {
        check(
            &Value::Object(e.body.clone()),
            &e.location,
            &format!("{}.{}", e.type_name, e.name),
        )?;
    }
    for (kind, blocks) in [
        ("local", &config.locals),
        ("output", &config.outputs),
        ("provider", &config.providers),
    ] {
        for b in blocks {
            check(&b.body, &b.location, &format!("{kind}.{}", b.name))?;
        }
    }
    Ok(())
}

/// The elements references point at, by address.
fn depends(body: &Map<String, Value>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    callflow_dsl::visit_strings(&Value::Object(body.clone()), "", &mut |_, s| {
        for r in references_in(s) {
            match r {
                Reference::Resource { kind, name, .. } => {
                    out.insert(format!("{kind}.{name}"));
                }
                Reference::Data { kind, name, .. } => {
                    out.insert(format!("data.{kind}.{name}"));
                }
                _ => {}
            }
        }
    });
    if let Some(Value::Array(deps)) = body.get("depends_on") {
        out.extend(deps.iter().filter_map(Value::as_str).map(str::to_string));
    }
    out
}

fn address(kind: Kind, e: &Element) -> String {
    match kind {
        Kind::Resource => format!("{}.{}", e.type_name, e.name),
        Kind::Data => format!("data.{}.{}", e.type_name, e.name),
    }
}

/// Data sources and resources, each after what it references (input order otherwise: data
/// sources first, then resources, each in source order).
fn dependency_order(config: &Config) -> Vec<(Kind, &Element)> {
    let all: Vec<(Kind, &Element)> = config
        .data
        .iter()
        .map(|e| (Kind::Data, e))
        .chain(config.resources.iter().map(|e| (Kind::Resource, e)))
        .collect();
    let index: BTreeMap<String, usize> = all
        .iter()
        .enumerate()
        .map(|(i, (k, e))| (address(*k, e), i))
        .collect();
    let deps: Vec<BTreeSet<usize>> = all
        .iter()
        .enumerate()
        .map(|(i, (_, e))| {
            depends(&e.body)
                .iter()
                .filter_map(|a| index.get(a).copied())
                .filter(|&j| j != i)
                .collect()
        })
        .collect();
    let mut done = vec![false; all.len()];
    let mut out = Vec::with_capacity(all.len());
    while out.len() < all.len() {
        // The first element (in input order) whose dependencies are all placed; a cycle
        // (which Terraform rejects) falls back to input order.
        let next = (0..all.len())
            .find(|&i| !done[i] && deps[i].iter().all(|&j| done[j]))
            .or_else(|| (0..all.len()).find(|&i| !done[i]));
        let Some(i) = next else { break };
        done[i] = true;
        out.push(all[i]);
    }
    out
}

/// `[("k", v)]` entries of an object.
fn entries(v: &Value) -> Option<&Map<String, Value>> {
    v.as_object()
}

impl Emitter<'_> {
    fn gap(&mut self, location: &Location, construct: String, reason: impl Into<String>) {
        self.gaps.push(Gap {
            location: location.clone(),
            construct,
            reason: reason.into(),
            handling: Handling::Raw,
        });
    }

    fn json(&mut self, v: &Value) -> String {
        let w = json_width(v);
        self.json_width = Some(self.json_width.map_or(w, |x| x.max(w)));
        json_lit(v)
    }

    fn use_dsl(&mut self, name: &'static str) -> &'static str {
        self.dsl.insert(name);
        name
    }

    /// Names the Rust variables of every handle: the Terraform name in snake case, qualified
    /// by its kind where two would collide.
    fn name_handles(&mut self, config: &Config) {
        let mut candidates: Vec<(String, String, String, Option<TopType>)> = Vec::new();
        for v in &config.variables {
            candidates.push((
                format!("var.{}", v.name),
                snake_ident(&v.name),
                "var".into(),
                None,
            ));
        }
        for l in &config.locals {
            candidates.push((
                format!("local.{}", l.name),
                snake_ident(&l.name),
                "local".into(),
                None,
            ));
        }
        for (kind, list, table) in [
            (Kind::Data, &config.data, &self.api.data_sources),
            (Kind::Resource, &config.resources, &self.api.resources),
        ] {
            for e in list {
                let bare = e
                    .type_name
                    .split_once('_')
                    .map_or(e.type_name.as_str(), |(_, b)| b);
                let qualifier = match kind {
                    Kind::Resource => snake_ident(bare),
                    Kind::Data => format!("{}_data", snake_ident(bare)),
                };
                candidates.push((
                    address(kind, e),
                    snake_ident(&e.name),
                    qualifier,
                    table.get(&e.type_name).cloned(),
                ));
            }
        }
        let mut count: BTreeMap<String, usize> = BTreeMap::new();
        for (_, base, _, _) in &candidates {
            *count.entry(base.clone()).or_default() += 1;
        }
        let reserved = ["stack", "doc", "out", "main", "build", "json"];
        let mut taken: BTreeSet<String> = reserved.iter().map(|s| s.to_string()).collect();
        for (address, base, qualifier, top) in candidates {
            let mut var = if count[&base] > 1 || reserved.contains(&base.as_str()) {
                format!("{}_{qualifier}", base.trim_end_matches('_'))
            } else {
                base
            };
            let stem = var.clone();
            let mut i = 2;
            while taken.contains(&var) {
                var = format!("{stem}_{i}");
                i += 1;
            }
            taken.insert(var.clone());
            self.handles.insert(address, Handle { var, top });
        }
    }

    /// The `terraform` block, providers, the root comment and the top-level blocks the DSL has
    /// no typed form for (modules, `moved`, `import`, `removed`, `check`, anything else).
    fn top_level(&mut self, config: &Config, dsl_comment: &Value) {
        let terraform = config.terraform_block();
        let tf_location = config
            .terraform
            .first()
            .map(|b| b.location.clone())
            .unwrap_or_else(|| Location {
                file: config
                    .resources
                    .first()
                    .map(|e| e.location.file.clone())
                    .unwrap_or_default(),
                line: 1,
            });
        let mut backend_done = false;
        for (key, value) in &terraform {
            match key.as_str() {
                "required_providers" => {
                    for (name, req) in entries(value).into_iter().flatten() {
                        let source = req.get("source").and_then(Value::as_str);
                        let version = req.get("version").and_then(Value::as_str);
                        match (source, version, req.as_object().map(Map::len)) {
                            (Some(source), Some(version), Some(2)) => {
                                self.use_dsl("RequiredProvider");
                                let _ = writeln!(
                                    self.body,
                                    "stack.require_provider({}, RequiredProvider {{ source: {}.into(), version: {}.into() }});",
                                    str_lit(name),
                                    str_lit(source),
                                    str_lit(version)
                                );
                            }
                            _ => {
                                self.gap(
                                    &tf_location,
                                    format!("terraform.required_providers.{name}"),
                                    "the DSL's RequiredProvider is exactly a source and a version",
                                );
                                let j = self.json(req);
                                let _ = writeln!(
                                    self.patches,
                                    "doc[\"terraform\"][\"required_providers\"][{}] = {j};",
                                    str_lit(name)
                                );
                            }
                        }
                    }
                }
                "required_version" if value.is_string() => {
                    let _ = writeln!(
                        self.body,
                        "stack.required_version({});",
                        str_lit(value.as_str().unwrap_or_default())
                    );
                }
                "backend" => {
                    backend_done = true;
                    self.backend(value, &tf_location);
                }
                _ => {
                    self.gap(
                        &tf_location,
                        format!("terraform.{key}"),
                        "no typed form in the DSL yet",
                    );
                    let j = self.json(value);
                    let _ = writeln!(self.patches, "doc[\"terraform\"][{}] = {j};", str_lit(key));
                }
            }
        }
        if !backend_done && config.source == SourceKind::Directory {
            self.gap(
                &tf_location,
                "terraform.backend".into(),
                "the configuration has no backend; the DSL always writes one, so the program removes it (Terraform's default local state)",
            );
            self.patches.push_str(
                "if let Some(terraform) = doc[\"terraform\"].as_object_mut() {\n    terraform.remove(\"backend\");\n}\n",
            );
        }
        let required: BTreeSet<String> = terraform
            .get("required_providers")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        for p in &config.providers {
            self.provider(p, required.contains(&p.name));
        }
        if let Some(comment) = &config.root_comment
            && comment != dsl_comment
        {
            let j = self.json(comment);
            let _ = writeln!(self.patches, "doc[\"//\"] = {j};");
        }
        let listed: [(&str, &[Block], &str); 1] = [("module", &config.modules, "module calls")];
        for (key, blocks, what) in listed {
            if blocks.is_empty() {
                continue;
            }
            for b in blocks {
                let construct = if b.name.is_empty() {
                    key.to_string()
                } else {
                    format!("{key}.{}", b.name)
                };
                self.gap(
                    &b.location,
                    construct,
                    format!("{what} have no typed form in the DSL yet"),
                );
            }
            let value = if matches!(key, "moved" | "import" | "removed") {
                Value::Array(blocks.iter().map(|b| b.body.clone()).collect())
            } else {
                Value::Object(
                    blocks
                        .iter()
                        .map(|b| (b.name.clone(), b.body.clone()))
                        .collect(),
                )
            };
            self.raw_doc(&format!("doc[{}]", str_lit(key)), &value);
        }
        for (key, b) in &config.other {
            self.gap(
                &b.location,
                key.clone(),
                "not a Terraform top-level block the converter knows",
            );
            self.raw_doc(&format!("doc[{}]", str_lit(key)), &b.body);
        }
    }

    /// `moved`, `import` and `removed` blocks: `Stack::moved` / `import` / `removed` on the
    /// handles when every block of a kind has that form (the DSL writes each kind as one
    /// array), else that kind raw and listed.
    fn refactors(&mut self, config: &Config) {
        let moved: Option<Vec<(String, String)>> = config
            .moved
            .iter()
            .map(|b| {
                let m = b.body.as_object().filter(|m| m.len() == 2)?;
                let from = m.get("from")?.as_str()?;
                let var = self.handles.get(m.get("to")?.as_str()?)?.var.clone();
                Some((format!("stack.moved({}, &{var});", str_lit(from)), var))
            })
            .collect();
        let removed: Option<Vec<(String, String)>> = config
            .removed
            .iter()
            .map(|b| {
                let m = b.body.as_object().filter(|m| m.len() == 2)?;
                let from = m.get("from")?.as_str()?;
                let lifecycle = m.get("lifecycle")?.as_object().filter(|l| l.len() == 1)?;
                let destroy = lifecycle.get("destroy")?.as_bool()?;
                Some((
                    format!("stack.removed({}, {destroy});", str_lit(from)),
                    String::new(),
                ))
            })
            .collect();
        let mut imports: Option<Vec<(String, String)>> = Some(Vec::new());
        for b in &config.imports {
            let one = (|| {
                let m = b.body.as_object().filter(|m| m.len() == 2)?;
                let var = self.handles.get(m.get("to")?.as_str()?)?.var.clone();
                let id = m.get("id")?.as_str()?;
                let id = if has_interpolation(id) {
                    self.string_value(id, &RType::String, true)?
                } else {
                    str_lit(&unescape(id)?)
                };
                Some((format!("stack.import(&{var}, {id});"), var))
            })();
            match (one, imports.as_mut()) {
                (Some(x), Some(list)) => list.push(x),
                _ => imports = None,
            }
        }
        for (key, blocks, typed, what) in [
            ("moved", &config.moved, moved, "`moved` blocks"),
            ("import", &config.imports, imports, "`import` blocks"),
            ("removed", &config.removed, removed, "`removed` blocks"),
        ] {
            if blocks.is_empty() {
                continue;
            }
            match typed {
                Some(lines) => {
                    for (line, var) in lines {
                        if !var.is_empty() {
                            self.used.insert(var);
                        }
                        self.body.push_str(&line);
                        self.body.push('\n');
                    }
                }
                None => {
                    for b in blocks {
                        self.gap(
                            &b.location,
                            key.to_string(),
                            format!("{what} other than a whole declared resource (an instance key, a provider, an unparsable id) stay raw"),
                        );
                    }
                    let value = Value::Array(blocks.iter().map(|b| b.body.clone()).collect());
                    self.raw_doc(&format!("doc[{}]", str_lit(key)), &value);
                }
            }
        }
    }

    /// A provider configuration: the generated configuration type through `add_provider` /
    /// `add_provider_alias` where the bindings have one, the configuration converts, and the
    /// input requires the provider (else the DSL would add a requirement the input lacks).
    fn provider(&mut self, p: &Block, required: bool) {
        let top = self.api.providers.get(&p.name).cloned();
        let alias = p
            .body
            .get("alias")
            .and_then(Value::as_str)
            .map(str::to_string);
        let typed = top.filter(|_| required).and_then(|top| {
            let mut body = p.body.as_object()?.clone();
            body.remove("alias");
            self.current = Some(top.clone());
            let value = self.struct_value(&top.name, &body);
            self.current = None;
            self.uses
                .entry((top.krate.clone(), top.module.clone()))
                .or_default()
                .insert(top.name.clone());
            value
        });
        let address = match &alias {
            Some(a) => format!("provider.{}.{a}", p.name),
            None => format!("provider.{}", p.name),
        };
        let var = match &alias {
            Some(a) => format!(
                "{}_{}",
                snake_ident(a).trim_end_matches('_'),
                snake_ident(&p.name).trim_end_matches('_')
            ),
            None => format!("{}_provider", snake_ident(&p.name).trim_end_matches('_')),
        };
        match typed {
            Some(value) => {
                self.handles.insert(
                    address,
                    Handle {
                        var: var.clone(),
                        top: None,
                    },
                );
                let call = match &alias {
                    Some(a) => format!("add_provider_alias({}, {value})", str_lit(a)),
                    None => format!("add_provider({value})"),
                };
                let _ = writeln!(self.body, "{{let:{var}}}stack.{call};");
            }
            None => {
                let reason = if self.api.providers.contains_key(&p.name) && !required {
                    "the configuration does not require the provider (terraform.required_providers); the DSL's typed provider would add the requirement, so it is written as raw JSON"
                } else {
                    "provider configuration without a typed form (no generated configuration type, or an argument it lacks); written as raw JSON"
                };
                self.gap(&p.location, format!("provider.{}", p.name), reason);
                let j = self.json(&p.body);
                let _ = writeln!(
                    self.body,
                    "#[allow(deprecated)] // raw provider configuration\nstack.provider({}, {j});",
                    str_lit(&p.name)
                );
            }
        }
    }

    fn backend(&mut self, value: &Value, location: &Location) {
        let one = entries(value)
            .filter(|m| m.len() == 1)
            .and_then(|m| m.iter().next());
        let typed = one.and_then(|(name, body)| {
            let (ty, required, bools, numbers, strings): (
                &str,
                &[&str],
                &[&str],
                &[&str],
                &[&str],
            ) = match name.as_str() {
                "local" => ("LocalBackend", &[], &[], &[], &["path", "workspace_dir"]),
                "s3" => (
                    "S3Backend",
                    &["bucket", "key"],
                    S3_BOOLS,
                    &["max_retries"],
                    S3_STRINGS,
                ),
                _ => return None,
            };
            let body = entries(body)?;
            let mut params = Vec::new();
            for r in required {
                params.push(str_lit(body.get(*r)?.as_str()?));
            }
            let mut chain = format!("{ty}::new({})", params.join(", "));
            for (k, v) in body {
                let k = k.as_str();
                if required.contains(&k) {
                    continue;
                }
                let arg = match v {
                    Value::String(s) if strings.contains(&k) => str_lit(s),
                    Value::Bool(b) if bools.contains(&k) => b.to_string(),
                    Value::Number(n) if numbers.contains(&k) => n
                        .as_u64()
                        .filter(|n| u32::try_from(*n).is_ok())?
                        .to_string(),
                    _ => return None,
                };
                let _ = write!(chain, ".{k}({arg})");
            }
            Some((ty, chain))
        });
        match typed {
            Some((ty, chain)) => {
                self.dsl.insert(if ty == "LocalBackend" {
                    "LocalBackend"
                } else {
                    "S3Backend"
                });
                let _ = writeln!(self.body, "stack.backend({chain});");
            }
            None => {
                let name = one.map_or("?", |(n, _)| n.as_str());
                self.gap(
                    location,
                    format!("terraform.backend.{name}"),
                    "the converter writes typed local and s3 backends with scalar arguments only",
                );
                let j = self.json(value);
                let _ = writeln!(self.patches, "doc[\"terraform\"][\"backend\"] = {j};");
            }
        }
    }

    /// Sets `value` at `target` (an index expression on `doc`) in `main`.
    fn raw_doc(&mut self, target: &str, value: &Value) {
        let j = self.json(value);
        let _ = writeln!(self.patches, "{target} = {j};");
    }

    fn binding(&self, address: &str) -> String {
        format!("{{let:{}}}", self.handles[address].var)
    }

    fn variable(&mut self, v: &Block) {
        let address = format!("var.{}", v.name);
        let body = entries(&v.body);
        let typed = body.and_then(|b| {
            let ty = b.get("type")?.as_str()?;
            let mut fields = vec![format!("type_constraint: {}.into()", str_lit(ty))];
            for (k, val) in b {
                match (k.as_str(), val) {
                    ("type", _) => {}
                    ("description", Value::String(d)) => {
                        fields.push(format!("description: Some({}.into())", str_lit(d)));
                    }
                    ("default", d) => fields.push(format!("default: Some({})", json_lit(d))),
                    ("sensitive", Value::Bool(true)) => fields.push("sensitive: true".into()),
                    _ => return None,
                }
            }
            Some(fields)
        });
        let let_ = self.binding(&address);
        match typed {
            Some(mut fields) => {
                if let Some(d) = body.and_then(|b| b.get("default")) {
                    self.json(d);
                }
                self.use_dsl("Variable");
                if fields.len() < 4 {
                    fields.push("..Default::default()".into());
                }
                let _ = writeln!(
                    self.body,
                    "{let_}stack.variable({}, Variable {{ {} }});",
                    str_lit(&v.name),
                    fields.join(", ")
                );
            }
            None => {
                // Declared typed (so `var.x` references check), its body replaced in `main`.
                self.use_dsl("Variable");
                let what: Vec<&str> = body
                    .map(|b| {
                        b.keys()
                            .filter(|k| {
                                !matches!(
                                    k.as_str(),
                                    "type" | "description" | "default" | "sensitive"
                                )
                            })
                            .map(String::as_str)
                            .collect()
                    })
                    .unwrap_or_default();
                let reason = if body.and_then(|b| b.get("type")).is_none() {
                    "a variable without a type constraint (the DSL always writes one)".to_string()
                } else if what.is_empty() {
                    "`sensitive = false` written out (the DSL writes only `true`)".to_string()
                } else {
                    format!(
                        "{} has no typed form in the DSL's Variable yet",
                        what.join(", ")
                    )
                };
                self.gap(&v.location, address.clone(), reason);
                let _ = writeln!(
                    self.body,
                    "{let_}stack.variable({}, Variable::default());",
                    str_lit(&v.name)
                );
                self.raw_doc(&format!("doc[\"variable\"][{}]", str_lit(&v.name)), &v.body);
            }
        }
    }

    fn local(&mut self, l: &Block) {
        let address = format!("local.{}", l.name);
        let let_ = self.binding(&address);
        let j = self.json(&l.body);
        let _ = writeln!(self.body, "{let_}stack.local({}, {j});", str_lit(&l.name));
    }

    fn output(&mut self, o: &Block) {
        let typed = entries(&o.body).and_then(|b| {
            let description = b.get("description")?.as_str()?;
            let value = b.get("value")?.as_str()?;
            let sensitive = match b.get("sensitive") {
                None => false,
                Some(Value::Bool(true)) => true,
                _ => return None,
            };
            if b.keys()
                .any(|k| !matches!(k.as_str(), "value" | "description" | "sensitive"))
            {
                return None;
            }
            Some((value.to_string(), description.to_string(), sensitive))
        });
        let typed = typed.and_then(|(value, d, s)| {
            let rust = if has_interpolation(&value) {
                self.string_value(&value, &RType::String, true)
            } else {
                unescape(&value).map(|l| format!("{}.into()", str_lit(&l)))
            };
            rust.map(|v| (v, d, s))
        });
        match typed {
            Some((value, description, sensitive)) => {
                self.use_dsl("Output");
                let _ = writeln!(
                    self.body,
                    "stack.output({}, Output {{ value: {value}, description: {}.into(), sensitive: {sensitive} }});",
                    str_lit(&o.name),
                    str_lit(&description)
                );
            }
            None => {
                self.gap(
                    &o.location,
                    format!("output.{}", o.name),
                    "the DSL's Output is a string value with a description (and `sensitive`); this one has more or other",
                );
                self.raw_doc(&format!("doc[\"output\"][{}]", str_lit(&o.name)), &o.body);
            }
        }
    }

    fn element(&mut self, kind: Kind, e: &Element) {
        let address = address(kind, e);
        let Some(top) = self.handles[&address].top.clone() else {
            // No bindings for the type (checked before emitting: only possible for types the
            // caller chose not to generate). Kept whole.
            self.gap(&e.location, address.clone(), "no bindings for this type");
            let section = if kind == Kind::Resource {
                "resource"
            } else {
                "data"
            };
            self.raw_doc(
                &format!(
                    "doc[{}][{}][{}]",
                    str_lit(section),
                    str_lit(&e.type_name),
                    str_lit(&e.name)
                ),
                &Value::Object(e.body.clone()),
            );
            return;
        };
        self.current = Some(top.clone());
        let st = self
            .api
            .struct_of(&top, &top.name)
            .cloned()
            .unwrap_or_default();
        self.uses
            .entry((top.krate.clone(), top.module.clone()))
            .or_default()
            .insert(top.name.clone());
        let var = self.handles[&address].var.clone();

        // Split the body: arguments of the type vs meta-arguments and the rest.
        let mut args: Vec<(&String, &Value)> = Vec::new();
        let mut meta: Vec<(&String, &Value)> = Vec::new();
        for (k, v) in &e.body {
            if st.fields.contains_key(k) && !is_meta(k) {
                args.push((k, v));
            } else {
                meta.push((k, v));
            }
        }
        // Required arguments: `new(...)`.
        let mut raw: Vec<(String, Value, Option<String>)> = Vec::new();
        let mut params = Vec::new();
        for p in &st.new_params {
            let field = &st.fields[p];
            let given = e.body.get(p);
            let rust = given.and_then(|v| self.value(&field.ty, v, true));
            match (rust, given) {
                (Some(r), _) => params.push(r),
                (None, given) => {
                    // A placeholder the override replaces (or deletes, when the input has none).
                    params.push(self.placeholder(&field.ty));
                    raw.push((
                        p.clone(),
                        given.cloned().unwrap_or(Value::Null),
                        Some(rust_type(&field.ty)),
                    ));
                }
            }
        }
        let mut chain = format!("{}::new({})", top.name, params.join(", "));
        for (k, v) in &args {
            if st.new_params.contains(k) {
                continue;
            }
            let field = &st.fields[*k];
            let setter = st.setters.get(*k);
            let rust = setter.and_then(|_| self.value(field.ty.unoptional(), v, true));
            match (setter, rust) {
                (Some(setter), Some(r)) => {
                    let _ = write!(chain, ".{setter}({r})");
                }
                _ => raw.push((
                    (*k).clone(),
                    (*v).clone(),
                    Some(rust_type(field.ty.unoptional())),
                )),
            }
        }
        for (k, v) in &meta {
            if !is_meta(k) && !st.fields.contains_key(*k) {
                raw.push(((*k).clone(), (*v).clone(), None));
            }
        }
        let method = if kind == Kind::Resource {
            "resource"
        } else {
            "data"
        };
        let repetition = self.repetition(e);
        match &repetition {
            Some((suffix, arg, _)) => {
                self.repeated.insert(var.clone());
                let _ = writeln!(
                    self.body,
                    "{{let:{var}}}stack.{method}_{suffix}({}, {arg}, |_| {chain});",
                    str_lit(&e.name)
                );
            }
            None => {
                let _ = writeln!(
                    self.body,
                    "{{let:{var}}}stack.{method}({}, {chain});",
                    str_lit(&e.name)
                );
            }
        }
        self.current = None;
        let typed_key = repetition.map(|(_, _, key)| key);
        for (k, v) in meta.iter().filter(|(k, _)| is_meta(k)) {
            if typed_key == Some(k.as_str()) {
                continue;
            }
            self.resource_meta(kind, e, &var, k, v);
        }
        for (k, v, ty) in raw {
            let reason = match ty {
                Some(ty) => format!("the value has no typed form as `{ty}`"),
                None => format!(
                    "`{k}` is not an argument of `{}` in the schema",
                    e.type_name
                ),
            };
            self.gap(&e.location, format!("{address}.{k}"), reason);
            if v.is_null() && !e.body.contains_key(&k) {
                // The input has no value for a required argument: the placeholder is deleted.
                self.raw_element(kind, e, &var, &k, &Value::Null);
            } else {
                self.raw_element(kind, e, &var, &k, &v);
            }
        }
    }

    /// `count` / `for_each` as the DSL's iteration (`resource_with_count`, `resource_for_each`):
    /// (method suffix, its argument, the key it replaces), when the value is a number or one
    /// expression and the element does not have both.
    fn repetition(&mut self, e: &Element) -> Option<(&'static str, String, &'static str)> {
        let single = |v: &Value| -> Option<String> {
            let s = v.as_str()?;
            match callflow_dsl::parse_template(s).as_slice() {
                [TemplatePart::Interpolation(x)]
                    if Tf::<String>::from_rendered(s).to_tf_json() == *v =>
                {
                    Some(x.as_hcl().to_string())
                }
                _ => None,
            }
        };
        match (e.body.get("count"), e.body.get("for_each")) {
            (Some(Value::Number(n)), None) if n.as_u64().is_some() => {
                Some(("with_count", number_lit(n), "count"))
            }
            (Some(v), None) => {
                let x = single(v)?;
                self.use_dsl("Tf");
                self.use_dsl("Expression");
                Some((
                    "with_count",
                    format!("Tf::expr(Expression::raw({}))", str_lit(&x)),
                    "count",
                ))
            }
            (None, Some(v)) => {
                let x = single(v)?;
                self.use_dsl("ForEach");
                self.use_dsl("Tf");
                self.use_dsl("Expression");
                self.use_dsl("Dynamic");
                Some((
                    "for_each",
                    format!(
                        "ForEach::<Tf<Dynamic>>::expression(Expression::raw({}))",
                        str_lit(&x)
                    ),
                    "for_each",
                ))
            }
            _ => None,
        }
    }

    /// A value of type `ty` that an override replaces.
    fn placeholder(&mut self, ty: &RType) -> String {
        match ty {
            RType::Tf(_) => {
                self.use_dsl("Tf");
                self.use_dsl("Expression");
                "Tf::expr(Expression::raw(\"null\"))".into()
            }
            RType::Vec(_) => "Vec::new()".into(),
            RType::Map(_) => "BTreeMap::new()".into(),
            RType::Struct(name) => {
                // A block struct with required arguments of its own: fill those too.
                let Some(top) = self.current.clone() else {
                    return "Default::default()".into();
                };
                let st = self.api.struct_of(&top, name).cloned().unwrap_or_default();
                self.uses
                    .entry((top.krate.clone(), top.module.clone()))
                    .or_default()
                    .insert(name.clone());
                let params: Vec<String> = st
                    .new_params
                    .iter()
                    .map(|p| self.placeholder(&st.fields[p].ty))
                    .collect();
                format!("{name}::new({})", params.join(", "))
            }
            _ => "Default::default()".into(),
        }
    }

    /// Meta-arguments: typed where the DSL has them (`depends_on`, `lifecycle`, `provider`, the
    /// checkov comment), else raw and listed.
    fn resource_meta(&mut self, kind: Kind, e: &Element, var: &str, key: &str, value: &Value) {
        let address = address(kind, e);
        if kind == Kind::Resource {
            let typed = match key {
                "depends_on" => self.depends_on(value),
                "lifecycle" => self.lifecycle(value),
                "//" => self.suppressions(var, value),
                "provider" => self.use_provider(var, value, "use_provider"),
                _ => None,
            };
            if let Some(call) = typed {
                self.used.insert(var.to_string());
                if key == "//" {
                    self.body.push_str(&call);
                } else if key == "depends_on" || key == "lifecycle" {
                    let _ = writeln!(self.body, "stack.{}", call.replace("{var}", var));
                } else {
                    let _ = writeln!(self.body, "stack.{call};");
                }
                return;
            }
        }
        if key == "//" {
            // A comment (cdktf's construct metadata): Terraform ignores it; kept as written.
            self.raw_element(kind, e, var, key, value);
            return;
        }
        let reason = match key {
            "count" | "for_each" => "iteration other than a number or one expression (a literal collection, or both count and for_each)".to_string(),
            "dynamic" => "`dynamic` blocks have no typed form in the DSL yet".to_string(),
            "lifecycle" => "lifecycle beyond create_before_destroy / prevent_destroy / ignore_changes (conditions, replace_triggered_by) has no typed form yet".to_string(),
            "provisioner" | "connection" => "provisioners have no typed form in the DSL".to_string(),
            "provider" if kind == Kind::Data => "`provider` on a data source is written raw (the DSL's typed form for data sources is changing)".to_string(),
            "provider" => "the provider configuration it names was not declared typed (see its own entry), or the element has count / for_each".to_string(),
            "depends_on" if kind == Kind::Resource => {
                "depends_on naming other than resources and data sources, or unsorted (the DSL writes them sorted)".to_string()
            }
            _ if kind == Kind::Data => format!("`{key}` on a data source has no typed form in the DSL yet"),
            _ => format!("`{key}` has no typed form in the DSL yet"),
        };
        self.gap(&e.location, format!("{address}: {key}"), reason);
        self.raw_element(kind, e, var, key, value);
    }

    /// `provider = aws.west` → `stack.use_provider(&h, &west_aws)` when that configuration was
    /// declared typed.
    fn use_provider(&mut self, var: &str, value: &Value, method: &str) -> Option<String> {
        if self.repeated.contains(var) {
            // `use_provider` takes a repeated element's handle only in newer DSLs.
            return None;
        }
        let reference = value.as_str()?;
        let handle = self.handles.get(&format!("provider.{reference}"))?;
        let provider = handle.var.clone();
        self.used.insert(provider.clone());
        Some(format!("{method}(&{var}, &{provider})"))
    }

    fn depends_on(&mut self, value: &Value) -> Option<String> {
        let items: Vec<&str> = value
            .as_array()?
            .iter()
            .map(Value::as_str)
            .collect::<Option<_>>()?;
        let mut sorted = items.clone();
        sorted.sort();
        sorted.dedup();
        if sorted != items || items.is_empty() {
            return None;
        }
        let mut parts = Vec::new();
        for item in &items {
            let handle = self.handles.get(*item)?;
            self.used.insert(handle.var.clone());
            parts.push(format!("&{}", handle.var));
        }
        Some(format!("depends_on(&{{var}}, &[{}]);", parts.join(", ")))
    }

    fn lifecycle(&mut self, value: &Value) -> Option<String> {
        let map = value.as_object()?;
        let mut fields = Vec::new();
        for (k, v) in map {
            match (k.as_str(), v) {
                ("create_before_destroy", Value::Bool(true)) => {
                    fields.push("create_before_destroy: true".to_string())
                }
                ("prevent_destroy", Value::Bool(true)) => {
                    fields.push("prevent_destroy: true".to_string())
                }
                ("ignore_changes", Value::Array(items)) if !items.is_empty() => {
                    let names: Vec<String> = items
                        .iter()
                        .map(|i| i.as_str().map(|s| format!("{}.into()", str_lit(s))))
                        .collect::<Option<_>>()?;
                    fields.push(format!("ignore_changes: vec![{}]", names.join(", ")));
                }
                ("precondition" | "postcondition", Value::Array(items)) if !items.is_empty() => {
                    let conditions: Vec<String> = items
                        .iter()
                        .map(|c| self.condition(c, "Condition::new"))
                        .collect::<Option<_>>()?;
                    self.use_dsl("Condition");
                    fields.push(format!("{k}: vec![{}]", conditions.join(", ")));
                }
                _ => return None,
            }
        }
        if fields.is_empty() {
            return None;
        }
        self.use_dsl("Lifecycle");
        // Lifecycle has more fields (replace_triggered_by, pre/postconditions) than these.
        fields.push("..Default::default()".into());
        Some(format!(
            "lifecycle(&{{var}}, Lifecycle {{ {} }});",
            fields.join(", ")
        ))
    }

    /// `{"condition": "${expr}", "error_message": "..."}` → `func(Tf::expr(..), message)`.
    fn condition(&mut self, v: &Value, func: &str) -> Option<String> {
        let m = v.as_object().filter(|m| m.len() == 2)?;
        let condition = m.get("condition")?;
        let condition = self.tf_value(&RType::Bool, condition, false)?;
        let message = m.get("error_message")?.as_str()?;
        let message = if has_interpolation(message) {
            self.string_value(message, &RType::String, true)?
        } else {
            str_lit(&unescape(message)?)
        };
        Some(format!("{func}({condition}, {message})"))
    }

    /// `check "name" { assert {...} }` → `stack.check("name", |c| { c.assert(..); })`; a check
    /// with a scoped data source (or anything else) is set raw on the document and listed.
    fn check(&mut self, b: &Block) {
        let asserts: Option<Vec<String>> = b
            .body
            .as_object()
            .filter(|m| m.len() == 1)
            .and_then(|m| m.get("assert")?.as_array())
            .filter(|a| !a.is_empty())
            .and_then(|a| a.iter().map(|c| self.condition(c, "c.assert")).collect());
        match asserts {
            Some(asserts) => {
                let _ = writeln!(
                    self.body,
                    "stack.check({}, |c| {{\n{}\n}});",
                    str_lit(&b.name),
                    asserts
                        .iter()
                        .map(|a| format!("{a};"))
                        .collect::<Vec<_>>()
                        .join("\n")
                );
            }
            None => {
                self.gap(
                    &b.location,
                    format!("check.{}", b.name),
                    "a check with a scoped data source (or other than assertions) is set raw",
                );
                self.raw_doc(&format!("doc[\"check\"][{}]", str_lit(&b.name)), &b.body);
            }
        }
    }

    /// `"//": ["checkov:skip=ID:reason", ...]` → `stack.suppress_check(...)` per line.
    fn suppressions(&mut self, var: &str, value: &Value) -> Option<String> {
        let mut out = String::new();
        let mut seen = BTreeSet::new();
        for item in value.as_array()? {
            let rest = item.as_str()?.strip_prefix("checkov:skip=")?;
            let (id, reason) = rest.split_once(':')?;
            if !seen.insert(id) {
                return None;
            }
            let _ = writeln!(
                out,
                "stack.suppress_check(&{var}, {}, {});",
                str_lit(id),
                str_lit(reason)
            );
        }
        // The DSL writes them sorted by check id.
        let ids: Vec<&&str> = seen.iter().collect();
        let given: Vec<&str> = value
            .as_array()?
            .iter()
            .filter_map(|i| {
                i.as_str()?
                    .strip_prefix("checkov:skip=")?
                    .split_once(':')
                    .map(|(a, _)| a)
            })
            .collect();
        if ids.iter().map(|s| **s).ne(given.iter().copied()) {
            return None;
        }
        Some(out)
    }

    /// The raw escape hatch for one key of an element: `add_override` on a resource, the
    /// document in `main` for a data source.
    fn raw_element(&mut self, kind: Kind, e: &Element, var: &str, key: &str, value: &Value) {
        match kind {
            Kind::Resource => {
                self.used.insert(var.to_string());
                let j = if value.is_null() {
                    self.json_width.get_or_insert(0);
                    "serde_json::Value::Null".to_string()
                } else {
                    self.json(value)
                };
                let _ = writeln!(
                    self.body,
                    "stack.add_override(&{var}, {}, {j});",
                    str_lit(key)
                );
            }
            Kind::Data => {
                let target = format!(
                    "doc[\"data\"][{}][{}][{}]",
                    str_lit(&e.type_name),
                    str_lit(&e.name),
                    str_lit(key)
                );
                if value.is_null() {
                    let _ = writeln!(
                        self.patches,
                        "if let Some(body) = doc[\"data\"][{}][{}].as_object_mut() {{\n    body.remove({});\n}}",
                        str_lit(&e.type_name),
                        str_lit(&e.name),
                        str_lit(key)
                    );
                } else {
                    self.raw_doc(&target, value);
                }
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Values

    /// A Rust expression whose value serializes to `v` as type `ty` (with `into`: anything the
    /// setter's `impl Into<ty>` accepts, for shorter literals); `None` when there is none.
    fn value(&mut self, ty: &RType, v: &Value, into: bool) -> Option<String> {
        match ty {
            RType::Tf(inner) => self.tf_value(inner, v, into),
            RType::Struct(name) => match v {
                Value::Object(obj) => self.struct_value(name, obj),
                _ => None,
            },
            RType::Vec(inner) => match v {
                Value::Array(items) => {
                    let parts: Vec<String> = items
                        .iter()
                        .map(|i| self.value(inner, i, false))
                        .collect::<Option<_>>()?;
                    Some(if parts.is_empty() {
                        format!("Vec::<{}>::new()", self.type_in_code(inner))
                    } else {
                        format!("vec![{}]", parts.join(", "))
                    })
                }
                _ => None,
            },
            RType::Map(inner) => match v {
                Value::Object(obj) => self.map_value(inner, obj),
                _ => None,
            },
            _ => None,
        }
    }

    /// [`rust_type`] for code: imports what it names.
    fn type_in_code(&mut self, ty: &RType) -> String {
        match ty {
            RType::Tf(t) => {
                self.use_dsl("Tf");
                self.type_in_code(t);
            }
            RType::Number => {
                self.use_dsl("Number");
            }
            RType::Vec(t) | RType::Map(t) | RType::Option(t) => {
                self.type_in_code(t);
            }
            RType::Tuple(items) => {
                for t in items {
                    self.type_in_code(t);
                }
            }
            RType::Struct(name) => {
                if let Some(top) = self.current.clone() {
                    self.uses
                        .entry((top.krate.clone(), top.module.clone()))
                        .or_default()
                        .insert(name.clone());
                }
            }
            _ => {}
        }
        rust_type(ty)
    }

    fn map_value(&mut self, inner: &RType, obj: &Map<String, Value>) -> Option<String> {
        let parts: Vec<String> = obj
            .iter()
            .map(|(k, v)| {
                self.value(inner, v, false)
                    .map(|r| format!("({}.to_string(), {r})", str_lit(k)))
            })
            .collect::<Option<_>>()?;
        if parts.is_empty() {
            return Some(format!(
                "BTreeMap::<String, {}>::new()",
                self.type_in_code(inner)
            ));
        }
        Some(format!("BTreeMap::from([{}])", parts.join(", ")))
    }

    fn tf_value(&mut self, inner: &RType, v: &Value, into: bool) -> Option<String> {
        let wrap = |this: &mut Self, s: String| {
            if into {
                s
            } else {
                this.use_dsl("Tf");
                format!("Tf::from({s})")
            }
        };
        match (inner, v) {
            (_, Value::String(s)) if has_interpolation(s) => self.string_value(s, inner, into),
            (RType::String, Value::String(s)) => {
                let literal = unescape(s)?;
                Some(wrap(self, str_lit(&literal)))
            }
            (RType::Number, Value::Number(n)) => {
                if into {
                    Some(number_lit(n))
                } else {
                    self.use_dsl("Tf");
                    self.use_dsl("Number");
                    Some(format!("Tf::<Number>::from({})", number_lit(n)))
                }
            }
            (RType::Bool, Value::Bool(b)) => Some(wrap(self, b.to_string())),
            (RType::Dynamic, v) => {
                if !plain_json(v) {
                    return None;
                }
                let j = self.json(v);
                self.use_dsl("Tf");
                Some(format!("Tf::from({j})"))
            }
            (RType::Vec(e), Value::Array(items)) => {
                let literal_strings: Option<Vec<String>> =
                    if **e == RType::Tf(Box::new(RType::String)) {
                        items
                            .iter()
                            .map(|i| {
                                i.as_str()
                                    .filter(|s| !has_interpolation(s))
                                    .and_then(unescape)
                            })
                            .collect()
                    } else {
                        None
                    };
                match literal_strings {
                    Some(lits) if into && !lits.is_empty() => {
                        let parts: Vec<String> = lits.iter().map(|s| str_lit(s)).collect();
                        Some(format!("[{}]", parts.join(", ")))
                    }
                    _ => {
                        let parts: Vec<String> = items
                            .iter()
                            .map(|i| self.value(e, i, false))
                            .collect::<Option<_>>()?;
                        let list = if parts.is_empty() {
                            format!("Vec::<{}>::new()", self.type_in_code(e))
                        } else {
                            format!("vec![{}]", parts.join(", "))
                        };
                        Some(wrap(self, list))
                    }
                }
            }
            (RType::Map(e), Value::Object(obj)) => {
                let literal_strings: Option<Vec<(String, String)>> =
                    if **e == RType::Tf(Box::new(RType::String)) && !obj.is_empty() {
                        obj.iter()
                            .map(|(k, v)| {
                                let s = v
                                    .as_str()
                                    .filter(|s| !has_interpolation(s))
                                    .and_then(unescape)?;
                                Some((k.clone(), s))
                            })
                            .collect()
                    } else {
                        None
                    };
                match literal_strings {
                    Some(pairs) if into => {
                        let parts: Vec<String> = pairs
                            .iter()
                            .map(|(k, v)| format!("({}, {})", str_lit(k), str_lit(v)))
                            .collect();
                        Some(format!("[{}]", parts.join(", ")))
                    }
                    _ => {
                        let map = self.map_value(e, obj)?;
                        Some(wrap(self, map))
                    }
                }
            }
            (RType::Tuple(items), Value::Array(values)) if items.len() == values.len() => {
                let parts: Vec<String> = items
                    .iter()
                    .zip(values)
                    .map(|(t, v)| self.value(t, v, false))
                    .collect::<Option<_>>()?;
                let tuple = if parts.len() == 1 {
                    format!("({},)", parts[0])
                } else {
                    format!("({})", parts.join(", "))
                };
                Some(wrap(self, tuple))
            }
            (RType::Struct(name), Value::Object(obj)) => {
                let s = self.struct_value(name, obj)?;
                Some(wrap(self, s))
            }
            _ => None,
        }
    }

    /// A generated block or object struct: `Name::new(required...).set_x(...)`.
    fn struct_value(&mut self, name: &str, obj: &Map<String, Value>) -> Option<String> {
        let top = self.current.clone()?;
        let st: Struct = self.api.struct_of(&top, name)?.clone();
        if obj.keys().any(|k| !st.fields.contains_key(k)) || obj.values().any(Value::is_null) {
            return None;
        }
        let params: Vec<String> = st
            .new_params
            .iter()
            .map(|p| {
                let v = obj.get(p)?;
                self.value(&st.fields[p].ty, v, true)
            })
            .collect::<Option<_>>()?;
        let mut out = format!("{name}::new({})", params.join(", "));
        for (k, v) in obj {
            if st.new_params.contains(k) {
                continue;
            }
            let setter = st.setters.get(k)?;
            let r = self.value(st.fields[k].ty.unoptional(), v, true)?;
            let _ = write!(out, ".{setter}({r})");
        }
        self.uses
            .entry((top.krate.clone(), top.module.clone()))
            .or_default()
            .insert(name.to_string());
        Some(out)
    }

    /// A Terraform string with interpolations, as a `Tf<inner>`: a typed reference where the
    /// whole string is one, a template of typed references and literals, else the raw text.
    fn string_value(&mut self, s: &str, inner: &RType, into: bool) -> Option<String> {
        let _ = into;
        let parts = callflow_dsl::parse_template(s);
        // Only what renders back to the same text (directives do not).
        if Tf::<String>::Template(parts.clone()).to_tf_json() != Value::String(s.to_string()) {
            return None;
        }
        if let [TemplatePart::Interpolation(e)] = parts.as_slice() {
            if let Some(r) = self.typed_ref(e.as_hcl(), inner) {
                return Some(r);
            }
            self.use_dsl("Tf");
            self.use_dsl("Expression");
            return Some(format!(
                "Tf::expr(Expression::raw({}))",
                str_lit(e.as_hcl())
            ));
        }
        if *inner != RType::String {
            // A template read as another type (Terraform converts the string).
            self.use_dsl("Tf");
            self.use_dsl("parse_template");
            return Some(format!("Tf::Template(parse_template({}))", str_lit(s)));
        }
        let typed: Vec<Option<String>> = parts
            .iter()
            .map(|p| match p {
                TemplatePart::Interpolation(e) => self.typed_ref(e.as_hcl(), &RType::String),
                TemplatePart::Literal(_) => None,
            })
            .collect();
        if typed.iter().all(Option::is_none) {
            self.use_dsl("Tf");
            return Some(format!("Tf::from_rendered({})", str_lit(s)));
        }
        if let ([TemplatePart::Interpolation(_), TemplatePart::Literal(l)], [Some(r), None]) =
            (parts.as_slice(), typed.as_slice())
        {
            return Some(format!("{r}.suffixed({})", str_lit(l)));
        }
        self.use_dsl("Tf");
        let items: Vec<String> = parts
            .iter()
            .zip(typed)
            .map(|(p, t)| match (p, t) {
                (_, Some(r)) => r,
                (TemplatePart::Literal(l), None) => format!("{}.into()", str_lit(l)),
                (TemplatePart::Interpolation(e), None) => {
                    self.use_dsl("Expression");
                    format!("Tf::expr(Expression::raw({}))", str_lit(e.as_hcl()))
                }
            })
            .collect();
        Some(format!("Tf::template([{}])", items.join(", ")))
    }

    /// `handle.attr()` for `type.name.attr` / `data.type.name.attr`, `var_x.clone()` for
    /// `var.x`, when its reference type is `Tf<inner>`.
    fn typed_ref(&mut self, expr: &str, inner: &RType) -> Option<String> {
        let segments: Vec<&str> = expr.split('.').collect();
        if segments.iter().any(|s| {
            s.is_empty()
                || !s
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        }) {
            return None;
        }
        let (address, attr) = match segments.as_slice() {
            ["var" | "local", _] => {
                if *inner != RType::String {
                    return None;
                }
                let var = self.handles.get(expr)?.var.clone();
                self.used.insert(var.clone());
                return Some(format!("{var}.clone()"));
            }
            ["data", t, n, attr] => (format!("data.{t}.{n}"), *attr),
            [t, n, attr] => (format!("{t}.{n}"), *attr),
            _ => return None,
        };
        let handle = self.handles.get(&address)?;
        if self.repeated.contains(&handle.var) {
            return None;
        }
        let top = handle.top.clone()?;
        let refs = self.api.refs_of(&top, &format!("{}Refs", top.name))?;
        let (method, ty) = refs.methods.get(attr)?;
        if *ty != RType::Tf(Box::new(inner.clone())) {
            return None;
        }
        let var = handle.var.clone();
        self.used.insert(var.clone());
        Some(format!("{var}.{method}()"))
    }

    // -----------------------------------------------------------------------------------------

    fn finish(&mut self, config: &Config) -> String {
        let mut body = std::mem::take(&mut self.body);
        for handle in self.handles.values() {
            let marker = format!("{{let:{}}}", handle.var);
            let replacement = if self.used.contains(&handle.var) {
                format!("let {} = ", handle.var)
            } else {
                String::new()
            };
            body = body.replace(&marker, &replacement);
        }
        let patched = !self.patches.is_empty();
        let mut out = String::new();
        let source = match config.source {
            SourceKind::Directory => "a Terraform configuration",
            SourceKind::Synthesized => "a synthesized stack",
        };
        let _ = writeln!(
            out,
            "//! The `{}` stack, converted by `callflow convert` from {source}.\n//!\n//! `cargo run` writes `cdktf.out/` (manifest.json and stacks/{}/cdk.tf.json) next to this\n//! package's Cargo.toml, or under the directory given as the first argument.",
            config.stack_name, config.stack_name
        );
        if self.json_width.is_some_and(|w| w > 24) {
            // `json!` recurses once per entry of an object or array.
            out.push_str("#![recursion_limit = \"1024\"]\n");
        }
        out.push('\n');
        out.push_str("use std::collections::BTreeMap;\nuse std::path::PathBuf;\n\n");
        let mut dsl: Vec<&str> = self.dsl.iter().copied().collect();
        dsl.push("Synthesized");
        if patched {
            dsl.push("canonicalize");
        }
        dsl.sort_by_key(|s| (s.starts_with(|c: char| c.is_lowercase()), *s));
        let _ = writeln!(out, "use callflow_dsl::{{{}}};", dsl.join(", "));
        for ((krate, module), names) in &self.uses {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            if names.len() == 1 {
                let _ = writeln!(out, "use {krate}::{module}::{};", names[0]);
            } else {
                let _ = writeln!(out, "use {krate}::{module}::{{{}}};", names.join(", "));
            }
        }
        if self.json_width.is_some() {
            out.push_str("use serde_json::json;\n");
        }
        let _ = writeln!(
            out,
            "\n/// The stack, as `callflow convert` read it.\nfn build() -> Stack {{\n    let mut stack = Stack::new({});",
            str_lit(&config.stack_name)
        );
        out.push_str(&body);
        out.push_str("    stack\n}\n\n");
        out.push_str("fn main() -> Result<(), Box<dyn std::error::Error>> {\n");
        out.push_str("    let out = std::env::args_os()\n        .nth(1)\n        .map_or_else(|| PathBuf::from(env!(\"CARGO_MANIFEST_DIR\")).join(\"cdktf.out\"), PathBuf::from);\n");
        out.push_str("    let stack = build();\n");
        if patched {
            out.push_str("    let mut doc = stack.synth()?;\n");
            out.push_str("    // What the DSL has no typed form for yet, set on the synthesized document\n    // (`callflow convert` listed each of these).\n");
            for line in self.patches.lines() {
                let _ = writeln!(out, "    {line}");
            }
            out.push_str("    canonicalize(&mut doc);\n");
        } else {
            out.push_str("    let doc = stack.synth()?;\n");
        }
        out.push_str("    Synthesized::new(BTreeMap::from([(stack.name().to_string(), doc)])).write_to(&out)?;\n    Ok(())\n}\n");
        out
    }
}

/// The `s3` backend's boolean arguments (the DSL's `S3Backend`).
const S3_BOOLS: &[&str] = &[
    "use_lockfile",
    "encrypt",
    "use_path_style",
    "force_path_style",
    "use_fips_endpoint",
    "use_dualstack_endpoint",
    "skip_credentials_validation",
    "skip_requesting_account_id",
    "skip_metadata_api_check",
    "skip_region_validation",
    "insecure",
];

/// The `s3` backend's string arguments (the DSL's `S3Backend`).
const S3_STRINGS: &[&str] = &[
    "region",
    "kms_key_id",
    "sse_customer_key",
    "acl",
    "dynamodb_table",
    "workspace_key_prefix",
    "access_key",
    "secret_key",
    "token",
    "profile",
    "shared_credentials_file",
    "endpoint",
    "dynamodb_endpoint",
    "iam_endpoint",
    "sts_endpoint",
    "sts_region",
    "retry_mode",
    "custom_ca_bundle",
    "http_proxy",
    "https_proxy",
    "no_proxy",
];

/// Meta-arguments and other keys that are not provider arguments even where a schema has an
/// argument of that name.
fn is_meta(key: &str) -> bool {
    matches!(
        key,
        "count"
            | "for_each"
            | "depends_on"
            | "provider"
            | "lifecycle"
            | "dynamic"
            | "provisioner"
            | "connection"
            | "//"
    )
}

/// Whether a Terraform string has an (unescaped) `${` or `%{`.
fn has_interpolation(s: &str) -> bool {
    let b = s.as_bytes();
    (1..b.len()).any(|i| {
        b[i] == b'{' && matches!(b[i - 1], b'$' | b'%') && !(i >= 2 && b[i - 2] == b[i - 1])
    })
}

/// The literal text of a Terraform string without interpolations, if escaping it gives it back.
fn unescape(s: &str) -> Option<String> {
    let parts = callflow_dsl::parse_template(s);
    let text: String = parts
        .iter()
        .map(|p| match p {
            TemplatePart::Literal(l) => Some(l.as_str()),
            TemplatePart::Interpolation(_) => None,
        })
        .collect::<Option<_>>()?;
    (callflow_dsl::escape_literal(&text) == s).then_some(text)
}

/// JSON with no template sequences in any string (a `Dynamic` literal escapes its strings).
fn plain_json(v: &Value) -> bool {
    match v {
        Value::String(s) => !s.contains("${") && !s.contains("%{"),
        Value::Array(items) => items.iter().all(plain_json),
        Value::Object(map) => map.iter().all(|(k, v)| !k.contains("${") && plain_json(v)),
        _ => true,
    }
}

/// The Rust spelling of a binding type.
fn rust_type(ty: &RType) -> String {
    match ty {
        RType::Tf(t) => format!("Tf<{}>", rust_type(t)),
        RType::String => "String".into(),
        RType::Number => "Number".into(),
        RType::Bool => "bool".into(),
        RType::Dynamic => "serde_json::Value".into(),
        RType::Vec(t) => format!("Vec<{}>", rust_type(t)),
        RType::Map(t) => format!("BTreeMap<String, {}>", rust_type(t)),
        RType::Option(t) => format!("Option<{}>", rust_type(t)),
        RType::Tuple(items) => {
            let items: Vec<String> = items.iter().map(rust_type).collect();
            format!("({})", items.join(", "))
        }
        RType::ListRef(t) => format!("ListRef<{}>", rust_type(t)),
        RType::MapRef(t) => format!("MapRef<{}>", rust_type(t)),
        RType::Struct(s) => s.clone(),
    }
}
