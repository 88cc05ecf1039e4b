//! A client of the Callflow API (`callflow dev` or a deployed stage) with the documented
//! client retry rule: retry `POST /events` on 429, 503 and connection errors, with the same
//! `Idempotency-Key`, a bounded number of times. The requests go through the typed client of
//! the API, [`callflow_client`]; this module adds the retries.

use std::future::Future;
use std::time::Duration;

use callflow_client::{Client, TransportError};
use rand::Rng;
use serde_json::Value;

/// Why a request got no HTTP answer.
pub use callflow_client::TransportErrorKind as ApiError;

/// One HTTP answer: status, `Retry-After`, body and how long the exchange took.
pub use callflow_client::Exchange as Reply;

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
    api: Client,
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
        Self {
            api: Client::lenient(stage_url, retry.request_timeout).with_bearer_token(token),
            retry,
        }
    }

    /// The typed API client (with the token), for single attempts.
    pub fn api(&self) -> &Client {
        &self.api
    }

    /// The stage URL requests go to.
    pub fn stage_url(&self) -> String {
        self.api.base_url()
    }

    /// Points this client (and its clones) at another stage URL, e.g. after a restart.
    pub fn set_stage_url(&self, stage_url: &str) {
        self.api.set_base_url(stage_url);
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> ClientRetryPolicy {
        self.retry
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
            let typed = self.api.store_event(body, Some(key)).await;
            let result = attempt_of(&typed);
            on_attempt(&result);
            if let Ok(reply) = &typed
                && (reply.status() == 200 || reply.status() == 201)
            {
                let event_id = reply
                    .result
                    .as_ref()
                    .map(|stored| stored.event_id.to_string())
                    .unwrap_or_default();
                return PostOutcome::Acknowledged {
                    status: reply.status(),
                    event_id,
                    attempts,
                };
            }
            if !ClientRetryPolicy::is_retryable(&result) || attempts >= self.retry.max_attempts {
                let (last_status, last_error) = match &result {
                    Ok(reply) => (Some(reply.status), body_text(reply)),
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

    /// A read, retried on 429/5xx/connection errors like a POST (for audits): `attempt` makes
    /// one request with [`ApiClient::api`], e.g. `|| client.api().get_event(id)`.
    pub async fn with_retries<T, F, Fut>(
        &self,
        mut attempt: F,
    ) -> Result<callflow_client::Reply<T>, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<callflow_client::Reply<T>, TransportError>>,
    {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let typed = attempt().await;
            let result = attempt_of(&typed);
            if !ClientRetryPolicy::is_retryable(&result) || attempts >= self.retry.max_attempts {
                return typed.map_err(|e| e.kind);
            }
            let retry_after = result.as_ref().ok().and_then(|r| r.retry_after);
            tokio::time::sleep(self.retry.backoff(attempts, retry_after)).await;
        }
    }
}

/// What the statistics and the retry rule see of one typed attempt: the exchange or the error.
pub fn attempt_of<T>(
    result: &Result<callflow_client::Reply<T>, TransportError>,
) -> Result<Reply, ApiError> {
    match result {
        Ok(reply) => Ok(reply.exchange.clone()),
        Err(e) => Err(e.kind.clone()),
    }
}

/// A reply's body for reports: its JSON in one line (`null` when it is not JSON).
pub fn body_text(reply: &Reply) -> String {
    reply.json().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16) -> Result<Reply, ApiError> {
        Ok(Reply {
            status,
            retry_after: None,
            body: Default::default(),
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
