//! CDK-style typed Terraform DSL and the Callflow stack, synthesized to cdktf-compatible JSON.
//!
//! [`dsl`] is the library (apps, stacks, typed AWS resources, references, synthesis, diff);
//! [`callflow`] declares the Callflow service's infrastructure with it.
#![deny(missing_docs)]

pub mod callflow;
pub mod dsl;
