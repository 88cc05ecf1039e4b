//! Terraform provider schema to typed Rust bindings (in progress).
