//! Lambda proxy integrations: what the stage calls with the same `ApiGatewayProxyRequest`
//! events Lambda delivers. In-process, the handler functions themselves (below); in process
//! mode, the real handler binaries behind a local Runtime API ([`crate::lambda_process`]).

use async_trait::async_trait;
use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use callflow_event_retriever::EventRetriever;
use callflow_event_storer::EventStorer;

/// Why an integration produced no proxy response, in the terms API Gateway answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntegrationError {
    /// Lambda refused the invocation (throttled: every environment busy at the
    /// concurrency limit). API Gateway answers 500 `Internal server error`.
    #[error("Lambda rejected the invocation: {0}")]
    Rejected(String),
    /// The function ran and failed: it returned an error, crashed, timed out, or answered
    /// something that is not a proxy response. API Gateway answers 502 `Internal server error`.
    #[error("Lambda function failed: {0}")]
    Failed(String),
}

/// A handler behind a route (`x-callflow-lambda`).
#[async_trait]
pub trait Integration: Send + Sync {
    /// Handles one proxy event.
    async fn invoke(&self, event: ApiGatewayProxyRequest) -> ApiGatewayProxyResponse;

    /// Handles one proxy event, saying why when there is no proxy response. The stage calls
    /// this; the default wraps [`Integration::invoke`], which cannot fail.
    async fn call(
        &self,
        event: ApiGatewayProxyRequest,
    ) -> Result<ApiGatewayProxyResponse, IntegrationError> {
        Ok(self.invoke(event).await)
    }
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
