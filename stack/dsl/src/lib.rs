//! CDK-style typed Terraform DSL: apps, stacks, typed values ([`Tf`], [`Number`]) and typed
//! references, meta-arguments, overrides, deterministic synthesis to cdktf-compatible JSON, and
//! diffing. It knows no provider: resource types come from generated bindings (see
//! `callflow-codegen`), which implement [`Resource`] / [`DataSource`] and build on [`bindings`].
//!
//! ```
//! use callflow_dsl::{Expression, Tf};
//! let arn: Tf<String> = Tf::expr(Expression::raw("aws_s3_bucket.events.arn"));
//! assert_eq!(arn.suffixed("/*").to_tf_json(), serde_json::json!("${aws_s3_bucket.events.arn}/*"));
//! ```
#![deny(missing_docs)]

mod backend;
pub mod bindings;
mod check;
mod cross_stack;
mod diff;
mod error;
mod expr;
pub mod functions;
mod json;
mod logical_id;
pub mod manifest;
mod meta;
mod number;
mod parallel;
mod pretty;
mod provider;
mod refactor;
mod references;
mod refs;
mod remote_state;
mod rename;
mod stack;
mod synth;

pub use backend::{
    AzureRmBackend, Backend, CloudBackend, CloudWorkspaces, ConsulBackend, CosAssumeRole,
    CosBackend, GcsBackend, HttpBackend, IntoBackendValue, KubernetesBackend, KubernetesExec,
    LocalBackend, OssAssumeRole, OssBackend, PgBackend, RemoteBackend, RemoteWorkspaces,
    S3AssumeRole, S3AssumeRoleWithWebIdentity, S3Backend, S3Endpoints,
};
pub use check::Check;
pub use cross_stack::{input_id as cross_stack_input_id, output_id as cross_stack_output_id};
pub use diff::{ChangeKind, ElementChange, SynthDiff};
pub use error::{StackError, SynthError};
pub use expr::{Dynamic, Expression, TemplatePart, Tf, TfLiteral, escape_literal, hcl_quote};
pub use json::{TfJson, TfJsonObject};
pub use logical_id::LogicalId;
pub use meta::{
    Block, Condition, CountHandle, CountIndex, DataOf, Declared, Dependable, Each, ForEach,
    ForEachHandle, Instance,
};
pub use number::Number;
pub use provider::{ConfiguredBy, ProvidedBy, Provider, ProviderHandle};
pub use refactor::{Address, InstanceKey, IntoAddress, Target};
pub use references::{Reference, parse_template, references_in};
pub use refs::{FromExpression, ListRef, MapRef};
pub use remote_state::{RemoteState, RemoteStateError, RemoteStateRefs};
pub use rename::{
    IdentityRule, Rename, RenameBasis, declared_moves, detect_renames, identity_match,
    identity_rule, moved_block_json, rename_references,
};
pub use stack::{
    App, DataHandle, DataSource, Handle, Lifecycle, Output, RequiredProvider, Resource, Stack,
    Variable, apply_override, canonicalize, visit_strings,
};
pub use synth::{MANIFEST_VERSION, OutputError, Rendered, Synthesized, count_resources, render};
