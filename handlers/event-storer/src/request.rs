//! Turning a `POST /events` proxy request into a checked store request.

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use base64::Engine;
use callflow_core::http::{IDEMPOTENCY_KEY_HEADER, header_str, principal};
use callflow_core::validate::{parse_json, validate_event};
use callflow_core::{ApiError, CallEvent, ErrorCode, FieldError, IdempotencyKey, Principal};

/// Largest accepted body, in bytes (after base64 decoding).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A checked `POST /events` request.
#[derive(Debug, Clone)]
pub struct StoreRequest {
    /// Who sends it.
    pub principal: Principal,
    /// The `Idempotency-Key` header, if any.
    pub idempotency_key: Option<IdempotencyKey>,
    /// The validated event.
    pub event: CallEvent,
}

impl StoreRequest {
    /// Checks, in order: principal (401), content type (415), size (413), JSON (400), then
    /// the event and the `Idempotency-Key` header together (422 listing every problem).
    pub fn parse(req: &ApiGatewayProxyRequest) -> Result<Self, ApiError> {
        let principal = principal(req).ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthorized,
                "the request carries no authorizer principal",
            )
        })?;
        check_content_type(header_str(req, "content-type"))?;
        let body = body_bytes(req)?;
        let value = parse_json(&body)?;
        let mut problems = Vec::new();
        let idempotency_key = match header_str(req, IDEMPOTENCY_KEY_HEADER) {
            None => None,
            Some(v) => IdempotencyKey::parse(v)
                .map_err(|m| problems.push(FieldError::new("$.headers['Idempotency-Key']", m)))
                .ok(),
        };
        if req.headers.contains_key(IDEMPOTENCY_KEY_HEADER)
            && header_str(req, IDEMPOTENCY_KEY_HEADER).is_none()
        {
            problems.push(FieldError::new(
                "$.headers['Idempotency-Key']",
                "Idempotency-Key must be printable ASCII",
            ));
        }
        match validate_event(&value) {
            Ok(event) if problems.is_empty() => Ok(Self {
                principal,
                idempotency_key,
                event,
            }),
            Ok(_) => Err(ApiError::validation(problems)),
            Err(mut event_problems) => {
                event_problems.append(&mut problems);
                Err(ApiError::validation(event_problems))
            }
        }
    }
}

fn check_content_type(value: Option<&str>) -> Result<(), ApiError> {
    let media_type = value
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase());
    match media_type.as_deref() {
        Some("application/json") => Ok(()),
        Some(m) if m.starts_with("application/") && m.ends_with("+json") => Ok(()),
        Some(m) => Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!("Content-Type {m:?} is not supported; send application/json"),
        )),
        None => Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "Content-Type is missing; send application/json",
        )),
    }
}

fn body_bytes(req: &ApiGatewayProxyRequest) -> Result<Vec<u8>, ApiError> {
    let raw = req.body.as_deref().unwrap_or("");
    let too_large = |n: usize| {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("the body is {n} bytes; at most {MAX_BODY_BYTES} are accepted"),
        )
    };
    let bytes = if req.is_base64_encoded {
        // Base64 is 4/3 of the decoded size: refuse before decoding anything huge.
        if raw.len() / 4 * 3 > MAX_BODY_BYTES + 3 {
            return Err(too_large(raw.len() / 4 * 3));
        }
        base64::engine::general_purpose::STANDARD
            .decode(raw)
            .map_err(|e| {
                ApiError::new(
                    ErrorCode::MalformedJson,
                    format!("the base64 body does not decode: {e}"),
                )
            })?
    } else {
        raw.as_bytes().to_vec()
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(too_large(bytes.len()));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        for ok in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/cloudevents+json",
        ] {
            assert!(check_content_type(Some(ok)).is_ok(), "{ok}");
        }
        for bad in [None, Some("text/plain"), Some("application/xml"), Some("")] {
            assert_eq!(
                check_content_type(bad).unwrap_err().code,
                ErrorCode::UnsupportedMediaType
            );
        }
    }
}
