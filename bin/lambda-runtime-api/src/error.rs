//! Errors: what an invocation can end in besides a response, and why an environment did not
//! start.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The Lambda error format (`application/vnd.aws.lambda.error+json`) a runtime posts to
/// `invocation/{id}/error` and `init/error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDocument {
    /// `errorMessage`.
    #[serde(default)]
    pub error_message: String,
    /// `errorType`.
    #[serde(default)]
    pub error_type: String,
    /// `stackTrace`, when the runtime sent one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stack_trace: Vec<String>,
}

impl ErrorDocument {
    /// Reads an error body. The format is the runtime's to choose (the Runtime API's
    /// OpenAPI says so); when the body is not the standard document, Lambda builds the error
    /// from the `Lambda-Runtime-Function-Error-Type` header, as done here, with the body's
    /// text as the message.
    pub fn from_body(body: &[u8], error_type_header: Option<&str>) -> Self {
        match serde_json::from_slice::<ErrorDocument>(body) {
            Ok(mut doc) => {
                if doc.error_type.is_empty() {
                    doc.error_type = error_type_header.unwrap_or("Unhandled").to_owned();
                }
                doc
            }
            Err(_) => Self {
                error_message: String::from_utf8_lossy(body).into_owned(),
                error_type: error_type_header.unwrap_or("Unhandled").to_owned(),
                stack_trace: Vec::new(),
            },
        }
    }

    /// A document made by the local Lambda service itself (`Runtime.ExitError`, ...).
    pub fn platform(error_type: &str, message: impl Into<String>) -> Self {
        Self {
            error_message: message.into(),
            error_type: error_type.to_owned(),
            stack_trace: Vec::new(),
        }
    }
}

/// Why an invocation produced no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    /// Every environment is busy and the concurrency limit is reached
    /// (Lambda's `TooManyRequestsException`, HTTP 429 to the invoker).
    #[error("Rate Exceeded: {limit} environments busy (TooManyRequestsException)")]
    Throttled {
        /// The limit.
        limit: usize,
    },
    /// The environment could not be initialized: the process exited or posted
    /// `init/error` before asking for its first event, or took longer than the init timeout.
    #[error("init failed: {0:?}")]
    InitFailed(ErrorDocument),
    /// The function posted `invocation/{id}/error`.
    #[error("function error {}: {}", .0.error_type, .0.error_message)]
    Function(ErrorDocument),
    /// The process exited during the invocation (`Runtime.ExitError`).
    #[error("runtime exited during the invocation: {0}")]
    Crashed(String),
    /// The invocation ran past the function's timeout; the environment was killed.
    #[error("Task timed out after {:.2} seconds", .0.as_secs_f64())]
    TimedOut(Duration),
    /// The function's response exceeded the 6 MB limit (`Function.ResponseSizeTooLarge`).
    #[error("response larger than {limit} bytes")]
    ResponseTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The environment's process could not be started at all.
    #[error(transparent)]
    Start(#[from] StartError),
}

/// An environment's process or endpoint could not be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    /// The Runtime API endpoint could not listen.
    #[error("runtime API endpoint: {0}")]
    Listen(String),
    /// The executable could not be started.
    #[error("cannot start {executable}: {message}")]
    Spawn {
        /// The executable.
        executable: String,
        /// The OS error.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_documents_standard_and_not() {
        let doc = ErrorDocument::from_body(
            br#"{"errorMessage":"boom","errorType":"Oops"}"#,
            Some("unhandled"),
        );
        assert_eq!(
            (doc.error_type.as_str(), doc.error_message.as_str()),
            ("Oops", "boom")
        );
        let doc = ErrorDocument::from_body(b"not json", Some("Runtime.Custom"));
        assert_eq!(doc.error_type, "Runtime.Custom");
        assert_eq!(doc.error_message, "not json");
        assert_eq!(
            ErrorDocument::from_body(b"[1]", None).error_type,
            "Unhandled"
        );
    }
}
