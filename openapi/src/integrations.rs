//! Filling the spec's integration and authorizer placeholders for the REST API `body`.

use callflow_dsl::escape_literal;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::{LambdaName, SpecError, spec_json};

/// The `uri` every `x-amazon-apigateway-integration` carries in the spec until filled in.
pub const INTEGRATION_URI_PLACEHOLDER: &str = "callflow:placeholder:integration-uri";

/// The `authorizerUri` of the `bearerAuth` authorizer in the spec until filled in.
pub const AUTHORIZER_URI_PLACEHOLDER: &str = "callflow:placeholder:authorizer-uri";

/// The spec with every integration `uri` and the authorizer's `authorizerUri` (and,
/// when given, `authorizerCredentials`) filled in, ready to be the REST API `body`.
///
/// The values are inserted verbatim so that Terraform interpolations such as
/// `${aws_lambda_function.event_storer.invoke_arn}` work; every `${` and `%{` that was
/// already in the spec (keys and strings) comes out escaped as `$${` / `%%{` so that
/// Terraform reads it literally. An operation whose Lambda has no entry in `uris`
/// keeps [`INTEGRATION_URI_PLACEHOLDER`]; use [`try_with_integrations`] to reject that.
pub fn with_integrations(
    uris: &BTreeMap<LambdaName, String>,
    authorizer_uri: &str,
    authorizer_credentials: Option<&str>,
) -> Value {
    fill(&spec_json(), uris, authorizer_uri, authorizer_credentials).0
}

/// Like [`with_integrations`], but fails when an operation names a Lambda that has no
/// URI in `uris`.
pub fn try_with_integrations(
    uris: &BTreeMap<LambdaName, String>,
    authorizer_uri: &str,
    authorizer_credentials: Option<&str>,
) -> Result<Value, SpecError> {
    let (doc, problems) = fill(&spec_json(), uris, authorizer_uri, authorizer_credentials);
    match problems.into_iter().next() {
        Some(problem) => Err(problem),
        None => Ok(doc),
    }
}

/// Fills `spec`; returns the filled document and every operation it could not fill.
fn fill(
    spec: &Value,
    uris: &BTreeMap<LambdaName, String>,
    authorizer_uri: &str,
    authorizer_credentials: Option<&str>,
) -> (Value, Vec<SpecError>) {
    let mut problems = Vec::new();
    let mut doc = escape_terraform(spec);
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for operation in item.values_mut().filter_map(Value::as_object_mut) {
                if let Err(problem) = fill_operation(operation, uris) {
                    problems.push(problem);
                }
            }
        }
    }
    if let Some(schemes) = doc
        .pointer_mut("/components/securitySchemes")
        .and_then(Value::as_object_mut)
    {
        for scheme in schemes.values_mut() {
            let Some(authorizer) = scheme
                .get_mut("x-amazon-apigateway-authorizer")
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            authorizer.insert("authorizerUri".into(), authorizer_uri.into());
            if let Some(credentials) = authorizer_credentials {
                authorizer.insert("authorizerCredentials".into(), credentials.into());
            }
        }
    }
    (doc, problems)
}

/// Sets the integration `uri` of one operation from its `x-callflow-lambda`.
fn fill_operation(
    operation: &mut Map<String, Value>,
    uris: &BTreeMap<LambdaName, String>,
) -> Result<(), SpecError> {
    let Some(lambda) = operation.get("x-callflow-lambda").and_then(Value::as_str) else {
        return Ok(());
    };
    let lambda: LambdaName = lambda.parse()?;
    let Some(integration) = operation
        .get_mut("x-amazon-apigateway-integration")
        .and_then(Value::as_object_mut)
    else {
        return Ok(());
    };
    let uri = uris
        .get(&lambda)
        .ok_or_else(|| SpecError::MissingIntegrationUri(lambda.to_string()))?;
    integration.insert("uri".into(), uri.as_str().into());
    Ok(())
}

/// Escapes Terraform template sequences in every key and string of `value`, with the DSL's one
/// escaping rule ([`callflow_dsl::escape_literal`]).
pub fn escape_terraform(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(escape_literal(s)),
        Value::Array(items) => Value::Array(items.iter().map(escape_terraform).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (escape_literal(k), escape_terraform(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}
