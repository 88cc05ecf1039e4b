//! Lambda proxy integrations: the handler functions, called in-process with the same
//! `ApiGatewayProxyRequest` events Lambda delivers.

use async_trait::async_trait;
use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use callflow_event_storer::EventStorer;

/// A handler behind a route (`x-callflow-lambda`).
#[async_trait]
pub trait Integration: Send + Sync {
    /// Handles one proxy event.
    async fn invoke(&self, event: ApiGatewayProxyRequest) -> ApiGatewayProxyResponse;
}

#[async_trait]
impl Integration for EventStorer {
    async fn invoke(&self, event: ApiGatewayProxyRequest) -> ApiGatewayProxyResponse {
        self.handle(event).await
    }
}

/// The `event-retriever` integration, once that crate provides its handler.
pub fn retriever(
    _events: callflow_core::EventStore,
    _signer: callflow_core::TokenSigner,
) -> Option<std::sync::Arc<dyn Integration>> {
    None
}
