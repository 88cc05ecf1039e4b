//! Test support: the hashicorp/aws provider schema of the types the stack declares (the trimmed
//! `stack/providers/aws/schema.json` the bindings are generated from) and a validator of
//! synthesized Terraform JSON against it.
#![allow(dead_code)]

use std::path::PathBuf;

use callflow_stack::callflow::{AppConfig, CallflowConfig};
use callflow_stack::dsl::{Reference, Synthesized, references_in, visit_strings};
use serde_json::Value;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The committed configuration.
pub fn committed_config() -> AppConfig {
    let text = std::fs::read_to_string(repo_root().join("callflow.toml")).expect("callflow.toml");
    AppConfig::from_toml(&text).expect("callflow.toml is valid")
}

/// The committed configuration's first stack, for variations.
pub fn base_config() -> CallflowConfig {
    committed_config().stacks.remove(0)
}

/// Synthesizes an app config.
pub fn synth(config: &AppConfig) -> Synthesized {
    callflow_stack::callflow::callflow_app(config)
        .synth()
        .unwrap_or_else(|e| panic!("synth failed: {e:?}"))
}

/// The provider schema (`provider_schemas."registry.terraform.io/hashicorp/aws"`) of every type
/// the stack can declare: the committed, trimmed `stack/providers/aws/schema.json` (hashicorp/aws
/// 6.25.0, written by `callflow get`). Overrides and raw templates are checked against it.
pub fn provider_schema() -> Value {
    let path = repo_root().join("stack/providers/aws/schema.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text).expect("schema JSON");
    doc["provider_schemas"]["registry.terraform.io/hashicorp/aws"].clone()
}

const META_ARGUMENTS: [&str; 6] = [
    "depends_on",
    "lifecycle",
    "provider",
    "count",
    "for_each",
    "//",
];
/// Attributes the schema lists as optional although Terraform computes them.
const NEVER_SET: [&str; 2] = ["id", "tags_all"];

/// Every problem of one Terraform JSON document against the provider schema, as
/// `address: path: message` lines.
pub fn validate_document(doc: &Value, schema: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for (section, schemas, prefix) in [
        ("resource", &schema["resource_schemas"], ""),
        ("data", &schema["data_source_schemas"], "data."),
    ] {
        let Some(types) = doc.get(section).and_then(Value::as_object) else {
            continue;
        };
        for (kind, by_name) in types {
            let Some(type_schema) = schemas.get(kind) else {
                problems.push(format!("{prefix}{kind}: unknown {section} type"));
                continue;
            };
            for (name, body) in by_name.as_object().into_iter().flatten() {
                let address = format!("{prefix}{kind}.{name}");
                validate_block(
                    body,
                    &type_schema["block"],
                    &address,
                    "",
                    true,
                    &mut problems,
                );
            }
        }
    }
    // The provider configurations, against the schema's `provider` block.
    for (i, body) in doc["provider"]["aws"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let address = format!("provider.aws[{i}]");
        validate_block(
            body,
            &schema["provider"]["block"],
            &address,
            "",
            true,
            &mut problems,
        );
    }
    problems.extend(validate_references(doc, schema));
    problems
}

fn is_interpolation(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.contains("${"))
}

fn type_ok(value: &Value, ty: &Value) -> bool {
    if is_interpolation(value) {
        return true;
    }
    match ty {
        Value::String(t) => match t.as_str() {
            "string" => value.is_string(),
            "number" => value.is_number(),
            "bool" => value.is_boolean(),
            "dynamic" => true,
            _ => false,
        },
        Value::Array(parts) => match parts.first().and_then(Value::as_str) {
            Some("list" | "set") => value
                .as_array()
                .is_some_and(|items| items.iter().all(|i| type_ok(i, &parts[1]))),
            Some("map") => value
                .as_object()
                .is_some_and(|m| m.values().all(|i| type_ok(i, &parts[1]))),
            Some("object") => value.is_object(),
            _ => true,
        },
        _ => false,
    }
}

fn validate_block(
    body: &Value,
    block: &Value,
    address: &str,
    path: &str,
    top: bool,
    out: &mut Vec<String>,
) {
    let Some(map) = body.as_object() else {
        out.push(format!("{address}: {path}: a block must be a JSON object"));
        return;
    };
    let attrs = block["attributes"].as_object().cloned().unwrap_or_default();
    let blocks = block["block_types"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    for (key, value) in map {
        if key == "//" || (top && META_ARGUMENTS.contains(&key.as_str())) {
            continue;
        }
        if let Some(attr) = attrs.get(key) {
            let settable = attr["required"] == true || attr["optional"] == true;
            if !settable || (top && NEVER_SET.contains(&key.as_str())) {
                out.push(format!(
                    "{address}: {}: read-only (computed) attribute is set",
                    join(key)
                ));
            } else if !type_ok(value, &attr["type"]) {
                out.push(format!(
                    "{address}: {}: value {value} does not have type {}",
                    join(key),
                    attr["type"]
                ));
            }
        } else if let Some(nested) = blocks.get(key) {
            let items: Vec<&Value> = match (nested["nesting_mode"].as_str(), value) {
                (Some("single"), Value::Object(_)) => vec![value],
                (Some("single"), _) => {
                    out.push(format!(
                        "{address}: {}: single block must be an object, found {}",
                        join(key),
                        kind_of(value)
                    ));
                    continue;
                }
                (_, Value::Array(items)) => items.iter().collect(),
                (_, _) => {
                    out.push(format!(
                        "{address}: {}: list block must be an array of objects, found {}",
                        join(key),
                        kind_of(value)
                    ));
                    continue;
                }
            };
            if let Some(max) = nested["max_items"]
                .as_u64()
                .filter(|m| items.len() as u64 > *m)
            {
                out.push(format!(
                    "{address}: {}: at most {max} block(s), found {}",
                    join(key),
                    items.len()
                ));
            }
            for (i, item) in items.iter().enumerate() {
                let p = if nested["nesting_mode"] == "single" {
                    join(key)
                } else {
                    format!("{}[{i}]", join(key))
                };
                validate_block(item, &nested["block"], address, &p, false, out);
            }
        } else {
            out.push(format!(
                "{address}: {}: unknown attribute or block",
                join(key)
            ));
        }
    }
    for (name, attr) in &attrs {
        if attr["required"] == true && !map.contains_key(name) {
            out.push(format!(
                "{address}: {}: required attribute is missing",
                join(name)
            ));
        }
    }
    for (name, nested) in &blocks {
        if nested["min_items"].as_u64().unwrap_or(0) > 0 && !map.contains_key(name) {
            out.push(format!(
                "{address}: {}: required block is missing",
                join(name)
            ));
        }
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a bool",
        Value::Null => "null",
    }
}

/// Every `${...}` reference must point at a declared element and an attribute its schema has.
fn validate_references(doc: &Value, schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    visit_strings(doc, "", &mut |path, s| {
        for r in references_in(s) {
            let problem = match &r {
                Reference::Resource { kind, name, attr } => check_ref(
                    doc,
                    schema,
                    "resource",
                    "resource_schemas",
                    kind,
                    name,
                    attr.as_deref(),
                ),
                Reference::Data { kind, name, attr } => check_ref(
                    doc,
                    schema,
                    "data",
                    "data_source_schemas",
                    kind,
                    name,
                    attr.as_deref(),
                ),
                Reference::Variable(n) => doc
                    .pointer(&format!("/variable/{n}"))
                    .is_none()
                    .then(|| "undeclared variable".to_string()),
                Reference::Local(n) => doc
                    .pointer(&format!("/locals/{n}"))
                    .is_none()
                    .then(|| "undeclared local".to_string()),
            };
            if let Some(p) = problem {
                out.push(format!("{path}: reference `{r}`: {p}"));
            }
        }
    });
    out
}

fn check_ref(
    doc: &Value,
    schema: &Value,
    section: &str,
    schemas: &str,
    kind: &str,
    name: &str,
    attr: Option<&str>,
) -> Option<String> {
    if doc.pointer(&format!("/{section}/{kind}/{name}")).is_none() {
        return Some(format!("no {section} `{kind}.{name}` is declared"));
    }
    let block = &schema[schemas][kind]["block"];
    let attr = attr?;
    let known = block["attributes"].get(attr).is_some() || block["block_types"].get(attr).is_some();
    (!known).then(|| format!("`{kind}` has no attribute `{attr}`"))
}
