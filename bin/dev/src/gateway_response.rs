//! Gateway responses: the answers the stage itself gives (401, 403, 404, 429, ...), rendered
//! from the spec's `x-amazon-apigateway-gateway-responses` templates so that local errors have
//! the same JSON shape as deployed ones.

use std::collections::HashMap;

use serde_json::Value;

/// The gateway response types `callflow dev` can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GatewayResponseType {
    /// The identity source is missing or the authorizer said `Unauthorized` (401).
    Unauthorized,
    /// The policy denies the method ARN or does not allow it (403).
    AccessDenied,
    /// No route matches the method and path (API Gateway's 403, 404 in our spec).
    MissingAuthenticationToken,
    /// A required request parameter is missing or blank (400).
    BadRequestParameters,
    /// The body exceeds the API Gateway payload limit (413).
    RequestTooLarge,
    /// The stage's or the client's usage plan token bucket is empty (429).
    Throttled,
    /// The client's usage plan quota is used up (429, `Limit Exceeded`).
    QuotaExceeded,
    /// An API key is required and the authorizer returned no usage identifier (403).
    Forbidden,
    /// The authorizer failed with something other than `Unauthorized` (500).
    AuthorizerFailure,
    /// The integration crashed or answered something that is not a proxy response (502).
    IntegrationFailure,
    /// The integration did not answer within its `timeoutInMillis` (504,
    /// `Endpoint request timed out`).
    IntegrationTimeout,
    /// Lambda refused the invocation, e.g. throttled at the function's concurrency limit
    /// (500). API Gateway has no response type of its own for it: `DEFAULT_5XX` applies.
    LambdaRejected,
}

impl GatewayResponseType {
    /// The name in `x-amazon-apigateway-gateway-responses` (`ACCESS_DENIED`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Unauthorized => "UNAUTHORIZED",
            Self::AccessDenied => "ACCESS_DENIED",
            Self::MissingAuthenticationToken => "MISSING_AUTHENTICATION_TOKEN",
            Self::BadRequestParameters => "BAD_REQUEST_PARAMETERS",
            Self::RequestTooLarge => "REQUEST_TOO_LARGE",
            Self::Throttled => "THROTTLED",
            Self::QuotaExceeded => "QUOTA_EXCEEDED",
            Self::Forbidden => "INVALID_API_KEY",
            Self::AuthorizerFailure => "AUTHORIZER_FAILURE",
            Self::IntegrationFailure => "INTEGRATION_FAILURE",
            Self::IntegrationTimeout => "INTEGRATION_TIMEOUT",
            Self::LambdaRejected => "DEFAULT_5XX",
        }
    }

    /// API Gateway's status code when the spec does not override it.
    pub fn default_status(self) -> u16 {
        match self {
            Self::Unauthorized => 401,
            Self::AccessDenied | Self::MissingAuthenticationToken => 403,
            Self::BadRequestParameters => 400,
            Self::RequestTooLarge => 413,
            Self::Throttled | Self::QuotaExceeded => 429,
            Self::Forbidden => 403,
            Self::AuthorizerFailure | Self::LambdaRejected => 500,
            Self::IntegrationFailure => 502,
            Self::IntegrationTimeout => 504,
        }
    }

    fn fallback(self) -> &'static str {
        if self.default_status() >= 500 {
            "DEFAULT_5XX"
        } else {
            "DEFAULT_4XX"
        }
    }
}

/// A rendered gateway response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedResponse {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body.
    pub body: String,
    /// The message (`$context.error.message`, for the access log).
    pub message: String,
}

#[derive(Debug, Clone)]
struct Template {
    status: Option<u16>,
    body: Option<String>,
}

/// The stage's gateway response templates.
#[derive(Debug, Clone, Default)]
pub struct GatewayResponses {
    templates: HashMap<String, Template>,
}

/// A gateway response in the spec that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("gateway response {name}: {reason}")]
pub struct InvalidGatewayResponse {
    /// The response type.
    pub name: String,
    /// What is wrong.
    pub reason: &'static str,
}

impl GatewayResponses {
    /// Reads `x-amazon-apigateway-gateway-responses` of an OpenAPI document (absent: none).
    pub fn from_spec(spec: &Value) -> Result<Self, InvalidGatewayResponse> {
        let mut templates = HashMap::new();
        let Some(map) = spec
            .get("x-amazon-apigateway-gateway-responses")
            .and_then(Value::as_object)
        else {
            return Ok(Self::default());
        };
        for (name, response) in map {
            let invalid = |reason| InvalidGatewayResponse {
                name: name.clone(),
                reason,
            };
            let status = match response.get("statusCode") {
                None => None,
                Some(v) => Some(
                    v.as_u64()
                        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                        .and_then(|n| u16::try_from(n).ok())
                        .filter(|n| (100..=599).contains(n))
                        .ok_or_else(|| invalid("statusCode is not an HTTP status"))?,
                ),
            };
            let body = response
                .pointer("/responseTemplates/application~1json")
                .map(|t| {
                    t.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| invalid("application/json template is not a string"))
                })
                .transpose()?;
            templates.insert(name.clone(), Template { status, body });
        }
        Ok(Self { templates })
    }

    /// The responses of the embedded Callflow spec.
    pub fn from_embedded_spec() -> Result<Self, InvalidGatewayResponse> {
        Self::from_spec(callflow_openapi::spec_json())
    }

    /// Renders `kind` with `message` for request `request_id`: status and template of the
    /// type itself, else of `DEFAULT_4XX`/`DEFAULT_5XX`, else API Gateway's own defaults.
    pub fn render(
        &self,
        kind: GatewayResponseType,
        message: &str,
        request_id: &str,
    ) -> RenderedResponse {
        let own = self.templates.get(kind.name());
        let fallback = self.templates.get(kind.fallback());
        let status = own
            .and_then(|t| t.status)
            .or_else(|| fallback.and_then(|t| t.status))
            .unwrap_or_else(|| kind.default_status());
        let template = own
            .and_then(|t| t.body.as_deref())
            .or_else(|| fallback.and_then(|t| t.body.as_deref()))
            .unwrap_or(r#"{"message":$context.error.messageString}"#);
        let quoted = Value::String(message.to_owned()).to_string();
        let request_id_text = Value::String(request_id.to_owned()).to_string();
        let body = template
            .replace("$context.error.messageString", &quoted)
            .replace(
                "$context.error.message",
                &quoted[1..quoted.len().saturating_sub(1)],
            )
            .replace(
                "$context.requestId",
                &request_id_text[1..request_id_text.len().saturating_sub(1)],
            );
        RenderedResponse {
            status,
            body,
            message: message.to_owned(),
        }
    }
}
