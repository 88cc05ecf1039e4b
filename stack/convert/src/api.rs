//! The Rust API of generated bindings, read back from the generated source with `syn`: for each
//! resource / data-source type its module and struct, for each struct the fields (Terraform
//! name, Rust type, whether `new` takes it, its setter), for each references struct the method
//! reading each attribute and its reference type.
//!
//! The converter emits calls against exactly the code it will compile with, so the generated
//! source is the one source of these names (codegen's naming rules are not repeated here).

use std::collections::BTreeMap;

use syn::{
    Expr, ExprCall, ExprLit, Fields, FnArg, GenericArgument, ImplItem, Item, Lit, Pat,
    PathArguments, Type,
};

/// A Rust type as the generated bindings spell it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RType {
    /// `Tf<T>`.
    Tf(Box<RType>),
    /// `String`.
    String,
    /// `Number`.
    Number,
    /// `bool`.
    Bool,
    /// `Dynamic` (a JSON value).
    Dynamic,
    /// `Vec<T>`.
    Vec(Box<RType>),
    /// `BTreeMap<String, T>`.
    Map(Box<RType>),
    /// `Option<T>`.
    Option(Box<RType>),
    /// `(A, B, ...)`.
    Tuple(Vec<RType>),
    /// `ListRef<E>`.
    ListRef(Box<RType>),
    /// `MapRef<E>`.
    MapRef(Box<RType>),
    /// A generated struct of the same module.
    Struct(String),
}

impl RType {
    fn parse(ty: &Type) -> Option<RType> {
        match ty {
            Type::Tuple(t) => t
                .elems
                .iter()
                .map(RType::parse)
                .collect::<Option<Vec<_>>>()
                .map(RType::Tuple),
            Type::Path(p) => {
                let seg = p.path.segments.last()?;
                let args: Vec<RType> = match &seg.arguments {
                    PathArguments::AngleBracketed(a) => a
                        .args
                        .iter()
                        .filter_map(|g| match g {
                            GenericArgument::Type(t) => RType::parse(t),
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                let one = |f: fn(Box<RType>) -> RType| args.last().cloned().map(|a| f(Box::new(a)));
                match seg.ident.to_string().as_str() {
                    "Tf" => one(RType::Tf),
                    "String" => Some(RType::String),
                    "Number" => Some(RType::Number),
                    "bool" => Some(RType::Bool),
                    "Dynamic" => Some(RType::Dynamic),
                    "Vec" => one(RType::Vec),
                    "BTreeMap" => one(RType::Map),
                    "Option" => one(RType::Option),
                    "ListRef" => one(RType::ListRef),
                    "MapRef" => one(RType::MapRef),
                    name => Some(RType::Struct(name.to_string())),
                }
            }
            _ => None,
        }
    }

    /// The type without an outer `Option`.
    pub fn unoptional(&self) -> &RType {
        match self {
            RType::Option(inner) => inner,
            other => other,
        }
    }
}

/// One field of a generated argument struct.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// The Rust field name (`r#type` for keywords).
    pub ident: String,
    /// The stored type (`Option<Tf<String>>`, `Vec<Block>`, `Tf<String>` when required).
    pub ty: RType,
    /// Whether `new` takes it (a required argument).
    pub required: bool,
}

/// A generated argument struct: a resource, data source, nested block or object type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Struct {
    /// Fields by Terraform name.
    pub fields: BTreeMap<String, Field>,
    /// The parameters of `new`, in order (Terraform names).
    pub new_params: Vec<String>,
    /// Setters present (`set_<bare ident>`), by Terraform name.
    pub setters: BTreeMap<String, String>,
}

/// A generated references struct: Terraform attribute → (method, reference type).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refs {
    /// Methods by Terraform attribute name.
    pub methods: BTreeMap<String, (String, RType)>,
}

/// A resource or data-source type of the bindings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopType {
    /// The crate of the bindings (e.g. `bindings_aws`).
    pub krate: String,
    /// The module (e.g. `s3`).
    pub module: String,
    /// The struct (e.g. `S3Bucket`).
    pub name: String,
}

/// Everything the emitter needs to know about the generated bindings of all providers.
#[derive(Clone, Debug, Default)]
pub struct Api {
    /// Resource types by Terraform type name.
    pub resources: BTreeMap<String, TopType>,
    /// Data sources by Terraform type name.
    pub data_sources: BTreeMap<String, TopType>,
    /// Provider configuration types (`impl Provider`) by the provider's local name (`aws`).
    pub providers: BTreeMap<String, TopType>,
    /// Argument structs by (crate, module, name).
    pub structs: BTreeMap<(String, String, String), Struct>,
    /// References structs by (crate, module, name).
    pub refs: BTreeMap<(String, String, String), Refs>,
}

impl Api {
    /// The argument struct `name` of the module `top` lives in.
    pub fn struct_of(&self, top: &TopType, name: &str) -> Option<&Struct> {
        self.structs
            .get(&(top.krate.clone(), top.module.clone(), name.to_string()))
    }

    /// The references struct `name` of the module `top` lives in.
    pub fn refs_of(&self, top: &TopType, name: &str) -> Option<&Refs> {
        self.refs
            .get(&(top.krate.clone(), top.module.clone(), name.to_string()))
    }

    /// Reads one generated module file of crate `krate`.
    pub fn add_module(&mut self, krate: &str, module: &str, text: &str) -> Result<(), String> {
        let file = syn::parse_file(text).map_err(|e| format!("{module}.rs: {e}"))?;
        let key = |name: &str| (krate.to_string(), module.to_string(), name.to_string());
        for item in &file.items {
            match item {
                Item::Struct(s) => {
                    let name = s.ident.to_string();
                    if let Fields::Named(named) = &s.fields {
                        let entry = self.structs.entry(key(&name)).or_default();
                        for f in &named.named {
                            let Some(ident) = &f.ident else { continue };
                            let ident = ident.to_string();
                            let tf_name = serde_rename(&f.attrs)
                                .unwrap_or_else(|| ident.trim_start_matches("r#").to_string());
                            let Some(ty) = RType::parse(&f.ty) else {
                                return Err(format!("{module}::{name}.{ident}: unexpected type"));
                            };
                            entry.fields.insert(
                                tf_name,
                                Field {
                                    ident,
                                    ty,
                                    required: false,
                                },
                            );
                        }
                    }
                }
                Item::Impl(imp) => {
                    let Type::Path(self_ty) = &*imp.self_ty else {
                        continue;
                    };
                    let Some(name) = self_ty.path.segments.last().map(|s| s.ident.to_string())
                    else {
                        continue;
                    };
                    let trait_name = imp
                        .trait_
                        .as_ref()
                        .and_then(|(_, p, _)| p.segments.last())
                        .map(|s| s.ident.to_string());
                    match trait_name.as_deref() {
                        Some(kind @ ("Resource" | "DataSource" | "Provider")) => {
                            let constant = if kind == "Provider" { "NAME" } else { "TYPE" };
                            let type_name = imp.items.iter().find_map(|i| match i {
                                ImplItem::Const(c) if c.ident == constant => string_lit(&c.expr),
                                _ => None,
                            });
                            if let Some(type_name) = type_name {
                                let top = TopType {
                                    krate: krate.to_string(),
                                    module: module.to_string(),
                                    name: name.clone(),
                                };
                                match kind {
                                    "Resource" => self.resources.insert(type_name, top),
                                    "DataSource" => self.data_sources.insert(type_name, top),
                                    _ => self.providers.insert(type_name, top),
                                };
                            }
                        }
                        Some(_) => {}
                        None if name.ends_with("Refs") => {
                            let refs = self.refs.entry(key(&name)).or_default();
                            for item in &imp.items {
                                let ImplItem::Fn(f) = item else { continue };
                                let syn::ReturnType::Type(_, ret) = &f.sig.output else {
                                    continue;
                                };
                                let Some(ret) = RType::parse(ret) else {
                                    continue;
                                };
                                let attr = f.block.stmts.iter().find_map(|s| match s {
                                    syn::Stmt::Expr(Expr::Call(call), _) => attr_name(call),
                                    _ => None,
                                });
                                if let Some(attr) = attr {
                                    refs.methods.insert(attr, (f.sig.ident.to_string(), ret));
                                }
                            }
                        }
                        None => {
                            let mut params = Vec::new();
                            let mut setters = Vec::new();
                            for item in &imp.items {
                                let ImplItem::Fn(f) = item else { continue };
                                let fname = f.sig.ident.to_string();
                                if fname == "new" {
                                    for input in &f.sig.inputs {
                                        if let FnArg::Typed(t) = input
                                            && let Pat::Ident(p) = &*t.pat
                                        {
                                            params.push(p.ident.to_string());
                                        }
                                    }
                                } else if let Some(bare) = fname.strip_prefix("set_") {
                                    setters.push((bare.to_string(), fname.clone()));
                                }
                            }
                            let entry = self.structs.entry(key(&name)).or_default();
                            let by_ident: BTreeMap<String, String> = entry
                                .fields
                                .iter()
                                .map(|(tf, f)| {
                                    (f.ident.trim_start_matches("r#").to_string(), tf.clone())
                                })
                                .collect();
                            for p in params {
                                let bare = p.trim_start_matches("r#").to_string();
                                if let Some(tf) = by_ident.get(&bare) {
                                    entry.new_params.push(tf.clone());
                                    if let Some(f) = entry.fields.get_mut(tf) {
                                        f.required = true;
                                    }
                                }
                            }
                            for (bare, setter) in setters {
                                if let Some(tf) = by_ident.get(&bare) {
                                    entry.setters.insert(tf.clone(), setter);
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// `#[serde(rename = "x", ...)]` → `x`.
fn serde_rename(attrs: &[syn::Attribute]) -> Option<String> {
    let mut out = None;
    for attr in attrs {
        if !attr.path().is_ident("serde") {
            continue;
        }
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let value: syn::LitStr = meta.value()?.parse()?;
                out = Some(value.value());
            } else if meta.input.peek(syn::Token![=]) {
                // Skip the value of other keys (`skip_serializing_if = "..."`).
                let _: syn::LitStr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    out
}

fn string_lit(e: &Expr) -> Option<String> {
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s.value()),
        _ => None,
    }
}

/// `attr(&self.0, "name")` → `name`.
fn attr_name(call: &ExprCall) -> Option<String> {
    match &*call.func {
        Expr::Path(p) if p.path.is_ident("attr") => call.args.iter().nth(1).and_then(string_lit),
        _ => None,
    }
}
