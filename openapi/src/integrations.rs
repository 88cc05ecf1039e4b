//! The placeholders the spec carries where the stack puts its references: every
//! `x-amazon-apigateway-integration` `uri` and the authorizer's `authorizerUri`. The stack
//! (`callflow_stack::callflow::Api`) replaces them with typed references, route by route from
//! [`crate::routes`]; the local gateway never reads them.

/// The `uri` every `x-amazon-apigateway-integration` carries in the spec until filled in.
pub const INTEGRATION_URI_PLACEHOLDER: &str = "callflow:placeholder:integration-uri";

/// The `authorizerUri` of the `bearerAuth` authorizer in the spec until filled in.
pub const AUTHORIZER_URI_PLACEHOLDER: &str = "callflow:placeholder:authorizer-uri";
