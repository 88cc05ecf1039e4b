//! Refactoring blocks: `moved` (a rename keeps the state), `import` (adopt an existing object)
//! and `removed` (forget an object, optionally without destroying it), as Terraform 1.7+ reads
//! them from the top-level `moved`, `import` and `removed` arrays of a `.tf.json` file.
//!
//! Addresses are typed: [`Address`] parses `type.name`, `type.name[0]` and `type.name["k"]` at
//! the boundary, and targets are handles, so a `moved` can only point at something declared.
//!
//! ```
//! use callflow_dsl::{Address, InstanceKey};
//! let a: Address = "aws_s3_bucket.events[\"eu\"]".parse().unwrap();
//! assert_eq!(a.kind(), "aws_s3_bucket");
//! assert_eq!(a.key(), Some(&InstanceKey::Key("eu".into())));
//! assert_eq!(a.to_string(), "aws_s3_bucket.events[\"eu\"]");
//! assert!("aws_s3_bucket".parse::<Address>().is_err());
//! ```

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

use super::error::StackError;
use super::expr::{Tf, hcl_quote};
use super::logical_id::LogicalId;
use super::meta::{CountHandle, ForEachHandle, Instance, Rep};
use super::stack::{Handle, Resource};

/// The key of one instance of a repeated resource.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InstanceKey {
    /// A `count` instance: `[0]`.
    Index(u64),
    /// A `for_each` instance: `["key"]`.
    Key(String),
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::Index(i) => write!(f, "[{i}]"),
            InstanceKey::Key(k) => write!(f, "[{}]", hcl_quote(k)),
        }
    }
}

/// The address of a managed resource or of one of its instances, in the root module:
/// `type.name`, `type.name[0]`, `type.name["key"]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    kind: String,
    name: LogicalId,
    key: Option<InstanceKey>,
}

impl Address {
    /// The address of resource `name` of type `kind`, optionally one instance of it.
    pub fn new(kind: &str, name: LogicalId, key: Option<InstanceKey>) -> Self {
        Self {
            kind: kind.to_string(),
            name,
            key,
        }
    }

    /// Parses an address as Terraform writes it; `data.` and `module.` addresses are refused
    /// (refactoring blocks here move managed resources of the stack itself).
    pub fn parse(text: &str) -> Result<Self, StackError> {
        let invalid = |reason: &str| StackError::InvalidAddress {
            address: text.to_string(),
            reason: reason.to_string(),
        };
        let (base, key) = match text.find('[') {
            Some(open) => {
                let inner = text[open + 1..]
                    .strip_suffix(']')
                    .ok_or_else(|| invalid("an instance key ends with `]`"))?;
                (&text[..open], Some(parse_key(inner).map_err(invalid)?))
            }
            None => (text, None),
        };
        let (kind, name) = base
            .split_once('.')
            .ok_or_else(|| invalid("expected `type.name`"))?;
        if kind == "data" || kind == "module" {
            return Err(invalid(
                "only managed resources of this stack (`type.name`) can be moved, imported or removed",
            ));
        }
        let kind_ok = kind.starts_with(|c: char| c.is_ascii_alphabetic())
            && kind
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !kind_ok {
            return Err(invalid("the resource type is not an identifier"));
        }
        let name = LogicalId::parse(name).map_err(|_| invalid("the name is not an identifier"))?;
        Ok(Self {
            kind: kind.to_string(),
            name,
            key,
        })
    }

    /// The resource type.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The resource's logical id.
    pub fn name(&self) -> &LogicalId {
        &self.name
    }

    /// The instance key, if the address names one instance.
    pub fn key(&self) -> Option<&InstanceKey> {
        self.key.as_ref()
    }

    /// The same address without its instance key (the whole resource).
    pub fn resource(&self) -> Address {
        Self {
            kind: self.kind.clone(),
            name: self.name.clone(),
            key: None,
        }
    }

    fn same_resource(&self, other: &Address) -> bool {
        self.kind == other.kind && self.name == other.name
    }
}

fn parse_key(inner: &str) -> Result<InstanceKey, &'static str> {
    let inner = inner.trim();
    if let Some(quoted) = inner.strip_prefix('"') {
        let body = quoted
            .strip_suffix('"')
            .ok_or("a string key is quoted: `[\"key\"]`")?;
        let mut key = String::new();
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => key.push('\n'),
                    Some('t') => key.push('\t'),
                    Some('r') => key.push('\r'),
                    Some(c @ ('"' | '\\')) => key.push(c),
                    _ => return Err("unknown escape in a string key"),
                },
                '"' => return Err("unescaped `\"` in a string key"),
                c => key.push(c),
            }
        }
        Ok(InstanceKey::Key(key))
    } else {
        inner
            .parse::<u64>()
            .map(InstanceKey::Index)
            .map_err(|_| "an instance key is a number `[0]` or a quoted string `[\"key\"]`")
    }
}

impl FromStr for Address {
    type Err = StackError;
    fn from_str(s: &str) -> Result<Self, StackError> {
        Self::parse(s)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.kind, self.name)?;
        match &self.key {
            Some(key) => write!(f, "{key}"),
            None => Ok(()),
        }
    }
}

/// An address given to [`crate::Stack::moved`] or [`crate::Stack::removed`]: an [`Address`], or
/// its text, parsed there (a bad one is a synth error naming it).
pub trait IntoAddress {
    /// The parsed address.
    fn into_address(self) -> Result<Address, StackError>;
}

impl IntoAddress for Address {
    fn into_address(self) -> Result<Address, StackError> {
        Ok(self)
    }
}

impl IntoAddress for &Address {
    fn into_address(self) -> Result<Address, StackError> {
        Ok(self.clone())
    }
}

impl IntoAddress for &str {
    fn into_address(self) -> Result<Address, StackError> {
        Address::parse(self)
    }
}

impl IntoAddress for String {
    fn into_address(self) -> Result<Address, StackError> {
        Address::parse(&self)
    }
}

impl IntoAddress for &String {
    fn into_address(self) -> Result<Address, StackError> {
        Address::parse(self)
    }
}

/// A declared resource, or one literal instance of it, that a `moved` or `import` points at:
/// a [`Handle`], a [`CountHandle`] / [`ForEachHandle`] (the whole resource), or an [`Instance`].
pub trait Target {
    /// Whether the resource type can be imported ([`Resource::IMPORTABLE`]).
    const IMPORTABLE: bool;
    /// The address; an instance whose key an expression computes has none.
    fn target_address(&self) -> Result<Address, StackError>;
}

impl<R: Resource> Target for Handle<R> {
    const IMPORTABLE: bool = R::IMPORTABLE;
    fn target_address(&self) -> Result<Address, StackError> {
        Ok(Address::new(R::TYPE, self.logical_id().clone(), None))
    }
}

impl<R: Resource> Target for CountHandle<R> {
    const IMPORTABLE: bool = R::IMPORTABLE;
    fn target_address(&self) -> Result<Address, StackError> {
        Ok(Address::new(R::TYPE, self.logical_id().clone(), None))
    }
}

impl<R: Resource> Target for ForEachHandle<R> {
    const IMPORTABLE: bool = R::IMPORTABLE;
    fn target_address(&self) -> Result<Address, StackError> {
        Ok(Address::new(R::TYPE, self.logical_id().clone(), None))
    }
}

impl<R: Resource> Target for Instance<R> {
    const IMPORTABLE: bool = R::IMPORTABLE;
    fn target_address(&self) -> Result<Address, StackError> {
        match self.key() {
            Some(key) => Ok(Address::new(
                R::TYPE,
                self.logical_id().clone(),
                Some(key.clone()),
            )),
            None => Err(StackError::InvalidAddress {
                address: self.address().to_string(),
                reason: "a moved or import target needs a literal instance key".into(),
            }),
        }
    }
}

/// One `moved` block.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Moved {
    pub(crate) from: Address,
    pub(crate) to: Address,
}

/// One `import` block.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Import {
    /// `to`: an address, or with `for_each` the traversal `type.name[each.key]`.
    pub(crate) to: Address,
    pub(crate) to_expression: Option<String>,
    pub(crate) id: Tf<String>,
    pub(crate) for_each: Option<Value>,
    pub(crate) importable: bool,
}

/// One `removed` block.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Removed {
    pub(crate) from: Address,
    pub(crate) destroy: bool,
}

/// The refactoring blocks of a stack.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Refactors {
    pub(crate) moved: Vec<Moved>,
    pub(crate) imports: Vec<Import>,
    pub(crate) removed: Vec<Removed>,
}

/// What synth knows of a declared resource: how it repeats, and its literal keys if any.
pub(crate) struct DeclaredResource<'a> {
    pub(crate) rep: Rep,
    pub(crate) count: Option<u64>,
    pub(crate) keys: Option<&'a [String]>,
}

impl DeclaredResource<'_> {
    /// Whether instance `key` certainly exists in the configuration.
    fn declares(&self, key: &InstanceKey) -> bool {
        match (self.rep, key) {
            (Rep::Count, InstanceKey::Index(i)) => self.count.is_some_and(|n| *i < n),
            (Rep::ForEach, InstanceKey::Key(k)) => self.keys.is_some_and(|ks| ks.contains(k)),
            _ => false,
        }
    }
}

/// The problem with instance access `key` on an element that repeats as `rep`, if any.
pub(crate) fn key_problem(rep: Rep, key: Option<&InstanceKey>) -> Option<&'static str> {
    match (rep, key) {
        (Rep::Single, Some(_)) => Some("it has neither count nor for_each, so it has no instances"),
        (Rep::Count, Some(InstanceKey::Key(_))) => {
            Some("it has count: its instances are numbered (`[0]`), not keyed by string")
        }
        (Rep::ForEach, Some(InstanceKey::Index(_))) => {
            Some("it has for_each: its instances are keyed by string (`[\"key\"]`), not numbered")
        }
        _ => None,
    }
}

impl Refactors {
    pub(crate) fn is_empty(&self) -> bool {
        self.moved.is_empty() && self.imports.is_empty() && self.removed.is_empty()
    }

    /// Checks every block against the declared resources (`declared(type, name)`).
    pub(crate) fn check<'a>(
        &self,
        declared: impl Fn(&str, &str) -> Option<DeclaredResource<'a>>,
        errors: &mut Vec<StackError>,
    ) {
        let lookup = |a: &Address| declared(&a.kind, a.name.as_str());
        let mut sources = std::collections::BTreeSet::new();
        for m in &self.moved {
            let block = format!("moved {{ from = {}, to = {} }}", m.from, m.to);
            if !sources.insert(&m.from) {
                errors.push(StackError::DuplicateId {
                    address: format!("moved from {}", m.from),
                });
            }
            if m.from == m.to {
                errors.push(StackError::InvalidMove {
                    block,
                    reason: "it moves an address onto itself".into(),
                });
                continue;
            }
            match lookup(&m.to) {
                None => errors.push(StackError::UndeclaredTarget {
                    block: block.clone(),
                    address: m.to.resource().to_string(),
                }),
                Some(to) => {
                    if let Some(reason) = key_problem(to.rep, m.to.key()) {
                        errors.push(StackError::WrongInstanceKey {
                            reference: m.to.to_string(),
                            at: block.clone(),
                            reason: reason.into(),
                        });
                    }
                }
            }
            if let Some(from) = lookup(&m.from) {
                let still_declared = match (m.from.key(), from.rep) {
                    // The whole resource is still declared, as one object.
                    (None, Rep::Single) => true,
                    // Into instances of itself (it gained count/for_each) is the point;
                    // elsewhere, its instances are still declared.
                    (None, _) => !m.from.same_resource(&m.to),
                    (Some(key), _) => from.declares(key),
                };
                if still_declared {
                    errors.push(StackError::InvalidMove {
                        block,
                        reason: format!(
                            "`{}` is still declared: a moved block's source must be gone from the configuration",
                            m.from
                        ),
                    });
                }
            }
        }
        let mut targets = std::collections::BTreeSet::new();
        for i in &self.imports {
            let shown = i.to_expression.clone().unwrap_or_else(|| i.to.to_string());
            let block = format!("import {{ to = {shown} }}");
            if i.for_each.is_none() && !targets.insert(&i.to) {
                errors.push(StackError::DuplicateId {
                    address: format!("import to {}", i.to),
                });
            }
            if !i.importable {
                errors.push(StackError::NotImportable {
                    address: shown.clone(),
                    kind: i.to.kind.clone(),
                });
            }
            match lookup(&i.to) {
                None => errors.push(StackError::UndeclaredTarget {
                    block,
                    address: i.to.resource().to_string(),
                }),
                Some(to) => {
                    let problem = if i.for_each.is_some() {
                        (to.rep != Rep::ForEach).then_some(
                            "an import with for_each targets a resource with for_each (`to = type.name[each.key]`)",
                        )
                    } else if to.rep != Rep::Single && i.to.key().is_none() {
                        Some("it has count or for_each: import into one instance (`.instance(..)`)")
                    } else {
                        key_problem(to.rep, i.to.key())
                    };
                    if let Some(reason) = problem {
                        errors.push(StackError::WrongInstanceKey {
                            reference: shown,
                            at: block,
                            reason: reason.into(),
                        });
                    }
                }
            }
        }
        for r in &self.removed {
            if r.from.key().is_some() {
                errors.push(StackError::InvalidAddress {
                    address: r.from.to_string(),
                    reason: "a removed block names a whole resource, without instance key".into(),
                });
            } else if lookup(&r.from).is_some() {
                errors.push(StackError::RemovedStillDeclared {
                    address: r.from.to_string(),
                });
            }
        }
    }

    /// Adds the `moved`, `import` and `removed` arrays to a document's root.
    pub(crate) fn render(&self, root: &mut Map<String, Value>) {
        if !self.moved.is_empty() {
            let moved = self
                .moved
                .iter()
                .map(|m| serde_json::json!({ "from": m.from.to_string(), "to": m.to.to_string() }))
                .collect();
            root.insert("moved".into(), Value::Array(moved));
        }
        if !self.imports.is_empty() {
            let imports = self
                .imports
                .iter()
                .map(|i| {
                    let mut block = Map::new();
                    block.insert(
                        "to".into(),
                        Value::String(i.to_expression.clone().unwrap_or_else(|| i.to.to_string())),
                    );
                    block.insert("id".into(), i.id.to_tf_json());
                    if let Some(for_each) = &i.for_each {
                        block.insert("for_each".into(), for_each.clone());
                    }
                    Value::Object(block)
                })
                .collect();
            root.insert("import".into(), Value::Array(imports));
        }
        if !self.removed.is_empty() {
            let removed = self
                .removed
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "from": r.from.to_string(),
                        "lifecycle": { "destroy": r.destroy },
                    })
                })
                .collect();
            root.insert("removed".into(), Value::Array(removed));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_addresses() {
        for text in [
            "terraform_data.a",
            "terraform_data.a[0]",
            "terraform_data.a[\"k\"]",
            "terraform_data.a[\"with \\\"quotes\\\"\"]",
            "aws_s3_bucket.events-store",
        ] {
            let a = Address::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(a.to_string(), text);
        }
        assert_eq!(
            Address::parse("terraform_data.a[12]").map(|a| a.key().cloned()),
            Ok(Some(InstanceKey::Index(12)))
        );
    }

    #[test]
    fn refuses_what_is_not_a_resource_address() {
        for text in [
            "terraform_data",
            "data.terraform_remote_state.s",
            "module.m",
            "terraform_data.9x",
            "terraform_data.a[x]",
            "terraform_data.a[\"k\"",
            "terraform_data.a[-1]",
            "1x.a",
        ] {
            let e = Address::parse(text).expect_err(text);
            assert!(
                matches!(&e, StackError::InvalidAddress { address, .. } if address == text),
                "{text}: {e:?}"
            );
        }
    }
}
