//! The plan document `terraform show -json <planfile>` prints (format_version 1.x).
//!
//! Only the parts a plan review needs are typed: `resource_changes[]`, `resource_drift[]`,
//! `output_changes` and the data sources of `prior_state`.
//! Unknown properties are ignored, as Terraform's "JSON Output Format" documentation asks of
//! consumers of a 1.x document; a different major version is rejected.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde_json::Value;

/// A parsed `terraform show -json` plan document.
#[derive(Debug, Clone)]
pub struct PlanDocument {
    /// The document's `format_version` (`"1.0"`, `"1.1"`, `"1.2"`, ...).
    pub format_version: String,
    /// The Terraform version that produced the plan, when present.
    pub terraform_version: Option<String>,
    /// One entry per resource instance object, in document order.
    pub resource_changes: Vec<ResourceChange>,
    /// Planned changes to the root module's outputs, by output name.
    pub output_changes: BTreeMap<String, Change>,
    /// Changes made outside Terraform since the last apply, found by refreshing
    /// (`resource_drift[]`, same shape as `resource_changes[]`).
    pub resource_drift: Vec<ResourceChange>,
    /// The values of data sources in `prior_state`, by address: what a data source read again
    /// during apply held before.
    pub prior_data_values: BTreeMap<String, Value>,
}

/// Whether a resource is managed (`resource` block) or a data source (`data` block).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceMode {
    /// A `resource` block.
    Managed,
    /// A `data` block.
    Data,
}

/// One element of `resource_changes[]`.
#[derive(Debug, Clone)]
pub struct ResourceChange {
    /// The absolute resource instance address, e.g. `module.a.aws_s3_bucket.events[0]`.
    pub address: String,
    /// The address before a `moved` block renamed it, when it was renamed.
    pub previous_address: Option<String>,
    /// Managed resource or data source.
    pub mode: ResourceMode,
    /// The resource type, e.g. `aws_s3_bucket`.
    pub resource_type: String,
    /// The resource name within its module.
    pub name: String,
    /// The deposed object key when the change is to a deposed object, not the current one.
    pub deposed: Option<String>,
    /// What will be done and the values before and after.
    pub change: Change,
    /// Terraform's hint for why the action was chosen (e.g. `replace_because_cannot_update`).
    pub action_reason: Option<String>,
}

/// A `<change-representation>`: the action and the object value before and after it.
#[derive(Debug, Clone)]
pub struct Change {
    /// The typed form of the `actions` array.
    pub action: Action,
    /// The value before (`Value::Null` when absent, e.g. for a create).
    pub before: Value,
    /// The known part of the value after (`Value::Null` when absent, e.g. for a delete).
    pub after: Value,
    /// Same shape as `after`, `true` at each leaf not known until apply.
    pub after_unknown: Value,
    /// Same shape as `before`, `true` at each sensitive leaf.
    pub before_sensitive: Value,
    /// Same shape as `after`, `true` at each sensitive leaf.
    pub after_sensitive: Value,
    /// Paths into the value that forced a replacement; each step is a string or a number.
    pub replace_paths: Vec<Vec<Value>>,
    /// The import ID when an `import` block brings an existing object under management
    /// (Terraform 1.5+ `change.importing.id`).
    pub importing: Option<String>,
}

/// The action Terraform plans for one object, typed from the `actions` array.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `["no-op"]`: nothing changes.
    NoOp,
    /// `["create"]`.
    Create,
    /// `["read"]`: a data source read during apply.
    Read,
    /// `["update"]`: in-place update.
    Update,
    /// `["delete","create"]` (`create_before_destroy: false`) or `["create","delete"]`
    /// (`create_before_destroy: true`).
    Replace {
        /// Whether the replacement is created before the old object is destroyed.
        create_before_destroy: bool,
    },
    /// `["delete"]`.
    Delete,
    /// `["forget"]` (Terraform 1.7+ `removed` block with `destroy = false`): removed from the
    /// state, the real object is left alone.
    Forget,
}

impl Action {
    /// Parses a Terraform `actions` array; `None` for a combination Terraform does not document.
    pub fn from_actions<S: AsRef<str>>(actions: &[S]) -> Option<Self> {
        let actions: Vec<&str> = actions.iter().map(AsRef::as_ref).collect();
        Some(match actions.as_slice() {
            ["no-op"] => Self::NoOp,
            ["create"] => Self::Create,
            ["read"] => Self::Read,
            ["update"] => Self::Update,
            ["delete", "create"] => Self::Replace {
                create_before_destroy: false,
            },
            ["create", "delete"] => Self::Replace {
                create_before_destroy: true,
            },
            ["delete"] => Self::Delete,
            ["forget"] => Self::Forget,
            _ => return None,
        })
    }

    /// Whether the real object is destroyed (delete or either replace order).
    pub fn destroys(self) -> bool {
        matches!(self, Self::Delete | Self::Replace { .. })
    }

    /// A short lowercase word: `no-op`, `create`, `read`, `update`, `replace`, `delete`, `forget`.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::NoOp => "no-op",
            Self::Create => "create",
            Self::Read => "read",
            Self::Update => "update",
            Self::Replace { .. } => "replace",
            Self::Delete => "delete",
            Self::Forget => "forget",
        }
    }

    /// The symbol Terraform's own plan output uses: `+`, `~`, `-`, `-/+`, `+/-`, `<=`, `.`.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::NoOp => " ",
            Self::Create => "+",
            Self::Read => "<=",
            Self::Update => "~",
            Self::Replace {
                create_before_destroy: false,
            } => "-/+",
            Self::Replace {
                create_before_destroy: true,
            } => "+/-",
            Self::Delete => "-",
            Self::Forget => ".",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Replace {
                create_before_destroy: true,
            } => f.write_str("replace (create before destroy)"),
            Self::Replace {
                create_before_destroy: false,
            } => f.write_str("replace (destroy before create)"),
            other => f.write_str(other.keyword()),
        }
    }
}

/// Why a plan document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// Not JSON, or not the plan representation.
    #[error("not a terraform plan document (`terraform show -json <planfile>`): {0}")]
    Json(#[from] serde_json::Error),
    /// A `format_version` whose major version is not 1.
    #[error(
        "unsupported terraform plan format_version {0:?} (only 1.x is understood); use Terraform 1.x"
    )]
    UnsupportedFormatVersion(String),
    /// An `actions` array Terraform does not document.
    #[error("resource {address}: unrecognised terraform actions {actions:?}")]
    UnknownActions {
        /// The resource (or `output.<name>`) address.
        address: String,
        /// The actions array as written.
        actions: Vec<String>,
    },
}

#[derive(Deserialize)]
struct RawPlan {
    format_version: String,
    #[serde(default)]
    terraform_version: Option<String>,
    #[serde(default)]
    resource_changes: Vec<RawResourceChange>,
    #[serde(default)]
    output_changes: BTreeMap<String, RawOutputChange>,
    #[serde(default)]
    resource_drift: Vec<RawResourceChange>,
    #[serde(default)]
    prior_state: Option<RawState>,
}

#[derive(Deserialize)]
struct RawState {
    #[serde(default)]
    values: Option<RawStateValues>,
}

#[derive(Deserialize)]
struct RawStateValues {
    #[serde(default)]
    root_module: Option<RawModule>,
}

#[derive(Deserialize)]
struct RawModule {
    #[serde(default)]
    resources: Vec<RawStateResource>,
    #[serde(default)]
    child_modules: Vec<RawModule>,
}

#[derive(Deserialize)]
struct RawStateResource {
    address: String,
    mode: ResourceMode,
    #[serde(default)]
    values: Value,
}

impl RawModule {
    fn collect_data(self, out: &mut BTreeMap<String, Value>) {
        for resource in self.resources {
            if resource.mode == ResourceMode::Data {
                out.insert(resource.address, resource.values);
            }
        }
        for child in self.child_modules {
            child.collect_data(out);
        }
    }
}

impl RawResourceChange {
    fn into_resource_change(self) -> Result<ResourceChange, DocumentError> {
        let change = self.change.into_change(&self.address)?;
        Ok(ResourceChange {
            address: self.address,
            previous_address: self.previous_address,
            mode: self.mode,
            resource_type: self.resource_type,
            name: self.name,
            deposed: self.deposed,
            change,
            action_reason: self.action_reason,
        })
    }
}

#[derive(Deserialize)]
struct RawResourceChange {
    address: String,
    #[serde(default)]
    previous_address: Option<String>,
    mode: ResourceMode,
    #[serde(rename = "type")]
    resource_type: String,
    name: String,
    #[serde(default)]
    deposed: Option<String>,
    change: RawChange,
    #[serde(default)]
    action_reason: Option<String>,
}

#[derive(Deserialize)]
struct RawChange {
    actions: Vec<String>,
    #[serde(default)]
    before: Value,
    #[serde(default)]
    after: Value,
    #[serde(default)]
    after_unknown: Value,
    #[serde(default)]
    before_sensitive: Value,
    #[serde(default)]
    after_sensitive: Value,
    #[serde(default)]
    replace_paths: Vec<Vec<Value>>,
    #[serde(default)]
    importing: Option<RawImporting>,
}

#[derive(Deserialize)]
struct RawImporting {
    #[serde(default)]
    id: Option<String>,
}

/// Terraform writes each output change as a bare change representation; the documentation
/// shows it wrapped in `{"change": ...}`. Both are accepted.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawOutputChange {
    Wrapped { change: RawChange },
    Bare(RawChange),
}

impl RawChange {
    fn into_change(self, address: &str) -> Result<Change, DocumentError> {
        let action =
            Action::from_actions(&self.actions).ok_or_else(|| DocumentError::UnknownActions {
                address: address.to_owned(),
                actions: self.actions.clone(),
            })?;
        Ok(Change {
            action,
            before: self.before,
            after: self.after,
            after_unknown: self.after_unknown,
            before_sensitive: self.before_sensitive,
            after_sensitive: self.after_sensitive,
            replace_paths: self.replace_paths,
            importing: self
                .importing
                .map(|importing| importing.id.unwrap_or_default()),
        })
    }
}

impl PlanDocument {
    /// Parses the JSON text `terraform show -json <planfile>` printed.
    pub fn from_json(text: &str) -> Result<Self, DocumentError> {
        let raw: RawPlan = serde_json::from_str(text)?;
        if raw.format_version.split('.').next() != Some("1") {
            return Err(DocumentError::UnsupportedFormatVersion(raw.format_version));
        }
        let resource_changes = raw
            .resource_changes
            .into_iter()
            .map(RawResourceChange::into_resource_change)
            .collect::<Result<Vec<_>, DocumentError>>()?;
        let resource_drift = raw
            .resource_drift
            .into_iter()
            .map(RawResourceChange::into_resource_change)
            .collect::<Result<Vec<_>, DocumentError>>()?;
        let mut prior_data_values = BTreeMap::new();
        if let Some(root) = raw
            .prior_state
            .and_then(|state| state.values)
            .and_then(|values| values.root_module)
        {
            root.collect_data(&mut prior_data_values);
        }
        let output_changes = raw
            .output_changes
            .into_iter()
            .map(|(name, raw)| {
                let raw = match raw {
                    RawOutputChange::Wrapped { change } | RawOutputChange::Bare(change) => change,
                };
                let change = raw.into_change(&format!("output.{name}"))?;
                Ok((name, change))
            })
            .collect::<Result<BTreeMap<_, _>, DocumentError>>()?;
        Ok(Self {
            format_version: raw.format_version,
            terraform_version: raw.terraform_version,
            resource_changes,
            output_changes,
            resource_drift,
            prior_data_values,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_order_comes_from_the_order_of_the_actions() {
        assert_eq!(
            Action::from_actions(&["delete", "create"]),
            Some(Action::Replace {
                create_before_destroy: false
            })
        );
        assert_eq!(
            Action::from_actions(&["create", "delete"]),
            Some(Action::Replace {
                create_before_destroy: true
            })
        );
        assert_eq!(Action::from_actions(&["no-op"]), Some(Action::NoOp));
        assert_eq!(Action::from_actions(&["delete", "delete"]), None);
        assert_eq!(Action::from_actions::<&str>(&[]), None);
    }

    #[test]
    fn rejects_another_major_format_version() {
        let error = PlanDocument::from_json(r#"{"format_version": "2.0"}"#).expect_err("2.0");
        assert!(matches!(error, DocumentError::UnsupportedFormatVersion(v) if v == "2.0"));
    }

    #[test]
    fn unknown_actions_name_the_resource() {
        let text = r#"{"format_version": "1.2", "resource_changes": [{"address": "a_b.c",
            "mode": "managed", "type": "a_b", "name": "c",
            "change": {"actions": ["explode"], "before": null, "after": null}}]}"#;
        let error = PlanDocument::from_json(text).expect_err("unknown action");
        assert_eq!(
            error.to_string(),
            "resource a_b.c: unrecognised terraform actions [\"explode\"]"
        );
    }

    #[test]
    fn output_changes_bare_and_wrapped() {
        let text = r#"{"format_version": "1.2", "output_changes": {
            "bare": {"actions": ["create"], "before": null, "after": "x",
                     "after_unknown": false, "before_sensitive": false, "after_sensitive": false},
            "wrapped": {"change": {"actions": ["delete"], "before": "y", "after": null}}}}"#;
        let plan = PlanDocument::from_json(text).expect("valid plan");
        assert_eq!(plan.output_changes["bare"].action, Action::Create);
        assert_eq!(plan.output_changes["wrapped"].action, Action::Delete);
    }
}
