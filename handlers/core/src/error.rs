//! Stable error codes and the JSON error body every non-2xx response carries.

use serde::Serialize;

/// The stable error codes of the API (docs/contract.md); the one source of codes and statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 401: no or invalid credentials.
    Unauthorized,
    /// 403: credentials lack the scope for the route.
    Forbidden,
    /// 404: no event with that id.
    NotFound,
    /// 400: the path's event id is not a UUIDv7.
    InvalidEventId,
    /// 400: the request body is not JSON.
    MalformedJson,
    /// 400: the query string is invalid.
    InvalidQuery,
    /// 400: the `nextToken` is malformed, tampered with or belongs to another query.
    InvalidToken,
    /// 413: the body is larger than 64 KiB.
    PayloadTooLarge,
    /// 415: the body is not `application/json`.
    UnsupportedMediaType,
    /// 422: the event is JSON but breaks the event rules.
    ValidationFailed,
    /// 422: the event's timestamp lies outside the acceptance window around the time of receipt.
    TimestampOutOfWindow,
    /// 422: the `Idempotency-Key` was used before with a different event; `eventId` names it.
    IdempotencyKeyReused,
    /// 409: the call's `sequence` number stores a different event; `eventId` names it.
    SequenceConflict,
    /// 429: too many requests.
    Throttled,
    /// 503: the object store failed after the SDK's retries.
    StorageUnavailable,
    /// 500: a bug or misconfiguration.
    Internal,
}

impl ErrorCode {
    /// Every code, in contract order.
    pub const ALL: [ErrorCode; 16] = [
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::InvalidEventId,
        ErrorCode::MalformedJson,
        ErrorCode::InvalidQuery,
        ErrorCode::InvalidToken,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::ValidationFailed,
        ErrorCode::TimestampOutOfWindow,
        ErrorCode::IdempotencyKeyReused,
        ErrorCode::SequenceConflict,
        ErrorCode::Throttled,
        ErrorCode::StorageUnavailable,
        ErrorCode::Internal,
    ];

    /// The wire code, e.g. `"validation_failed"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::InvalidEventId => "invalid_event_id",
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::InvalidQuery => "invalid_query",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::TimestampOutOfWindow => "timestamp_out_of_window",
            ErrorCode::IdempotencyKeyReused => "idempotency_key_reused",
            ErrorCode::SequenceConflict => "sequence_conflict",
            ErrorCode::Throttled => "throttled",
            ErrorCode::StorageUnavailable => "storage_unavailable",
            ErrorCode::Internal => "internal",
        }
    }

    /// The HTTP status that goes with the code.
    pub const fn status(self) -> u16 {
        match self {
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::InvalidEventId
            | ErrorCode::MalformedJson
            | ErrorCode::InvalidQuery
            | ErrorCode::InvalidToken => 400,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::ValidationFailed
            | ErrorCode::TimestampOutOfWindow
            | ErrorCode::IdempotencyKeyReused => 422,
            ErrorCode::SequenceConflict => 409,
            ErrorCode::Throttled => 429,
            ErrorCode::StorageUnavailable => 503,
            ErrorCode::Internal => 500,
        }
    }
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
