//! Lambda proxy integrations: the handler functions, called in-process with the same
//! `ApiGatewayProxyRequest` events Lambda delivers.

use async_trait::async_trait;
use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use callflow_event_retriever::EventRetriever;
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

#[async_trait]
impl Integration for EventRetriever {
    async fn invoke(&self, event: ApiGatewayProxyRequest) -> ApiGatewayProxyResponse {
        self.handle(event).await
    }
}
