//! A small HTTP(S) client for the smoke checks: hyper-util's pooled client over hyper-rustls
//! (rustls with aws-lc-rs and the platform's root certificates), the same stack the AWS SDK
//! clients already use here, so no second TLS or HTTP library is compiled in.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// Errors building the client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The platform's root certificates could not be loaded.
    #[error("loading root certificates for HTTPS: {0}")]
    Roots(std::io::Error),
}

/// A response with its body read in full.
#[derive(Clone, Debug)]
pub struct ApiResponse {
    /// Status code.
    pub status: StatusCode,
    /// `Location` header, when present.
    pub location: Option<String>,
    /// The body.
    pub body: Bytes,
}

impl ApiResponse {
    /// The body as JSON, or `None` when it is not JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// A short description: status, and the error `code` of an error body.
    pub fn summary(&self) -> String {
        let code = self
            .json()
            .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_owned));
        match code {
            Some(code) => format!("{} ({code})", self.status.as_u16()),
            None => self.status.as_u16().to_string(),
        }
    }
}

/// An HTTP client rooted at the API's base URL (scheme, host and stage path).
#[derive(Clone, Debug)]
pub struct ApiClient {
    base_url: String,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl ApiClient {
    /// A client for `base_url`, e.g. `https://events.example.com` or `http://127.0.0.1:8080/v1`.
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, ClientError> {
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(ClientError::Roots)?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build(connector),
            timeout,
        })
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sends one request to `base_url + path_and_query`; errors are described in one line.
    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &[(&str, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<ApiResponse, String> {
        let url = format!("{}{path_and_query}", self.base_url);
        let mut request = Request::builder().method(method.clone()).uri(&url);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let bytes = match body {
            Some(json) => {
                request = request.header("content-type", "application/json");
                Bytes::from(json.to_string())
            }
            None => Bytes::new(),
        };
        let request = request
            .body(Full::new(bytes))
            .map_err(|e| format!("{method} {url}: bad request: {e}"))?;
        let response = tokio::time::timeout(self.timeout, async {
            let response = self.client.request(request).await.map_err(|e| {
                let mut text = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    text.push_str(": ");
                    text.push_str(&s.to_string());
                    source = s.source();
                }
                text
            })?;
            let status = response.status();
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("reading the body: {e}"))?
                .to_bytes();
            Ok::<_, String>(ApiResponse {
                status,
                location,
                body,
            })
        })
        .await
        .map_err(|_| format!("no answer within {:?}", self.timeout))?;
        response.map_err(|e| format!("{method} {url}: {e}"))
    }
}
