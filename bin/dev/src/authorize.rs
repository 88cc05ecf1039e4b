//! The TOKEN authorizer as the stage calls it, and the method ARN it is called with.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerResponse,
};
use aws_lambda_events::iam::IamPolicyEffect;
use callflow_authorizer::{Authorizer, AuthorizerError, policy_allows};
use callflow_openapi::HttpMethod;

use crate::policy_cache::AuthorizerResult;

/// Why an authorizer produced no policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizerFailure {
    /// The function raised `Unauthorized`: the stage answers 401.
    #[error("Unauthorized")]
    Unauthorized,
    /// Any other error: the stage answers 500 (`AUTHORIZER_FAILURE`).
    #[error("authorizer error: {0}")]
    Error(String),
}

/// A TOKEN authorizer function: one event in, a policy (or a failure) out.
#[async_trait]
pub trait TokenAuthorizer: Send + Sync {
    /// Answers one authorizer event.
    async fn authorize(
        &self,
        request: ApiGatewayCustomAuthorizerRequest,
    ) -> Result<ApiGatewayCustomAuthorizerResponse, AuthorizerFailure>;
}

#[async_trait]
impl TokenAuthorizer for Authorizer {
    async fn authorize(
        &self,
        request: ApiGatewayCustomAuthorizerRequest,
    ) -> Result<ApiGatewayCustomAuthorizerResponse, AuthorizerFailure> {
        Authorizer::authorize(self, request)
            .await
            .map_err(|e| match e {
                AuthorizerError::Unauthorized => AuthorizerFailure::Unauthorized,
                other => AuthorizerFailure::Error(other.to_string()),
            })
    }
}

/// An authorizer made of a plain function (tests: policies of any shape).
pub struct FnAuthorizer<F>(pub F);

#[async_trait]
impl<F> TokenAuthorizer for FnAuthorizer<F>
where
    F: Fn(
            &ApiGatewayCustomAuthorizerRequest,
        ) -> Result<ApiGatewayCustomAuthorizerResponse, AuthorizerFailure>
        + Send
        + Sync,
{
    async fn authorize(
        &self,
        request: ApiGatewayCustomAuthorizerRequest,
    ) -> Result<ApiGatewayCustomAuthorizerResponse, AuthorizerFailure> {
        (self.0)(&request)
    }
}

#[async_trait]
impl<T: TokenAuthorizer + ?Sized> TokenAuthorizer for Arc<T> {
    async fn authorize(
        &self,
        request: ApiGatewayCustomAuthorizerRequest,
    ) -> Result<ApiGatewayCustomAuthorizerResponse, AuthorizerFailure> {
        (**self).authorize(request).await
    }
}

/// The fixed parts of every method ARN of a stage:
/// `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageArn {
    /// The region (`us-east-1`).
    pub region: String,
    /// The account id (`123456789012`).
    pub account: String,
    /// The REST API id.
    pub api_id: String,
    /// The stage name (`v1`).
    pub stage: String,
}

impl StageArn {
    /// The method ARN of one request: `{prefix}{METHOD}/{path without leading slash}`.
    pub fn method_arn(&self, method: HttpMethod, resource_path: &str) -> String {
        format!(
            "{self}{}/{}",
            method.as_str(),
            resource_path.trim_start_matches('/')
        )
    }
}

impl fmt::Display for StageArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:aws:execute-api:{}:{}:{}/{}/",
            self.region, self.account, self.api_id, self.stage
        )
    }
}

/// What a cached or fresh result says about one method ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyVerdict {
    /// Some Allow statement covers it and no Deny does.
    Allowed,
    /// A Deny statement covers it.
    ExplicitDeny,
    /// No statement covers it.
    NotAllowed,
}

impl PolicyVerdict {
    /// Evaluates `result`'s policy for `method_arn` with IAM wildcard matching.
    pub fn of(result: &AuthorizerResult, method_arn: &str) -> Self {
        if policy_allows(&result.policy, method_arn) {
            return Self::Allowed;
        }
        let denied = result
            .policy
            .statement
            .iter()
            .filter(|s| s.effect == IamPolicyEffect::Deny)
            .any(|s| {
                let mut only_this = result.policy.clone();
                let mut allow = s.clone();
                allow.effect = IamPolicyEffect::Allow;
                only_this.statement = vec![allow];
                policy_allows(&only_this, method_arn)
            });
        if denied {
            Self::ExplicitDeny
        } else {
            Self::NotAllowed
        }
    }
}

/// Turns an authorizer response into the cached result; `None` when it has no principal.
pub fn authorizer_result(response: ApiGatewayCustomAuthorizerResponse) -> Option<AuthorizerResult> {
    let principal_id = response.principal_id.filter(|p| !p.is_empty())?;
    let context = match response.context {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    Some(AuthorizerResult {
        principal_id,
        policy: response.policy_document,
        context,
        usage_identifier_key: response.usage_identifier_key.filter(|k| !k.is_empty()),
    })
}
