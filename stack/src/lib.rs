//! CDK-style typed Terraform DSL and the Callflow stack, synthesized to cdktf-compatible JSON.
