//! The provider schema document (`terraform providers schema -json`, format_version 1.x) as a
//! typed model. Every construct of the documented format is read; anything else is an error that
//! names the JSON path.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::SchemaError;

/// A whole schema document: one entry per provider source address.
#[derive(Clone, Debug, PartialEq)]
pub struct SchemaDoc {
    /// `format_version`, e.g. `1.0`.
    pub format_version: String,
    /// Providers by source address (`registry.terraform.io/hashicorp/aws`).
    pub providers: BTreeMap<String, ProviderSchema>,
}

/// The resource and data-source schemas of one provider.
#[derive(Clone, Debug, PartialEq)]
pub struct ProviderSchema {
    /// Resource types by name.
    pub resources: BTreeMap<String, TypeSchema>,
    /// Data source types by name.
    pub data_sources: BTreeMap<String, TypeSchema>,
    /// The provider's own configuration block (`provider "aws" { ... }`), when the document has
    /// a `provider` section.
    pub provider: Option<TypeSchema>,
    /// The functions the provider defines (`provider::<name>::<function>`, Terraform 1.8+).
    pub functions: BTreeMap<String, crate::functions::Signature>,
}

/// One resource or data-source type.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeSchema {
    /// Schema version of the type.
    pub version: u64,
    /// Its top-level block.
    pub block: Block,
}

/// A block: attributes and nested block types.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Block {
    /// Attributes by name (sorted).
    pub attributes: BTreeMap<String, Attribute>,
    /// Nested block types by name (sorted).
    pub block_types: BTreeMap<String, BlockType>,
    /// Documentation.
    pub description: Option<String>,
    /// Whether the whole block is deprecated.
    pub deprecated: bool,
}

/// One attribute.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    /// Its value type.
    pub ty: AttrType,
    /// Must be set.
    pub required: bool,
    /// May be set.
    pub optional: bool,
    /// Computed by the provider (read-only unless also optional).
    pub computed: bool,
    /// Hidden in plan output.
    pub sensitive: bool,
    /// Deprecated by the provider.
    pub deprecated: bool,
    /// Documentation.
    pub description: Option<String>,
}

impl Attribute {
    /// Whether the attribute can be set in configuration.
    pub fn is_argument(&self) -> bool {
        self.required || self.optional
    }
}

/// An attribute's type: a type expression or a nested attribute type (protocol 6).
#[derive(Clone, Debug, PartialEq)]
pub enum AttrType {
    /// `"string"`.
    String,
    /// `"number"`.
    Number,
    /// `"bool"`.
    Bool,
    /// `"dynamic"`: any value.
    Dynamic,
    /// `["list", T]`.
    List(Box<AttrType>),
    /// `["set", T]`.
    Set(Box<AttrType>),
    /// `["map", T]`.
    Map(Box<AttrType>),
    /// `["object", {name: T}, [optional names]?]`.
    Object {
        /// Attribute types by name.
        attributes: BTreeMap<String, AttrType>,
        /// Names that may be left out.
        optional: Vec<String>,
    },
    /// `["tuple", [T, ...]]`.
    Tuple(Vec<AttrType>),
    /// `nested_type`: attributes of their own, nested `single`, `list`, `set` or `map`.
    Nested {
        /// How the nested objects are collected.
        nesting: Nesting,
        /// Their attributes.
        attributes: BTreeMap<String, Attribute>,
    },
}

/// How nested objects are collected (`nesting_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    /// One object.
    Single,
    /// One object that is always present (blocks only).
    Group,
    /// An ordered list.
    List,
    /// An unordered set.
    Set,
    /// A map keyed by label.
    Map,
}

/// A nested block type.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockType {
    /// How the blocks are collected.
    pub nesting: Nesting,
    /// Minimum number of blocks (0 when absent).
    pub min_items: u64,
    /// Maximum number of blocks (0 when absent: unlimited).
    pub max_items: u64,
    /// The nested block's schema.
    pub block: Block,
}

impl BlockType {
    /// Whether at least one block must be given.
    pub fn is_required(&self) -> bool {
        self.min_items > 0
    }
}

/// Parses a schema document; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<SchemaDoc, SchemaError> {
    let root: Value = serde_json::from_str(text).map_err(|e| SchemaError {
        file: file.into(),
        type_name: None,
        path: format!("line {}, column {}", e.line(), e.column()),
        message: format!("not a JSON document: {e}"),
    })?;
    parse_value(file, &root)
}

/// Reads an already parsed schema document.
pub fn parse_value(file: &str, root: &Value) -> Result<SchemaDoc, SchemaError> {
    Parser { file }.doc(root)
}

struct Parser<'a> {
    file: &'a str,
}

type Res<T> = Result<T, SchemaError>;

impl Parser<'_> {
    fn err(&self, type_name: Option<&str>, path: &str, message: impl Into<String>) -> SchemaError {
        SchemaError {
            file: self.file.into(),
            type_name: type_name.map(str::to_string),
            path: if path.is_empty() {
                "$".into()
            } else {
                path.into()
            },
            message: message.into(),
        }
    }

    fn object<'v>(&self, v: &'v Value, t: Option<&str>, path: &str) -> Res<&'v Map<String, Value>> {
        v.as_object()
            .ok_or_else(|| self.err(t, path, format!("expected an object, found {}", kind(v))))
    }

    fn doc(&self, root: &Value) -> Res<SchemaDoc> {
        let obj = self.object(root, None, "")?;
        let version = obj
            .get("format_version")
            .and_then(Value::as_str)
            .ok_or_else(|| self.err(None, "format_version", "missing or not a string"))?;
        if version.split('.').next() != Some("1") {
            return Err(self.err(
                None,
                "format_version",
                format!("format_version `{version}` is not supported (1.x is)"),
            ));
        }
        let mut providers = BTreeMap::new();
        if let Some(ps) = obj.get("provider_schemas") {
            for (source, p) in self.object(ps, None, "provider_schemas")? {
                let path = format!("provider_schemas[{}]", quote(source));
                providers.insert(source.clone(), self.provider(p, &path)?);
            }
        }
        Ok(SchemaDoc {
            format_version: version.to_string(),
            providers,
        })
    }

    fn provider(&self, v: &Value, path: &str) -> Res<ProviderSchema> {
        let obj = self.object(v, None, path)?;
        let types = |key: &str| -> Res<BTreeMap<String, TypeSchema>> {
            let mut out = BTreeMap::new();
            if let Some(map) = obj.get(key) {
                let kpath = format!("{path}.{key}");
                for (name, t) in self.object(map, None, &kpath)? {
                    let tpath = format!("{kpath}.{name}");
                    out.insert(name.clone(), self.type_schema(t, name, &tpath)?);
                }
            }
            Ok(out)
        };
        let provider = match obj.get("provider") {
            None => None,
            Some(v) => Some(self.provider_config(v, &format!("{path}.provider"))?),
        };
        let functions = match obj.get("functions") {
            None => BTreeMap::new(),
            Some(f) => {
                let fpath = format!("{path}.functions");
                crate::functions::parse_signatures(
                    self.file,
                    self.object(f, None, &fpath)?,
                    &fpath,
                )?
            }
        };
        Ok(ProviderSchema {
            resources: types("resource_schemas")?,
            data_sources: types("data_source_schemas")?,
            provider,
            functions,
        })
    }

    /// The `provider` section: like a type's schema, except that a provider without arguments
    /// (Terraform's builtin provider prints `{"version": 0}`) may have no `block`.
    fn provider_config(&self, v: &Value, path: &str) -> Res<TypeSchema> {
        let t = "provider";
        let obj = self.object(v, Some(t), path)?;
        let version = match obj.get("version") {
            None => 0,
            Some(n) => n
                .as_u64()
                .ok_or_else(|| self.err(Some(t), &format!("{path}.version"), "not an integer"))?,
        };
        let block = match obj.get("block") {
            None => Block::default(),
            Some(b) => self.block(b, t, &format!("{path}.block"))?,
        };
        Ok(TypeSchema { version, block })
    }

    fn type_schema(&self, v: &Value, t: &str, path: &str) -> Res<TypeSchema> {
        let obj = self.object(v, Some(t), path)?;
        let version = match obj.get("version") {
            None => 0,
            Some(n) => n
                .as_u64()
                .ok_or_else(|| self.err(Some(t), &format!("{path}.version"), "not an integer"))?,
        };
        let block = obj
            .get("block")
            .ok_or_else(|| self.err(Some(t), path, "missing `block`"))?;
        Ok(TypeSchema {
            version,
            block: self.block(block, t, &format!("{path}.block"))?,
        })
    }

    fn block(&self, v: &Value, t: &str, path: &str) -> Res<Block> {
        let obj = self.object(v, Some(t), path)?;
        let mut block = Block {
            description: self.string(obj, "description", t, path)?,
            deprecated: self.flag(obj, "deprecated", t, path)?,
            ..Block::default()
        };
        if let Some(attrs) = obj.get("attributes") {
            let apath = format!("{path}.attributes");
            block.attributes = self.attributes(attrs, t, &apath)?;
        }
        if let Some(blocks) = obj.get("block_types") {
            let bpath = format!("{path}.block_types");
            for (name, b) in self.object(blocks, Some(t), &bpath)? {
                let p = format!("{bpath}.{name}");
                block
                    .block_types
                    .insert(name.clone(), self.block_type(b, t, &p)?);
            }
        }
        Ok(block)
    }

    fn attributes(&self, v: &Value, t: &str, path: &str) -> Res<BTreeMap<String, Attribute>> {
        let mut out = BTreeMap::new();
        for (name, a) in self.object(v, Some(t), path)? {
            let p = format!("{path}.{name}");
            out.insert(name.clone(), self.attribute(a, t, &p)?);
        }
        Ok(out)
    }

    fn attribute(&self, v: &Value, t: &str, path: &str) -> Res<Attribute> {
        let obj = self.object(v, Some(t), path)?;
        let ty = match (obj.get("type"), obj.get("nested_type")) {
            (Some(ty), None) => self.type_expr(ty, t, &format!("{path}.type"))?,
            (None, Some(nested)) => self.nested_type(nested, t, &format!("{path}.nested_type"))?,
            (Some(_), Some(_)) => {
                return Err(self.err(Some(t), path, "has both `type` and `nested_type`"));
            }
            (None, None) => {
                return Err(self.err(Some(t), path, "has neither `type` nor `nested_type`"));
            }
        };
        let attr = Attribute {
            ty,
            required: self.flag(obj, "required", t, path)?,
            optional: self.flag(obj, "optional", t, path)?,
            computed: self.flag(obj, "computed", t, path)?,
            sensitive: self.flag(obj, "sensitive", t, path)?,
            deprecated: self.flag(obj, "deprecated", t, path)?,
            description: self.string(obj, "description", t, path)?,
        };
        if !(attr.required || attr.optional || attr.computed) {
            return Err(self.err(Some(t), path, "is neither required, optional nor computed"));
        }
        if attr.required && (attr.optional || attr.computed) {
            return Err(self.err(Some(t), path, "is required and also optional or computed"));
        }
        Ok(attr)
    }

    fn nested_type(&self, v: &Value, t: &str, path: &str) -> Res<AttrType> {
        let obj = self.object(v, Some(t), path)?;
        let nesting = self.nesting(obj, t, path, false)?;
        let attributes = match obj.get("attributes") {
            Some(a) => self.attributes(a, t, &format!("{path}.attributes"))?,
            None => return Err(self.err(Some(t), path, "nested_type without `attributes`")),
        };
        Ok(AttrType::Nested {
            nesting,
            attributes,
        })
    }

    fn nesting(&self, obj: &Map<String, Value>, t: &str, path: &str, block: bool) -> Res<Nesting> {
        let mode = obj
            .get("nesting_mode")
            .and_then(Value::as_str)
            .ok_or_else(|| self.err(Some(t), path, "missing `nesting_mode`"))?;
        Ok(match mode {
            "single" => Nesting::Single,
            "list" => Nesting::List,
            "set" => Nesting::Set,
            "map" => Nesting::Map,
            "group" if block => Nesting::Group,
            other => {
                let known = if block {
                    "single, group, list, set or map"
                } else {
                    "single, list, set or map"
                };
                return Err(self.err(
                    Some(t),
                    &format!("{path}.nesting_mode"),
                    format!("unknown nesting_mode `{other}` (expected {known})"),
                ));
            }
        })
    }

    fn block_type(&self, v: &Value, t: &str, path: &str) -> Res<BlockType> {
        let obj = self.object(v, Some(t), path)?;
        let nesting = self.nesting(obj, t, path, true)?;
        let count = |key: &str| -> Res<u64> {
            match obj.get(key) {
                None => Ok(0),
                Some(n) => n.as_u64().ok_or_else(|| {
                    self.err(
                        Some(t),
                        &format!("{path}.{key}"),
                        "not a non-negative integer",
                    )
                }),
            }
        };
        let block = obj
            .get("block")
            .ok_or_else(|| self.err(Some(t), path, "missing `block`"))?;
        Ok(BlockType {
            nesting,
            min_items: count("min_items")?,
            max_items: count("max_items")?,
            block: self.block(block, t, &format!("{path}.block"))?,
        })
    }

    fn type_expr(&self, v: &Value, t: &str, path: &str) -> Res<AttrType> {
        match v {
            Value::String(s) => match s.as_str() {
                "string" => Ok(AttrType::String),
                "number" => Ok(AttrType::Number),
                "bool" => Ok(AttrType::Bool),
                "dynamic" => Ok(AttrType::Dynamic),
                other => Err(self.err(
                    Some(t),
                    path,
                    format!("unknown primitive type `{other}` (expected string, number, bool or dynamic)"),
                )),
            },
            Value::Array(items) => {
                let head = items.first().and_then(Value::as_str).ok_or_else(|| {
                    self.err(Some(t), path, "type expression must start with a type name")
                })?;
                let arg = |i: usize| {
                    items.get(i).ok_or_else(|| {
                        self.err(Some(t), path, format!("`{head}` needs an element type"))
                    })
                };
                let inner = |i: usize| -> Res<Box<AttrType>> {
                    Ok(Box::new(self.type_expr(arg(i)?, t, &format!("{path}[{i}]"))?))
                };
                let arity = |n: usize| {
                    if items.len() > n {
                        Err(self.err(Some(t), path, format!("`{head}` takes at most {} argument(s)", n - 1)))
                    } else {
                        Ok(())
                    }
                };
                match head {
                    "list" => arity(2).and_then(|_| Ok(AttrType::List(inner(1)?))),
                    "set" => arity(2).and_then(|_| Ok(AttrType::Set(inner(1)?))),
                    "map" => arity(2).and_then(|_| Ok(AttrType::Map(inner(1)?))),
                    "object" => {
                        arity(3)?;
                        let fpath = format!("{path}[1]");
                        let fields = self.object(arg(1)?, Some(t), &fpath)?;
                        let mut attributes = BTreeMap::new();
                        for (name, ft) in fields {
                            attributes.insert(name.clone(), self.type_expr(ft, t, &format!("{fpath}.{name}"))?);
                        }
                        let mut optional = Vec::new();
                        if let Some(opt) = items.get(2) {
                            let opath = format!("{path}[2]");
                            let list = opt.as_array().ok_or_else(|| {
                                self.err(Some(t), &opath, "optional attributes must be a list of names")
                            })?;
                            for (i, n) in list.iter().enumerate() {
                                let n = n.as_str().filter(|n| attributes.contains_key(*n)).ok_or_else(|| {
                                    self.err(Some(t), &format!("{opath}[{i}]"), "not the name of an attribute of the object")
                                })?;
                                optional.push(n.to_string());
                            }
                        }
                        Ok(AttrType::Object { attributes, optional })
                    }
                    "tuple" => {
                        arity(2)?;
                        let epath = format!("{path}[1]");
                        let elems = arg(1)?.as_array().ok_or_else(|| {
                            self.err(Some(t), &epath, "tuple element types must be a list")
                        })?;
                        let elems = elems
                            .iter()
                            .enumerate()
                            .map(|(i, e)| self.type_expr(e, t, &format!("{epath}[{i}]")))
                            .collect::<Res<Vec<_>>>()?;
                        Ok(AttrType::Tuple(elems))
                    }
                    other => Err(self.err(
                        Some(t),
                        path,
                        format!("unknown type constructor `{other}` (expected list, set, map, object or tuple)"),
                    )),
                }
            }
            other => Err(self.err(Some(t), path, format!("expected a type expression, found {}", kind(other)))),
        }
    }

    fn flag(&self, obj: &Map<String, Value>, key: &str, t: &str, path: &str) -> Res<bool> {
        match obj.get(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(self.err(
                Some(t),
                &format!("{path}.{key}"),
                format!("expected true or false, found {}", kind(other)),
            )),
        }
    }

    fn string(
        &self,
        obj: &Map<String, Value>,
        key: &str,
        t: &str,
        path: &str,
    ) -> Res<Option<String>> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.err(
                Some(t),
                &format!("{path}.{key}"),
                format!("expected a string, found {}", kind(other)),
            )),
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn quote(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}
