//! What came back: the HTTP exchange as received, and its body read as the operation's success
//! type or as the API's error body.

use std::time::Duration;

use callflow_core::{ErrorCode, EventId};
use hyper::body::Bytes;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// One HTTP exchange with the API: the answer as received and how long it took.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    /// The status code.
    pub status: u16,
    /// `Retry-After` in seconds, when present and a number.
    pub retry_after: Option<u64>,
    /// The body as received.
    pub body: Bytes,
    /// From sending the request to the end of the body.
    pub elapsed: Duration,
}

impl Exchange {
    /// The body as JSON, or `None` when it is not JSON (for diagnostics; use
    /// [`Reply::result`] for the typed body).
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// A typed error answer: the body every non-2xx response of the API carries
/// (`{code, message, requestId, eventId?}`, `components.schemas.Error`), with its status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ErrorResponse {
    /// The HTTP status.
    pub status: u16,
    /// The stable error code.
    pub code: ErrorCode,
    /// The human-readable message.
    pub message: String,
    /// The request id, when given.
    pub request_id: Option<String>,
    /// The stored event an `idempotency_key_reused` or `sequence_conflict` is about.
    pub event_id: Option<EventId>,
}

/// Why a reply is not the operation's success body.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Failure {
    /// The API answered with an error body.
    #[error("{0}")]
    Error(ErrorResponse),
    /// Neither the success body of a 2xx nor an error body of the contract (another server, a
    /// proxy's own answer, an error code this client does not know).
    #[error("{status}: {reason}")]
    Unexpected {
        /// The HTTP status.
        status: u16,
        /// The `code` the body names, when it names one this client does not know.
        code: Option<String>,
        /// What is wrong with the body.
        reason: String,
    },
}

/// An exchange with its body read: the operation's success type `T`, or why not.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply<T> {
    /// The exchange as received.
    pub exchange: Exchange,
    /// The typed body.
    pub result: Result<T, Failure>,
}

impl<T> Reply<T> {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.exchange.status
    }

    /// The error answer, if it is one.
    pub fn error(&self) -> Option<&ErrorResponse> {
        match &self.result {
            Err(Failure::Error(e)) => Some(e),
            _ => None,
        }
    }

    /// A short description: the status, and the error code of an error body (`422
    /// (idempotency_key_reused)`, `201`).
    pub fn summary(&self) -> String {
        let code = match &self.result {
            Err(Failure::Error(e)) => Some(e.code.as_str()),
            Err(Failure::Unexpected { code, .. }) => code.as_deref(),
            Ok(_) => None,
        };
        match code {
            Some(code) => format!("{} ({code})", self.status()),
            None => self.status().to_string(),
        }
    }
}

impl<T: DeserializeOwned> Reply<T> {
    /// Reads `exchange`: a 2xx body as `T`, any other as the API's error body.
    pub fn read(exchange: Exchange) -> Self {
        let status = exchange.status;
        let result = if (200..300).contains(&status) {
            serde_json::from_slice(&exchange.body).map_err(|e| Failure::Unexpected {
                status,
                code: None,
                reason: e.to_string(),
            })
        } else {
            Err(read_error(status, &exchange.body))
        };
        Self { exchange, result }
    }
}

/// The error body as the wire has it; fields checked after reading, so that an unknown code is
/// still reported as written.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireError {
    code: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
    event_id: Option<String>,
}

fn read_error(status: u16, body: &[u8]) -> Failure {
    let wire: WireError = match serde_json::from_slice(body) {
        Ok(wire) => wire,
        Err(e) => {
            return Failure::Unexpected {
                status,
                code: None,
                reason: format!("not an error body: {e}"),
            };
        }
    };
    let known = wire
        .code
        .as_deref()
        .and_then(|c| ErrorCode::ALL.iter().copied().find(|k| k.as_str() == c));
    match known {
        Some(code) => Failure::Error(ErrorResponse {
            status,
            code,
            message: wire.message.unwrap_or_default(),
            request_id: wire.request_id,
            event_id: wire.event_id.and_then(|id| EventId::parse(&id).ok()),
        }),
        None => Failure::Unexpected {
            status,
            reason: match &wire.code {
                Some(code) => format!("unknown error code {code:?}"),
                None => "an error body without a code".to_owned(),
            },
            code: wire.code,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callflow_core::ApiError;
    use callflow_core::wire::QueryResponse;

    fn exchange(status: u16, body: &str) -> Exchange {
        Exchange {
            status,
            retry_after: None,
            body: Bytes::from(body.to_owned()),
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn every_error_body_the_handlers_write_reads_back_typed() {
        let id = EventId::parse("0190a4f2-5c00-7000-8000-000000000000").expect("id");
        for &code in ErrorCode::ALL {
            let error = ApiError::new(code, "why").with_event_id(id);
            let body = serde_json::to_string(&error.body("req-1")).expect("serialize");
            let reply: Reply<QueryResponse> = Reply::read(exchange(code.status(), &body));
            assert_eq!(
                reply.result,
                Err(Failure::Error(ErrorResponse {
                    status: code.status(),
                    code,
                    message: "why".into(),
                    request_id: Some("req-1".into()),
                    event_id: Some(id),
                })),
                "{body}"
            );
            assert_eq!(
                reply.summary(),
                format!("{} ({})", code.status(), code.as_str())
            );
        }
    }

    #[test]
    fn other_answers_are_unexpected_and_say_so() {
        let reply: Reply<QueryResponse> =
            Reply::read(exchange(401, r#"{"code":"nope","message":"m"}"#));
        assert_eq!(reply.summary(), "401 (nope)");
        assert!(matches!(reply.result, Err(Failure::Unexpected { .. })));
        let reply: Reply<QueryResponse> = Reply::read(exchange(502, "Bad Gateway"));
        assert_eq!(reply.summary(), "502");
        let reply: Reply<QueryResponse> = Reply::read(exchange(200, r#"{"items":[]}"#));
        assert_eq!(reply.summary(), "200");
        assert!(
            matches!(&reply.result, Err(Failure::Unexpected { status: 200, code: None, reason }) if reason.contains("count")),
            "{:?}",
            reply.result
        );
        let reply: Reply<QueryResponse> = Reply::read(exchange(200, r#"{"items":[],"count":0}"#));
        assert_eq!(
            reply.result,
            Ok(QueryResponse {
                items: Vec::new(),
                count: 0,
                next_token: None
            })
        );
    }
}
