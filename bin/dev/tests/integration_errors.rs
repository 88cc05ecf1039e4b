//! What the stage answers when an integration gives no proxy response: API Gateway's 500 for
//! a rejected (throttled) invocation, 502 for a failed function, 504 past the integration
//! timeout, each in the spec's `DEFAULT_5XX` shape.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::http::Method;
use callflow_dev::{Gateway, GatewayRequest, Integration, IntegrationError, LocalIdentity};
use callflow_openapi::{LambdaName, Scope};

/// Fails as told.
enum Failing {
    Rejected,
    Failed,
    Slow,
}

#[async_trait]
impl Integration for Failing {
    async fn invoke(&self, event: ApiGatewayProxyRequest) -> ApiGatewayProxyResponse {
        self.call(event).await.unwrap_or_default()
    }

    async fn call(
        &self,
        _event: ApiGatewayProxyRequest,
    ) -> Result<ApiGatewayProxyResponse, IntegrationError> {
        match self {
            Self::Rejected => Err(IntegrationError::Rejected("throttled".into())),
            Self::Failed => Err(IntegrationError::Failed("crashed".into())),
            Self::Slow => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(ApiGatewayProxyResponse::default())
            }
        }
    }
}

async fn answer(integration: Failing) -> (u16, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let identity = LocalIdentity::load_or_create(dir.path()).unwrap();
    let token = identity.issue("dev", &[Scope::EventsRead], Duration::from_secs(60));
    let gateway = Gateway::builder(Arc::new(identity.authorizer().unwrap()))
        .integration(LambdaName::EventRetriever, Arc::new(integration))
        .integration_timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    let request = GatewayRequest::new(
        Method::GET,
        "/v1/events/019a3f6e-2c80-7a3b-9c1d-0123456789ab",
    )
    .with_header("Authorization", &format!("Bearer {token}"));
    let response = gateway.handle(request).await;
    (response.status, response.json())
}

#[tokio::test]
async fn rejected_failed_and_timed_out_invocations_get_api_gateways_answers() {
    let (status, body) = answer(Failing::Rejected).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["message"], "Internal server error");
    assert_eq!(body["code"], "internal", "DEFAULT_5XX template");
    let (status, body) = answer(Failing::Failed).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["message"], "Internal server error");
    let (status, body) = answer(Failing::Slow).await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(body["message"], "Endpoint request timed out");
}

#[test]
fn the_integration_timeout_is_the_specs() {
    assert_eq!(
        callflow_dev::gateway::spec_integration_timeout(),
        Duration::from_millis(29_000)
    );
}
