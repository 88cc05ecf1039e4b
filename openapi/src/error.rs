//! Errors found while reading the route table out of the spec.

/// A part of `openapi.yaml` that the route table or the stack's REST API body cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// A required field of an operation is missing or not a string.
    #[error("operation {method} {path}: missing or non-string field `{field}`")]
    MissingField {
        /// HTTP method of the operation, as written in the spec.
        method: String,
        /// Path of the operation, as written in the spec.
        path: String,
        /// The field that is missing, e.g. `x-callflow-lambda`.
        field: &'static str,
    },
    /// An `x-callflow-lambda` value names no known handler.
    #[error("unknown lambda name `{0}` (expected `event-storer` or `event-retriever`)")]
    UnknownLambda(String),
    /// An `x-callflow-scope` value names no known scope.
    #[error("unknown scope `{0}` (expected `events:read` or `events:write`)")]
    UnknownScope(String),
    /// A path key under `paths` is not a valid path template.
    #[error("invalid path template `{template}`: {reason}")]
    InvalidPath {
        /// The template as written in the spec.
        template: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// An HTTP method name is not one API Gateway routes.
    #[error("unknown HTTP method `{0}`")]
    UnknownMethod(String),
    /// The document lacks a section the caller needs (e.g. `paths`).
    #[error("spec has no `{0}` object")]
    MissingSection(&'static str),
    /// No integration URI was given for a Lambda an operation names (the stack's REST API
    /// body).
    #[error("no integration URI given for lambda `{0}`")]
    MissingIntegrationUri(String),
}
