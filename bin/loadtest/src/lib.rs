//! Reliability harness for `callflow dev`: the promise "an event answered 2xx is stored exactly
//! once and can be read back", checked under storage faults, restarts and sustained load.
//!
//! - [`FaultProxy`]: an HTTP proxy on loopback in front of an S3-compatible store that, per
//!   [`RequestClass`] (PutObject, GetObject, ListObjects), answers 503 `SlowDown` / 500
//!   `InternalError`, resets the connection before or *after* forwarding (the store applied
//!   the write but the client never hears), adds latency, or stalls past the client's timeout
//!   and delivers the request late — all from a seeded [`FaultPlan`].
//! - [`ApiClient`]: a client of the Callflow API that retries `POST /events` on 429, 503 and
//!   connection errors with the same `Idempotency-Key` ([`ClientRetryPolicy`]).
//! - [`run_posts`]: a workload of unique and duplicated idempotency keys; [`audit`]: checks
//!   every acknowledged event through the API and directly in the store, and classifies
//!   objects no client saw acknowledged; [`reconcile`]: replays finally-failed requests.
//! - [`run_soak`]: rate- and concurrency-bounded mixed load with latency percentiles, error
//!   counts, server RSS and a final consistency audit (the `callflow soak` command).
#![deny(missing_docs)]

pub mod api_client;
pub mod audit;
pub mod fault_plan;
pub mod latency;
pub mod proxy;
pub mod rss;
pub mod soak;
pub mod workload;

pub use api_client::{ApiClient, ApiError, ClientRetryPolicy, PostOutcome, Reply};
pub use audit::{AuditReport, audit, reconcile};
pub use fault_plan::{Fault, FaultMix, FaultPlan, RequestClass};
pub use latency::{LatencyRecorder, LatencySummary};
pub use proxy::{FaultProxy, FaultStats};
pub use rss::{RssTrace, resident_set_kib};
pub use soak::{OperationMix, SoakConfig, SoakReport, run_soak};
pub use workload::{PostRecord, PostWorkload, WorkloadRecord, run_posts};
