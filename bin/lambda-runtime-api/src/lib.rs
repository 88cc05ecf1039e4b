//! A local AWS Lambda service for functions that speak the Lambda Runtime API.
//!
//! - [`api`]: the Runtime API 2018-06-01 of one execution environment
//!   (`invocation/next`, `invocation/{id}/response`, `invocation/{id}/error`, `init/error`),
//!   with Lambda's answers to misuse (unknown or already answered request id: 400
//!   `InvalidRequestID`; a body over 6 MB: 413 `RequestEntityTooLarge`; `init/error` after
//!   init: 403 `InvalidStateTransition`).
//! - [`environment`]: an execution environment as a child process of the function's
//!   executable, given `AWS_LAMBDA_RUNTIME_API` and the environment Lambda sets; its stdout and
//!   stderr lines go to a [`LogSink`] tagged with the function name.
//! - [`pool`]: one function's environments: one invocation per environment at a time, more
//!   environments up to the concurrency limit, warm reuse (most recently used first), idle ones
//!   stopped, throttling beyond the limit, the timeout enforced by killing the process, a
//!   fresh environment after a crash, a timeout or an oversized response, and `START` /
//!   `END` / `REPORT` lines.
//!
//! Nothing here knows API Gateway or Callflow: callers turn an [`InvokeError`] into whatever
//! their front end answers.
#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub mod api;
pub mod config;
pub mod environment;
pub mod error;
pub mod ids;
pub mod logs;
pub mod memory;
pub mod pool;
pub mod report;

pub use api::{MAX_PAYLOAD_BYTES, RuntimeApi};
pub use config::FunctionConfig;
pub use environment::Environment;
pub use error::{ErrorDocument, InvokeError, StartError};
pub use ids::{FunctionName, InvalidFunctionName, RequestId};
pub use logs::{LogSink, MemoryLogSink, OutputStream, StderrLogSink};
pub use pool::{FunctionPool, FunctionStats};
pub use report::Report;
