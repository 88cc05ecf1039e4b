//! Event Storer Lambda: `POST /events`, validated, idempotent, conditional writes to S3.
//!
//! Validate → check the timestamp against the acceptance window → claim the idempotency key
//! (an `Idempotency-Key` header, else `callId`+`sequence`) with a conditional PUT of its
//! record → conditional PUT of the object (`If-None-Match: *`) and its by-call index entry →
//! `201` with `eventId`, `key`, `receivedAt` and the stored event.
//!
//! A repeat of a claimed key with the same event (fingerprint without `timestamp`, so a
//! re-stamped retry is still a retry) answers `200` with the event stored first; with another
//! event, `422 idempotency_key_reused` or `409 sequence_conflict` naming the stored id, and
//! nothing is written. Never answers 2xx unless the object is stored.
#![deny(missing_docs)]

mod request;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::http::header;
use callflow_core::http::{error_response, json_response, request_id};
use callflow_core::telemetry::request_span;
use callflow_core::{
    AcceptanceWindow, ApiError, ErrorCode, EventId, EventStore, FieldError, IdempotencyClaim,
    IdempotencySource, StoreOutcome, StoredEvent,
};
use time::OffsetDateTime;
use tracing::Instrument;

pub use request::{MAX_BODY_BYTES, StoreRequest};

/// The `POST /events` handler: the store and settings, built once per cold start.
#[derive(Debug, Clone)]
pub struct EventStorer {
    store: EventStore,
    service_name: String,
    window: AcceptanceWindow,
}

pub use callflow_core::wire::StoreResponse;

impl EventStorer {
    /// A handler over `store` accepting timestamps in `window` around receipt;
    /// `service_name` is logged with every line.
    pub fn new(
        store: EventStore,
        service_name: impl Into<String>,
        window: AcceptanceWindow,
    ) -> Self {
        Self {
            store,
            service_name: service_name.into(),
            window,
        }
    }

    /// Handles one API Gateway proxy request (exactly as Lambda delivers it).
    pub async fn handle(&self, req: ApiGatewayProxyRequest) -> ApiGatewayProxyResponse {
        let request_id = request_id(&req);
        let span = request_span(&self.service_name, &request_id, "POST /events");
        async {
            // Boxed: the store's conditional-write futures nest deeply; on the heap they keep
            // `main`'s future within rustc's layout depth limit.
            match Box::pin(self.store_event(&req)).await {
                Ok(resp) => resp,
                Err(err) => {
                    if err.code.status() >= 500 {
                        tracing::error!(code = %err.code, message = %err.message, "request failed");
                    } else {
                        tracing::info!(code = %err.code, message = %err.message, "request rejected");
                    }
                    error_response(&err, &request_id)
                }
            }
        }
        .instrument(span)
        .await
    }

    async fn store_event(
        &self,
        req: &ApiGatewayProxyRequest,
    ) -> Result<ApiGatewayProxyResponse, ApiError> {
        let parsed = StoreRequest::parse(req)?;
        let received_at = OffsetDateTime::now_utc();
        let claim = IdempotencyClaim::of_request(
            &parsed.principal,
            parsed.idempotency_key.as_ref(),
            &parsed.event,
        );
        let source = claim
            .as_ref()
            .map_or(IdempotencySource::None, IdempotencyClaim::id_source);
        let event_id = EventId::derive(parsed.event.timestamp, source).map_err(|e| {
            ApiError::validation(vec![FieldError::new("$.timestamp", e.to_string())])
        })?;
        let stored = StoredEvent {
            event_id,
            event: parsed.event,
            received_at,
            principal: parsed.principal,
        };
        let storage_failed = |e: callflow_core::StoreError| {
            tracing::error!(error = %e, %event_id, "storing the event failed");
            ApiError::from(e)
        };
        let outcome = match self.window.check(stored.event.timestamp, received_at) {
            Ok(()) => self
                .store
                .store(&stored, claim.as_ref())
                .await
                .map_err(storage_failed)?,
            Err(outside) => {
                // A retry of an event accepted earlier still gets it back; nothing new is
                // stored outside the window.
                let earlier = match &claim {
                    Some(claim) => self
                        .store
                        .lookup_claim(&stored, claim)
                        .await
                        .map_err(storage_failed)?,
                    None => None,
                };
                earlier.ok_or_else(|| {
                    ApiError::new(ErrorCode::TimestampOutOfWindow, outside.to_string())
                        .with_details(vec![FieldError::new("$.timestamp", outside.to_string())])
                })?
            }
        };
        let (status, event) = match outcome {
            StoreOutcome::Created(event) => {
                tracing::info!(event_id = %event.event_id, call_id = %event.event.call_id, "event stored");
                (201, event)
            }
            StoreOutcome::Replayed(event) => {
                tracing::info!(event_id = %event.event_id, "idempotent replay: returning the stored event");
                (200, event)
            }
            StoreOutcome::Conflict(existing) => {
                return Err(conflict(claim.as_ref(), &existing));
            }
        };
        let body = StoreResponse {
            event_id: event.event_id,
            key: callflow_core::layout::event_key(&event.event_id),
            received_at: event.received_at,
            event: std::borrow::Cow::Borrowed(&event),
        };
        Ok(json_response(
            status,
            &body,
            &[(header::LOCATION, format!("/events/{}", event.event_id))],
        ))
    }
}

/// The error for a claim that stores another event than the request's.
fn conflict(claim: Option<&IdempotencyClaim>, existing: &StoredEvent) -> ApiError {
    let id = existing.event_id;
    match claim {
        Some(IdempotencyClaim::CallSequence { call_id, sequence }) => ApiError::new(
            ErrorCode::SequenceConflict,
            format!(
                "sequence {sequence} of call {call_id} already stores event {id}, which differs from this one; send a new sequence number, or the same event to get it back"
            ),
        ),
        _ => ApiError::new(
            ErrorCode::IdempotencyKeyReused,
            format!(
                "this Idempotency-Key was first used for event {id}, which differs from this request's event (a retry may change only its timestamp); use a new key for a new event"
            ),
        ),
    }
    .with_event_id(id)
}
