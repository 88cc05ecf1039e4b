//! Event Retriever Lambda: `GET /events/{eventId}` (one S3 GET) and `GET /events` queries
//! with signed, filter-bound continuation tokens.
#![deny(missing_docs)]

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use callflow_core::http::{error_response, json_response, request_id};
use callflow_core::telemetry::request_span;
use callflow_core::{ApiError, ErrorCode, EventId, EventQuery, EventStore, TokenSigner};
use tracing::Instrument;

/// The `GET /events` and `GET /events/{eventId}` handler, built once per cold start.
#[derive(Debug, Clone)]
pub struct EventRetriever {
    store: EventStore,
    signer: TokenSigner,
    service_name: String,
}

pub use callflow_core::wire::QueryResponse;

/// Which route a request is for.
enum Route<'a> {
    ById(&'a str),
    Query,
    Unknown,
}

impl Route<'_> {
    fn name(&self) -> &'static str {
        match self {
            Route::ById(_) => "GET /events/{eventId}",
            Route::Query => "GET /events",
            Route::Unknown => "unknown",
        }
    }
}

fn route(req: &ApiGatewayProxyRequest) -> Route<'_> {
    if let Some(id) = req.path_parameters.get("eventId") {
        return Route::ById(id);
    }
    match req.path.as_deref().map(|p| p.trim_end_matches('/')) {
        Some("/events") => Route::Query,
        Some(p) => match p.strip_prefix("/events/") {
            Some(id) if !id.contains('/') => Route::ById(id),
            _ => Route::Unknown,
        },
        None => Route::Unknown,
    }
}

impl EventRetriever {
    /// A handler over `store`; `signer` signs continuation tokens; `service_name` is logged.
    pub fn new(store: EventStore, signer: TokenSigner, service_name: impl Into<String>) -> Self {
        Self {
            store,
            signer,
            service_name: service_name.into(),
        }
    }

    /// Handles one API Gateway proxy request (exactly as Lambda delivers it).
    pub async fn handle(&self, req: ApiGatewayProxyRequest) -> ApiGatewayProxyResponse {
        let request_id = request_id(&req);
        let route = route(&req);
        let span = request_span(&self.service_name, &request_id, route.name());
        async {
            let outcome = match route {
                Route::ById(id) => self.get_by_id(id).await,
                Route::Query => self.query(&req).await,
                Route::Unknown => Err(ApiError::new(ErrorCode::NotFound, "no such route")),
            };
            outcome.unwrap_or_else(|err| {
                if err.code.status() >= 500 {
                    tracing::error!(code = %err.code, message = %err.message, "request failed");
                } else {
                    tracing::info!(code = %err.code, message = %err.message, "request rejected");
                }
                error_response(&err, &request_id)
            })
        }
        .instrument(span)
        .await
    }

    async fn get_by_id(&self, raw_id: &str) -> Result<ApiGatewayProxyResponse, ApiError> {
        let id = EventId::parse(raw_id)
            .map_err(|e| ApiError::new(ErrorCode::InvalidEventId, e.to_string()))?;
        let event = self.store.get(&id).await.map_err(|e| {
            tracing::error!(error = %e, %id, "reading the event failed");
            ApiError::from(e)
        })?;
        match event {
            Some(event) => Ok(json_response(200, &event, &[])),
            None => Err(ApiError::new(
                ErrorCode::NotFound,
                format!("no event with id {id}"),
            )),
        }
    }

    async fn query(
        &self,
        req: &ApiGatewayProxyRequest,
    ) -> Result<ApiGatewayProxyResponse, ApiError> {
        let query = EventQuery::parse(req.query_string_parameters.iter())?;
        let fingerprint = query.filter.fingerprint();
        let after = query
            .next_token
            .as_deref()
            .map(|t| self.signer.decode(t, fingerprint))
            .transpose()
            .map_err(|e| {
                ApiError::new(ErrorCode::InvalidToken, format!("nextToken refused: {e}"))
            })?;
        let page = self
            .store
            .query(&query.filter, after, query.limit)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "query failed");
                ApiError::from(e)
            })?;
        tracing::info!(
            items = page.items.len(),
            objects_read = page.objects_read,
            more = page.next.is_some(),
            "query page"
        );
        let body = QueryResponse {
            count: page.items.len(),
            next_token: page.next.map(|p| self.signer.encode(p, fingerprint)),
            items: page.items,
        };
        Ok(json_response(200, &body, &[]))
    }
}
