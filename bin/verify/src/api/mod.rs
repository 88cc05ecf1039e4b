//! End-to-end API smoke checks against a deployed URL: authentication enforced (401 without or
//! with a bad token, 403 without the write scope), then one marked smoke event written, read by
//! id, found by call id and replayed idempotently. See [`smoke`] for the cleanup policy. The
//! requests go through the typed client of the API, [`callflow_client`].

pub mod smoke;
pub mod token;

/// The API client the checks use: rooted at the API base URL (including the stage path).
pub use callflow_client::Client as ApiClient;
pub use smoke::{ApiTarget, api_probes};
pub use token::{BearerToken, TokenSource};
