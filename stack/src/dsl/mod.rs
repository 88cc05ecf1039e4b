//! The CDK-style DSL: typed values and references, stacks, synthesis, diffing, and one module of
//! typed resource structs per AWS service.

pub mod aws;
mod diff;
mod error;
mod expr;
mod logical_id;
mod references;
mod stack;
mod synth;

pub use diff::{ChangeKind, ElementChange, SynthDiff};
pub use error::{StackError, SynthError};
pub use expr::{Expression, TemplatePart, Tf, TfLiteral, escape_literal, functions, hcl_quote};
pub use logical_id::LogicalId;
pub use references::{Reference, parse_template, references_in};
pub use stack::{
    App, Backend, DataHandle, DataSource, Handle, Lifecycle, Output, RequiredProvider, Resource,
    Stack, Variable, apply_override, canonicalize, visit_strings,
};
pub use synth::{MANIFEST_VERSION, OutputError, Rendered, Synthesized, count_resources, render};
