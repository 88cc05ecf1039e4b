//! The DSL ([`callflow_dsl`], re-exported here) and the typed resource structs of the AWS
//! provider the stack uses.

pub use callflow_dsl::*;

pub mod aws;
