//! Typed structs for the hashicorp/aws provider (6.x) resources and data sources the stack uses.
//!
//! Field names, nesting (single block → object, list block → array) and required fields follow
//! the provider schema; tests check every synthesized resource against the schema data. Unset
//! optional fields (`None`, empty lists and maps) are left out of the JSON.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use crate::dsl::{Expression, FromExpression, Tf};

pub mod acm;
pub mod apigateway;
pub mod cloudwatch;
pub mod iam;
pub mod kms;
pub mod lambda;
pub mod meta;
pub mod route53;
pub mod s3;
pub mod sns;

/// A map of string tags or variables.
pub type StringMap = BTreeMap<String, Tf<String>>;

/// Whether a field is left out of the JSON.
pub trait Unset {
    /// True for `None`, empty lists and empty maps.
    fn is_unset(&self) -> bool;
}

impl<T> Unset for Option<T> {
    fn is_unset(&self) -> bool {
        self.is_none()
    }
}

impl<T> Unset for Vec<T> {
    fn is_unset(&self) -> bool {
        self.is_empty()
    }
}

impl<K, V> Unset for BTreeMap<K, V> {
    fn is_unset(&self) -> bool {
        self.is_empty()
    }
}

impl<T> Unset for Tf<T> {
    fn is_unset(&self) -> bool {
        false
    }
}

/// Serde predicate: skip unset fields.
pub fn is_unset<T: Unset>(v: &T) -> bool {
    v.is_unset()
}

/// The attribute references of a hand-written resource type `R`.
pub struct AttrRefs<R> {
    base: Expression,
    _kind: PhantomData<fn() -> R>,
}

impl<R> FromExpression for AttrRefs<R> {
    fn from_expression(base: Expression) -> Self {
        Self {
            base,
            _kind: PhantomData,
        }
    }
}

impl<R> Clone for AttrRefs<R> {
    fn clone(&self) -> Self {
        Self::from_expression(self.base.clone())
    }
}

impl<R> std::fmt::Debug for AttrRefs<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("AttrRefs").field(&self.base).finish()
    }
}

impl<R> AttrRefs<R> {
    /// A reference to one of the attributes: `${type.name.attr}`.
    pub fn attr(&self, attr: &str) -> Tf<String> {
        Tf::expr(self.expression(attr))
    }

    /// The attribute reference as an expression, for building larger expressions.
    pub fn expression(&self, attr: &str) -> Expression {
        self.base.attr(attr)
    }

    /// The `id` attribute.
    pub fn id(&self) -> Tf<String> {
        self.attr("id")
    }
}

/// Declares a Terraform block struct whose unset fields are skipped, optionally a resource or
/// data source type with typed attribute getters on its handle.
macro_rules! tf_block {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident $(: resource $rtype:literal [$($rattr:ident),*])? $(: data $dtype:literal [$($dattr:ident),*])? {
            $( $(#[$fmeta:meta])* $field:ident : $fty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
        $vis struct $name {
            $(
                $(#[$fmeta])*
                #[serde(skip_serializing_if = "crate::dsl::aws::is_unset")]
                pub $field: $fty,
            )*
        }
        $(
            impl crate::dsl::Resource for $name {
                const TYPE: &'static str = $rtype;
                type Refs = crate::dsl::aws::AttrRefs<$name>;
            }
            impl crate::dsl::aws::AttrRefs<$name> {
                $(
                    #[doc = concat!("The `", stringify!($rattr), "` attribute of this `", $rtype, "`.")]
                    pub fn $rattr(&self) -> crate::dsl::Tf<String> {
                        self.attr(stringify!($rattr))
                    }
                )*
            }
        )?
        $(
            impl crate::dsl::DataSource for $name {
                const TYPE: &'static str = $dtype;
                type Refs = crate::dsl::aws::AttrRefs<$name>;
            }
            impl crate::dsl::aws::AttrRefs<$name> {
                $(
                    #[doc = concat!("The `", stringify!($dattr), "` attribute of this `", $dtype, "` data source.")]
                    pub fn $dattr(&self) -> crate::dsl::Tf<String> {
                        self.attr(stringify!($dattr))
                    }
                )*
            }
        )?
    };
}
pub(crate) use tf_block;
