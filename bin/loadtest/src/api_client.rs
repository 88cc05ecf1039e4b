//! A client of the Callflow API (`callflow dev` or a deployed stage) with the documented
//! client retry rule: retry `POST /events` on 429, 503 and connection errors, with the same
//! `Idempotency-Key`, a bounded number of times.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rand::Rng;
use serde_json::Value;

/// Why a request got no HTTP answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// Connecting, sending or reading failed (refused, reset, closed).
    #[error("connection error: {0}")]
    Connection(String),
    /// No complete answer within the request timeout.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The request could not be built (bad URL or header).
    #[error("invalid request: {0}")]
    Invalid(String),
}

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The parsed JSON body (`Null` when empty or not JSON).
    pub body: Value,
    /// `Retry-After` in seconds, when present.
    pub retry_after: Option<u64>,
    /// How long the exchange took.
    pub elapsed: Duration,
}

/// How a client retries `POST /events`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClientRetryPolicy {
    /// Attempts per POST, including the first. Default: 10.
    pub max_attempts: u32,
    /// Backoff before the first retry (×2 per retry, full jitter). Default: 20 ms.
    pub initial_backoff: Duration,
    /// Largest backoff, also the cap on an honoured `Retry-After`. Default: 1 s.
    pub max_backoff: Duration,
    /// Time one attempt may take. Default: 30 s (API Gateway's integration limit is 29 s).
    pub request_timeout: Duration,
    /// Whether every retry carries a fresh `timestamp`, as a client that builds its event when
    /// it sends does; the storer must still answer it with the first event. Default: true.
    pub restamp_retries: bool,
}

impl Default for ClientRetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_secs(1),
            request_timeout: Duration::from_secs(30),
            restamp_retries: true,
        }
    }
}

impl ClientRetryPolicy {
    /// Whether an attempt's result is worth retrying with the same idempotency key.
    pub fn is_retryable(result: &Result<Reply, ApiError>) -> bool {
        match result {
            Ok(reply) => matches!(reply.status, 429 | 502 | 503 | 504),
            Err(ApiError::Invalid(_)) => false,
            Err(_) => true,
        }
    }

    /// The sleep before retry number `retry` (1-based), honouring `Retry-After` up to the cap.
    pub fn backoff(&self, retry: u32, retry_after: Option<u64>) -> Duration {
        let exp = self
            .initial_backoff
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16))
            .min(self.max_backoff);
        let jittered = exp.mul_f64(rand::thread_rng().gen_range(0.0..1.0));
        match retry_after {
            Some(s) => jittered.max(Duration::from_secs(s).min(self.max_backoff)),
            None => jittered,
        }
    }
}

/// The final outcome of a POST after its retries.
#[derive(Debug, Clone)]
pub enum PostOutcome {
    /// 201 or 200: the event is stored.
    Acknowledged {
        /// 201 created, 200 idempotent replay.
        status: u16,
        /// The stored event's id.
        event_id: String,
        /// Attempts made.
        attempts: u32,
    },
    /// No 2xx after the retries (or a non-retryable answer).
    Failed {
        /// The last status, if the last attempt got an answer.
        last_status: Option<u16>,
        /// The last error text.
        last_error: String,
        /// Attempts made.
        attempts: u32,
    },
}

/// A Callflow API client with a bearer token; the target URL can be switched (restarts).
#[derive(Clone)]
pub struct ApiClient {
    http: Client<HttpConnector, Full<Bytes>>,
    stage_url: Arc<RwLock<String>>,
    token: Arc<str>,
    retry: ClientRetryPolicy,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("stage_url", &self.stage_url())
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl ApiClient {
    /// A client of the stage at `stage_url` (e.g. `http://127.0.0.1:3000/v1`) with `token`.
    pub fn new(stage_url: &str, token: &str, retry: ClientRetryPolicy) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let http = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Self {
            http,
            stage_url: Arc::new(RwLock::new(stage_url.trim_end_matches('/').to_owned())),
            token: Arc::from(token),
            retry,
        }
    }

    /// The stage URL requests go to.
    pub fn stage_url(&self) -> String {
        self.stage_url
            .read()
            .map(|u| u.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Points this client (and its clones) at another stage URL, e.g. after a restart.
    pub fn set_stage_url(&self, stage_url: &str) {
        let mut guard = self.stage_url.write().unwrap_or_else(|e| e.into_inner());
        *guard = stage_url.trim_end_matches('/').to_owned();
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> ClientRetryPolicy {
        self.retry
    }

    /// One request, no retries. `path_and_query` starts with `/`.
    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<Reply, ApiError> {
        let url = format!("{}{path_and_query}", self.stage_url());
        let mut builder = Request::builder()
            .method(method)
            .uri(&url)
            .header("authorization", format!("Bearer {}", self.token));
        if let Some(key) = idempotency_key {
            builder = builder.header("idempotency-key", key);
        }
        let bytes = match body {
            Some(v) => {
                builder = builder.header("content-type", "application/json");
                Bytes::from(serde_json::to_vec(v).map_err(|e| ApiError::Invalid(e.to_string()))?)
            }
            None => Bytes::new(),
        };
        let request = builder
            .body(Full::new(bytes))
            .map_err(|e| ApiError::Invalid(e.to_string()))?;
        let started = Instant::now();
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| ApiError::Connection(error_chain(&e)))?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok());
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| ApiError::Connection(e.to_string()))?
                .to_bytes();
            Ok::<_, ApiError>((status, retry_after, body))
        };
        let (status, retry_after, body) =
            tokio::time::timeout(self.retry.request_timeout, exchange)
                .await
                .map_err(|_| ApiError::Timeout(self.retry.request_timeout))??;
        Ok(Reply {
            status,
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
            retry_after,
            elapsed: started.elapsed(),
        })
    }

    /// `POST /events` with `Idempotency-Key: key`, retried per the policy; `on_attempt` sees
    /// every attempt's result (for latency and error statistics).
    pub async fn post_event(
        &self,
        event: &Value,
        key: &str,
        mut on_attempt: impl FnMut(&Result<Reply, ApiError>),
    ) -> PostOutcome {
        let mut attempts = 0;
        let mut restamped;
        let mut body = event;
        loop {
            attempts += 1;
            if attempts > 1 && self.retry.restamp_retries {
                restamped = event.clone();
                restamped["timestamp"] =
                    crate::workload::rfc3339(time::OffsetDateTime::now_utc()).into();
                body = &restamped;
            }
            let result = self
                .send(Method::POST, "/events", Some(body), Some(key))
                .await;
            on_attempt(&result);
            if let Ok(reply) = &result
                && (reply.status == 200 || reply.status == 201)
            {
                let event_id = reply.body["eventId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                return PostOutcome::Acknowledged {
                    status: reply.status,
                    event_id,
                    attempts,
                };
            }
            if !ClientRetryPolicy::is_retryable(&result) || attempts >= self.retry.max_attempts {
                let (last_status, last_error) = match &result {
                    Ok(reply) => (Some(reply.status), reply.body.to_string()),
                    Err(e) => (None, e.to_string()),
                };
                return PostOutcome::Failed {
                    last_status,
                    last_error,
                    attempts,
                };
            }
            let retry_after = result.as_ref().ok().and_then(|r| r.retry_after);
            tokio::time::sleep(self.retry.backoff(attempts, retry_after)).await;
        }
    }

    /// A read (`GET`), retried on 429/5xx/connection errors like a POST: for audits.
    pub async fn get_with_retries(&self, path_and_query: &str) -> Result<Reply, ApiError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let result = self.send(Method::GET, path_and_query, None, None).await;
            if !ClientRetryPolicy::is_retryable(&result) || attempts >= self.retry.max_attempts {
                return result;
            }
            let retry_after = result.as_ref().ok().and_then(|r| r.retry_after);
            tokio::time::sleep(self.retry.backoff(attempts, retry_after)).await;
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16) -> Result<Reply, ApiError> {
        Ok(Reply {
            status,
            body: Value::Null,
            retry_after: None,
            elapsed: Duration::ZERO,
        })
    }

    #[test]
    fn only_throttling_unavailability_and_connection_errors_are_retried() {
        for status in [429, 502, 503, 504] {
            assert!(ClientRetryPolicy::is_retryable(&reply(status)), "{status}");
        }
        for status in [200, 201, 400, 401, 403, 404, 413, 422, 500] {
            assert!(!ClientRetryPolicy::is_retryable(&reply(status)), "{status}");
        }
        assert!(ClientRetryPolicy::is_retryable(&Err(ApiError::Connection(
            "reset".into()
        ))));
        assert!(!ClientRetryPolicy::is_retryable(&Err(ApiError::Invalid(
            "url".into()
        ))));
    }

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let p = ClientRetryPolicy::default();
        for retry in 1..20 {
            assert!(p.backoff(retry, None) <= p.max_backoff);
        }
        assert!(p.backoff(1, None) <= p.initial_backoff);
        assert_eq!(p.backoff(1, Some(1)), Duration::from_secs(1));
        assert_eq!(
            p.backoff(1, Some(60)),
            p.max_backoff,
            "Retry-After is capped"
        );
    }
}
