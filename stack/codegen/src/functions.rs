//! Terraform's built-in function signatures (`terraform metadata functions -json`, format_version
//! 1.x) to one typed Rust wrapper per function, written into `callflow-dsl`'s `functions`
//! module (`stack/dsl/src/functions/builtin.rs`).
//!
//! Parameter and return types map onto the DSL's value types (see `callflow_dsl::functions`):
//! `string`/`number`/`bool` parameters take `impl ArgOf<String>` / `ArgOf<Number>` /
//! `ArgOf<bool>`, `list(T)`/`set(T)` take `impl ArgOf<Vec<Tf<T>>>`, `map(T)` take
//! `impl ArgOf<BTreeMap<String, Tf<T>>>`, `list(dynamic)`/`set(dynamic)` take `impl AnyList`,
//! `dynamic` takes `impl Arg`; the variadic parameter is a slice of trait objects of the same
//! trait. Results are `Tf<String>`, `Tf<Number>`, `Tf<bool>`, `Tf<Dynamic>`, or `ListRef` /
//! `MapRef` of those for collections. Function and parameter names that are Rust keywords are
//! raw identifiers (`r#try`).
//!
//! Left out: the `core::`-qualified aliases of the same functions. A provider's own functions
//! (the `functions` of its schema, called as `provider::<name>::<function>`) are generated the
//! same way into a `functions` module of its bindings.
//!
//! ```
//! let metadata = r#"{"format_version": "1.0", "function_signatures": {"upper": {
//!   "description": "Converts letters to uppercase.", "return_type": "string",
//!   "parameters": [{"name": "str", "type": "string"}]}}}"#;
//! let out = callflow_codegen::functions::generate("fns.json", metadata, "Terraform 1.11.4", "test").unwrap();
//! assert!(out.text.contains("pub fn upper(str: impl ArgOf<String>) -> Tf<String> {"));
//! assert_eq!(out.functions, 1);
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::error::SchemaError;
use crate::names::{ident, snake};

/// rustfmt's `max_width`.
const MAX_WIDTH: usize = 100;

/// A function's signature as Terraform publishes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Signature {
    /// What the function does (Markdown).
    pub description: Option<String>,
    /// The fixed parameters, in order.
    pub parameters: Vec<Parameter>,
    /// The parameter that may repeat after the fixed ones.
    pub variadic: Option<Parameter>,
    /// The result's type.
    pub return_type: FnType,
}

/// One parameter of a function.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    /// Its name in the documentation.
    pub name: String,
    /// What it is for, when documented.
    pub description: Option<String>,
    /// Its type.
    pub ty: FnType,
    /// Whether `null` is accepted.
    pub nullable: bool,
}

/// A type in a function signature (Terraform's type expressions).
#[derive(Clone, Debug, PartialEq)]
pub enum FnType {
    /// `string`.
    String,
    /// `number`.
    Number,
    /// `bool`.
    Bool,
    /// `dynamic`: any type.
    Dynamic,
    /// `list(T)`.
    List(Box<FnType>),
    /// `set(T)`.
    Set(Box<FnType>),
    /// `map(T)`.
    Map(Box<FnType>),
    /// `object(...)` or `tuple(...)`: passed and returned as `dynamic` values.
    Structural,
}

impl FnType {
    /// The Terraform spelling, for documentation.
    fn terraform(&self) -> String {
        match self {
            FnType::String => "string".into(),
            FnType::Number => "number".into(),
            FnType::Bool => "bool".into(),
            FnType::Dynamic => "dynamic".into(),
            FnType::List(t) => format!("list({})", t.terraform()),
            FnType::Set(t) => format!("set({})", t.terraform()),
            FnType::Map(t) => format!("map({})", t.terraform()),
            FnType::Structural => "object or tuple".into(),
        }
    }

    /// The DSL value type (the `T` of `ArgOf<T>`), or `None` for `dynamic`.
    fn value_type(&self) -> Option<String> {
        Some(match self {
            FnType::String => "String".into(),
            FnType::Number => "Number".into(),
            FnType::Bool => "bool".into(),
            FnType::Dynamic | FnType::Structural => return None,
            FnType::List(t) | FnType::Set(t) => format!("Vec<Tf<{}>>", t.value_type()?),
            FnType::Map(t) => format!("BTreeMap<String, Tf<{}>>", t.value_type()?),
        })
    }

    /// The argument trait a parameter of this type takes.
    fn arg_trait(&self) -> String {
        match self {
            FnType::List(t) | FnType::Set(t) if t.value_type().is_none() => "AnyList".into(),
            t => match t.value_type() {
                Some(v) => format!("ArgOf<{v}>"),
                None => "Arg".into(),
            },
        }
    }

    /// The Rust type of a result of this type.
    fn result_type(&self) -> String {
        match self {
            FnType::String => "Tf<String>".into(),
            FnType::Number => "Tf<Number>".into(),
            FnType::Bool => "Tf<bool>".into(),
            FnType::Dynamic | FnType::Structural => "Tf<Dynamic>".into(),
            FnType::List(t) | FnType::Set(t) => format!("ListRef<{}>", t.result_type()),
            FnType::Map(t) => format!("MapRef<{}>", t.result_type()),
        }
    }
}

/// The generated module and its counts.
#[derive(Clone, Debug, PartialEq)]
pub struct GeneratedFunctions {
    /// The Rust source of the module.
    pub text: String,
    /// Functions generated.
    pub functions: usize,
    /// Functions of the document left out (`core::` aliases, `provider::` functions).
    pub skipped: usize,
}

/// Parses a `terraform metadata functions -json` document; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<BTreeMap<String, Signature>, SchemaError> {
    let err = |function: Option<&str>, path: &str, message: String| SchemaError {
        file: file.into(),
        type_name: function.map(|f| format!("function {f}")),
        path: path.into(),
        message,
    };
    let root: Value = serde_json::from_str(text).map_err(|e| {
        err(
            None,
            &format!("line {}, column {}", e.line(), e.column()),
            format!("not a JSON document: {e}"),
        )
    })?;
    let version = root
        .get("format_version")
        .and_then(Value::as_str)
        .ok_or_else(|| err(None, "format_version", "missing or not a string".into()))?;
    if version.split('.').next() != Some("1") {
        return Err(err(
            None,
            "format_version",
            format!("format_version `{version}` is not supported (1.x is)"),
        ));
    }
    let signatures = root
        .get("function_signatures")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            err(
                None,
                "function_signatures",
                "missing or not an object".into(),
            )
        })?;
    parse_signatures(file, signatures, "function_signatures")
}

/// Reads a map of function signatures (`function_signatures` of `terraform metadata functions
/// -json`, or a provider's `functions` in `terraform providers schema -json`); `path` is the
/// map's JSON path, for errors.
pub fn parse_signatures(
    file: &str,
    signatures: &Map<String, Value>,
    path: &str,
) -> Result<BTreeMap<String, Signature>, SchemaError> {
    let err = |function: Option<&str>, path: &str, message: String| SchemaError {
        file: file.into(),
        type_name: function.map(|f| format!("function {f}")),
        path: path.into(),
        message,
    };
    let base = path;
    let mut out = BTreeMap::new();
    for (name, s) in signatures {
        let path = format!("{base}.{name}");
        let e = |path: &str, message: String| err(Some(name), path, message);
        let obj = s
            .as_object()
            .ok_or_else(|| e(&path, "expected an object".into()))?;
        let parameter = |v: &Value, path: &str| -> Result<Parameter, SchemaError> {
            let p = v
                .as_object()
                .ok_or_else(|| e(path, "expected an object".into()))?;
            Ok(Parameter {
                name: string(p, "name")
                    .ok_or_else(|| e(path, "parameter without a `name`".into()))?,
                description: string(p, "description"),
                ty: fn_type(p.get("type"), &format!("{path}.type")).map_err(|m| e(path, m))?,
                nullable: p.get("is_nullable").and_then(Value::as_bool) == Some(true),
            })
        };
        let parameters = match obj.get("parameters") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, p)| parameter(p, &format!("{path}.parameters[{i}]")))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(e(&path, "`parameters` is not a list".into())),
        };
        let variadic = obj
            .get("variadic_parameter")
            .map(|p| parameter(p, &format!("{path}.variadic_parameter")))
            .transpose()?;
        let return_type = fn_type(obj.get("return_type"), &format!("{path}.return_type"))
            .map_err(|m| e(&path, m))?;
        out.insert(
            name.clone(),
            Signature {
                description: string(obj, "description"),
                parameters,
                variadic,
                return_type,
            },
        );
    }
    Ok(out)
}

fn string(obj: &Map<String, Value>, key: &str) -> Option<String> {
    obj.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
}

fn fn_type(v: Option<&Value>, path: &str) -> Result<FnType, String> {
    match v {
        None => Err(format!("{path}: missing")),
        Some(Value::String(s)) => match s.as_str() {
            "string" => Ok(FnType::String),
            "number" => Ok(FnType::Number),
            "bool" => Ok(FnType::Bool),
            "dynamic" => Ok(FnType::Dynamic),
            other => Err(format!("{path}: unknown primitive type `{other}`")),
        },
        Some(Value::Array(items)) => {
            let inner = || fn_type(items.get(1), &format!("{path}[1]")).map(Box::new);
            match items.first().and_then(Value::as_str) {
                Some("list") => Ok(FnType::List(inner()?)),
                Some("set") => Ok(FnType::Set(inner()?)),
                Some("map") => Ok(FnType::Map(inner()?)),
                Some("object" | "tuple") => Ok(FnType::Structural),
                _ => Err(format!("{path}: unknown type constructor")),
            }
        }
        Some(_) => Err(format!("{path}: not a type expression")),
    }
}

/// Generates the wrappers of every built-in function of a `terraform metadata functions -json`
/// document: `file` names it in errors, `terraform` says which Terraform it came from
/// (`Terraform 1.11.4`) and `command` what regenerates it, both for the header.
pub fn generate(
    file: &str,
    text: &str,
    terraform: &str,
    command: &str,
) -> Result<GeneratedFunctions, SchemaError> {
    let signatures = parse(file, text)?;
    let mut body = String::new();
    let mut functions = 0;
    let mut skipped = 0;
    for (name, sig) in &signatures {
        if name.contains("::") {
            skipped += 1;
            continue;
        }
        functions += 1;
        emit_function(&mut body, name, name, sig);
    }
    let used = used_names(&body);
    let mut out = format!(
        "// @generated by `{command}` from `terraform metadata functions -json` ({terraform}); do not edit.\n\
         //! The built-in functions of {terraform}, one typed wrapper each ({functions} functions).\n\n"
    );
    imports(&mut out, "super", &used);
    out.push_str(&body);
    Ok(GeneratedFunctions {
        text: out,
        functions,
        skipped,
    })
}

/// The module of a provider's own functions (`provider::<local>::<name>`), `None` when it has
/// none: `header` starts the file, `runtime` is the DSL crate's path.
pub(crate) fn provider_module(
    signatures: &BTreeMap<String, Signature>,
    local_name: &str,
    header: &str,
    display: &str,
    runtime: &str,
) -> Option<String> {
    if signatures.is_empty() {
        return None;
    }
    let mut body = String::new();
    for (name, sig) in signatures {
        emit_function(
            &mut body,
            &format!("provider::{local_name}::{name}"),
            name,
            sig,
        );
    }
    // The value types come from the bindings prelude.
    let used: Vec<&str> = used_names(&body)
        .into_iter()
        .filter(|n| n.starts_with("call") || n.starts_with("A"))
        .collect();
    let mut out = format!(
        "{header}//! The functions {display} defines (`provider::{local_name}::*`). Terraform resolves them\n\
         //! only in a configuration that requires the provider: declare it (`Stack::add_provider`)\n\
         //! or require it (`Stack::require_provider`).\n\n"
    );
    let _ = writeln!(out, "use {runtime}::bindings::*;");
    imports(&mut out, &format!("{runtime}::functions"), &used);
    out.push_str(&body);
    Some(out)
}

/// The argument traits, types and call helpers a module of wrappers uses.
fn used_names(body: &str) -> Vec<&'static str> {
    let mut used: Vec<&'static str> = ["AnyList", "Arg", "ArgOf"]
        .into_iter()
        .filter(|t| body.contains(&format!("impl {t}")) || body.contains(&format!("dyn {t}")))
        .collect();
    for t in ["BTreeMap", "Dynamic", "ListRef", "MapRef", "Number", "Tf"] {
        if body.contains(&format!("{t}<")) || body.contains(&format!("<{t}>")) {
            used.push(t);
        }
    }
    if body.contains(" call_function(") {
        used.push("call_function");
    }
    if body.contains(" call_function_variadic(") {
        used.push("call_function_variadic");
    }
    used
}

/// `use <from>::{<used>};` laid out as rustfmt does.
fn imports(out: &mut String, from: &str, used: &[&str]) {
    let imports = format!("use {from}::{{{}}};", used.join(", "));
    if imports.len() <= MAX_WIDTH {
        let _ = writeln!(out, "{imports}");
    } else {
        let _ = writeln!(out, "use {from}::{{");
        // rustfmt packs imports into lines of at most 100 columns.
        let mut line = String::from("   ");
        for u in used {
            if line.len() + 1 + u.len() + 1 > MAX_WIDTH {
                let _ = writeln!(out, "{line}");
                line = String::from("   ");
            }
            let _ = write!(line, " {u},");
        }
        let _ = writeln!(out, "{line}");
        out.push_str("};\n");
    }
}

/// One wrapper: `call_name` is what the configuration calls (`upper`,
/// `provider::terraform::encode_tfvars`), `name` the function's own name.
fn emit_function(out: &mut String, call_name: &str, name: &str, sig: &Signature) {
    let mut idents = crate::names::Registry::default();
    let params: Vec<(String, &Parameter)> = sig
        .parameters
        .iter()
        .map(|p| (ident(&idents.claim(&snake(&p.name), "_", &[])), p))
        .collect();
    let variadic = sig
        .variadic
        .as_ref()
        .map(|p| (ident(&idents.claim(&snake(&p.name), "_", &[])), p));

    // Documentation: the call, the description, the parameters.
    let mut call_doc: Vec<String> = sig.parameters.iter().map(|p| p.name.clone()).collect();
    if let Some(v) = &sig.variadic {
        call_doc.push(format!("{}...", v.name));
    }
    out.push('\n');
    let _ = writeln!(out, "/// `{call_name}({})`", call_doc.join(", "));
    for para in description(sig.description.as_deref()) {
        out.push_str("///\n");
        let _ = writeln!(out, "/// {para}");
    }
    let mut lines = Vec::new();
    for (p, variadic) in sig
        .parameters
        .iter()
        .map(|p| (p, false))
        .chain(sig.variadic.iter().map(|p| (p, true)))
    {
        let mut line = format!("- `{}`: {}", p.name, p.ty.terraform());
        if variadic {
            line.push_str(", any number of them");
        }
        if p.nullable {
            line.push_str(", may be null");
        }
        if let Some(d) = &p.description {
            let d: Vec<&str> = d.split_whitespace().collect();
            let _ = write!(line, ": {}", d.join(" "));
        }
        lines.push(line);
    }
    if !lines.is_empty() {
        out.push_str("///\n/// Parameters:\n");
        for l in lines {
            let _ = writeln!(out, "/// {l}");
        }
    }
    let _ = writeln!(out, "///\n/// Returns {}.", sig.return_type.terraform());

    let mut args: Vec<String> = params
        .iter()
        .map(|(id, p)| format!("{id}: impl {}", p.ty.arg_trait()))
        .collect();
    if let Some((id, p)) = &variadic {
        args.push(format!("{id}: &[&dyn {}]", p.ty.arg_trait()));
    }
    let fn_name = ident(&snake(name));
    let head = format!("pub fn {fn_name}");
    let tail = format!(" -> {} {{", sig.return_type.result_type());
    let one = format!("{head}({}){tail}", args.join(", "));
    if one.len() <= MAX_WIDTH {
        let _ = writeln!(out, "{one}");
    } else {
        let _ = writeln!(out, "{head}(");
        for a in &args {
            let _ = writeln!(out, "    {a},");
        }
        let _ = writeln!(out, "){tail}");
    }
    let fixed: Vec<String> = params.iter().map(|(id, _)| format!("&{id}")).collect();
    let call = match &variadic {
        None => vec![
            format!("\"{call_name}\""),
            format!("&[{}]", fixed.join(", ")),
        ],
        Some((id, _)) => vec![
            format!("\"{call_name}\""),
            format!("&[{}]", fixed.join(", ")),
            id.clone(),
        ],
    };
    let func = if variadic.is_some() {
        "call_function_variadic"
    } else {
        "call_function"
    };
    let one = format!("    {func}({})", call.join(", "));
    // rustfmt's fn_call_width is 60 for the arguments.
    if one.len() <= MAX_WIDTH && call.join(", ").len() <= 60 {
        let _ = writeln!(out, "{one}");
    } else {
        let _ = writeln!(out, "    {func}(");
        for c in &call {
            let _ = writeln!(out, "        {c},");
        }
        out.push_str("    )\n");
    }
    out.push_str("}\n");
}

/// A Markdown description as doc paragraphs (one line each), relative links made absolute.
fn description(text: Option<&str>) -> Vec<String> {
    let Some(text) = text else {
        return Vec::new();
    };
    text.replace("\r\n", "\n")
        .split("\n\n")
        .map(|p| {
            p.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .replace("](/", "](https://developer.hashicorp.com/")
        })
        .filter(|p| !p.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_map_to_the_dsl() {
        let list = FnType::List(Box::new(FnType::String));
        assert_eq!(list.arg_trait(), "ArgOf<Vec<Tf<String>>>");
        assert_eq!(list.result_type(), "ListRef<Tf<String>>");
        let any = FnType::Set(Box::new(FnType::Dynamic));
        assert_eq!(any.arg_trait(), "AnyList");
        assert_eq!(any.result_type(), "ListRef<Tf<Dynamic>>");
        let m = FnType::Map(Box::new(FnType::List(Box::new(FnType::String))));
        assert_eq!(
            m.arg_trait(),
            "ArgOf<BTreeMap<String, Tf<Vec<Tf<String>>>>>"
        );
        assert_eq!(m.result_type(), "MapRef<ListRef<Tf<String>>>");
        assert_eq!(FnType::Dynamic.arg_trait(), "Arg");
    }

    #[test]
    fn keywords_variadics_and_aliases() {
        let doc = r#"{"format_version": "1.0", "function_signatures": {
            "try": {"return_type": "dynamic", "variadic_parameter": {"name": "expressions", "type": "dynamic"}},
            "core::try": {"return_type": "dynamic", "variadic_parameter": {"name": "expressions", "type": "dynamic"}},
            "max": {"return_type": "number", "variadic_parameter": {"name": "numbers", "type": "number"}},
            "lookup": {"return_type": "dynamic", "parameters": [{"name": "inputMap", "type": "dynamic"}, {"name": "key", "type": "string"}],
                       "variadic_parameter": {"name": "default", "type": "dynamic", "is_nullable": true}}}}"#;
        let out = generate("t.json", doc, "Terraform test", "test").expect("generates");
        assert_eq!((out.functions, out.skipped), (3, 1));
        assert!(
            out.text
                .contains("pub fn r#try(expressions: &[&dyn Arg]) -> Tf<Dynamic> {"),
            "{}",
            out.text
        );
        assert!(
            out.text
                .contains("call_function_variadic(\"try\", &[], expressions)")
        );
        assert!(
            out.text
                .contains("pub fn max(numbers: &[&dyn ArgOf<Number>]) -> Tf<Number> {")
        );
        assert!(out.text.contains(
            "pub fn lookup(input_map: impl Arg, key: impl ArgOf<String>, default: &[&dyn Arg]) -> Tf<Dynamic> {"
        ));
        assert!(
            out.text
                .contains("/// - `default`: dynamic, any number of them, may be null")
        );
    }

    #[test]
    fn malformed_documents_name_the_function_and_path() {
        let e = generate(
            "t.json",
            r#"{"format_version": "1.0", "function_signatures": {"f": {"return_type": "strin"}}}"#,
            "x",
            "y",
        )
        .unwrap_err();
        assert!(e.to_string().contains("function f"), "{e}");
        assert!(
            e.to_string().contains("unknown primitive type `strin`"),
            "{e}"
        );
        let e = generate("t.json", r#"{"format_version": "2.0"}"#, "x", "y").unwrap_err();
        assert!(e.to_string().contains("not supported"), "{e}");
    }
}
