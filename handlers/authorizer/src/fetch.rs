//! The JWKS client: one HTTP/1.1 GET over plain TCP (`http://`) or TLS (`https://`).
//!
//! It is hyper-util's client over hyper-rustls (rustls with the aws-lc-rs provider), the
//! same stack the AWS SDK clients and `callflow verify` already compile, so no second
//! TLS or HTTP library is built. Certificates are verified against [`TrustAnchors`]:
//! the platform's CA bundle by default. Connections are not pooled: a refetch happens
//! at most once a minute, and a pooled connection would not survive a frozen Lambda.

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::{Request, StatusCode, header};
use hyper_rustls::{ConfigBuilderExt, HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::ClientConfig;
use rustls::RootCertStore;

use crate::config::{ConfigError, JwksScheme, JwksUrl, TrustAnchors};

/// Largest JWKS document accepted.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;

/// Why a JWKS fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Connecting, the TLS handshake (including certificate verification) or talking
    /// HTTP failed, or the body exceeded [`MAX_JWKS_BYTES`].
    #[error("fetching {url}: {message}")]
    Transport {
        /// The JWKS URL.
        url: String,
        /// The underlying error, with its causes.
        message: String,
    },
    /// The endpoint answered with a non-200 status.
    #[error("fetching {url}: HTTP status {status}")]
    Status {
        /// The JWKS URL.
        url: String,
        /// The status received.
        status: u16,
    },
    /// The fetch took longer than the configured timeout.
    #[error("fetching {url}: timed out after {timeout:?}")]
    Timeout {
        /// The JWKS URL.
        url: String,
        /// The timeout that elapsed.
        timeout: Duration,
    },
}

/// The client for one JWKS URL, built once at cold start.
pub struct JwksFetcher {
    url: JwksUrl,
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl JwksFetcher {
    /// A client for `url`. For `https://` the TLS configuration is built now (the
    /// platform's CA bundle is read for [`TrustAnchors::Native`]), so a missing bundle
    /// fails at cold start.
    pub fn new(url: JwksUrl, trust: &TrustAnchors) -> Result<Self, ConfigError> {
        let tls = tls_config(&url, trust).map_err(|message| ConfigError::Tls {
            url: url.to_string(),
            message,
        })?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .build(connector);
        Ok(Self { url, client })
    }

    /// The URL this client fetches.
    pub fn url(&self) -> &JwksUrl {
        &self.url
    }

    /// GETs the JWKS and returns the body (at most [`MAX_JWKS_BYTES`]) of a 200
    /// response, within `timeout` for connect, handshake, response and body.
    pub async fn get(&self, timeout: Duration) -> Result<Bytes, FetchError> {
        match tokio::time::timeout(timeout, self.get_inner()).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout {
                url: self.url.to_string(),
                timeout,
            }),
        }
    }

    async fn get_inner(&self) -> Result<Bytes, FetchError> {
        let transport = |err: &(dyn StdError + 'static)| FetchError::Transport {
            url: self.url.to_string(),
            message: with_causes(err),
        };
        let request = Request::get(self.url.uri().clone())
            .header(header::ACCEPT, "application/json")
            .header(header::USER_AGENT, "callflow-authorizer")
            .body(Empty::<Bytes>::new())
            .map_err(|e| transport(&e))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| transport(&e))?;
        if response.status() != StatusCode::OK {
            return Err(FetchError::Status {
                url: self.url.to_string(),
                status: response.status().as_u16(),
            });
        }
        let body = Limited::new(response.into_body(), MAX_JWKS_BYTES)
            .collect()
            .await
            .map_err(|e| transport(&*e))?
            .to_bytes();
        Ok(body)
    }
}

/// The rustls client configuration: aws-lc-rs, safe default protocol versions, and the
/// trust anchors. A plain `http://` URL never handshakes, so it gets an empty root store
/// instead of reading the CA bundle.
fn tls_config(url: &JwksUrl, trust: &TrustAnchors) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = match (url.scheme(), trust) {
        (JwksScheme::Http, _) => builder.with_root_certificates(RootCertStore::empty()),
        (JwksScheme::Https, TrustAnchors::Native) => builder
            .with_native_roots()
            .map_err(|e| format!("loading the platform's root certificates: {e}"))?,
        (JwksScheme::Https, TrustAnchors::Only(certificates)) => {
            let mut roots = RootCertStore::empty();
            for certificate in certificates {
                roots
                    .add(certificate.clone())
                    .map_err(|e| format!("trust anchor: {e}"))?;
            }
            if roots.is_empty() {
                return Err("no trust anchor given".into());
            }
            builder.with_root_certificates(roots)
        }
    };
    Ok(builder.with_no_client_auth())
}

/// An error and its chain of causes, `a: b: c` (hyper-util's client error alone only
/// says "client error (Connect)"; the certificate problem is further down).
fn with_causes(error: &(dyn StdError + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.ends_with(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}
