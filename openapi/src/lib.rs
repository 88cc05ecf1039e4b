//! The Callflow API contract (openapi.yaml) parsed into a typed route table for the stack and the local gateway.
