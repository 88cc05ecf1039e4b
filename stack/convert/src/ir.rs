//! The intermediate representation both inputs become: a Terraform configuration as its
//! elements, each with the Terraform JSON of its body and where it was written.
//!
//! Bodies are kept in Terraform's JSON syntax (strings are templates: `${expr}` interpolates,
//! `$${` is a literal `${`) because that is what a stack synthesizes: HCL is translated once, at
//! the boundary, and everything after it (emitting Rust, comparing with the synthesized output)
//! works on one form.

use std::fmt;
use std::path::PathBuf;

use serde_json::{Map, Value};

/// Where a construct was written: file and 1-based line.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// The file, as given on the command line (joined with the directory).
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// What kind of input the configuration came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    /// A directory of `*.tf` / `*.tf.json` files.
    Directory,
    /// One synthesized stack file (`cdk.tf.json`).
    Synthesized,
}

/// A resource or data source: `type.name` with its body.
#[derive(Clone, Debug, PartialEq)]
pub struct Element {
    /// The type, e.g. `aws_s3_bucket`.
    pub type_name: String,
    /// The name (logical id).
    pub name: String,
    /// The body in Terraform JSON, meta-arguments included.
    pub body: Map<String, Value>,
    /// Where it was declared.
    pub location: Location,
}

/// A named top-level block (variable, local, output, provider configuration, module, check) or
/// an unnamed one (`moved`, `import`, `removed`: `name` is empty) with its body.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// The label (empty for unlabelled blocks).
    pub name: String,
    /// The body in Terraform JSON (for a local: its value).
    pub body: Value,
    /// Where it was declared.
    pub location: Location,
}

/// A whole Terraform configuration (one stack).
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// What it was read from.
    pub source: SourceKind,
    /// The stack name the converted program uses.
    pub stack_name: String,
    /// The root `//` comment of a synthesized file (cdktf's metadata), kept as it was.
    pub root_comment: Option<Value>,
    /// `terraform` blocks, in order (Terraform merges them).
    pub terraform: Vec<Block>,
    /// Provider configurations (`provider "aws"`), aliases included, in order.
    pub providers: Vec<Block>,
    /// Input variables.
    pub variables: Vec<Block>,
    /// Local values, one block per name.
    pub locals: Vec<Block>,
    /// Output values.
    pub outputs: Vec<Block>,
    /// Resources, in source order.
    pub resources: Vec<Element>,
    /// Data sources, in source order.
    pub data: Vec<Element>,
    /// Module calls.
    pub modules: Vec<Block>,
    /// `moved` blocks.
    pub moved: Vec<Block>,
    /// `import` blocks.
    pub imports: Vec<Block>,
    /// `removed` blocks.
    pub removed: Vec<Block>,
    /// `check` blocks.
    pub checks: Vec<Block>,
    /// Any other top-level block type (kept, listed as a gap), with its key.
    pub other: Vec<(String, Block)>,
}

impl Config {
    /// An empty configuration.
    pub fn new(source: SourceKind, stack_name: impl Into<String>) -> Self {
        Self {
            source,
            stack_name: stack_name.into(),
            root_comment: None,
            terraform: Vec::new(),
            providers: Vec::new(),
            variables: Vec::new(),
            locals: Vec::new(),
            outputs: Vec::new(),
            resources: Vec::new(),
            data: Vec::new(),
            modules: Vec::new(),
            moved: Vec::new(),
            imports: Vec::new(),
            removed: Vec::new(),
            checks: Vec::new(),
            other: Vec::new(),
        }
    }

    /// The merged `terraform` block (later blocks' keys win, `required_providers` merged).
    pub fn terraform_block(&self) -> Map<String, Value> {
        let mut out = Map::new();
        for block in &self.terraform {
            let Value::Object(body) = &block.body else {
                continue;
            };
            for (k, v) in body {
                match (k.as_str(), out.get_mut(k), v) {
                    ("required_providers", Some(Value::Object(have)), Value::Object(more)) => {
                        have.extend(more.clone());
                    }
                    _ => {
                        out.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        out
    }

    /// The configuration as one Terraform JSON document (keys sorted): what Terraform reads,
    /// and what the converted program must synthesize.
    pub fn to_json(&self) -> Value {
        let mut root = Map::new();
        if let Some(c) = &self.root_comment {
            root.insert("//".into(), c.clone());
        }
        let terraform = self.terraform_block();
        if !terraform.is_empty() {
            root.insert("terraform".into(), Value::Object(terraform));
        }
        if !self.providers.is_empty() {
            let mut providers = Map::new();
            for p in &self.providers {
                let list = providers
                    .entry(p.name.clone())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(items) = list {
                    items.push(p.body.clone());
                }
            }
            root.insert("provider".into(), Value::Object(providers));
        }
        let named = |blocks: &[Block]| -> Value {
            Value::Object(
                blocks
                    .iter()
                    .map(|b| (b.name.clone(), b.body.clone()))
                    .collect(),
            )
        };
        let listed = |blocks: &[Block]| -> Value {
            Value::Array(blocks.iter().map(|b| b.body.clone()).collect())
        };
        let elements = |elements: &[Element]| -> Value {
            let mut by_type = Map::new();
            for e in elements {
                let slot = by_type
                    .entry(e.type_name.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(m) = slot {
                    m.insert(e.name.clone(), Value::Object(e.body.clone()));
                }
            }
            Value::Object(by_type)
        };
        for (key, present, value) in [
            (
                "variable",
                !self.variables.is_empty(),
                named(&self.variables),
            ),
            ("locals", !self.locals.is_empty(), named(&self.locals)),
            ("data", !self.data.is_empty(), elements(&self.data)),
            (
                "resource",
                !self.resources.is_empty(),
                elements(&self.resources),
            ),
            ("output", !self.outputs.is_empty(), named(&self.outputs)),
            ("module", !self.modules.is_empty(), named(&self.modules)),
            ("moved", !self.moved.is_empty(), listed(&self.moved)),
            ("import", !self.imports.is_empty(), listed(&self.imports)),
            ("removed", !self.removed.is_empty(), listed(&self.removed)),
            ("check", !self.checks.is_empty(), named(&self.checks)),
        ] {
            if present {
                root.insert(key.into(), value);
            }
        }
        for (key, block) in &self.other {
            root.insert(key.clone(), block.body.clone());
        }
        let mut doc = Value::Object(root);
        callflow_dsl::canonicalize(&mut doc);
        doc
    }

    /// Number of resources and data sources.
    pub fn element_count(&self) -> usize {
        self.resources.len() + self.data.len()
    }
}
