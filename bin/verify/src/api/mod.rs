//! End-to-end API smoke checks against a deployed URL: authentication enforced (401 without or
//! with a bad token, 403 without the write scope), then one marked smoke event written, read by
//! id, found by call id and replayed idempotently. See [`smoke`] for the cleanup policy.

pub mod http;
pub mod smoke;
pub mod token;

pub use http::ApiClient;
pub use smoke::{ApiTarget, api_probes};
pub use token::{BearerToken, TokenSource};
