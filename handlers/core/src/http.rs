//! API Gateway proxy request/response helpers shared by the handlers.

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderMap, HeaderValue, header};
use serde::Serialize;

use crate::error::{ApiError, ErrorCode};
use crate::model::Principal;
use crate::store::StoreError;

/// The request header that makes a `POST /events` retry safe, as HTTP/2 and API Gateway's
/// `headers` map spell it (lowercase): `components.parameters.IdempotencyKey` of the contract.
/// The storer reads it and the client sends it under this one name.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// Seconds a client should wait after `storage_unavailable`.
pub const RETRY_AFTER_SECONDS: u32 = 1;

/// The API Gateway request id (`requestContext.requestId`), or `"unknown"`.
pub fn request_id(req: &ApiGatewayProxyRequest) -> String {
    req.request_context
        .request_id
        .clone()
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The authorizer's principal (`requestContext.authorizer.sub`, else `principalId`).
pub fn principal(req: &ApiGatewayProxyRequest) -> Option<Principal> {
    let fields = &req.request_context.authorizer.fields;
    ["sub", "principalId"]
        .iter()
        .filter_map(|k| fields.get(*k).and_then(|v| v.as_str()))
        .find_map(Principal::new)
}

/// A header value as text (names are case-insensitive).
pub fn header_str<'a>(req: &'a ApiGatewayProxyRequest, name: &str) -> Option<&'a str> {
    req.headers.get(name).and_then(|v| v.to_str().ok())
}

/// A JSON response with `status` and extra headers.
pub fn json_response(
    status: u16,
    body: &impl Serialize,
    extra_headers: &[(header::HeaderName, String)],
) -> ApiGatewayProxyResponse {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (name, value) in extra_headers {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name.clone(), v);
        }
    }
    let text = serde_json::to_string(body).unwrap_or_else(|_| {
        r#"{"code":"internal","message":"response serialization failed"}"#.to_owned()
    });
    let mut resp = ApiGatewayProxyResponse::default();
    resp.status_code = i64::from(status);
    resp.headers = headers;
    resp.body = Some(Body::Text(text));
    resp
}

/// The response for an error: status from its code, `Retry-After` for `storage_unavailable`.
pub fn error_response(err: &ApiError, request_id: &str) -> ApiGatewayProxyResponse {
    let extra: Vec<(header::HeaderName, String)> = match err.code {
        ErrorCode::StorageUnavailable | ErrorCode::Throttled => {
            vec![(header::RETRY_AFTER, RETRY_AFTER_SECONDS.to_string())]
        }
        _ => Vec::new(),
    };
    json_response(err.code.status(), &err.body(request_id), &extra)
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable { .. } => ApiError::new(
                ErrorCode::StorageUnavailable,
                "event storage is temporarily unavailable; retry later",
            ),
            StoreError::Rejected { .. } | StoreError::Corrupt { .. } => {
                ApiError::new(ErrorCode::Internal, "internal error")
            }
        }
    }
}
