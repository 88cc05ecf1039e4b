//! Typed structs for the hashicorp/aws provider (6.x) resources and data sources the stack uses.
//!
//! Field names, nesting (single block → object, list block → array) and required fields follow
//! the provider schema; tests check every synthesized resource against the schema data. Unset
//! optional fields (`None`, empty lists and maps) are left out of the JSON.

use std::collections::BTreeMap;

use super::expr::Tf;

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
            }
            impl crate::dsl::Handle<$name> {
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
            }
            impl crate::dsl::DataHandle<$name> {
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
