//! The HTTP client: hyper-util's pooled client over hyper-rustls (rustls with aws-lc-rs and the
//! platform's root certificates), the stack the AWS SDK clients already use here.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use callflow_core::StoredEvent;
use callflow_core::wire::{QueryResponse, StoreResponse};
use callflow_openapi::HttpMethod;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_rustls::{ConfigBuilderExt, HttpsConnector};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::contract::{AUTHORIZATION, Endpoint, IDEMPOTENCY_KEY, RETRY_AFTER, event_path};
use crate::query::{EventsQuery, PagingError, follow_pages};
use crate::reply::{Exchange, Failure, Reply};

/// Errors building a [`Client`].
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The platform's root certificates could not be loaded.
    #[error("loading root certificates for HTTPS: {0}")]
    Roots(std::io::Error),
}

/// Why a request got no HTTP answer, with the request it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{method} {url}: {kind}")]
pub struct TransportError {
    /// The request's method.
    pub method: HttpMethod,
    /// The request's URL.
    pub url: String,
    /// What went wrong.
    pub kind: TransportErrorKind,
}

/// What went wrong with a request that got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportErrorKind {
    /// Connecting, sending or reading failed (refused, reset, closed); the error chain.
    #[error("connection error: {0}")]
    Connection(String),
    /// No complete answer within the client's timeout.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The request could not be built (bad URL, header or body).
    #[error("invalid request: {0}")]
    Invalid(String),
}

/// Why a typed call did not return its success body.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequestError {
    /// No answer.
    #[error("{0}")]
    Transport(TransportError),
    /// An answer, but not the success body.
    #[error("{0}")]
    Answer(Failure),
}

/// A client of the Callflow API rooted at a stage URL (scheme, host and stage path).
///
/// Clones share the connection pool and the base URL ([`Client::set_base_url`] moves them
/// all); [`Client::with_authorization`] makes a clone that sends another `Authorization`.
#[derive(Clone)]
pub struct Client {
    http: HyperClient<HttpsConnector<HttpConnector>, Full<Bytes>>,
    base_url: Arc<RwLock<String>>,
    authorization: Option<Arc<str>>,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url())
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `base_url` (e.g. `https://events.example.com` or `http://127.0.0.1:3000/v1`)
    /// whose every exchange must complete within `timeout`. Fails when the platform's root
    /// certificates cannot be loaded.
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, ClientError> {
        let roots = provider_versions()
            .with_native_roots()
            .map_err(ClientError::Roots)?;
        Ok(Self::with_tls(
            base_url,
            timeout,
            roots.with_no_client_auth(),
        ))
    }

    /// Like [`Client::new`], but never fails: without the platform's root certificates an
    /// `https://` request fails when it connects instead (for loopback `http://` stages).
    pub fn lenient(base_url: &str, timeout: Duration) -> Self {
        let config = match provider_versions().with_native_roots() {
            Ok(roots) => roots.with_no_client_auth(),
            Err(_) => provider_versions()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth(),
        };
        Self::with_tls(base_url, timeout, config)
    }

    fn with_tls(base_url: &str, timeout: Duration, config: rustls::ClientConfig) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.enforce_http(false);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        Self {
            http: HyperClient::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(30))
                .build(https),
            base_url: Arc::new(RwLock::new(trim(base_url))),
            authorization: None,
            timeout,
        }
    }

    /// A clone that sends `Authorization: <value>` (e.g. `Bearer <JWT>`).
    pub fn with_authorization(&self, value: impl Into<String>) -> Self {
        Self {
            authorization: Some(Arc::from(value.into())),
            ..self.clone()
        }
    }

    /// A clone that sends `Authorization: Bearer <token>`.
    pub fn with_bearer_token(&self, token: &str) -> Self {
        self.with_authorization(format!("Bearer {token}"))
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> String {
        self.base_url
            .read()
            .map(|u| u.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Points this client and its clones at another base URL (e.g. after a restart).
    pub fn set_base_url(&self, base_url: &str) {
        let mut guard = self.base_url.write().unwrap_or_else(|e| e.into_inner());
        *guard = trim(base_url);
    }

    /// The time one exchange may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `POST /events` with `event` as the JSON body and, when given, an `Idempotency-Key`: 201
    /// stored, 200 an idempotent replay (both a [`StoreResponse`]), or the error.
    pub async fn store_event<E: Serialize + ?Sized>(
        &self,
        event: &E,
        idempotency_key: Option<&str>,
    ) -> Result<Reply<StoreResponse<'static>>, TransportError> {
        let endpoint = Endpoint::StoreEvent;
        let path = endpoint.path(&[]);
        let body = serde_json::to_vec(event)
            .map_err(|e| self.error(endpoint, &path, TransportErrorKind::Invalid(e.to_string())))?;
        self.call(endpoint, path, idempotency_key, Some(body)).await
    }

    /// `GET /events/{eventId}`: the stored event, or the error.
    pub async fn get_event(&self, event_id: &str) -> Result<Reply<StoredEvent>, TransportError> {
        self.call(Endpoint::GetEvent, event_path(event_id), None, None)
            .await
    }

    /// `GET /events?…`: one page, or the error.
    pub async fn query_events(
        &self,
        query: &EventsQuery,
    ) -> Result<Reply<QueryResponse>, TransportError> {
        let endpoint = Endpoint::QueryEvents;
        let path = format!("{}?{}", endpoint.path(&[]), query.to_query_string());
        self.call(endpoint, path, None, None).await
    }

    /// Every event of `query`, following `nextToken` over at most `max_pages` pages (see
    /// [`follow_pages`] to fetch pages another way, e.g. with retries).
    pub async fn query_all(
        &self,
        query: &EventsQuery,
        max_pages: usize,
    ) -> Result<Vec<StoredEvent>, PagingError<RequestError>> {
        follow_pages(query, max_pages, |page| async move {
            self.query_events(&page)
                .await
                .map_err(RequestError::Transport)?
                .result
                .map_err(RequestError::Answer)
        })
        .await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        path_and_query: String,
        idempotency_key: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<Reply<T>, TransportError> {
        self.exchange(endpoint, &path_and_query, idempotency_key, body)
            .await
            .map(Reply::read)
    }

    /// One request to `base_url + path_and_query`, its answer read in full within the timeout.
    async fn exchange(
        &self,
        endpoint: Endpoint,
        path_and_query: &str,
        idempotency_key: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<Exchange, TransportError> {
        let url = format!("{}{path_and_query}", self.base_url());
        let fail = |kind| TransportError {
            method: endpoint.method(),
            url: url.clone(),
            kind,
        };
        let mut request = Request::builder()
            .method(hyper_method(endpoint.method()))
            .uri(&url);
        if let Some(value) = &self.authorization {
            request = request.header(AUTHORIZATION, value.as_ref());
        }
        if let Some(key) = idempotency_key {
            request = request.header(IDEMPOTENCY_KEY, key);
        }
        let bytes = match body {
            Some(json) => {
                request = request.header(hyper::header::CONTENT_TYPE, "application/json");
                Bytes::from(json)
            }
            None => Bytes::new(),
        };
        let request = request
            .body(Full::new(bytes))
            .map_err(|e| fail(TransportErrorKind::Invalid(e.to_string())))?;
        let started = Instant::now();
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| TransportErrorKind::Connection(error_chain(&e)))?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok());
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| TransportErrorKind::Connection(format!("reading the body: {e}")))?
                .to_bytes();
            Ok::<_, TransportErrorKind>(Exchange {
                status,
                retry_after,
                body,
                elapsed: started.elapsed(),
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| fail(TransportErrorKind::Timeout(self.timeout)))?
            .map_err(fail)
    }

    fn error(&self, endpoint: Endpoint, path: &str, kind: TransportErrorKind) -> TransportError {
        TransportError {
            method: endpoint.method(),
            url: format!("{}{path}", self.base_url()),
            kind,
        }
    }
}

/// The TLS versions rustls deems safe, with aws-lc-rs (the provider the AWS SDK uses here).
fn provider_versions() -> rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier> {
    rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    // The same invariant rustls' own `ClientConfig::builder()` unwraps: the default provider
    // supports its default protocol versions.
    .expect("aws-lc-rs supports TLS 1.2 and 1.3")
}

fn hyper_method(method: HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Options => Method::OPTIONS,
    }
}

fn trim(base_url: &str) -> String {
    base_url.trim_end_matches('/').to_owned()
}

/// An error and its sources, `: `-separated.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
