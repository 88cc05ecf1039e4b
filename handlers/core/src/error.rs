//! Stable error codes and the JSON error body every non-2xx response carries.

use serde::Serialize;

/// Declares [`ErrorCode`] from one table: variant, wire code, HTTP status, meaning.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident => $code:literal, $status:literal;)+) => {
        /// The stable error codes of the API, each with its HTTP status: the one source of
        /// both (`openapi.yaml`'s `ErrorCode` enum is checked against [`ErrorCode::ALL`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)+
        }

        impl ErrorCode {
            /// Every code, in contract order.
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$variant,)+];

            /// The wire code, e.g. `"validation_failed"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)+
                }
            }

            /// The HTTP status that goes with the code.
            pub const fn status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)+
                }
            }
        }
    };
}

error_codes! {
    /// 401: no or invalid credentials.
    Unauthorized => "unauthorized", 401;
    /// 403: credentials lack the scope for the route.
    Forbidden => "forbidden", 403;
    /// 404: no event with that id.
    NotFound => "not_found", 404;
    /// 400: the path's event id is not a UUIDv7.
    InvalidEventId => "invalid_event_id", 400;
    /// 400: the request body is not JSON.
    MalformedJson => "malformed_json", 400;
    /// 400: the query string is invalid.
    InvalidQuery => "invalid_query", 400;
    /// 400: the `nextToken` is malformed, tampered with or belongs to another query.
    InvalidToken => "invalid_token", 400;
    /// 413: the body is larger than 64 KiB.
    PayloadTooLarge => "payload_too_large", 413;
    /// 415: the body is not `application/json`.
    UnsupportedMediaType => "unsupported_media_type", 415;
    /// 422: the event is JSON but breaks the event rules.
    ValidationFailed => "validation_failed", 422;
    /// 422: the event's timestamp lies outside the acceptance window around the time of receipt.
    TimestampOutOfWindow => "timestamp_out_of_window", 422;
    /// 422: the `Idempotency-Key` was used before with a different event; `eventId` names it.
    IdempotencyKeyReused => "idempotency_key_reused", 422;
    /// 409: the call's `sequence` number stores a different event; `eventId` names it.
    SequenceConflict => "sequence_conflict", 409;
    /// 429: too many requests.
    Throttled => "throttled", 429;
    /// 503: the object store failed after the SDK's retries.
    StorageUnavailable => "storage_unavailable", 503;
    /// 500: a bug or misconfiguration.
    Internal => "internal", 500;
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One problem found in an input, located by a JSON path such as `$.attributes.foo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSONPath of the offending value (`$` is the document root).
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// An error answer before it is given a request id: code, human message, optional details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The stable code (decides the status).
    pub code: ErrorCode,
    /// Human-readable explanation.
    pub message: String,
    /// Per-field problems (`validation_failed`, `timestamp_out_of_window`).
    pub details: Vec<FieldError>,
    /// The stored event a conflict is about (`idempotency_key_reused`, `sequence_conflict`).
    pub event_id: Option<crate::id::EventId>,
}

impl ApiError {
    /// An error with a code and a message and no details.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: Vec::new(),
            event_id: None,
        }
    }

    /// The same error naming the stored event it is about.
    pub fn with_event_id(mut self, id: crate::id::EventId) -> Self {
        self.event_id = Some(id);
        self
    }

    /// The same error with per-field details.
    pub fn with_details(mut self, details: Vec<FieldError>) -> Self {
        self.details = details;
        self
    }

    /// A `validation_failed` error listing every problem.
    pub fn validation(details: Vec<FieldError>) -> Self {
        let message = match details.len() {
            1 => "the event has 1 problem".to_owned(),
            n => format!("the event has {n} problems"),
        };
        Self {
            code: ErrorCode::ValidationFailed,
            message,
            details,
            event_id: None,
        }
    }

    /// The JSON body for this error, answering request `request_id`.
    pub fn body<'a>(&'a self, request_id: &'a str) -> ErrorBody<'a> {
        ErrorBody {
            code: self.code,
            message: &self.message,
            request_id,
            details: if self.details.is_empty() {
                None
            } else {
                Some(&self.details)
            },
            event_id: self.event_id,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

/// The wire shape `{code, message, requestId, details?, eventId?}` of every non-2xx body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody<'a> {
    /// Stable code.
    pub code: ErrorCode,
    /// Human-readable message.
    pub message: &'a str,
    /// API Gateway request id.
    pub request_id: &'a str,
    /// Validation problems, absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<&'a [FieldError]>,
    /// The stored event of an idempotency conflict, absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<crate::id::EventId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_statuses_match_the_contract() {
        let codes: std::collections::BTreeSet<_> =
            ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(codes.len(), ErrorCode::ALL.len());
        assert_eq!(ErrorCode::InvalidToken.status(), 400);
        assert_eq!(ErrorCode::StorageUnavailable.status(), 503);
        assert_eq!(ErrorCode::ValidationFailed.status(), 422);
    }

    #[test]
    fn body_omits_details_unless_validation() {
        let e = ApiError::new(ErrorCode::NotFound, "no event");
        let v = serde_json::to_value(e.body("r-1")).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"code":"not_found","message":"no event","requestId":"r-1"})
        );
        let e = ApiError::validation(vec![FieldError::new("$.callId", "required")]);
        let v = serde_json::to_value(e.body("r-2")).unwrap();
        assert_eq!(v["details"][0]["path"], "$.callId");
    }
}
