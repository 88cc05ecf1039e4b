//! Rust source for one module of selected types, written directly in rustfmt's layout (so the
//! output needs no formatter pass and is byte-stable): one argument struct and one references
//! struct per resource, data source, nested block, nested attribute type and object type.

use std::fmt::Write as _;

use crate::names::{Registry, ident, pascal, snake};
use crate::schema::{AttrType, Attribute, Block, BlockType, Nesting, TypeSchema};

/// rustfmt's `max_width`.
const MAX_WIDTH: usize = 100;
/// rustfmt's `struct_lit_width` (default heuristics).
const STRUCT_LIT_WIDTH: usize = 18;
/// rustfmt's `fn_call_width` (default heuristics).
const FN_CALL_WIDTH: usize = 60;

/// Names the generated code must not shadow (the runtime prelude and std types it uses).
const RESERVED: &[&str] = &[
    "BTreeMap",
    "ProvidedBy",
    "Provider",
    "DataSource",
    "Dynamic",
    "Expression",
    "FromExpression",
    "ListRef",
    "MapRef",
    "Number",
    "Resource",
    "Serialize",
    "Tf",
    "TfLiteral",
    "String",
    "Vec",
    "Option",
    "Box",
    "Default",
    "Clone",
    "Debug",
    "PartialEq",
    "Self",
];
/// Method names that would shadow a std trait method on the references structs.
const RESERVED_METHODS: &[&str] = &[
    "as_ref",
    "borrow",
    "clone",
    "clone_from",
    "cmp",
    "default",
    "deref",
    "eq",
    "fmt",
    "from",
    "from_expression",
    "hash",
    "into",
    "ne",
    "partial_cmp",
    "to_owned",
    "to_string",
    "type_id",
];

/// Whether a top-level type is a resource or a data source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopKind {
    /// `resource`.
    Resource,
    /// `data`.
    Data,
}

/// Counts of what was emitted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Structs emitted (argument and references structs).
    pub structs: usize,
}

/// The emitter of one module.
pub struct ModuleEmitter<'a> {
    provider: &'a str,
    type_prefix: &'a str,
    names: Registry,
    /// Names reserved for the blocks and object attributes directly under a top-level type
    /// (`(top struct, field)` → name), so deeper types cannot take them.
    direct: std::collections::BTreeMap<(String, String), String>,
    out: String,
    counts: Counts,
    /// Whether references structs are emitted (not for a provider's configuration, which has
    /// nothing to read back).
    refs: bool,
    /// The provider configuration type (path from the module) whose `ProvidedBy` the module's
    /// resource and data-source types implement.
    provided_by: Option<String>,
}

/// What the generated provider configuration type says about its provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderInfo {
    /// The local name (`aws`): the `provider.<name>` key and the prefix of `aws.<alias>`.
    pub local_name: String,
    /// The registry source (`hashicorp/aws`).
    pub source: String,
    /// The version constraint for `required_providers`, when the project names one.
    pub version: Option<String>,
}

/// Where a nested type sits: the top-level type's struct name, the struct it is a field of, and
/// that struct's own field name (for names that would collide).
#[derive(Clone, Copy)]
struct Ctx<'c> {
    top: &'c str,
    owner: &'c str,
    parent_field: Option<&'c str>,
}

/// One field of an argument struct and/or one method of a references struct.
struct Field {
    tf_name: String,
    ident: String,
    /// The argument's Rust type (without `Option`), when it can be set.
    arg: Option<ArgShape>,
    /// The reference type read through the handle.
    ref_ty: String,
    doc: Vec<String>,
    deprecated: bool,
}

struct ArgShape {
    ty: String,
    required: bool,
    collection: Collection,
}

/// How an argument is stored when unset.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Collection {
    /// `Option<T>` (`T` itself when required).
    Scalar,
    /// `Vec<T>`, left out when empty.
    Vec,
    /// `BTreeMap<String, T>`, left out when empty.
    Map,
}

impl<'a> ModuleEmitter<'a> {
    /// An emitter for types of `provider` (its display name) whose names start with `type_prefix`.
    pub fn new(provider: &'a str, type_prefix: &'a str) -> Self {
        Self {
            provider,
            type_prefix,
            names: Registry::with_reserved(RESERVED),
            direct: std::collections::BTreeMap::new(),
            out: String::new(),
            counts: Counts::default(),
            refs: true,
            provided_by: None,
        }
    }

    /// Types of this module are configured by the provider type at `path` (relative to the
    /// module, e.g. `super::provider::AwsProvider`): each implements `ProvidedBy` of it.
    pub fn provided_by(mut self, path: String) -> Self {
        self.provided_by = Some(path);
        self
    }

    /// Emits the provider's configuration type `name` (argument structs only: a provider
    /// configuration has no attributes to reference). `alias` is left out: it is the
    /// meta-argument the stack sets when a configuration is declared under an alias (schemas
    /// derived from cdktf's bindings list it as an attribute; Terraform's own do not).
    pub fn provider(&mut self, name: &str, info: &ProviderInfo, schema: &TypeSchema) {
        self.refs = false;
        let mut block = schema.block.clone();
        block.attributes.remove("alias");
        let mut doc = vec![format!(
            "The configuration of the {} provider (`provider \"{}\"` block).",
            self.provider, info.local_name
        )];
        doc.extend(description(block.description.as_deref()));
        doc.push(String::new());
        doc.push(format!(
            "Every argument is optional unless it is a parameter of `{name}::new`; set the others \
             with the `set_*` methods. Declare it with `Stack::add_provider` (the default \
             configuration) or `Stack::add_provider_alias` (a further one, e.g. another \
             region), and give the returned handle to `Stack::use_provider` for the resources \
             that use it."
        ));
        let mut nested = String::new();
        let ctx = Ctx {
            top: name,
            owner: name,
            parent_field: None,
        };
        let fields = self.block_fields(ctx, &block, &mut nested);
        self.arg_struct(name, &doc, &fields, None);
        self.out.push('\n');
        self.out.push_str(&impl_head(Some("Provider"), name));
        self.out.push_str(&assignment(
            4,
            "const NAME: &'static str",
            &rust_str(&info.local_name),
        ));
        self.out.push_str(&assignment(
            4,
            "const SOURCE: &'static str",
            &rust_str(&info.source),
        ));
        let version = match &info.version {
            Some(v) => format!("Some({})", rust_str(v)),
            None => "None".into(),
        };
        self.out.push_str(&assignment(
            4,
            "const VERSION: Option<&'static str>",
            &version,
        ));
        self.out.push_str("}\n");
        self.out.push_str(&nested);
        self.refs = true;
    }

    /// The struct name of a top-level type, claimed before any nested name of the module.
    pub fn claim_top(&mut self, kind: TopKind, type_name: &str) -> String {
        let bare = type_name
            .strip_prefix(self.type_prefix)
            .unwrap_or(type_name);
        let base = match kind {
            TopKind::Resource => pascal(bare),
            TopKind::Data => format!("Data{}", pascal(bare)),
        };
        self.names.claim(&base, "", &["Refs"])
    }

    /// The name of the provider's configuration type, `<LocalName>Provider` (`AwsProvider`).
    pub fn claim_provider(&mut self, local_name: &str) -> String {
        self.names
            .claim(&format!("{}Provider", pascal(local_name)), "", &["Refs"])
    }

    /// Reserves the names of the types directly under a top-level type (call after every
    /// [`ModuleEmitter::claim_top`] of the module, before any [`ModuleEmitter::top`]).
    pub fn reserve_direct(&mut self, name: &str, schema: &TypeSchema) {
        let needs_struct = |t: &AttrType| {
            fn has_object(t: &AttrType) -> bool {
                match t {
                    AttrType::Object { .. } | AttrType::Nested { .. } => true,
                    AttrType::List(i) | AttrType::Set(i) | AttrType::Map(i) => has_object(i),
                    _ => false,
                }
            }
            has_object(t)
        };
        let fields = schema
            .block
            .attributes
            .iter()
            .filter(|(_, a)| needs_struct(&a.ty))
            .map(|(n, _)| n)
            .chain(schema.block.block_types.keys());
        for field in fields {
            let short = format!("{name}{}", pascal(field));
            if self.names.is_free(&short, &["Refs"]) {
                let claimed = self.names.claim(&short, "", &["Refs"]);
                self.direct
                    .insert((name.to_string(), field.clone()), claimed);
            }
        }
    }

    /// Emits a top-level type under the name [`ModuleEmitter::claim_top`] returned.
    pub fn top(&mut self, kind: TopKind, type_name: &str, name: &str, schema: &TypeSchema) {
        let what = match kind {
            TopKind::Resource => "resource",
            TopKind::Data => "data source",
        };
        let mut doc = vec![format!("The `{type_name}` {what} of {}.", self.provider)];
        doc.extend(description(schema.block.description.as_deref()));
        let how = match kind {
            TopKind::Resource => "Stack::resource",
            TopKind::Data => "Stack::data",
        };
        doc.push(String::new());
        doc.push(format!(
            "Required arguments are the parameters of `{name}::new`; optional ones are set with the \
             `set_*` methods and left out of the JSON when unset. Declare it with `{how}`; the \
             handle reads its attributes as typed references (`{name}Refs`)."
        ));
        let mut nested = String::new();
        let ctx = Ctx {
            top: name,
            owner: name,
            parent_field: None,
        };
        let fields = self.block_fields(ctx, &schema.block, &mut nested);
        let trait_name = match kind {
            TopKind::Resource => "Resource",
            TopKind::Data => "DataSource",
        };
        self.arg_struct(name, &doc, &fields, None);
        self.out.push('\n');
        self.out.push_str(&impl_head(Some(trait_name), name));
        self.out.push_str(&assignment(
            4,
            "const TYPE: &'static str",
            &rust_str(type_name),
        ));
        self.out
            .push_str(&assignment(4, "type Refs", &format!("{name}Refs")));
        self.out.push_str("}\n");
        if let Some(provider) = &self.provided_by {
            self.out.push('\n');
            let one = format!("impl ProvidedBy<{provider}> for {name} {{}}\n");
            if one.len() - 1 <= MAX_WIDTH {
                self.out.push_str(&one);
            } else {
                let _ = writeln!(
                    self.out,
                    "impl ProvidedBy<{provider}>\n    for {name}\n{{\n}}"
                );
            }
        }
        let refs_doc = vec![format!(
            "References to the attributes of a declared `{type_name}` {what} (every attribute, computed ones included)."
        )];
        self.refs_struct(&format!("{name}Refs"), &refs_doc, &fields);
        self.out.push_str(&nested);
    }

    /// The module's items and what was counted.
    pub fn finish(self) -> (String, Counts) {
        (self.out, self.counts)
    }

    fn block_fields(&mut self, ctx: Ctx<'_>, block: &Block, nested: &mut String) -> Vec<Field> {
        let mut idents = Registry::default();
        let mut fields = Vec::new();
        // Attributes and blocks share one namespace in Terraform; sorted by name for stability.
        let mut names: Vec<(&String, bool)> = block
            .attributes
            .keys()
            .map(|n| (n, true))
            .chain(block.block_types.keys().map(|n| (n, false)))
            .collect();
        names.sort();
        for (tf_name, is_attr) in names {
            let id = field_ident(&mut idents, tf_name);
            let field = if is_attr {
                self.attribute_field(ctx, tf_name, id, &block.attributes[tf_name], nested)
            } else {
                self.block_field(ctx, tf_name, id, &block.block_types[tf_name], nested)
            };
            fields.push(field);
        }
        fields
    }

    fn attribute_field(
        &mut self,
        ctx: Ctx<'_>,
        tf_name: &str,
        ident: String,
        attr: &Attribute,
        nested: &mut String,
    ) -> Field {
        let is_arg = attr.is_argument();
        let (arg_ty, ref_ty) = self.attr_type(ctx, tf_name, &attr.ty, is_arg, nested);
        let role = match (attr.required, attr.optional, attr.computed) {
            (true, _, _) => "required",
            (_, true, true) => "optional; computed by the provider when unset",
            (_, true, false) => "optional",
            _ => "read-only: computed by the provider",
        };
        let mut doc = vec![format!("`{tf_name}` ({role}).")];
        doc.extend(description(attr.description.as_deref()));
        if attr.sensitive {
            doc.push(String::new());
            doc.push("Sensitive: Terraform hides its value in plan output.".into());
        }
        if attr.deprecated {
            doc.push(String::new());
            doc.push("Deprecated by the provider.".into());
        }
        Field {
            tf_name: tf_name.into(),
            ident,
            arg: arg_ty.filter(|_| is_arg).map(|ty| ArgShape {
                ty,
                required: attr.required,
                collection: Collection::Scalar,
            }),
            ref_ty,
            doc,
            deprecated: attr.deprecated,
        }
    }

    fn block_field(
        &mut self,
        ctx: Ctx<'_>,
        tf_name: &str,
        ident: String,
        bt: &BlockType,
        nested: &mut String,
    ) -> Field {
        let owner = ctx.owner;
        let name = self.nested_name(ctx, tf_name);
        let (collection, ref_ty, shape) = match bt.nesting {
            Nesting::Single | Nesting::Group => {
                (Collection::Scalar, format!("{name}Refs"), "one block")
            }
            Nesting::List => (
                Collection::Vec,
                format!("ListRef<{name}Refs>"),
                "a list of blocks",
            ),
            Nesting::Set => (
                Collection::Vec,
                format!("ListRef<{name}Refs>"),
                "a set of blocks",
            ),
            Nesting::Map => (
                Collection::Map,
                format!("MapRef<{name}Refs>"),
                "blocks by label",
            ),
        };
        let mut count = String::new();
        if bt.min_items > 0 || bt.max_items > 0 {
            count = match (bt.min_items, bt.max_items) {
                (min, 0) => format!(", at least {min}"),
                (0, max) => format!(", at most {max}"),
                (min, max) if min == max => format!(", exactly {min}"),
                (min, max) => format!(", {min} to {max}"),
            };
        }
        let role = if bt.is_required() {
            "required"
        } else {
            "optional"
        };
        let mut doc = vec![format!("`{tf_name}` block ({role}: {shape}{count}).")];
        doc.extend(description(bt.block.description.as_deref()));
        if bt.block.deprecated {
            doc.push(String::new());
            doc.push("Deprecated by the provider.".into());
        }
        let mut inner = String::new();
        let inner_ctx = Ctx {
            top: ctx.top,
            owner: &name,
            parent_field: Some(tf_name),
        };
        let fields = self.block_fields(inner_ctx, &bt.block, &mut inner);
        let struct_doc = vec![format!("The `{tf_name}` block of `{owner}`.")];
        self.arg_struct_into(nested, &name, &struct_doc, &fields, None);
        if self.refs {
            let refs_doc = vec![format!(
                "References to the attributes of a `{tf_name}` block of `{owner}`."
            )];
            self.refs_struct_into(nested, &format!("{name}Refs"), &refs_doc, &fields);
        }
        nested.push_str(&inner);
        Field {
            tf_name: tf_name.into(),
            ident,
            arg: Some(ArgShape {
                ty: name,
                required: bt.is_required(),
                collection,
            }),
            ref_ty,
            doc,
            deprecated: bt.block.deprecated,
        }
    }

    /// The argument type (when `arg`) and the reference type of an attribute type, emitting the
    /// structs of object and nested types into `nested`.
    fn attr_type(
        &mut self,
        ctx: Ctx<'_>,
        field: &str,
        ty: &AttrType,
        arg: bool,
        nested: &mut String,
    ) -> (Option<String>, String) {
        let prim = |t: &str| (Some(format!("Tf<{t}>")), format!("Tf<{t}>"));
        match ty {
            AttrType::String => prim("String"),
            AttrType::Number => prim("Number"),
            AttrType::Bool => prim("bool"),
            AttrType::Dynamic => prim("Dynamic"),
            AttrType::List(inner) | AttrType::Set(inner) => {
                let (a, r) = self.attr_type(ctx, field, inner, arg, nested);
                (a.map(|a| format!("Tf<Vec<{a}>>")), format!("ListRef<{r}>"))
            }
            AttrType::Map(inner) => {
                let (a, r) = self.attr_type(ctx, field, inner, arg, nested);
                (
                    a.map(|a| format!("Tf<BTreeMap<String, {a}>>")),
                    format!("MapRef<{r}>"),
                )
            }
            AttrType::Tuple(items) if (1..=8).contains(&items.len()) => {
                let mut args = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let (a, _) = self.attr_type(ctx, &format!("{field}_{i}"), item, arg, nested);
                    args.push(a.unwrap_or_default());
                }
                let tuple = if args.len() == 1 {
                    format!("({},)", args[0])
                } else {
                    format!("({})", args.join(", "))
                };
                (Some(format!("Tf<{tuple}>")), "ListRef<Tf<Dynamic>>".into())
            }
            AttrType::Tuple(_) => (
                Some("Tf<Vec<Tf<Dynamic>>>".into()),
                "ListRef<Tf<Dynamic>>".into(),
            ),
            AttrType::Object {
                attributes,
                optional,
            } => {
                let name = self.nested_name(ctx, field);
                let inner_ctx = Ctx {
                    top: ctx.top,
                    owner: &name,
                    parent_field: Some(field),
                };
                let mut idents = Registry::default();
                let mut inner = String::new();
                let mut fields = Vec::new();
                for (tf_name, t) in attributes {
                    let id = field_ident(&mut idents, tf_name);
                    let (a, r) = self.attr_type(inner_ctx, tf_name, t, arg, &mut inner);
                    let required = !optional.contains(tf_name);
                    let role = if required { "required" } else { "optional" };
                    fields.push(Field {
                        tf_name: tf_name.clone(),
                        ident: id,
                        arg: a.map(|ty| ArgShape {
                            ty,
                            required,
                            collection: Collection::Scalar,
                        }),
                        ref_ty: r,
                        doc: vec![format!("`{tf_name}` ({role}).")],
                        deprecated: false,
                    });
                }
                self.object_structs(nested, &name, ctx.owner, field, &fields, arg);
                nested.push_str(&inner);
                (
                    Some(format!("Tf<{name}>")).filter(|_| arg),
                    format!("{name}Refs"),
                )
            }
            AttrType::Nested {
                nesting,
                attributes,
            } => {
                let name = self.nested_name(ctx, field);
                let inner_ctx = Ctx {
                    top: ctx.top,
                    owner: &name,
                    parent_field: Some(field),
                };
                let block = Block {
                    attributes: attributes.clone(),
                    ..Block::default()
                };
                let mut inner = String::new();
                let fields = self.block_fields(inner_ctx, &block, &mut inner);
                self.object_structs(nested, &name, ctx.owner, field, &fields, arg);
                nested.push_str(&inner);
                let (a, r) = match nesting {
                    Nesting::Single | Nesting::Group => {
                        (format!("Tf<{name}>"), format!("{name}Refs"))
                    }
                    Nesting::List | Nesting::Set => (
                        format!("Tf<Vec<Tf<{name}>>>"),
                        format!("ListRef<{name}Refs>"),
                    ),
                    Nesting::Map => (
                        format!("Tf<BTreeMap<String, Tf<{name}>>>"),
                        format!("MapRef<{name}Refs>"),
                    ),
                };
                (Some(a).filter(|_| arg), r)
            }
        }
    }

    /// The name of a nested type: `<Top><Field>`, or `<Top><ParentField><Field>` when that is
    /// taken, or a numbered `<Top><ParentField><Field>N`; short names, stable for sorted input.
    fn nested_name(&mut self, ctx: Ctx<'_>, field: &str) -> String {
        if ctx.parent_field.is_none()
            && let Some(name) = self
                .direct
                .remove(&(ctx.top.to_string(), field.to_string()))
        {
            return name;
        }
        let short = format!("{}{}", ctx.top, pascal(field));
        if self.names.is_free(&short, &["Refs"]) {
            return self.names.claim(&short, "", &["Refs"]);
        }
        let long = match ctx.parent_field {
            Some(parent) => format!("{}{}{}", ctx.top, pascal(parent), pascal(field)),
            None => short,
        };
        self.names.claim(&long, "", &["Refs"])
    }

    /// The argument struct (when settable) and references struct of an object value.
    fn object_structs(
        &mut self,
        out: &mut String,
        name: &str,
        owner: &str,
        field: &str,
        fields: &[Field],
        arg: bool,
    ) {
        if arg {
            let doc = vec![format!("The value of `{field}` of `{owner}` (an object).")];
            self.arg_struct_into(out, name, &doc, fields, Some(()));
        }
        if self.refs {
            let doc = vec![format!(
                "References to the attributes of `{field}` of `{owner}`."
            )];
            self.refs_struct_into(out, &format!("{name}Refs"), &doc, fields);
        }
    }

    fn arg_struct(&mut self, name: &str, doc: &[String], fields: &[Field], literal: Option<()>) {
        let mut out = std::mem::take(&mut self.out);
        self.arg_struct_into(&mut out, name, doc, fields, literal);
        self.out = out;
    }

    fn refs_struct(&mut self, name: &str, doc: &[String], fields: &[Field]) {
        let mut out = std::mem::take(&mut self.out);
        self.refs_struct_into(&mut out, name, doc, fields);
        self.out = out;
    }

    /// `literal`: also implement `TfLiteral` (object values used as attribute values).
    fn arg_struct_into(
        &mut self,
        out: &mut String,
        name: &str,
        doc: &[String],
        fields: &[Field],
        literal: Option<()>,
    ) {
        self.counts.structs += 1;
        let args: Vec<(&Field, &ArgShape)> = fields
            .iter()
            .filter_map(|f| f.arg.as_ref().map(|a| (f, a)))
            .collect();
        let required: Vec<&(&Field, &ArgShape)> = args.iter().filter(|(_, a)| a.required).collect();
        out.push('\n');
        doc_lines(out, 0, doc);
        if required.is_empty() {
            out.push_str("#[derive(Clone, Debug, Default, PartialEq, Serialize)]\n");
        } else {
            out.push_str("#[derive(Clone, Debug, PartialEq, Serialize)]\n");
        }
        if args.is_empty() {
            let one = format!("pub struct {name} {{}}");
            if one.len() <= MAX_WIDTH {
                let _ = writeln!(out, "{one}");
            } else {
                let _ = writeln!(out, "pub struct {name} {{\n}}");
            }
        } else {
            let one = format!("pub struct {name} {{");
            if one.len() <= MAX_WIDTH {
                let _ = writeln!(out, "{one}");
            } else {
                let _ = writeln!(out, "pub struct {name}\n{{");
            }
            for (f, a) in &args {
                doc_lines(out, 4, &f.doc);
                let mut serde = Vec::new();
                if bare(&f.ident) != f.tf_name {
                    serde.push(format!("rename = {}", rust_str(&f.tf_name)));
                }
                match (a.collection, a.required) {
                    (Collection::Scalar, false) => {
                        serde.push("skip_serializing_if = \"Option::is_none\"".into())
                    }
                    (Collection::Vec, _) => {
                        serde.push("skip_serializing_if = \"Vec::is_empty\"".into())
                    }
                    (Collection::Map, _) => {
                        serde.push("skip_serializing_if = \"BTreeMap::is_empty\"".into())
                    }
                    (Collection::Scalar, true) => {}
                }
                if !serde.is_empty() {
                    let _ = writeln!(out, "    #[serde({})]", serde.join(", "));
                }
                let one = format!("    pub {}: {},", f.ident, stored_type(a));
                if one.len() <= MAX_WIDTH {
                    let _ = writeln!(out, "{one}");
                } else {
                    let _ = writeln!(out, "    pub {}:\n        {},", f.ident, stored_type(a));
                }
            }
            out.push_str("}\n");
        }

        out.push('\n');
        out.push_str(&impl_head(None, name));
        // The constructor.
        let params: Vec<String> = required
            .iter()
            .map(|(f, a)| format!("{}: impl Into<{}>", f.ident, stored_type(a)))
            .collect();
        out.push_str(
            "    /// A value with the required arguments given and every optional one unset.\n",
        );
        if params.len() > 7 {
            out.push_str("    #[allow(clippy::too_many_arguments)]\n");
        }
        out.push_str(&signature(4, "pub fn new", &params, " -> Self {"));
        if required.is_empty() {
            out.push_str("        Self::default()\n");
        } else {
            let items: Vec<String> = args
                .iter()
                .map(|(f, a)| {
                    let value = match (a.required, a.collection) {
                        (true, _) => format!("{}.into()", f.ident),
                        (false, Collection::Scalar) => "None".into(),
                        (false, Collection::Vec) => "Vec::new()".into(),
                        (false, Collection::Map) => "BTreeMap::new()".into(),
                    };
                    format!("{}: {value}", f.ident)
                })
                .collect();
            out.push_str(&struct_literal(8, "Self", &items));
        }
        out.push_str("    }\n");
        // Setters of the optional arguments.
        for (f, a) in args.iter().filter(|(_, a)| !a.required) {
            let _ = writeln!(out, "\n    /// Sets `{}`.", f.tf_name);
            if f.deprecated {
                out.push_str("    #[deprecated(note = \"deprecated by the provider\")]\n");
            }
            let param = format!("value: impl Into<{}>", stored_type_required(a));
            out.push_str(&signature(
                4,
                &format!("pub fn set_{}", bare(&f.ident)),
                &["mut self".to_string(), param],
                " -> Self {",
            ));
            let value = match a.collection {
                Collection::Scalar => "Some(value.into())",
                Collection::Vec | Collection::Map => "value.into()",
            };
            out.push_str(&assignment(8, &format!("self.{}", f.ident), value));
            out.push_str("        self\n    }\n");
        }
        out.push_str("}\n");
        if literal.is_some() {
            out.push('\n');
            out.push_str(&impl_head(Some("TfLiteral"), name));
            out.push_str("    fn to_tf_json(&self) -> Dynamic {\n        object_json(self)\n    }\n\n    fn to_hcl(&self) -> String {\n        object_hcl(self)\n    }\n}\n");
        }
    }

    fn refs_struct_into(&mut self, out: &mut String, name: &str, doc: &[String], fields: &[Field]) {
        self.counts.structs += 1;
        out.push('\n');
        doc_lines(out, 0, doc);
        out.push_str("#[derive(Clone, Debug)]\n");
        if fields.is_empty() {
            // Nothing to read: a unit struct (a field would never be read).
            let _ = writeln!(out, "pub struct {name};\n");
            out.push_str(&impl_head(Some("FromExpression"), name));
            out.push_str(
                "    fn from_expression(_: Expression) -> Self {\n        Self\n    }\n}\n",
            );
            return;
        }
        let one = format!("pub struct {name}(Expression);");
        if one.len() <= MAX_WIDTH {
            let _ = writeln!(out, "{one}");
        } else {
            let _ = writeln!(out, "pub struct {name}(\n    Expression,\n);");
        }
        out.push('\n');
        out.push_str(&impl_head(Some("FromExpression"), name));
        out.push_str("    fn from_expression(expression: Expression) -> Self {\n        Self(expression)\n    }\n}\n");
        out.push('\n');
        out.push_str(&impl_head(None, name));
        let mut methods = Registry::with_reserved(RESERVED_METHODS);
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let method = methods.claim(bare(&f.ident), "_", &[]);
            let method = if method == bare(&f.ident) {
                f.ident.clone()
            } else {
                method
            };
            doc_lines(out, 4, &f.doc);
            if f.deprecated {
                out.push_str("    #[deprecated(note = \"deprecated by the provider\")]\n");
            }
            out.push_str(&signature(
                4,
                &format!("pub fn {method}"),
                &["&self".to_string()],
                &format!(" -> {} {{", f.ref_ty),
            ));
            out.push_str(&call(
                8,
                "attr",
                &["&self.0".to_string(), rust_str(&f.tf_name)],
            ));
            out.push_str("    }\n");
        }
        out.push_str("}\n");
    }
}

/// The stored field type.
fn stored_type(a: &ArgShape) -> String {
    match (a.collection, a.required) {
        (Collection::Scalar, true) => a.ty.clone(),
        (Collection::Scalar, false) => format!("Option<{}>", a.ty),
        (Collection::Vec, _) => format!("Vec<{}>", a.ty),
        (Collection::Map, _) => format!("BTreeMap<String, {}>", a.ty),
    }
}

/// The type a setter takes (the stored type without `Option`).
fn stored_type_required(a: &ArgShape) -> String {
    match a.collection {
        Collection::Scalar => a.ty.clone(),
        Collection::Vec => format!("Vec<{}>", a.ty),
        Collection::Map => format!("BTreeMap<String, {}>", a.ty),
    }
}

fn field_ident(idents: &mut Registry, tf_name: &str) -> String {
    let id = idents.claim(&snake(tf_name), "_", &[]);
    ident(&id)
}

fn bare(ident: &str) -> &str {
    ident.strip_prefix("r#").unwrap_or(ident)
}

/// A Rust string literal.
pub fn rust_str(s: &str) -> String {
    format!("{s:?}")
}

/// A description as doc paragraphs: one line per paragraph (no markdown layout that clippy's doc
/// lints or rustdoc's doctests could misread), preceded by an empty line.
fn description(text: Option<&str>) -> Vec<String> {
    let Some(text) = text else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for para in text.replace("\r\n", "\n").split("\n\n") {
        let line: Vec<&str> = para.split_whitespace().collect();
        if line.is_empty() {
            continue;
        }
        out.push(String::new());
        out.push(line.join(" ").replace("```", "`"));
    }
    out
}

fn doc_lines(out: &mut String, indent: usize, lines: &[String]) {
    let pad = " ".repeat(indent);
    for l in lines {
        if l.is_empty() {
            let _ = writeln!(out, "{pad}///");
        } else {
            let _ = writeln!(out, "{pad}/// {l}");
        }
    }
}

/// A function signature the way rustfmt lays it out: on one line when it fits, else one
/// parameter per line.
fn signature(indent: usize, head: &str, params: &[String], tail: &str) -> String {
    let pad = " ".repeat(indent);
    let one = format!("{pad}{head}({}){tail}\n", params.join(", "));
    if one.len() - 1 <= MAX_WIDTH {
        return one;
    }
    let mut s = format!("{pad}{head}(\n");
    for p in params {
        let line = format!("{pad}    {p},");
        match p.split_once(": impl Into<") {
            // rustfmt lets `name: Type` overflow while the type alone fits in the line; only a
            // type wider than that is broken inside its generic arguments.
            Some((name, ty))
                if pad.len() + 4 + "impl Into<".len() + ty.len() + 1 > MAX_WIDTH
                    && pad.len() + 9 + ty.len() <= MAX_WIDTH =>
            {
                let ty = ty.strip_suffix('>').unwrap_or(ty);
                let _ = writeln!(
                    s,
                    "{pad}    {name}: impl Into<\n{pad}        {ty},\n{pad}    >,"
                );
            }
            _ => {
                let _ = writeln!(s, "{line}");
            }
        }
    }
    let close = format!("{pad}){tail}");
    let bare_tail = tail.trim_end_matches('{').trim_end();
    // rustfmt keeps the brace on the `)` line only with room to spare.
    if close.len() <= MAX_WIDTH - 4 {
        let _ = writeln!(s, "{close}");
    } else if pad.len() + 1 + bare_tail.len() <= MAX_WIDTH {
        let _ = writeln!(s, "{pad}){bare_tail}\n{pad}{{");
    } else {
        // rustfmt drops the space before the brace of an overlong return type.
        let _ = writeln!(s, "{pad}){bare_tail}{{");
    }
    s
}

/// `impl [Trait for] Name {`, broken as rustfmt breaks an overlong one.
fn impl_head(trait_name: Option<&str>, name: &str) -> String {
    match trait_name {
        Some(t) => {
            let one = format!("impl {t} for {name} {{\n");
            if one.len() - 1 <= MAX_WIDTH {
                one
            } else {
                format!("impl {t}\n    for {name}\n{{\n")
            }
        }
        None => {
            let one = format!("impl {name} {{\n");
            if one.len() - 1 <= MAX_WIDTH {
                one
            } else {
                format!("impl\n    {name}\n{{\n")
            }
        }
    }
}

/// A call expression as the last expression of a block.
fn call(indent: usize, func: &str, args: &[String]) -> String {
    let pad = " ".repeat(indent);
    let joined = args.join(", ");
    let one = format!("{pad}{func}({joined})");
    if one.len() <= MAX_WIDTH && joined.len() <= FN_CALL_WIDTH {
        return one + "\n";
    }
    let mut s = format!("{pad}{func}(\n");
    for a in args {
        let _ = writeln!(s, "{pad}    {a},");
    }
    let _ = writeln!(s, "{pad})");
    s
}

/// A struct literal as the last expression of a block.
fn struct_literal(indent: usize, name: &str, items: &[String]) -> String {
    let pad = " ".repeat(indent);
    let body = items.join(", ");
    let one = format!("{pad}{name} {{ {body} }}");
    if body.len() <= STRUCT_LIT_WIDTH && one.len() <= MAX_WIDTH {
        return one + "\n";
    }
    let mut s = format!("{pad}{name} {{\n");
    for i in items {
        let line = format!("{pad}    {i},");
        match i.split_once(": ") {
            Some((field, value)) if line.len() > MAX_WIDTH => match value.strip_suffix(".into()") {
                Some(receiver) if pad.len() + 6 + field.len() + receiver.len() <= MAX_WIDTH => {
                    let _ = writeln!(s, "{pad}    {field}: {receiver}\n{pad}        .into(),");
                }
                _ => {
                    let _ = writeln!(s, "{pad}    {field}:\n{pad}        {value},");
                }
            },
            _ => {
                let _ = writeln!(s, "{line}");
            }
        }
    }
    let _ = writeln!(s, "{pad}}}");
    s
}

/// `target = value;`, broken after `=` when it does not fit.
fn assignment(indent: usize, target: &str, value: &str) -> String {
    let pad = " ".repeat(indent);
    let one = format!("{pad}{target} = {value};");
    if one.len() <= MAX_WIDTH {
        one + "\n"
    } else {
        format!("{pad}{target} =\n{pad}    {value};\n")
    }
}
