//! `terraform_remote_state`: the outputs of another configuration's state, read through its
//! backend, typed.
//!
//! ```
//! use callflow_dsl::{RemoteState, S3Backend, Stack, Tf};
//! let mut stack = Stack::new("consumer");
//! let network = RemoteState::from_backend(
//!     &S3Backend::new("state", "network.tfstate").region("eu-west-1").into(),
//! )
//! .unwrap()
//! .workspace("prod");
//! let network = stack.data("network", network);
//! let vpc_id: Tf<String> = network.output("vpc_id");
//! assert_eq!(vpc_id.to_tf_json(), serde_json::json!("${data.terraform_remote_state.network.outputs.vpc_id}"));
//! ```

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::backend::Backend;
use super::expr::{Dynamic, Expression, Tf, TfLiteral, hcl_quote};
use super::refs::{FromExpression, MapRef};
use super::stack::DataSource;

/// A `terraform_remote_state` data source: the root module outputs of the state that `backend`
/// with `config` holds (Terraform's builtin `terraform` provider; no download needed).
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteState {
    backend: &'static str,
    config: Map<String, Value>,
    /// The workspace whose state is read. Default: `default`.
    pub workspace: Option<String>,
    /// Values of outputs the state lacks (for instance before its first apply), by output name.
    pub defaults: BTreeMap<String, Value>,
}

/// Why a backend cannot be read through `terraform_remote_state`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RemoteStateError {
    /// A `cloud` block that selects workspaces by tags (or through `TF_WORKSPACE` only): the
    /// data source reads one named workspace of one organization.
    #[error(
        "the cloud block reads workspaces by tags or from the environment: terraform_remote_state needs `organization` and `workspaces.name`"
    )]
    CloudWithoutWorkspaceName,
    /// The backend's configuration did not serialize.
    #[error("backend configuration: {0}")]
    Serialize(String),
}

impl RemoteState {
    /// The remote state of the configuration that `backend` stores: the same backend type and
    /// arguments. A `cloud` block is read through the `remote` backend with its organization,
    /// hostname, token and workspace name.
    pub fn from_backend(backend: &Backend) -> Result<Self, RemoteStateError> {
        let body = backend
            .config_json()
            .map_err(|e| RemoteStateError::Serialize(e.to_string()))?;
        let Value::Object(mut config) = body else {
            return Err(RemoteStateError::Serialize("not an object".into()));
        };
        let kind = if let Backend::Cloud(cloud) = backend {
            let name = cloud.workspaces.as_ref().and_then(|w| w.name.clone());
            let (Some(_), Some(name)) = (&cloud.organization, name) else {
                return Err(RemoteStateError::CloudWithoutWorkspaceName);
            };
            config.insert("workspaces".into(), serde_json::json!({ "name": name }));
            "remote"
        } else {
            backend.type_name()
        };
        Ok(Self {
            backend: kind,
            config,
            workspace: None,
            defaults: BTreeMap::new(),
        })
    }

    /// Reads `workspace` instead of `default`.
    pub fn workspace(mut self, workspace: impl Into<String>) -> Self {
        self.workspace = Some(workspace.into());
        self
    }

    /// The value of output `name` when the state has none.
    pub fn default_output(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.defaults.insert(name.into(), value.into());
        self
    }

    /// The backend type read (`cloud` reads as `remote`).
    pub fn backend_type(&self) -> &str {
        self.backend
    }

    /// The backend arguments passed as `config`.
    pub fn config(&self) -> &Map<String, Value> {
        &self.config
    }

    /// The backend arguments, mutable (e.g. to adjust a path).
    pub(crate) fn config_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.config
    }
}

impl Serialize for RemoteState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("backend", self.backend)?;
        // Backend arguments are literals: escaped, so a `${` in a path stays text.
        map.serialize_entry("config", &Value::Object(self.config.clone()).to_tf_json())?;
        if !self.defaults.is_empty() {
            let defaults: Map<String, Value> = self
                .defaults
                .iter()
                .map(|(k, v)| (k.clone(), v.to_tf_json()))
                .collect();
            map.serialize_entry("defaults", &defaults)?;
        }
        if let Some(w) = &self.workspace {
            map.serialize_entry("workspace", &w.to_tf_json())?;
        }
        map.end()
    }
}

impl DataSource for RemoteState {
    const TYPE: &'static str = "terraform_remote_state";
    type Refs = RemoteStateRefs;
}

/// The attributes of a declared [`RemoteState`]: its outputs, typed by the caller.
#[derive(Clone, Debug)]
pub struct RemoteStateRefs {
    expression: Expression,
}

impl FromExpression for RemoteStateRefs {
    fn from_expression(expression: Expression) -> Self {
        Self { expression }
    }
}

impl RemoteStateRefs {
    /// Output `name` of the remote state, as a `T` (the output's type in the producer):
    /// `data.terraform_remote_state.<id>.outputs.<name>`.
    pub fn output<T>(&self, name: &str) -> Tf<T> {
        Tf::Expr(
            self.expression
                .derived(output_path(self.expression.as_hcl(), name)),
        )
    }

    /// All outputs, as a map.
    pub fn outputs(&self) -> MapRef<Tf<Dynamic>> {
        MapRef::from_expression(self.expression.attr("outputs"))
    }
}

/// `<data source>.outputs.<name>`, or `.outputs["name"]` when `name` is not an identifier.
pub(crate) fn output_path(data_source: &str, name: &str) -> String {
    let identifier = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if identifier {
        format!("{data_source}.outputs.{name}")
    } else {
        format!("{data_source}.outputs[{}]", hcl_quote(name))
    }
}
