//! `App` → `Stack` → resources: the construct tree, meta-arguments, overrides and synthesis to one
//! Terraform JSON document per stack.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Deref;

use serde::Serialize;
use serde_json::{Map, Value};

use super::backend::Backend;
use super::check::Check;
use super::cross_stack::{self, CrossStack, StackId};
use super::error::{StackError, SynthError};
use super::expr::{Expression, Tf};
use super::logical_id::LogicalId;
use super::meta::{
    CountHandle, CountIndex, DataOf, Declared, Dependable, DynamicBlock, Each, ForEach,
    ForEachHandle, Rep, Repetition,
};
use super::number::Number;
use super::refactor::{
    DeclaredResource, Import, IntoAddress, Moved, Refactors, Removed, Target, key_problem,
};
use super::references::{Access, Reference, references_with_access};
use super::refs::FromExpression;

/// A Terraform resource type with a typed body.
pub trait Resource: Serialize {
    /// The provider's resource type name, e.g. `aws_s3_bucket`.
    const TYPE: &'static str;
    /// The typed references to its attributes, reachable through its [`Handle`].
    type Refs: FromExpression;
    /// Whether Terraform can adopt an existing object of this type with an `import` block.
    /// Most resource types can; a binding whose type cannot (its provider implements no import)
    /// sets `false`, and [`Stack::import`] of it is then a synth error. Data sources are never
    /// imported: `import` takes resource handles only.
    const IMPORTABLE: bool = true;
}

/// A Terraform data source type with a typed body.
pub trait DataSource: Serialize {
    /// The provider's data source type name, e.g. `aws_caller_identity`.
    const TYPE: &'static str;
    /// The typed references to its attributes, reachable through its [`DataHandle`].
    type Refs: FromExpression;
}

/// A resource declared in a stack; the only way to obtain one is [`Stack::resource`], so a handle
/// always names a declared resource (synth also rejects references to undeclared ones).
///
/// It dereferences to the resource's typed references (`R::Refs`): `bucket.arn()` is a
/// `Tf<String>` reading `${aws_s3_bucket.<id>.arn}`, and a misspelled attribute does not compile.
pub struct Handle<R: Resource> {
    name: LogicalId,
    refs: R::Refs,
}

impl<R: Resource> Clone for Handle<R>
where
    R::Refs: Clone,
{
    fn clone(&self) -> Self {
        Self {
            name: self.name.clone(),
            refs: self.refs.clone(),
        }
    }
}

impl<R: Resource> fmt::Debug for Handle<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Handle").field(&self.address()).finish()
    }
}

impl<R: Resource> Deref for Handle<R> {
    type Target = R::Refs;
    fn deref(&self) -> &R::Refs {
        &self.refs
    }
}

impl<R: Resource> Handle<R> {
    pub(crate) fn new(name: LogicalId, origin: StackId) -> Self {
        let refs = R::Refs::from_expression(Expression::in_stack(
            format!("{}.{}", R::TYPE, name),
            origin,
        ));
        Self { name, refs }
    }

    /// The resource's address, `type.name` (e.g. the source of a [`Stack::moved`]).
    pub fn address(&self) -> String {
        format!("{}.{}", R::TYPE, self.name)
    }

    /// The logical id (the name part of the address).
    pub fn logical_id(&self) -> &LogicalId {
        &self.name
    }
}

/// A data source declared in a stack; it dereferences to the data source's typed references.
pub struct DataHandle<D: DataSource> {
    name: LogicalId,
    refs: D::Refs,
}

impl<D: DataSource> Clone for DataHandle<D>
where
    D::Refs: Clone,
{
    fn clone(&self) -> Self {
        Self {
            name: self.name.clone(),
            refs: self.refs.clone(),
        }
    }
}

impl<D: DataSource> fmt::Debug for DataHandle<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DataHandle")
            .field(&format!("data.{}.{}", D::TYPE, self.name))
            .finish()
    }
}

impl<D: DataSource> Deref for DataHandle<D> {
    type Target = D::Refs;
    fn deref(&self) -> &D::Refs {
        &self.refs
    }
}

impl<D: DataSource> DataHandle<D> {
    pub(crate) fn new(name: LogicalId, origin: StackId) -> Self {
        let refs = D::Refs::from_expression(Expression::in_stack(
            format!("data.{}.{}", D::TYPE, name),
            origin,
        ));
        Self { name, refs }
    }

    /// The logical id (the name part of the address).
    pub fn logical_id(&self) -> &LogicalId {
        &self.name
    }
}

/// Terraform's `lifecycle` meta-argument.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Lifecycle {
    /// Create the replacement before destroying the old object (zero-downtime replacements).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub create_before_destroy: bool,
    /// Refuse any plan that destroys this object (stateful resources).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub prevent_destroy: bool,
    /// Attributes whose drift Terraform ignores.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignore_changes: Vec<String>,
    /// Replace this object when one of these changes: whole elements or their attributes
    /// (set with [`Lifecycle::replaced_with`] / [`Lifecycle::replaced_on_change`]).
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "serialize_traversals"
    )]
    pub replace_triggered_by: Vec<Expression>,
    /// Conditions checked before the object is planned; a false one stops the plan.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub precondition: Vec<super::meta::Condition>,
    /// Conditions checked after the object is planned or applied (`self` is the object).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub postcondition: Vec<super::meta::Condition>,
}

/// `replace_triggered_by` entries are static references, written without `${}`.
fn serialize_traversals<S: serde::Serializer>(
    items: &[Expression],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(items.iter().map(Expression::as_hcl))
}

impl Lifecycle {
    /// Replace this object whenever `element` is replaced or updated.
    pub fn replaced_with(mut self, element: &dyn Dependable) -> Self {
        self.replace_triggered_by
            .push(Expression::raw(element.dependency_address()));
        self
    }

    /// Replace this object whenever the attribute `reference` reads changes
    /// (e.g. `other.input()`); it must be a reference to a resource's attribute.
    pub fn replaced_on_change<T: super::expr::TfLiteral>(mut self, reference: &Tf<T>) -> Self {
        self.replace_triggered_by.push(match reference {
            Tf::Expr(e) => e.clone(),
            other => Expression::raw(other.to_hcl()),
        });
        self
    }

    /// Adds a precondition: when `condition` is false, the plan stops with `error_message`.
    pub fn with_precondition(
        mut self,
        condition: Tf<bool>,
        error_message: impl Into<Tf<String>>,
    ) -> Self {
        self.precondition
            .push(super::meta::Condition::new(condition, error_message));
        self
    }

    /// Adds a postcondition (see [`Stack::postcondition`] for one that reads `self`).
    pub fn with_postcondition(
        mut self,
        condition: Tf<bool>,
        error_message: impl Into<Tf<String>>,
    ) -> Self {
        self.postcondition
            .push(super::meta::Condition::new(condition, error_message));
        self
    }
}

/// A Terraform input variable (`variable` block).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Variable {
    /// Type constraint in HCL, e.g. `string`, `number`, `list(string)`.
    #[serde(rename = "type")]
    pub type_constraint: String,
    /// What the variable is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Default value; `None` makes the variable required.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// Hide the value in plan output.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
}

/// A Terraform output value.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    /// The value (usually a reference).
    pub value: Tf<String>,
    /// What the output is.
    pub description: String,
    /// Hide the value in CLI output.
    pub sensitive: bool,
}

/// A required provider (`terraform.required_providers.<name>`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RequiredProvider {
    /// Registry source, e.g. `hashicorp/aws`.
    pub source: String,
    /// Version constraint, e.g. `~> 6.25`; empty for any version (left out of the JSON).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub version: String,
}

#[derive(Clone, Debug)]
struct Element {
    body: Value,
    depends_on: Vec<String>,
    lifecycle: Option<Box<Lifecycle>>,
    provider: Option<String>,
    overrides: Vec<(String, Value)>,
    comments: BTreeMap<String, String>,
    /// `count` / `for_each` and `dynamic` blocks: rare, so boxed to keep elements small.
    language: Option<Box<ElementLanguage>>,
}

/// The meta-arguments most elements do not have.
#[derive(Clone, Debug, Default)]
struct ElementLanguage {
    repetition: Option<Repetition>,
    dynamic: Vec<DynamicBlock>,
}

impl Element {
    fn repetition(&self) -> Option<&Repetition> {
        self.language.as_ref().and_then(|l| l.repetition.as_ref())
    }

    fn dynamic(&self) -> &[DynamicBlock] {
        self.language.as_ref().map_or(&[], |l| l.dynamic.as_slice())
    }

    fn language_mut(&mut self) -> &mut ElementLanguage {
        self.language.get_or_insert_with(Box::default)
    }

    /// How the element repeats once its overrides are applied, and whether it ends up with both
    /// `count` and `for_each` (an override can add or delete either).
    fn repeats(&self) -> (Rep, bool) {
        let (mut count, mut for_each) = match self.repetition() {
            None => (false, false),
            Some(Repetition::Count(..)) => (true, false),
            Some(Repetition::ForEach(..)) => (false, true),
        };
        for (path, value) in &self.overrides {
            match path.as_str() {
                "count" => count = !value.is_null(),
                "for_each" => for_each = !value.is_null(),
                _ => {}
            }
        }
        let rep = if for_each {
            Rep::ForEach
        } else if count {
            Rep::Count
        } else {
            Rep::Single
        };
        (rep, count && for_each)
    }
}

/// One Terraform configuration (a cdktf stack): resources, data sources, variables, locals,
/// outputs, providers and the `terraform` block, synthesized to `cdk.tf.json`.
#[derive(Debug)]
pub struct Stack {
    name: String,
    resources: BTreeMap<(String, String), Element>,
    data: BTreeMap<(String, String), Element>,
    variables: BTreeMap<String, Variable>,
    locals: BTreeMap<String, Value>,
    outputs: BTreeMap<String, Output>,
    providers: BTreeMap<String, Vec<Value>>,
    required_providers: BTreeMap<String, RequiredProvider>,
    required_version: Option<String>,
    backend: Backend,
    errors: Vec<StackError>,
    refactors: Refactors,
    checks: BTreeMap<String, Check>,
    id: StackId,
    cross: CrossStack,
}

impl Stack {
    /// An empty stack; its name becomes `stacks/<name>/` in the output.
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        Self {
            backend: Backend::local(format!("terraform.{name}.tfstate")),
            id: StackId::register(&name),
            cross: CrossStack::default(),
            name,
            resources: BTreeMap::new(),
            data: BTreeMap::new(),
            variables: BTreeMap::new(),
            locals: BTreeMap::new(),
            outputs: BTreeMap::new(),
            providers: BTreeMap::new(),
            required_providers: BTreeMap::new(),
            required_version: None,
            errors: Vec::new(),
            refactors: Refactors::default(),
            checks: BTreeMap::new(),
        }
    }

    /// The stack's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of resources declared so far.
    pub fn resource_count(&self) -> usize {
        self.resources.len()
    }

    fn logical_id(&mut self, name: &str) -> LogicalId {
        match LogicalId::parse(name) {
            Ok(id) => id,
            Err(e) => {
                self.errors.push(e);
                LogicalId::unchecked(name)
            }
        }
    }

    fn element(&mut self, body: &impl Serialize, address: &str) -> Element {
        // Another stack's references are rewritten to remote-state reads while serializing.
        let (body, imported) = cross_stack::record(self.id, || serde_json::to_value(body));
        if !imported.is_empty() {
            self.cross.import(imported);
        }
        let body = match body {
            Ok(v) => v,
            Err(e) => {
                self.errors.push(StackError::Serialize {
                    address: address.to_string(),
                    message: e.to_string(),
                });
                Value::Object(Map::new())
            }
        };
        Element {
            body,
            depends_on: Vec::new(),
            lifecycle: None,
            provider: None,
            overrides: Vec::new(),
            comments: BTreeMap::new(),
            language: None,
        }
    }

    /// Records a construct's validation problem; synthesis then fails listing it with the rest.
    pub fn record_error(&mut self, error: StackError) {
        self.errors.push(error);
    }

    /// The stack's identity: the origin of the references it hands out.
    pub(crate) fn id(&self) -> StackId {
        self.id
    }

    /// The stack's cross-stack references.
    pub(crate) fn cross(&self) -> &CrossStack {
        &self.cross
    }

    /// The stack's cross-stack references, mutable.
    pub(crate) fn cross_mut(&mut self) -> &mut CrossStack {
        &mut self.cross
    }

    /// The state backend.
    pub fn state_backend(&self) -> &Backend {
        &self.backend
    }

    /// The names of the stacks this one reads values of (cross-stack references), which must
    /// be applied first: its `dependencies` in `manifest.json`.
    pub fn dependencies(&self) -> impl Iterator<Item = &str> {
        self.cross.depends_on().iter().map(String::as_str)
    }

    /// Declares a resource under a logical id unique for its type; a duplicate is a synth error.
    pub fn resource<R: Resource>(&mut self, name: &str, resource: R) -> Handle<R> {
        let id = self.logical_id(name);
        self.insert_element(false, R::TYPE, &id, &resource, None);
        Handle::new(id, self.id)
    }

    /// Declares a data source under a logical id unique for its type.
    pub fn data<D: DataSource>(&mut self, name: &str, source: D) -> DataHandle<D> {
        let id = self.logical_id(name);
        self.insert_element(true, D::TYPE, &id, &source, None);
        DataHandle::new(id, self.id)
    }

    fn resource_element<R: Resource>(&mut self, handle: &Handle<R>) -> &mut Element {
        self.resources
            .get_mut(&(R::TYPE.to_string(), handle.name.to_string()))
            .expect("a Handle is only created by Stack::resource, which inserts the element")
    }

    /// Inserts a declared element; a duplicate address is a synth error.
    fn insert_element(
        &mut self,
        data: bool,
        kind: &'static str,
        id: &LogicalId,
        body: &impl Serialize,
        repetition: Option<Repetition>,
    ) {
        let address = if data {
            format!("data.{kind}.{id}")
        } else {
            format!("{kind}.{id}")
        };
        let mut element = self.element(body, &address);
        if repetition.is_some() {
            element.language_mut().repetition = repetition;
        }
        let map = if data {
            &mut self.data
        } else {
            &mut self.resources
        };
        match map.entry((kind.to_string(), id.to_string())) {
            std::collections::btree_map::Entry::Occupied(_) => {
                self.errors.push(StackError::DuplicateId { address });
            }
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(element);
            }
        }
    }

    /// The `count` repetition of a value, with the number when it is a literal.
    fn count_repetition(&mut self, address: String, count: Tf<Number>) -> Repetition {
        let literal = match &count {
            Tf::Literal(Number::UInt(n)) => Some(*n),
            Tf::Literal(Number::Int(n)) => match u64::try_from(*n) {
                Ok(n) => Some(n),
                Err(_) => {
                    self.errors.push(StackError::Invalid {
                        construct: address,
                        message: format!("count is {n}: it must be zero or more"),
                    });
                    None
                }
            },
            Tf::Literal(Number::Float(f)) => {
                self.errors.push(StackError::Invalid {
                    construct: address,
                    message: format!("count is {f}: it must be a whole number"),
                });
                None
            }
            _ => None,
        };
        Repetition::Count(count.to_tf_json(), literal)
    }

    /// Declares `count` instances of a resource (`count = n`): `body` builds the body once,
    /// with `count.index` as a typed value; reach instances through the returned handle.
    ///
    /// ```
    /// use callflow_dsl::{Expression, FromExpression, Resource, Stack, Tf};
    /// #[derive(serde::Serialize)]
    /// struct Thing { input: Tf<String> }
    /// struct ThingRefs(Expression);
    /// impl FromExpression for ThingRefs { fn from_expression(e: Expression) -> Self { Self(e) } }
    /// impl ThingRefs { fn id(&self) -> Tf<String> { Tf::expr(self.0.attr("id")) } }
    /// impl Resource for Thing { const TYPE: &'static str = "demo_thing"; type Refs = ThingRefs; }
    ///
    /// let mut stack = Stack::new("demo");
    /// let things = stack.resource_with_count("t", 2, |i| Thing { input: i.index().as_string() });
    /// assert_eq!(things.instance(1).id().to_tf_json(), serde_json::json!("${demo_thing.t[1].id}"));
    /// let doc = stack.synth().unwrap();
    /// assert_eq!(doc["resource"]["demo_thing"]["t"], serde_json::json!({"count": 2, "input": "${count.index}"}));
    /// ```
    pub fn resource_with_count<R: Resource>(
        &mut self,
        name: &str,
        count: impl Into<Tf<Number>>,
        body: impl FnOnce(&CountIndex) -> R,
    ) -> CountHandle<R> {
        let id = self.logical_id(name);
        let repetition = self.count_repetition(format!("{}.{id}", R::TYPE), count.into());
        let resource = body(&CountIndex::new());
        self.insert_element(false, R::TYPE, &id, &resource, Some(repetition));
        CountHandle::new(id)
    }

    /// Declares one instance of a resource per element of `for_each`: `body` builds the body
    /// once, with `each.key` and the typed `each.value`.
    pub fn resource_for_each<R: Resource, V>(
        &mut self,
        name: &str,
        for_each: ForEach<V>,
        body: impl FnOnce(&Each<V>) -> R,
    ) -> ForEachHandle<R> {
        let id = self.logical_id(name);
        let resource = body(&Each::new());
        let (value, keys) = for_each.into_parts();
        let repetition = Repetition::ForEach(value, keys);
        self.insert_element(false, R::TYPE, &id, &resource, Some(repetition));
        ForEachHandle::new(id)
    }

    /// [`Stack::resource_with_count`] for a data source.
    pub fn data_with_count<D: DataSource>(
        &mut self,
        name: &str,
        count: impl Into<Tf<Number>>,
        body: impl FnOnce(&CountIndex) -> D,
    ) -> CountHandle<DataOf<D>> {
        let id = self.logical_id(name);
        let repetition = self.count_repetition(format!("data.{}.{id}", D::TYPE), count.into());
        let source = body(&CountIndex::new());
        self.insert_element(true, D::TYPE, &id, &source, Some(repetition));
        CountHandle::new(id)
    }

    /// [`Stack::resource_for_each`] for a data source.
    pub fn data_for_each<D: DataSource, V>(
        &mut self,
        name: &str,
        for_each: ForEach<V>,
        body: impl FnOnce(&Each<V>) -> D,
    ) -> ForEachHandle<DataOf<D>> {
        let id = self.logical_id(name);
        let source = body(&Each::new());
        let (value, keys) = for_each.into_parts();
        let repetition = Repetition::ForEach(value, keys);
        self.insert_element(true, D::TYPE, &id, &source, Some(repetition));
        ForEachHandle::new(id)
    }

    /// The element a handle names; a handle of another stack is a synth error (`None`).
    fn element_mut(&mut self, handle: &impl Declared) -> Option<&mut Element> {
        let (data, kind, name) = handle.element_key();
        let map = if data {
            &mut self.data
        } else {
            &mut self.resources
        };
        let found = map.get_mut(&(kind.to_string(), name.to_string()));
        if found.is_none() {
            self.errors.push(StackError::UnknownReference {
                reference: handle_address(data, kind, name.as_str()),
                at: "a handle of another stack".into(),
            });
        }
        found
    }

    /// Adds `depends_on` edges: `element` is created after every element in `on`
    /// (`&[&log_group, &role]`: any handle, resource or data source).
    pub fn depends_on(&mut self, element: &impl Declared, on: &[&dyn Dependable]) {
        if let Some(e) = self.element_mut(element) {
            e.depends_on
                .extend(on.iter().map(|d| d.dependency_address()));
        }
    }

    /// Sets the `lifecycle` meta-argument (replacing one set before, conditions included).
    pub fn lifecycle(&mut self, element: &impl Declared, lifecycle: Lifecycle) {
        if let Some(e) = self.element_mut(element) {
            e.lifecycle = Some(Box::new(lifecycle));
        }
    }

    /// Adds a `lifecycle` precondition: when `condition` is false, the plan stops with
    /// `error_message`, naming the element.
    pub fn precondition(
        &mut self,
        element: &impl Declared,
        condition: Tf<bool>,
        error_message: impl Into<Tf<String>>,
    ) {
        if let Some(e) = self.element_mut(element) {
            e.lifecycle
                .get_or_insert_with(Box::default)
                .precondition
                .push(super::meta::Condition::new(condition, error_message));
        }
    }

    /// Adds a `lifecycle` postcondition; `condition` reads the element itself (`self`) through
    /// its typed references.
    pub fn postcondition<E: Declared>(
        &mut self,
        element: &E,
        condition: impl FnOnce(&E::Refs) -> Tf<bool>,
        error_message: impl Into<Tf<String>>,
    ) {
        let this = E::Refs::from_expression(Expression::raw("self"));
        let condition = super::meta::Condition::new(condition(&this), error_message);
        if let Some(e) = self.element_mut(element) {
            e.lifecycle
                .get_or_insert_with(Box::default)
                .postcondition
                .push(condition);
        }
    }

    /// Adds a `dynamic` block: one nested block `block` per element of `for_each`, its body
    /// built by `content` from the typed iterator (`key()`, `value()`). The typed body should
    /// leave `block` unset.
    pub fn dynamic<V, C: Serialize>(
        &mut self,
        element: &impl Declared,
        block: &str,
        for_each: ForEach<V>,
        content: impl FnOnce(&Each<V>) -> C,
    ) {
        let iterator = DynamicBlock::iterator_for(block);
        let content = content(&Each::named(iterator.clone()));
        let content = match serde_json::to_value(&content) {
            Ok(v) => v,
            Err(e) => {
                self.errors.push(StackError::Serialize {
                    address: format!("dynamic.{block}"),
                    message: e.to_string(),
                });
                return;
            }
        };
        let block = DynamicBlock {
            block: block.to_string(),
            for_each: for_each.into_parts().0,
            iterator,
            content,
        };
        if let Some(e) = self.element_mut(element) {
            e.language_mut().dynamic.push(block);
        }
    }

    /// Declares that the object at `from` (an old address: `"aws_s3_bucket.events_store"`, or
    /// an [`crate::Address`]) is now `to`, so Terraform moves its state instead of destroying
    /// and recreating it (`moved` block). `to` is a handle, or one instance
    /// (`handle.instance("k")`): moves into and out of `count` / `for_each` instances.
    /// A `from` that does not parse or is still declared, or a `to` not declared in this stack,
    /// is a synth error.
    pub fn moved(&mut self, from: impl IntoAddress, to: &impl Target) {
        match (from.into_address(), to.target_address()) {
            (Ok(from), Ok(to)) => self.refactors.moved.push(Moved { from, to }),
            (Err(e), _) | (_, Err(e)) => self.errors.push(e),
        }
    }

    /// A rename within one resource type: `stack.renamed("events_store", &events)` is
    /// `stack.moved("aws_s3_bucket.events_store", &events)`.
    pub fn renamed(&mut self, old_name: &str, to: &impl Target) {
        match (LogicalId::parse(old_name), to.target_address()) {
            (Ok(name), Ok(to)) => {
                let from = super::refactor::Address::new(to.kind(), name, None);
                self.refactors.moved.push(Moved { from, to });
            }
            (Err(e), _) | (_, Err(e)) => self.errors.push(e),
        }
    }

    /// Adopts the existing object `id` as `to` (`import` block): the next plan imports it
    /// instead of creating it. `to` is a handle or one literal instance; a type that cannot be
    /// imported ([`Resource::IMPORTABLE`]) or an undeclared target is a synth error.
    pub fn import<T: Target>(&mut self, to: &T, id: impl Into<Tf<String>>) {
        match to.target_address() {
            Ok(address) => self.refactors.imports.push(Import {
                to: address,
                to_expression: None,
                id: id.into(),
                for_each: None,
                importable: T::IMPORTABLE,
            }),
            Err(e) => self.errors.push(e),
        }
    }

    /// Imports one object per element of `for_each` into the instance `each.key` of a
    /// `for_each` resource; `id` computes each object's id from the typed `each`.
    pub fn import_for_each<R: Resource, V>(
        &mut self,
        to: &ForEachHandle<R>,
        for_each: ForEach<V>,
        id: impl FnOnce(&Each<V>) -> Tf<String>,
    ) {
        let each = Each::new();
        let target = super::refactor::Address::new(R::TYPE, to.logical_id().clone(), None);
        self.refactors.imports.push(Import {
            to_expression: Some(format!("{target}[each.key]")),
            to: target,
            id: id(&each),
            for_each: Some(for_each.into_parts().0),
            importable: R::IMPORTABLE,
        });
    }

    /// Stops managing the resource at `from` (`removed` block), which the stack no longer
    /// declares: with `destroy = false` the real object is kept and only forgotten.
    pub fn removed(&mut self, from: impl IntoAddress, destroy: bool) {
        match from.into_address() {
            Ok(from) => self.refactors.removed.push(Removed { from, destroy }),
            Err(e) => self.errors.push(e),
        }
    }

    /// Declares a `check` block: assertions Terraform evaluates at every plan and apply and
    /// reports as warnings, with data sources scoped to it ([`Check::data`]).
    pub fn check(&mut self, name: &str, build: impl FnOnce(&mut Check)) {
        let id = self.logical_id(name);
        let mut check = Check::new(self.id);
        build(&mut check);
        if self.checks.insert(id.to_string(), check).is_some() {
            self.errors.push(StackError::DuplicateId {
                address: format!("check.{id}"),
            });
        }
    }

    /// Sets the `provider` meta-argument (`aws.<alias>`) from a string.
    #[deprecated(note = "use Stack::use_provider with the handle of Stack::add_provider_alias")]
    pub fn provider_alias<R: Resource>(&mut self, handle: &Handle<R>, provider: &str) {
        self.resource_element(handle).provider = Some(provider.to_string());
    }

    /// The escape hatch, as cdktf's `addOverride`: sets the value at a dotted path in the
    /// element's JSON (numeric segments index lists), applied last so it always wins.
    /// A `null` value deletes the attribute.
    pub fn add_override(&mut self, element: &impl Declared, path: &str, value: Value) {
        if let Some(e) = self.element_mut(element) {
            e.overrides.push((path.to_string(), value));
        }
    }

    /// Records an accepted security-scanner finding on a resource, with the reason, so the
    /// suppression lives in code next to the resource (rendered as checkov's inline skip comment).
    pub fn suppress_check(&mut self, element: &impl Declared, check_id: &str, reason: &str) {
        if let Some(e) = self.element_mut(element) {
            e.comments.insert(check_id.to_string(), reason.to_string());
        }
    }

    /// Declares an input variable and returns a reference to it (`${var.name}`).
    pub fn variable(&mut self, name: &str, variable: Variable) -> Tf<String> {
        let id = self.logical_id(name);
        if self.variables.insert(id.to_string(), variable).is_some() {
            self.errors.push(StackError::DuplicateId {
                address: format!("var.{id}"),
            });
        }
        Tf::expr(Expression::in_stack(format!("var.{id}"), self.id))
    }

    /// Declares a local value and returns a reference to it (`${local.name}`).
    pub fn local(&mut self, name: &str, value: Value) -> Tf<String> {
        let id = self.logical_id(name);
        if self.locals.insert(id.to_string(), value).is_some() {
            self.errors.push(StackError::DuplicateId {
                address: format!("local.{id}"),
            });
        }
        Tf::expr(Expression::in_stack(format!("local.{id}"), self.id))
    }

    /// Declares an output value.
    pub fn output(&mut self, name: &str, mut output: Output) {
        let id = self.logical_id(name);
        let (value, imported) = cross_stack::localize_output(self.id, output.value);
        output.value = value;
        if !imported.is_empty() {
            self.cross.import(imported);
        }
        if self.outputs.insert(id.to_string(), output).is_some() {
            self.errors.push(StackError::DuplicateId {
                address: format!("output.{id}"),
            });
        }
    }

    /// Adds a provider configuration block (`provider.<name>`); several make aliases.
    #[deprecated(note = "use Stack::add_provider with the provider's generated configuration type")]
    pub fn provider(&mut self, name: &str, config: Value) {
        self.providers
            .entry(name.to_string())
            .or_default()
            .push(config);
    }

    /// Requires a provider (`terraform.required_providers`).
    pub fn require_provider(&mut self, name: &str, provider: RequiredProvider) {
        self.required_providers.insert(name.to_string(), provider);
    }

    /// The provider configuration blocks by local name (typed ones come from
    /// [`crate::provider`]).
    pub(crate) fn provider_blocks_mut(&mut self) -> &mut BTreeMap<String, Vec<Value>> {
        &mut self.providers
    }

    /// Whether `terraform.required_providers` already names `name`.
    pub(crate) fn requires_provider(&self, name: &str) -> bool {
        self.required_providers.contains_key(name)
    }

    /// Sets the `provider` meta-argument of a declared resource (`data` false) or data source.
    pub(crate) fn set_element_provider(
        &mut self,
        data: bool,
        kind: &str,
        name: &str,
        provider: String,
    ) {
        let elements = if data {
            &mut self.data
        } else {
            &mut self.resources
        };
        if let Some(element) = elements.get_mut(&(kind.to_string(), name.to_string())) {
            element.provider = Some(provider);
        }
    }

    /// Sets `terraform.required_version`.
    pub fn required_version(&mut self, constraint: &str) {
        self.required_version = Some(constraint.to_string());
    }

    /// Sets the state backend (default: local `terraform.<stack>.tfstate`, as cdktf).
    pub fn backend(&mut self, backend: impl Into<Backend>) {
        self.backend = backend.into();
    }

    /// Renders the stack as a Terraform JSON document with sorted keys, or every problem found.
    pub fn synth(&self) -> Result<Value, SynthError> {
        self.synth_document(None)
    }

    /// [`Stack::synth`] of a stack that is dropped afterwards: the elements' bodies move into
    /// the document instead of being copied.
    fn into_synth(mut self) -> Result<Value, SynthError> {
        let take = |elements: &mut BTreeMap<(String, String), Element>| -> Vec<Value> {
            elements
                .values_mut()
                .map(|e| std::mem::take(&mut e.body))
                .collect()
        };
        let bodies = Bodies {
            data: take(&mut self.data),
            resources: take(&mut self.resources),
        };
        self.synth_document(Some(bodies))
    }

    /// The document, with the elements' bodies from `bodies` (in element order) when given,
    /// else copies of them.
    fn synth_document(&self, bodies: Option<Bodies>) -> Result<Value, SynthError> {
        let (data_bodies, resource_bodies) = match bodies {
            Some(b) => (Some(b.data), Some(b.resources)),
            None => (None, None),
        };
        let mut errors = self.errors.clone();
        if self.cross.has_pending() {
            errors.extend(self.cross.pending_errors());
        }
        let mut root = Map::new();

        let backend_name = self.backend.type_name();
        root.insert(
            "//".into(),
            serde_json::json!({
                "metadata": {
                    "backend": backend_name,
                    "stackName": self.name,
                    "version": env!("CARGO_PKG_VERSION"),
                },
                "generator": "callflow-stack",
            }),
        );

        let mut terraform = Map::new();
        if let Err(e) = self.backend.insert_into(&mut terraform) {
            errors.push(StackError::Serialize {
                address: format!("terraform.backend.{backend_name}"),
                message: e.to_string(),
            });
        }
        if !self.required_providers.is_empty() {
            terraform.insert(
                "required_providers".into(),
                to_json(&self.required_providers, "required_providers", &mut errors),
            );
        }
        if let Some(v) = &self.required_version {
            terraform.insert("required_version".into(), Value::String(v.clone()));
        }
        root.insert("terraform".into(), Value::Object(terraform));

        if !self.providers.is_empty() {
            root.insert(
                "provider".into(),
                to_json(&self.providers, "providers", &mut errors),
            );
        }
        if !self.variables.is_empty() {
            root.insert(
                "variable".into(),
                to_json(&self.variables, "variables", &mut errors),
            );
        }
        if !self.locals.is_empty() {
            root.insert(
                "locals".into(),
                to_json(&self.locals, "locals", &mut errors),
            );
        }
        if !self.data.is_empty() {
            root.insert(
                "data".into(),
                render_elements(&self.data, data_bodies, &mut errors, "data."),
            );
        }
        if !self.resources.is_empty() {
            root.insert(
                "resource".into(),
                render_elements(&self.resources, resource_bodies, &mut errors, ""),
            );
        }
        if !self.outputs.is_empty() {
            let outputs: Map<String, Value> = self
                .outputs
                .iter()
                .map(|(name, o)| {
                    let mut body = Map::new();
                    body.insert("value".into(), o.value.to_tf_json());
                    body.insert("description".into(), Value::String(o.description.clone()));
                    if o.sensitive {
                        body.insert("sensitive".into(), Value::Bool(true));
                    }
                    (name.clone(), Value::Object(body))
                })
                .collect();
            root.insert("output".into(), Value::Object(outputs));
        }

        if !self.refactors.is_empty() {
            self.refactors.render(&mut root);
        }
        if !self.checks.is_empty() {
            let mut checks = Map::new();
            for (name, check) in &self.checks {
                errors.extend(check.problems(name));
                checks.insert(name.clone(), check.to_json());
            }
            root.insert("check".into(), Value::Object(checks));
        }

        let mut doc = Value::Object(root);
        self.check_references(&doc, &mut errors);
        if !self.refactors.is_empty() {
            self.refactors.check(
                |kind, name| {
                    let e = self.resources.get(&(kind.to_string(), name.to_string()))?;
                    Some(match e.repetition() {
                        None => DeclaredResource {
                            rep: Rep::Single,
                            count: None,
                            keys: None,
                        },
                        Some(Repetition::Count(_, n)) => DeclaredResource {
                            rep: Rep::Count,
                            count: *n,
                            keys: None,
                        },
                        Some(Repetition::ForEach(_, keys)) => DeclaredResource {
                            rep: Rep::ForEach,
                            count: None,
                            keys: keys.as_deref(),
                        },
                    })
                },
                &mut errors,
            );
        }

        if self.cross.has_pending() {
            cross_stack::drop_unwired_reads(&mut errors);
        }
        canonicalize(&mut doc);
        if errors.is_empty() {
            Ok(doc)
        } else {
            Err(SynthError {
                stack: self.name.clone(),
                errors,
            })
        }
    }

    /// Every `${...}` reference must name a declared resource, data source, variable or local;
    /// one into an element with `count` / `for_each` picks instances (`[0]`, `["k"]`, `[*]`) of
    /// the right kind, and one into an element without either picks none.
    fn check_references(&self, doc: &Value, errors: &mut Vec<StackError>) {
        // How each element repeats: its count / for_each, as overrides leave them.
        let mut resources: BTreeMap<(&str, &str), Rep> = BTreeMap::new();
        let mut data: BTreeMap<(&str, &str), Rep> = BTreeMap::new();
        for (is_data, elements, declared) in [
            (false, &self.resources, &mut resources),
            (true, &self.data, &mut data),
        ] {
            for ((kind, name), element) in elements {
                let (rep, both) = element.repeats();
                if both {
                    errors.push(StackError::CountAndForEach {
                        address: handle_address(is_data, kind, name),
                    });
                }
                declared.insert((kind.as_str(), name.as_str()), rep);
            }
        }
        let mut seen = BTreeSet::new();
        visit_strings(doc, "", &mut |path, s| {
            for (reference, access) in references_with_access(s) {
                let repeats = match &reference {
                    Reference::Resource { kind, name, .. } => {
                        resources.get(&(kind.as_str(), name.as_str())).copied()
                    }
                    Reference::Data { kind, name, .. } => data
                        .get(&(kind.as_str(), name.as_str()))
                        .copied()
                        .or_else(|| self.scoped_data(path, kind, name).then_some(Rep::Single)),
                    Reference::Variable(name) => {
                        self.variables.contains_key(name).then_some(Rep::Single)
                    }
                    Reference::Local(name) => self.locals.contains_key(name).then_some(Rep::Single),
                };
                let problem = match repeats {
                    None => Some(StackError::UnknownReference {
                        reference: reference.to_string(),
                        at: path.to_string(),
                    }),
                    Some(rep) => access_problem(&reference, rep, access, path),
                };
                if let Some(problem) = problem
                    && seen.insert((path.to_string(), reference.to_string()))
                {
                    errors.push(problem);
                }
            }
        });
        for (section, elements) in [("resource", &self.resources), ("data", &self.data)] {
            for element in elements.values() {
                for dep in &element.depends_on {
                    let (declared, kind_name) = match dep.strip_prefix("data.") {
                        Some(rest) => (&data, rest),
                        None => (&resources, dep.as_str()),
                    };
                    let mut parts = kind_name.splitn(2, '.');
                    let (kind, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                    if !declared.contains_key(&(kind, name)) {
                        errors.push(StackError::UnknownReference {
                            reference: dep.clone(),
                            at: if section == "data" {
                                "data depends_on".into()
                            } else {
                                "depends_on".into()
                            },
                        });
                    }
                }
                for trigger in element
                    .lifecycle
                    .iter()
                    .flat_map(|l| l.replace_triggered_by.iter())
                {
                    let refs = references_with_access(&trigger.interpolation());
                    let ok = !refs.is_empty()
                        && refs.iter().all(|(r, _)| match r {
                            Reference::Resource { kind, name, .. } => {
                                resources.contains_key(&(kind.as_str(), name.as_str()))
                            }
                            _ => false,
                        });
                    if !ok {
                        errors.push(StackError::UnknownReference {
                            reference: trigger.to_string(),
                            at: "lifecycle.replace_triggered_by (a declared resource or its attribute)"
                                .into(),
                        });
                    }
                }
            }
        }
    }

    /// Whether `data.kind.name`, read at JSON path `path`, is a data source scoped to the
    /// check block that path is in.
    fn scoped_data(&self, path: &str, kind: &str, name: &str) -> bool {
        path.strip_prefix("check.")
            .and_then(|rest| rest.split('.').next())
            .and_then(|check| self.checks.get(check))
            .is_some_and(|c| c.declares_data(kind, name))
    }
}

/// A part of the document as JSON; a serialization failure is recorded (synth then fails
/// naming it) instead of silently becoming `null`.
fn to_json(value: &impl Serialize, what: &str, errors: &mut Vec<StackError>) -> Value {
    serde_json::to_value(value).unwrap_or_else(|e| {
        errors.push(StackError::Serialize {
            address: what.to_string(),
            message: e.to_string(),
        });
        Value::Null
    })
}

/// The bodies moved out of a stack's elements ([`Stack::into_synth`]), in element order.
struct Bodies {
    data: Vec<Value>,
    resources: Vec<Value>,
}

fn render_elements(
    elements: &BTreeMap<(String, String), Element>,
    bodies: Option<Vec<Value>>,
    errors: &mut Vec<StackError>,
    prefix: &str,
) -> Value {
    let mut by_type: Map<String, Value> = Map::new();
    let mut bodies = bodies.map(Vec::into_iter);
    for ((kind, name), element) in elements {
        // Merge order as in cdktf: typed attributes, then meta-arguments, then raw overrides.
        let mut body = bodies
            .as_mut()
            .and_then(Iterator::next)
            .unwrap_or_else(|| element.body.clone());
        if let Value::Object(map) = &mut body {
            if !element.depends_on.is_empty() {
                let mut deps = element.depends_on.clone();
                deps.sort();
                deps.dedup();
                map.insert(
                    "depends_on".into(),
                    to_json(&deps, &format!("{prefix}{kind}.{name}.depends_on"), errors),
                );
            }
            if let Some(lc) = &element.lifecycle {
                map.insert(
                    "lifecycle".into(),
                    to_json(lc, &format!("{prefix}{kind}.{name}.lifecycle"), errors),
                );
            }
            if let Some(p) = &element.provider {
                map.insert("provider".into(), Value::String(p.clone()));
            }
            if let Some(repetition) = element.repetition() {
                let (argument, value) = repetition.argument();
                map.insert(argument.into(), value.clone());
            }
            if !element.dynamic().is_empty() {
                let blocks: Map<String, Value> = element
                    .dynamic()
                    .iter()
                    .map(|d| (d.block.clone(), d.to_json()))
                    .collect();
                map.insert("dynamic".into(), Value::Object(blocks));
            }
            if !element.comments.is_empty() {
                let skips: Vec<String> = element
                    .comments
                    .iter()
                    .map(|(id, reason)| format!("checkov:skip={id}:{reason}"))
                    .collect();
                // One per line: scanners read one suppression per source line.
                map.insert(
                    "//".into(),
                    to_json(&skips, &format!("{prefix}{kind}.{name}.//"), errors),
                );
            }
        }
        for (path, value) in &element.overrides {
            if let Err(e) = apply_override(&mut body, path, value.clone()) {
                errors.push(StackError::Override {
                    address: format!("{prefix}{kind}.{name}"),
                    path: path.clone(),
                    message: e,
                });
            }
        }
        let entry = by_type
            .entry(kind.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = entry {
            m.insert(name.clone(), body);
        }
    }
    Value::Object(by_type)
}

/// Sets `value` at a dotted path (cdktf override syntax); numeric segments index arrays.
pub fn apply_override(target: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let segments: Vec<&str> = path.split('.').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(format!("override path `{path}` has an empty segment"));
    }
    let mut cur = target;
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match cur {
            Value::Array(items) => {
                let idx: usize = seg.parse().map_err(|_| {
                    format!("segment `{seg}` of `{path}` indexes a list: use a number")
                })?;
                let len = items.len();
                let slot = items.get_mut(idx).ok_or_else(|| {
                    format!("index {idx} of `{path}` is out of range (list has {len})")
                })?;
                if last {
                    *slot = value;
                    return Ok(());
                }
                cur = slot;
            }
            Value::Object(map) => {
                if last {
                    if value.is_null() {
                        map.remove(*seg);
                    } else {
                        map.insert((*seg).to_string(), value);
                    }
                    return Ok(());
                }
                cur = map
                    .entry((*seg).to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
            }
            _ => {
                return Err(format!(
                    "segment `{seg}` of `{path}` is below a scalar value"
                ));
            }
        }
    }
    Ok(())
}

/// Sorts every object's keys so equal stacks give byte-identical JSON.
pub fn canonicalize(v: &mut Value) {
    match v {
        Value::Object(map) => {
            // Typed bodies mostly arrive sorted (fields in name order): sorting rebuilds the
            // map's index, so only when needed.
            if !map.keys().is_sorted() {
                map.sort_keys();
            }
            map.values_mut().for_each(canonicalize);
        }
        Value::Array(items) => items.iter_mut().for_each(canonicalize),
        _ => {}
    }
}

/// Calls `f(json_path, s)` for every string of a JSON document that contains an interpolation
/// (`${`); paths are built only for those, so a scan allocates nothing for plain values.
pub fn visit_strings(v: &Value, path: &str, f: &mut impl FnMut(&str, &str)) {
    let mut segments: Vec<PathSegment<'_>> = Vec::new();
    visit(v, &mut segments, &mut |segments, s| {
        // memchr looks at 16–32 bytes a step: most strings hold no `$` at all.
        let b = s.as_bytes();
        if memchr::memchr_iter(b'$', b).any(|at| b.get(at + 1) == Some(&b'{')) {
            let mut p = path.to_string();
            for seg in segments.iter() {
                match seg {
                    PathSegment::Key(k) if p.is_empty() => p.push_str(k),
                    PathSegment::Key(k) => {
                        p.push('.');
                        p.push_str(k);
                    }
                    PathSegment::Index(i) => p.push_str(&format!("[{i}]")),
                }
            }
            f(&p, s);
        }
    });
}

enum PathSegment<'a> {
    Key(&'a str),
    Index(usize),
}

fn visit<'a>(
    v: &'a Value,
    segments: &mut Vec<PathSegment<'a>>,
    f: &mut impl FnMut(&[PathSegment<'a>], &str),
) {
    match v {
        Value::String(s) => f(segments, s),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                segments.push(PathSegment::Index(i));
                visit(item, segments, f);
                segments.pop();
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                segments.push(PathSegment::Key(k));
                visit(item, segments, f);
                segments.pop();
            }
        }
        _ => {}
    }
}

/// One stack rendered on a worker thread: (name, `cdk.tf.json` text, resource count).
type RenderedStack = Result<(String, String, usize), SynthError>;

fn render_stack(stack: &Stack) -> RenderedStack {
    rendered(stack.name().to_string(), stack.synth()?)
}

fn render_owned_stack(stack: Stack) -> RenderedStack {
    let name = stack.name().to_string();
    rendered(name, stack.into_synth()?)
}

fn rendered(name: String, doc: Value) -> RenderedStack {
    let resources = super::synth::count_resources(&doc);
    Ok((name, super::synth::render(&doc), resources))
}

fn render_parallel<T: Sync>(
    items: &[T],
    name: impl Fn(&T) -> String,
    render: impl Fn(&T) -> RenderedStack + Sync,
) -> Result<super::synth::Rendered, Vec<SynthError>> {
    let mut names = BTreeSet::new();
    let mut errors = Vec::new();
    for item in items {
        let n = name(item);
        if !names.insert(n.clone()) {
            errors.push(SynthError {
                errors: vec![StackError::DuplicateId {
                    address: format!("stack {n}"),
                }],
                stack: n,
            });
        }
    }
    let results = super::parallel::map_parallel(items, 2, render);
    let mut stacks = BTreeMap::new();
    let mut resources = 0;
    for result in results {
        match result {
            Ok((name, text, count)) => {
                resources += count;
                stacks.insert(name, text);
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(super::synth::Rendered::new(stacks, resources))
    } else {
        Err(errors)
    }
}

/// A set of stacks synthesized together (cdktf's `App`).
#[derive(Debug, Default)]
pub struct App {
    stacks: Vec<Stack>,
}

impl App {
    /// An empty app.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a stack; stack names must be unique (checked at synth).
    ///
    /// Cross-stack references are wired here, as soon as both stacks are in the app: the
    /// producer gets the output, the consumer the `terraform_remote_state` data source reading
    /// the producer's backend (see [`crate::RemoteState`]).
    pub fn add_stack(&mut self, stack: Stack) {
        self.stacks.push(stack);
        if self.stacks.iter().any(|s| s.cross().has_pending()) {
            cross_stack::wire(&mut self.stacks);
        }
    }

    /// Each stack's dependencies (the stacks whose values it reads), for stacks that have any.
    fn dependencies(&self) -> BTreeMap<String, Vec<String>> {
        self.stacks
            .iter()
            .filter(|s| !s.cross().depends_on().is_empty())
            .map(|s| {
                (
                    s.name().to_owned(),
                    s.dependencies().map(str::to_owned).collect(),
                )
            })
            .collect()
    }

    /// The stacks in the order they were added.
    pub fn stacks(&self) -> &[Stack] {
        &self.stacks
    }

    /// Synthesizes and renders every stack to the text of its output file, on all cores,
    /// keeping only the text (not every document tree) in memory: what `callflow synth` writes.
    /// Errors of all stacks are collected, each prefixed by its stack.
    pub fn render(&self) -> Result<super::synth::Rendered, Vec<SynthError>> {
        let cycles = cross_stack::cycles(&self.stacks);
        match render_parallel(&self.stacks, |s| s.name().to_string(), render_stack) {
            Ok(rendered) if cycles.is_empty() => {
                Ok(rendered.with_dependencies(self.dependencies()))
            }
            Ok(_) => Err(cycles),
            Err(mut errors) => {
                errors.extend(cycles);
                Err(errors)
            }
        }
    }

    /// Like [`App::render`], but each stack is built from its item inside the worker that
    /// renders it and dropped right after, so memory holds one stack per core, not the app.
    pub fn render_built<T: Sync>(
        items: &[T],
        name: impl Fn(&T) -> String,
        build: impl Fn(&T) -> Stack + Sync,
    ) -> Result<super::synth::Rendered, Vec<SynthError>> {
        render_parallel(items, name, |item| render_owned_stack(build(item)))
    }

    /// Synthesizes every stack; errors of all stacks are collected, each prefixed by its stack.
    pub fn synth(&self) -> Result<super::synth::Synthesized, Vec<SynthError>> {
        let mut out = BTreeMap::new();
        let mut errors = Vec::new();
        for stack in &self.stacks {
            if out.contains_key(stack.name()) {
                errors.push(SynthError {
                    stack: stack.name().to_string(),
                    errors: vec![StackError::DuplicateId {
                        address: format!("stack {}", stack.name()),
                    }],
                });
                continue;
            }
            match stack.synth() {
                Ok(doc) => {
                    out.insert(stack.name().to_string(), doc);
                }
                Err(e) => errors.push(e),
            }
        }
        errors.extend(cross_stack::cycles(&self.stacks));
        if errors.is_empty() {
            Ok(super::synth::Synthesized::new(out).with_dependencies(self.dependencies()))
        } else {
            Err(errors)
        }
    }
}

/// An element's address: `type.name` or `data.type.name`.
fn handle_address(data: bool, kind: &str, name: &str) -> String {
    if data {
        format!("data.{kind}.{name}")
    } else {
        format!("{kind}.{name}")
    }
}

/// The problem with reading `reference` with `access` when its element repeats as `rep`.
fn access_problem(reference: &Reference, rep: Rep, access: Access, at: &str) -> Option<StackError> {
    // The common case: an attribute of an element that does not repeat.
    if rep == Rep::Single && matches!(access, Access::Whole | Access::Attr | Access::Splat) {
        return None;
    }
    use super::refactor::InstanceKey;
    let (data, kind, name) = match reference {
        Reference::Resource { kind, name, .. } => (false, kind, name),
        Reference::Data { kind, name, .. } => (true, kind, name),
        _ => return None,
    };
    let key = match access {
        Access::Index => Some(InstanceKey::Index(0)),
        Access::Key => Some(InstanceKey::Key(String::new())),
        Access::Computed if rep == Rep::Single => Some(InstanceKey::Index(0)),
        _ => None,
    };
    if let Some(reason) = key_problem(rep, key.as_ref()) {
        return Some(StackError::WrongInstanceKey {
            reference: handle_address(data, kind, name),
            at: at.to_string(),
            reason: reason.into(),
        });
    }
    match (rep, access) {
        (Rep::Count | Rep::ForEach, Access::Attr) => Some(StackError::MissingInstanceKey {
            reference: reference.to_string(),
            at: at.to_string(),
            element: handle_address(data, kind, name),
            meta: if rep == Rep::Count {
                "count"
            } else {
                "for_each"
            },
        }),
        _ => None,
    }
}
