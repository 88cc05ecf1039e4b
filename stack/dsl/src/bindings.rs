//! What generated provider bindings build on (`callflow-codegen` emits `use <runtime>::bindings::*`):
//! the value and reference types, the resource traits, and two helpers the generated code calls.

pub use std::collections::BTreeMap;

pub use super::expr::{Dynamic, Expression, Tf, TfLiteral};
pub use super::number::Number;
pub use super::provider::{ProvidedBy, Provider};
pub use super::refs::{FromExpression, ListRef, MapRef};
pub use super::stack::{DataSource, Resource};

/// The reference to attribute `name` below `base` (`base.name`), typed by the caller.
pub fn attr<R: FromExpression>(base: &Expression, name: &str) -> R {
    R::from_expression(base.attr(name))
}

/// The Terraform JSON of a generated object type (its fields are already Terraform values).
pub fn object_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    // Generated objects hold only `Tf` values, strings, maps and vectors: serializing them
    // cannot fail, and a failure would still surface as a `null` that synth rejects.
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// The HCL expression of a generated object type.
pub fn object_hcl<T: serde::Serialize>(value: &T) -> String {
    super::expr::hcl_of_json(&object_json(value))
}
