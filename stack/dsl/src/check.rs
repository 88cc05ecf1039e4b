//! `check` blocks: assertions about the infrastructure that Terraform evaluates at every plan and
//! apply and reports as warnings (they never stop a run), optionally reading a data source
//! scoped to the check (a failure to read it is a warning too).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::cross_stack::StackId;
use super::error::StackError;
use super::expr::Tf;
use super::logical_id::LogicalId;
use super::meta::Condition;
use super::stack::{DataHandle, DataSource};

/// The body of one `check` block, built in [`crate::Stack::check`]'s closure.
#[derive(Debug)]
pub struct Check {
    origin: StackId,
    data: BTreeMap<(String, String), Value>,
    asserts: Vec<Condition>,
    errors: Vec<StackError>,
}

impl Check {
    pub(crate) fn new(origin: StackId) -> Self {
        Self {
            origin,
            data: BTreeMap::new(),
            asserts: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Declares a data source scoped to this check (`check { data "type" "name" { ... } }`):
    /// only the check's assertions may read it.
    pub fn data<D: DataSource>(&mut self, name: &str, source: D) -> DataHandle<D> {
        let id = LogicalId::parse(name).unwrap_or_else(|e| {
            self.errors.push(e);
            LogicalId::unchecked(name)
        });
        let body = serde_json::to_value(&source).unwrap_or_else(|e| {
            self.errors.push(StackError::Serialize {
                address: format!("data.{}.{id}", D::TYPE),
                message: e.to_string(),
            });
            Value::Object(Map::new())
        });
        if self
            .data
            .insert((D::TYPE.to_string(), id.to_string()), body)
            .is_some()
        {
            self.errors.push(StackError::DuplicateId {
                address: format!("data.{}.{id}", D::TYPE),
            });
        }
        DataHandle::new(id, self.origin)
    }

    /// Adds an assertion: when `condition` is false, the plan warns with `error_message`.
    pub fn assert(&mut self, condition: Tf<bool>, error_message: impl Into<Tf<String>>) {
        self.asserts.push(Condition::new(condition, error_message));
    }

    /// Whether the check declares scoped data source `kind.name`.
    pub(crate) fn declares_data(&self, kind: &str, name: &str) -> bool {
        self.data
            .contains_key(&(kind.to_string(), name.to_string()))
    }

    /// Problems found while building it, and an empty check (Terraform needs an assertion).
    pub(crate) fn problems(&self, name: &str) -> Vec<StackError> {
        let mut out = self.errors.clone();
        if self.asserts.is_empty() {
            out.push(StackError::Invalid {
                construct: format!("check.{name}"),
                message: "a check block needs at least one assertion".into(),
            });
        }
        out
    }

    /// The block's Terraform JSON: `{"assert": [...], "data": {type: {name: body}}}`.
    pub(crate) fn to_json(&self) -> Value {
        let mut block = Map::new();
        block.insert(
            "assert".into(),
            Value::Array(
                self.asserts
                    .iter()
                    .map(|a| {
                        serde_json::json!({
                            "condition": a.condition.to_tf_json(),
                            "error_message": a.error_message.to_tf_json(),
                        })
                    })
                    .collect(),
            ),
        );
        if !self.data.is_empty() {
            let mut by_type: Map<String, Value> = Map::new();
            for ((kind, name), body) in &self.data {
                if let Value::Object(m) = by_type
                    .entry(kind.clone())
                    .or_insert_with(|| Value::Object(Map::new()))
                {
                    m.insert(name.clone(), body.clone());
                }
            }
            block.insert("data".into(), Value::Object(by_type));
        }
        Value::Object(block)
    }
}
