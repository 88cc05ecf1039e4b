//! Event Retriever Lambda: `GET /events/{eventId}` (one S3 GET) and `GET /events` queries
//! with signed, filter-bound continuation tokens.
#![deny(missing_docs)]

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use callflow_core::http::{error_response, json_response, request_id};
use callflow_core::telemetry::request_span;
use callflow_core::{ApiError, ErrorCode, EventId, EventQuery, EventStore, TokenSigner};
use callflow_openapi::{LambdaName, PathTemplate};
use std::borrow::Cow;
use std::sync::Arc;
use tracing::Instrument;

/// The `GET /events` and `GET /events/{eventId}` handler, built once per cold start.
#[derive(Debug, Clone)]
pub struct EventRetriever {
    store: EventStore,
    signer: TokenSigner,
    service_name: String,
    /// The path templates the contract routes to this Lambda.
    paths: Arc<[PathTemplate]>,
}

pub use callflow_core::wire::QueryResponse;

/// The path parameter of `GET /events/{eventId}`.
const EVENT_ID: &str = "eventId";

/// Which of the retriever's operations a request is for.
enum Operation<'a> {
    ById(Cow<'a, str>),
    Query,
    Unknown,
}

impl Operation<'_> {
    fn name(&self) -> &'static str {
        match self {
            Operation::ById(_) => "GET /events/{eventId}",
            Operation::Query => "GET /events",
            Operation::Unknown => "unknown",
        }
    }
}

/// Routes by the path parameters API Gateway bound, else by the contract's path templates of
/// this Lambda (a trailing slash ignored), as the local gateway does.
fn operation<'r>(req: &'r ApiGatewayProxyRequest, paths: &[PathTemplate]) -> Operation<'r> {
    if let Some(id) = req.path_parameters.get(EVENT_ID) {
        return Operation::ById(Cow::Borrowed(id));
    }
    let Some(path) = req.path.as_deref() else {
        return Operation::Unknown;
    };
    let path = match path.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    };
    let mut matched: Vec<_> = paths.iter().filter_map(|t| t.matches(path)).collect();
    // Literal segments win over parameters, as in `callflow_openapi::find_route`.
    matched.sort_by_key(|params| params.len());
    match matched.into_iter().next() {
        Some(mut params) => match params.remove(EVENT_ID) {
            Some(id) => Operation::ById(Cow::Owned(id)),
            None => Operation::Query,
        },
        None => Operation::Unknown,
    }
}

/// The path templates the contract assigns to the event retriever.
fn retriever_paths() -> Arc<[PathTemplate]> {
    match callflow_openapi::routes() {
        Ok(routes) => routes
            .into_iter()
            .filter(|r| r.lambda == LambdaName::EventRetriever)
            .map(|r| r.path)
            .collect(),
        Err(e) => {
            // The spec is checked at build time and by tests; this cannot happen.
            tracing::error!(error = %e, "the embedded contract has no route table");
            Arc::from([])
        }
    }
}

impl EventRetriever {
    /// A handler over `store`; `signer` signs continuation tokens; `service_name` is logged.
    pub fn new(store: EventStore, signer: TokenSigner, service_name: impl Into<String>) -> Self {
        Self {
            store,
            signer,
            service_name: service_name.into(),
            paths: retriever_paths(),
        }
    }

    /// Handles one API Gateway proxy request (exactly as Lambda delivers it).
    pub async fn handle(&self, req: ApiGatewayProxyRequest) -> ApiGatewayProxyResponse {
        let request_id = request_id(&req);
        let operation = operation(&req, &self.paths);
        let span = request_span(&self.service_name, &request_id, operation.name());
        async {
            let outcome = match &operation {
                Operation::ById(id) => self.get_by_id(id).await,
                Operation::Query => self.query(&req).await,
                Operation::Unknown => Err(ApiError::new(ErrorCode::NotFound, "no such route")),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: Option<&str>, event_id: Option<&str>) -> ApiGatewayProxyRequest {
        let mut req = ApiGatewayProxyRequest::default();
        req.path = path.map(str::to_owned);
        if let Some(id) = event_id {
            req.path_parameters
                .insert(EVENT_ID.to_owned(), id.to_owned());
        }
        req
    }

    fn routed(path: Option<&str>, event_id: Option<&str>) -> String {
        match operation(&request(path, event_id), &retriever_paths()) {
            Operation::ById(id) => format!("by id {id}"),
            Operation::Query => "query".to_owned(),
            Operation::Unknown => "unknown".to_owned(),
        }
    }

    #[test]
    fn routes_come_from_the_contract_with_path_parameters_first() {
        for (path, event_id, expected) in [
            (Some("/events"), None, "query"),
            (Some("/events/"), None, "query"),
            (Some("/events/abc"), None, "by id abc"),
            (Some("/events/abc/"), None, "by id abc"),
            (Some("/events/a%2Fb"), None, "by id a/b"),
            (Some("/events/a/b"), None, "unknown"),
            (Some("/other"), None, "unknown"),
            (Some("/"), None, "unknown"),
            (None, None, "unknown"),
            (
                Some("/v1/events/x"),
                Some("from-gateway"),
                "by id from-gateway",
            ),
        ] {
            assert_eq!(routed(path, event_id), expected, "{path:?} {event_id:?}");
        }
    }
}
