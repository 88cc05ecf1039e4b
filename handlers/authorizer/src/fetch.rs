//! A minimal HTTP/1.1 GET over plain TCP (hyper client connection), for the JWKS.
//!
//! No TLS: the authorizer talks to a local or in-VPC http endpoint, or gets its keys
//! inline through `JWKS_JSON`. This keeps rustls and its crypto backend out of the
//! Lambda binary.

use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::{Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::config::JwksUrl;

/// Largest JWKS document accepted.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;

/// Why a JWKS fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Connecting or talking HTTP failed.
    #[error("fetching {url}: {message}")]
    Transport {
        /// The JWKS URL.
        url: String,
        /// The underlying error.
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

/// GETs `url` and returns the body (at most [`MAX_JWKS_BYTES`]) of a 200 response.
pub async fn get(url: &JwksUrl, timeout: Duration) -> Result<Bytes, FetchError> {
    match tokio::time::timeout(timeout, get_inner(url)).await {
        Ok(result) => result,
        Err(_) => Err(FetchError::Timeout {
            url: url.to_string(),
            timeout,
        }),
    }
}

async fn get_inner(url: &JwksUrl) -> Result<Bytes, FetchError> {
    let transport = |err: &dyn std::fmt::Display| FetchError::Transport {
        url: url.to_string(),
        message: err.to_string(),
    };
    let stream = TcpStream::connect((url.host(), url.port()))
        .await
        .map_err(|e| transport(&e))?;
    stream.set_nodelay(true).map_err(|e| transport(&e))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| transport(&e))?;
    let driver = tokio::spawn(connection);
    let host = if url.port() == 80 {
        url.host().to_owned()
    } else {
        format!("{}:{}", url.host(), url.port())
    };
    let request = Request::get(url.path_and_query())
        .header(header::HOST, host)
        .header(header::ACCEPT, "application/json")
        .header(header::USER_AGENT, "callflow-authorizer")
        .body(Empty::<Bytes>::new())
        .map_err(|e| transport(&e))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| transport(&e))?;
    if response.status() != StatusCode::OK {
        driver.abort();
        return Err(FetchError::Status {
            url: url.to_string(),
            status: response.status().as_u16(),
        });
    }
    let body = Limited::new(response.into_body(), MAX_JWKS_BYTES)
        .collect()
        .await
        .map_err(|e| transport(&*e))?
        .to_bytes();
    driver.abort();
    Ok(body)
}
