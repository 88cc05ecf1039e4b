//! Typed provider configurations: `callflow get` generates one configuration type per provider
//! (`AwsProvider`, from the schema's `provider` section) implementing [`Provider`], and every
//! resource and data-source type of that provider implements [`ProvidedBy`] of it. A stack
//! declares configurations with [`Stack::add_provider`] (the default one) and
//! [`Stack::add_provider_alias`] (further ones, e.g. another region) and gives the returned
//! [`ProviderHandle`] to the resources that use it ([`Stack::use_provider`]): a resource of
//! another provider does not compile, and an alias cannot be misspelled.
//!
//! ```
//! use callflow_dsl::{Provider, ProvidedBy, Resource, Stack};
//! # use serde::Serialize;
//! # #[derive(Serialize)] struct DemoProvider { region: String }
//! # impl Provider for DemoProvider { const NAME: &'static str = "demo"; const SOURCE: &'static str = "acme/demo"; const VERSION: Option<&'static str> = Some("~> 1.0"); }
//! # #[derive(Serialize)] struct DemoThing {}
//! # impl Resource for DemoThing { const TYPE: &'static str = "demo_thing"; type Refs = callflow_dsl::Tf<String>; }
//! # impl ProvidedBy<DemoProvider> for DemoThing {}
//! let mut stack = Stack::new("app");
//! stack.add_provider(DemoProvider { region: "eu-west-1".into() });
//! let us_east_1 = stack.add_provider_alias("us_east_1", DemoProvider { region: "us-east-1".into() });
//! let thing = stack.resource("cert", DemoThing {});
//! stack.use_provider(&thing, &us_east_1);
//! let doc = stack.synth().unwrap();
//! assert_eq!(doc["provider"]["demo"][1], serde_json::json!({"alias": "us_east_1", "region": "us-east-1"}));
//! assert_eq!(doc["resource"]["demo_thing"]["cert"]["provider"], "demo.us_east_1");
//! assert_eq!(doc["terraform"]["required_providers"]["demo"]["source"], "acme/demo");
//! ```

//!
//! A configuration of one provider cannot be given to a type of another:
//!
//! ```compile_fail
//! use callflow_dsl::{ProvidedBy, Provider, Resource, Stack};
//! # use serde::Serialize;
//! #[derive(Serialize)] struct AwsLike {}
//! impl Provider for AwsLike { const NAME: &'static str = "aws"; const SOURCE: &'static str = "hashicorp/aws"; const VERSION: Option<&'static str> = None; }
//! #[derive(Serialize)] struct GoogleLike {}
//! impl Provider for GoogleLike { const NAME: &'static str = "google"; const SOURCE: &'static str = "hashicorp/google"; const VERSION: Option<&'static str> = None; }
//! #[derive(Serialize)] struct Bucket {}
//! impl Resource for Bucket { const TYPE: &'static str = "google_storage_bucket"; type Refs = callflow_dsl::Tf<String>; }
//! impl ProvidedBy<GoogleLike> for Bucket {}
//! let mut stack = Stack::new("s");
//! let aws = stack.add_provider_alias("east", AwsLike {});
//! let bucket = stack.resource("b", Bucket {});
//! stack.use_provider(&bucket, &aws); // error: Bucket is not ProvidedBy<AwsLike>
//! ```

use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;
use serde_json::Value;

use super::error::StackError;
use super::logical_id::LogicalId;
use super::meta::{Block, CountHandle, DataOf, Declared, ForEachHandle};
use super::stack::{DataHandle, DataSource, Handle, RequiredProvider, Resource, Stack};

/// A provider's configuration block (`provider "aws" { ... }`), as generated from its schema.
pub trait Provider: Serialize {
    /// The provider's local name: the key of `provider.<name>` and of
    /// `required_providers.<name>`, and the prefix of `<name>.<alias>`.
    const NAME: &'static str;
    /// Its registry source, e.g. `hashicorp/aws`.
    const SOURCE: &'static str;
    /// The version constraint the bindings were generated for (`~> 6.25`), if the project
    /// names one: declaring the provider requires it unless the stack already requires the
    /// provider.
    const VERSION: Option<&'static str>;
}

/// A resource or data-source type that provider `P` implements (generated for every type):
/// only a configuration of `P` can be given to it.
pub trait ProvidedBy<P: Provider> {}

/// A repeated data source (`CountHandle<DataOf<D>>`) is provided by its data source's provider.
impl<P: Provider, D: DataSource + ProvidedBy<P>> ProvidedBy<P> for DataOf<D> {}

/// A declared element whose type provider `P` implements: what [`Stack::use_provider`] takes
/// (a resource or data-source handle, plain or declared with `count` / `for_each`).
pub trait ConfiguredBy<P: Provider>: Declared {}

impl<P: Provider, R: Resource + ProvidedBy<P>> ConfiguredBy<P> for Handle<R> {}
impl<P: Provider, D: DataSource + ProvidedBy<P>> ConfiguredBy<P> for DataHandle<D> {}
impl<P: Provider, B: Block + ProvidedBy<P>> ConfiguredBy<P> for CountHandle<B> {}
impl<P: Provider, B: Block + ProvidedBy<P>> ConfiguredBy<P> for ForEachHandle<B> {}

/// A provider configuration declared in a stack: the default one or one with an alias.
/// Obtained only from [`Stack::add_provider`] / [`Stack::add_provider_alias`], so it always
/// names a declared configuration.
pub struct ProviderHandle<P> {
    alias: Option<LogicalId>,
    _provider: PhantomData<fn() -> P>,
}

impl<P> Clone for ProviderHandle<P> {
    fn clone(&self) -> Self {
        Self {
            alias: self.alias.clone(),
            _provider: PhantomData,
        }
    }
}

impl<P: Provider> fmt::Debug for ProviderHandle<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ProviderHandle")
            .field(&self.reference())
            .finish()
    }
}

impl<P: Provider> ProviderHandle<P> {
    /// The alias, or `None` for the default configuration.
    pub fn alias(&self) -> Option<&str> {
        self.alias.as_ref().map(LogicalId::as_str)
    }

    /// The value of the `provider` meta-argument that selects this configuration: `aws` or
    /// `aws.us_east_1`.
    pub fn reference(&self) -> String {
        match &self.alias {
            Some(alias) => format!("{}.{alias}", P::NAME),
            None => P::NAME.to_string(),
        }
    }
}

impl Stack {
    /// Declares the default configuration of provider `P` (`provider "aws" { ... }`), the one
    /// every resource of `P` without [`Stack::use_provider`] uses. Also requires `P` in
    /// `terraform.required_providers` with its source and version constraint, unless the stack
    /// requires it already ([`Stack::require_provider`]). A second default configuration of the
    /// same provider is a synth error.
    pub fn add_provider<P: Provider>(&mut self, config: P) -> ProviderHandle<P> {
        self.declare_provider(None, config)
    }

    /// Declares a further configuration of provider `P` under `alias` (`provider "aws" { alias
    /// = "us_east_1" ... }`); resources use it through [`Stack::use_provider`]. An alias that is
    /// not an identifier, or declared twice, is a synth error.
    pub fn add_provider_alias<P: Provider>(&mut self, alias: &str, config: P) -> ProviderHandle<P> {
        let alias = match LogicalId::parse(alias) {
            Ok(a) => a,
            Err(e) => {
                self.record_error(e);
                LogicalId::unchecked(alias)
            }
        };
        self.declare_provider(Some(alias), config)
    }

    fn declare_provider<P: Provider>(
        &mut self,
        alias: Option<LogicalId>,
        config: P,
    ) -> ProviderHandle<P> {
        let mut body = match serde_json::to_value(&config) {
            Ok(Value::Object(map)) => map,
            Ok(other) => {
                self.record_error(StackError::Serialize {
                    address: format!("provider.{}", P::NAME),
                    message: format!("a provider configuration must be an object, not {other}"),
                });
                serde_json::Map::new()
            }
            Err(e) => {
                self.record_error(StackError::Serialize {
                    address: format!("provider.{}", P::NAME),
                    message: e.to_string(),
                });
                serde_json::Map::new()
            }
        };
        if let Some(alias) = &alias {
            body.insert("alias".into(), Value::String(alias.to_string()));
        }
        let handle = ProviderHandle {
            alias,
            _provider: PhantomData,
        };
        let blocks = self
            .provider_blocks_mut()
            .entry(P::NAME.into())
            .or_default();
        let wanted = handle.alias().map(str::to_string);
        let duplicate = blocks
            .iter()
            .any(|b| b.get("alias").and_then(Value::as_str).map(str::to_string) == wanted);
        blocks.push(Value::Object(body));
        if duplicate {
            self.record_error(StackError::DuplicateId {
                address: format!("provider {}", handle.reference()),
            });
        }
        if !self.requires_provider(P::NAME) {
            self.require_provider(
                P::NAME,
                RequiredProvider {
                    source: P::SOURCE.into(),
                    version: P::VERSION.unwrap_or_default().into(),
                },
            );
        }
        handle
    }

    /// Makes a resource or data source (any handle: plain, `count` or `for_each`) use a
    /// provider configuration: its `provider` meta-argument, e.g. `aws.us_east_1` for a
    /// CloudFront certificate beside a stack in eu-west-1. An element of another provider's type
    /// does not compile.
    pub fn use_provider<E, P>(&mut self, element: &E, provider: &ProviderHandle<P>)
    where
        E: ConfiguredBy<P>,
        P: Provider,
    {
        let (data, kind, name) = element.element_key();
        let name = name.as_str().to_string();
        self.set_element_provider(data, kind, &name, provider.reference());
    }

    /// [`Stack::use_provider`] for a data source (the same; kept for code written before it
    /// took every kind of handle).
    pub fn use_provider_for_data<D, P>(
        &mut self,
        data: &DataHandle<D>,
        provider: &ProviderHandle<P>,
    ) where
        D: DataSource + ProvidedBy<P>,
        P: Provider,
    {
        self.use_provider(data, provider);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tf;

    #[derive(Serialize)]
    struct DemoProvider {
        #[serde(skip_serializing_if = "Option::is_none")]
        region: Option<Tf<String>>,
    }

    impl Provider for DemoProvider {
        const NAME: &'static str = "demo";
        const SOURCE: &'static str = "acme/demo";
        const VERSION: Option<&'static str> = Some("~> 1.0");
    }

    #[derive(Serialize)]
    struct Thing {}

    impl Resource for Thing {
        const TYPE: &'static str = "demo_thing";
        type Refs = Tf<String>;
    }

    impl ProvidedBy<DemoProvider> for Thing {}

    #[derive(Serialize)]
    struct Lookup {}

    impl DataSource for Lookup {
        const TYPE: &'static str = "demo_lookup";
        type Refs = Tf<String>;
    }

    impl ProvidedBy<DemoProvider> for Lookup {}

    fn region(r: &str) -> DemoProvider {
        DemoProvider {
            region: Some(r.into()),
        }
    }

    #[test]
    fn default_and_aliased_configurations() {
        let mut stack = Stack::new("s");
        let default = stack.add_provider(region("eu-west-1"));
        let east = stack.add_provider_alias("us_east_1", region("us-east-1"));
        assert_eq!(default.reference(), "demo");
        assert_eq!(east.reference(), "demo.us_east_1");
        assert_eq!(east.alias(), Some("us_east_1"));
        let thing = stack.resource("t", Thing {});
        let lookup = stack.data("l", Lookup {});
        stack.use_provider(&thing, &east);
        stack.use_provider(&lookup, &east);
        let many = stack.resource_with_count("many", 2, |_| Thing {});
        stack.use_provider(&many, &default);
        let doc = stack.synth().expect("synth");
        assert_eq!(
            doc["provider"]["demo"],
            serde_json::json!([
                {"region": "eu-west-1"},
                {"alias": "us_east_1", "region": "us-east-1"}
            ])
        );
        assert_eq!(
            doc["resource"]["demo_thing"]["t"]["provider"],
            "demo.us_east_1"
        );
        assert_eq!(
            doc["data"]["demo_lookup"]["l"]["provider"],
            "demo.us_east_1"
        );
        assert_eq!(doc["resource"]["demo_thing"]["many"]["provider"], "demo");
        assert_eq!(doc["resource"]["demo_thing"]["many"]["count"], 2);
        assert_eq!(
            doc["terraform"]["required_providers"]["demo"],
            serde_json::json!({"source": "acme/demo", "version": "~> 1.0"})
        );
    }

    #[test]
    fn an_explicit_requirement_is_kept() {
        let mut stack = Stack::new("s");
        stack.require_provider(
            "demo",
            RequiredProvider {
                source: "mirror/demo".into(),
                version: "1.2.3".into(),
            },
        );
        stack.add_provider(DemoProvider { region: None });
        let doc = stack.synth().expect("synth");
        assert_eq!(
            doc["terraform"]["required_providers"]["demo"]["source"],
            "mirror/demo"
        );
        assert_eq!(doc["provider"]["demo"], serde_json::json!([{}]));
    }

    #[test]
    fn duplicate_and_invalid_aliases_are_synth_errors() {
        let mut stack = Stack::new("s");
        stack.add_provider(region("a"));
        stack.add_provider(region("b"));
        stack.add_provider_alias("east", region("c"));
        stack.add_provider_alias("east", region("d"));
        stack.add_provider_alias("us-east 1", region("e"));
        let err = stack.synth().expect_err("duplicates").to_string();
        assert!(err.contains("provider demo"), "{err}");
        assert!(err.contains("provider demo.east"), "{err}");
        assert!(err.contains("us-east 1"), "{err}");
    }
}
