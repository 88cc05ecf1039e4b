//! Meta-arguments, typed: `count` and `for_each` (with `count.index`, `each.key` and
//! `each.value` as typed values inside the body), handles to repeated elements and their
//! instances, `dynamic` blocks, `depends_on` on handles, and the conditions of `lifecycle`.
//!
//! ```
//! use callflow_dsl::{Each, ForEach, Tf};
//! let regions = ForEach::set(["eu-west-1", "us-east-1"]);
//! assert_eq!(regions.to_tf_json(), serde_json::json!("${toset([\"eu-west-1\", \"us-east-1\"])}"));
//! let each: Each<Tf<String>> = Each::new();
//! assert_eq!(each.value().to_tf_json(), serde_json::json!("${each.value}"));
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use serde::Serialize;
use serde_json::Value;

use super::expr::{Expression, Tf, TfLiteral, hcl_quote};
use super::logical_id::LogicalId;
use super::number::Number;
use super::refs::{FromExpression, ListRef, MapRef};
use super::stack::{DataHandle, DataSource, Handle, Resource};

/// A resource type or a data source type, as far as repetition cares: its type name, whether it
/// is a data source, and its references. Every [`Resource`] is one; a data source is one through
/// [`DataOf`].
pub trait Block {
    /// The type name, e.g. `terraform_data`.
    const TYPE: &'static str;
    /// `true` for a data source (addresses start with `data.`).
    const DATA: bool;
    /// The typed references of one instance.
    type Refs: FromExpression;
}

impl<R: Resource> Block for R {
    const TYPE: &'static str = R::TYPE;
    const DATA: bool = false;
    type Refs = R::Refs;
}

/// A data source type `D` as a [`Block`]: the type parameter of the handles of repeated data
/// sources (`CountHandle<DataOf<D>>`).
pub struct DataOf<D>(PhantomData<fn() -> D>);

impl<D: DataSource> Block for DataOf<D> {
    const TYPE: &'static str = D::TYPE;
    const DATA: bool = true;
    type Refs = D::Refs;
}

/// The address text of element `name` of block type `B` (`type.name` or `data.type.name`).
fn block_address<B: Block>(name: &LogicalId) -> String {
    if B::DATA {
        format!("data.{}.{}", B::TYPE, name)
    } else {
        format!("{}.{}", B::TYPE, name)
    }
}

/// How an element is repeated, as declared (literal keys kept for synth-time checks).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Repetition {
    /// `count`: its JSON value, and the number when it is a literal.
    Count(Value, Option<u64>),
    /// `for_each`: its JSON value, and the keys when they are literals.
    ForEach(Value, Option<Vec<String>>),
}

impl Repetition {
    /// The meta-argument's name and value.
    pub(crate) fn argument(&self) -> (&'static str, &Value) {
        match self {
            Repetition::Count(v, _) => ("count", v),
            Repetition::ForEach(v, _) => ("for_each", v),
        }
    }
}

/// Which instances an element has, as synth sees its final JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rep {
    /// Neither `count` nor `for_each`: one object, no instance keys.
    Single,
    /// `count`: instances keyed by number.
    Count,
    /// `for_each`: instances keyed by string.
    ForEach,
}

/// `count.index` inside the body of a counted element ([`crate::Stack::resource_with_count`]).
#[derive(Clone, Copy, Debug)]
pub struct CountIndex(());

impl CountIndex {
    pub(crate) fn new() -> Self {
        Self(())
    }

    /// `count.index`: the instance's number, from 0.
    pub fn index(&self) -> Tf<Number> {
        Tf::expr(Expression::raw("count.index"))
    }
}

/// The iteration variable inside the body of a `for_each` element (`each`) or a `dynamic` block
/// (its iterator): its key and its typed value.
pub struct Each<V> {
    root: String,
    _value: PhantomData<fn() -> V>,
}

impl<V> fmt::Debug for Each<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Each").field(&self.root).finish()
    }
}

impl<V> Default for Each<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> Each<V> {
    /// `each`, as in a resource's or data source's `for_each` body.
    pub fn new() -> Self {
        Self::named("each")
    }

    pub(crate) fn named(root: impl Into<String>) -> Self {
        Self {
            root: root.into(),
            _value: PhantomData,
        }
    }

    /// `each.key`: the map key, or the set element.
    pub fn key(&self) -> Tf<String> {
        Tf::expr(Expression::raw(format!("{}.key", self.root)))
    }

    /// The expression of the value (`each.value`), e.g. to read an attribute of an object value.
    pub fn value_expression(&self) -> Expression {
        Expression::raw(format!("{}.value", self.root))
    }
}

impl<V: FromExpression> Each<V> {
    /// `each.value`, typed as the collection's elements (for a set: the element itself).
    pub fn value(&self) -> V {
        V::from_expression(self.value_expression())
    }
}

/// The collection a `for_each` iterates, typed by what `each.value` is: a literal set of strings
/// or map, a map or set attribute of another element, or the instances of a `for_each` resource.
pub struct ForEach<V> {
    value: Value,
    keys: Option<Vec<String>>,
    _value: PhantomData<fn() -> V>,
}

impl<V> Clone for ForEach<V> {
    fn clone(&self) -> Self {
        Self {
            value: self.value.clone(),
            keys: self.keys.clone(),
            _value: PhantomData,
        }
    }
}

impl<V> fmt::Debug for ForEach<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ForEach").field(&self.value).finish()
    }
}

impl ForEach<Tf<String>> {
    /// A literal set of strings (`toset([...])`: Terraform takes a set or a map, never a list);
    /// `each.key` and `each.value` are both the element.
    pub fn set<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Self {
        let items: Vec<String> = items.into_iter().map(Into::into).collect();
        let hcl: Vec<String> = items.iter().map(|s| hcl_quote(s)).collect();
        Self {
            value: Value::String(format!("${{toset([{}])}}", hcl.join(", "))),
            keys: Some(items),
            _value: PhantomData,
        }
    }
}

impl<T: TfLiteral> ForEach<Tf<T>> {
    /// A literal map: one instance per key, `each.value` its value.
    pub fn map<K: Into<String>, X: Into<Tf<T>>>(entries: impl IntoIterator<Item = (K, X)>) -> Self {
        let entries: BTreeMap<String, Tf<T>> = entries
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Self {
            keys: Some(entries.keys().cloned().collect()),
            value: Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_tf_json()))
                    .collect(),
            ),
            _value: PhantomData,
        }
    }
}

impl<E> ForEach<E> {
    /// A map known only at apply time (a map attribute, variable or local): `for_each = expr`.
    pub fn map_ref(map: &MapRef<E>) -> Self {
        Self::expression(map.expression().clone())
    }

    /// A list or set known only at apply time: `for_each = toset(expr)`.
    pub fn set_ref(set: &ListRef<E>) -> Self {
        Self::expression(Expression::raw(format!("toset({})", set.expression())))
    }

    /// Any expression that evaluates to a map or a set of strings; the caller names the type of
    /// `each.value`.
    pub fn expression(expression: Expression) -> Self {
        Self {
            value: Value::String(expression.interpolation()),
            keys: None,
            _value: PhantomData,
        }
    }

    /// The `for_each` value as Terraform JSON.
    pub fn to_tf_json(&self) -> Value {
        self.value.clone()
    }

    pub(crate) fn into_parts(self) -> (Value, Option<Vec<String>>) {
        (self.value, self.keys)
    }
}

/// A repeated element's handle: `count` ([`CountHandle`]) or `for_each` ([`ForEachHandle`]).
macro_rules! repeated_handle {
    ($name:ident, $what:literal) => {
        #[doc = concat!("An element declared with `", $what, "`: reach one instance with `instance`, all with the methods below. It has no attributes of its own, so referring to `type.name.attr` without a key does not compile.")]
        pub struct $name<B: Block> {
            name: LogicalId,
            _block: PhantomData<fn() -> B>,
        }

        impl<B: Block> Clone for $name<B> {
            fn clone(&self) -> Self {
                Self::new(self.name.clone())
            }
        }

        impl<B: Block> fmt::Debug for $name<B> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name))
                    .field(&self.address())
                    .finish()
            }
        }

        impl<B: Block> $name<B> {
            pub(crate) fn new(name: LogicalId) -> Self {
                Self {
                    name,
                    _block: PhantomData,
                }
            }

            /// The element's address without an instance key (`type.name`).
            pub fn address(&self) -> String {
                block_address::<B>(&self.name)
            }

            /// The logical id (the name part of the address).
            pub fn logical_id(&self) -> &LogicalId {
                &self.name
            }

            fn at(&self, key: String, literal: Option<super::refactor::InstanceKey>) -> Instance<B> {
                let address = format!("{}[{}]", self.address(), key);
                Instance {
                    refs: B::Refs::from_expression(Expression::raw(address.clone())),
                    address,
                    key: literal,
                    name: self.name.clone(),
                    _block: PhantomData,
                }
            }
        }
    };
}

repeated_handle!(CountHandle, "count");
repeated_handle!(ForEachHandle, "for_each");

impl<B: Block> CountHandle<B> {
    /// Instance `index` (`type.name[index]`).
    pub fn instance(&self, index: u64) -> Instance<B> {
        self.at(
            index.to_string(),
            Some(super::refactor::InstanceKey::Index(index)),
        )
    }

    /// The instance whose number an expression computes (`type.name[count.index]`).
    pub fn instance_at(&self, index: &Tf<Number>) -> Instance<B> {
        self.at(index.to_hcl(), None)
    }

    /// An attribute of every instance, in order: `type.name[*].attr`.
    pub fn splat<T>(&self, attribute: impl FnOnce(&B::Refs) -> Tf<T>) -> ListRef<Tf<T>>
    where
        T: TfLiteral,
    {
        let all = B::Refs::from_expression(Expression::raw(format!("{}[*]", self.address())));
        ListRef::from_expression(Expression::raw(attribute(&all).to_hcl()))
    }

    /// The number of instances: `length(type.name)`.
    pub fn length(&self) -> Tf<Number> {
        Tf::expr(Expression::raw(format!("length({})", self.address())))
    }
}

impl<B: Block> ForEachHandle<B> {
    /// A `for_each` over this element's instances (chaining): one instance of the new element
    /// per instance of this one, `each.value` read through this element's typed references.
    pub fn instances(&self) -> ForEach<B::Refs> {
        ForEach::expression(Expression::raw(self.address()))
    }

    /// Instance `key` (`type.name["key"]`).
    pub fn instance(&self, key: &str) -> Instance<B> {
        self.at(
            hcl_quote(key),
            Some(super::refactor::InstanceKey::Key(key.to_string())),
        )
    }

    /// The instance whose key an expression computes (`type.name[each.key]`).
    pub fn instance_at(&self, key: &Tf<String>) -> Instance<B> {
        self.at(key.to_hcl(), None)
    }

    /// An attribute of every instance, in key order: `values(type.name)[*].attr`.
    pub fn splat<T>(&self, attribute: impl FnOnce(&B::Refs) -> Tf<T>) -> ListRef<Tf<T>>
    where
        T: TfLiteral,
    {
        let all =
            B::Refs::from_expression(Expression::raw(format!("values({})[*]", self.address())));
        ListRef::from_expression(Expression::raw(attribute(&all).to_hcl()))
    }

    /// An attribute of every instance by key: `{for k, v in type.name : k => v.attr}`.
    pub fn map<T>(&self, attribute: impl FnOnce(&B::Refs) -> Tf<T>) -> MapRef<Tf<T>>
    where
        T: TfLiteral,
    {
        let one = B::Refs::from_expression(Expression::raw("v"));
        MapRef::from_expression(Expression::raw(format!(
            "{{for k, v in {} : k => {}}}",
            self.address(),
            attribute(&one).to_hcl()
        )))
    }
}

/// One instance of a repeated element (`type.name[0]`, `type.name["k"]`); it dereferences to the
/// element's typed references, so `bucket.instance("k").arn()` reads `type.name["k"].arn`.
pub struct Instance<B: Block> {
    name: LogicalId,
    address: String,
    key: Option<super::refactor::InstanceKey>,
    refs: B::Refs,
    _block: PhantomData<fn() -> B>,
}

impl<B: Block> Deref for Instance<B> {
    type Target = B::Refs;
    fn deref(&self) -> &B::Refs {
        &self.refs
    }
}

impl<B: Block> fmt::Debug for Instance<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Instance").field(&self.address).finish()
    }
}

impl<B: Block> Instance<B> {
    /// The instance's address, e.g. `terraform_data.x["k"]` (the key as written when computed).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The literal instance key, or `None` when an expression computes it.
    pub fn key(&self) -> Option<&super::refactor::InstanceKey> {
        self.key.as_ref()
    }

    pub(crate) fn logical_id(&self) -> &LogicalId {
        &self.name
    }
}

/// Where an element lives in its stack: what the stack's per-element methods (`depends_on`,
/// `lifecycle`, `add_override`, ...) take, so they work on every kind of handle.
pub trait Declared {
    /// The typed references `self` reads in a postcondition.
    type Refs: FromExpression;
    /// `(is a data source, type name, logical id)`.
    fn element_key(&self) -> (bool, &'static str, &LogicalId);
}

impl<R: Resource> Declared for Handle<R> {
    type Refs = R::Refs;
    fn element_key(&self) -> (bool, &'static str, &LogicalId) {
        (false, R::TYPE, self.logical_id())
    }
}

impl<D: DataSource> Declared for DataHandle<D> {
    type Refs = D::Refs;
    fn element_key(&self) -> (bool, &'static str, &LogicalId) {
        (true, D::TYPE, self.logical_id())
    }
}

impl<B: Block> Declared for CountHandle<B> {
    type Refs = B::Refs;
    fn element_key(&self) -> (bool, &'static str, &LogicalId) {
        (B::DATA, B::TYPE, self.logical_id())
    }
}

impl<B: Block> Declared for ForEachHandle<B> {
    type Refs = B::Refs;
    fn element_key(&self) -> (bool, &'static str, &LogicalId) {
        (B::DATA, B::TYPE, self.logical_id())
    }
}

/// What `depends_on` and `replace_triggered_by` can name: a whole declared element.
pub trait Dependable {
    /// The element's address (`type.name` or `data.type.name`).
    fn dependency_address(&self) -> String;
}

impl<T: Declared> Dependable for T {
    fn dependency_address(&self) -> String {
        let (data, kind, name) = self.element_key();
        if data {
            format!("data.{kind}.{name}")
        } else {
            format!("{kind}.{name}")
        }
    }
}

/// A condition with the message Terraform prints when it is false: a `precondition` or
/// `postcondition` of `lifecycle`, or an `assert` of a `check` block.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Condition {
    /// The condition; it must refer to something of the configuration.
    pub condition: Tf<bool>,
    /// What went wrong, for the person who reads the plan.
    pub error_message: Tf<String>,
}

impl Condition {
    /// A condition and its message.
    pub fn new(condition: Tf<bool>, error_message: impl Into<Tf<String>>) -> Self {
        Self {
            condition,
            error_message: error_message.into(),
        }
    }
}

/// A `dynamic` block of an element: one nested block per item of `for_each`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DynamicBlock {
    pub(crate) block: String,
    pub(crate) for_each: Value,
    pub(crate) iterator: String,
    pub(crate) content: Value,
}

impl DynamicBlock {
    /// The iterator name of a nested block: the block's name without `_`, so that references
    /// to it are never mistaken for a resource type (`ebs_block_device.value` would read as one).
    pub(crate) fn iterator_for(block: &str) -> String {
        let name: String = block.chars().filter(|c| *c != '_').collect();
        if name.is_empty() { "item".into() } else { name }
    }

    pub(crate) fn to_json(&self) -> Value {
        serde_json::json!({
            "for_each": self.for_each,
            "iterator": self.iterator,
            "content": self.content,
        })
    }
}

/// Comparison and logic on Terraform values, for conditions (`precondition`, `check`).
///
/// ```
/// use callflow_dsl::{Expression, Number, Tf};
/// let n: Tf<Number> = Tf::expr(Expression::raw("var.n"));
/// let ok = n.greater_than(0).and(&Tf::expr(Expression::raw("var.enabled")));
/// assert_eq!(ok.to_tf_json(), serde_json::json!("${(var.n > 0) && var.enabled}"));
/// ```
impl<T: TfLiteral> Tf<T> {
    fn binary(&self, op: &str, other: &Tf<T>) -> Tf<bool> {
        Tf::expr(Expression::raw(format!(
            "{} {op} {}",
            self.to_hcl(),
            other.to_hcl()
        )))
    }

    /// `self == other`.
    pub fn equals(&self, other: impl Into<Tf<T>>) -> Tf<bool> {
        self.binary("==", &other.into())
    }

    /// `self != other`.
    pub fn not_equals(&self, other: impl Into<Tf<T>>) -> Tf<bool> {
        self.binary("!=", &other.into())
    }

    /// This value where any type is accepted (an argument of type `dynamic`, such as
    /// `terraform_data`'s `input`): references stay references, literals become their HCL
    /// expression (so they are not escaped twice).
    pub fn as_dynamic(&self) -> Tf<super::expr::Dynamic> {
        match self {
            Tf::Literal(v) => Tf::Expr(Expression::raw(v.to_hcl())),
            Tf::Expr(e) => Tf::Expr(e.clone()),
            Tf::Template(parts) => Tf::Template(parts.clone()),
        }
    }
}

impl Tf<Number> {
    /// `self > other`.
    pub fn greater_than(&self, other: impl Into<Tf<Number>>) -> Tf<bool> {
        self.binary(">", &other.into())
    }

    /// `self < other`.
    pub fn less_than(&self, other: impl Into<Tf<Number>>) -> Tf<bool> {
        self.binary("<", &other.into())
    }

    /// `self >= other`.
    pub fn at_least(&self, other: impl Into<Tf<Number>>) -> Tf<bool> {
        self.binary(">=", &other.into())
    }

    /// `self <= other`.
    pub fn at_most(&self, other: impl Into<Tf<Number>>) -> Tf<bool> {
        self.binary("<=", &other.into())
    }
}

impl Tf<bool> {
    /// `self && other`.
    pub fn and(&self, other: &Tf<bool>) -> Tf<bool> {
        self.binary("&&", other)
    }

    /// `self || other`.
    pub fn or(&self, other: &Tf<bool>) -> Tf<bool> {
        self.binary("||", other)
    }

    /// `!self`.
    pub fn negated(&self) -> Tf<bool> {
        Tf::expr(Expression::raw(format!("!{}", self.to_hcl())))
    }
}
