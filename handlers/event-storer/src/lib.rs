//! Event Storer Lambda: `POST /events`, validated, idempotent, conditional writes to S3.
//!
//! Validate → derive the event id (idempotent when an `Idempotency-Key` header or
//! `callId`+`sequence` is given) → conditional PUT of the object (`If-None-Match: *`) and its
//! by-call index entry → `201` with `eventId`, `key`, `receivedAt` and the stored event. A
//! retry that maps to an existing id answers `200` with the original event; nothing is
//! overwritten. Never answers 2xx unless the object is stored.
#![deny(missing_docs)]

mod request;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::http::header;
use callflow_core::http::{error_response, json_response, request_id};
use callflow_core::telemetry::request_span;
use callflow_core::{ApiError, EventId, EventStore, IdempotencySource, PutOutcome, StoredEvent};
use serde::Serialize;
use time::OffsetDateTime;
use tracing::Instrument;

pub use request::{MAX_BODY_BYTES, StoreRequest};

/// The `POST /events` handler: the store and settings, built once per cold start.
#[derive(Debug, Clone)]
pub struct EventStorer {
    store: EventStore,
    service_name: String,
}

/// The 201/200 response body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreResponse<'a> {
    /// The event's id.
    pub event_id: EventId,
    /// Its object key.
    pub key: String,
    /// When it was (first) accepted.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// The stored event.
    pub event: &'a StoredEvent,
}

impl EventStorer {
    /// A handler over `store`; `service_name` is logged with every line.
    pub fn new(store: EventStore, service_name: impl Into<String>) -> Self {
        Self {
            store,
            service_name: service_name.into(),
        }
    }

    /// Handles one API Gateway proxy request (exactly as Lambda delivers it).
    pub async fn handle(&self, req: ApiGatewayProxyRequest) -> ApiGatewayProxyResponse {
        let request_id = request_id(&req);
        let span = request_span(&self.service_name, &request_id, "POST /events");
        async {
            match self.store_event(&req).await {
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
        let source = IdempotencySource::choose(
            &parsed.principal,
            parsed.idempotency_key.as_ref(),
            &parsed.event.call_id,
            parsed.event.sequence,
        );
        let event_id = EventId::derive(parsed.event.timestamp, source).map_err(|e| {
            ApiError::validation(vec![callflow_core::FieldError::new(
                "$.timestamp",
                e.to_string(),
            )])
        })?;
        let stored = StoredEvent {
            event_id,
            event: parsed.event,
            received_at: OffsetDateTime::now_utc(),
            principal: parsed.principal,
        };
        let (status, event) = match self.store.put_new(&stored).await.map_err(|e| {
            tracing::error!(error = %e, %event_id, "storing the event failed");
            ApiError::from(e)
        })? {
            PutOutcome::Created => {
                tracing::info!(%event_id, call_id = %stored.event.call_id, "event stored");
                (201, stored)
            }
            PutOutcome::AlreadyExists(existing) => {
                tracing::info!(%event_id, "idempotent replay: returning the stored event");
                (200, *existing)
            }
        };
        let body = StoreResponse {
            event_id: event.event_id,
            key: callflow_core::layout::event_key(&event.event_id),
            received_at: event.received_at,
            event: &event,
        };
        Ok(json_response(
            status,
            &body,
            &[(header::LOCATION, format!("/events/{}", event.event_id))],
        ))
    }
}
