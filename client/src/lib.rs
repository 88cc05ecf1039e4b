//! The typed client of the Callflow REST API, for `callflow verify`, the load tester and tests.
//!
//! Everything it writes on the wire comes from one definition: the paths and methods from the
//! route table of the embedded `openapi.yaml` ([`Endpoint`]), header and query parameter names
//! from [`contract`] (checked against the spec by this crate's tests), the bodies from
//! `callflow_core::wire` and the page size bound from `callflow_core::query::MAX_LIMIT`.
//!
//! - [`Client::store_event`]: `POST /events` with an optional `Idempotency-Key` →
//!   [`StoreResponse`](callflow_core::wire::StoreResponse) or an [`ErrorResponse`]
//!   `{status, code, message}`;
//! - [`Client::get_event`]: `GET /events/{eventId}` → [`StoredEvent`](callflow_core::StoredEvent);
//! - [`Client::query_events`]: `GET /events` with an [`EventsQuery`] → one
//!   [`QueryResponse`](callflow_core::wire::QueryResponse); [`Client::query_all`] and
//!   [`follow_pages`] follow `nextToken`.
//!
//! Each call answers a [`Reply`]: the [`Exchange`] as received (status, `Retry-After`, body,
//! time taken) and the typed body or the [`Failure`]; a request without an answer is a
//! [`TransportError`]. The client makes one attempt per call: retrying is the caller's policy.
//!
//! ```
//! use callflow_client::{Endpoint, EventsQuery, PageLimit, event_path};
//! use time::macros::datetime;
//!
//! assert_eq!(Endpoint::QueryEvents.template().as_str(), "/events");
//! assert_eq!(event_path("0190a4f2-5c00-7000-8000-000000000000"),
//!            "/events/0190a4f2-5c00-7000-8000-000000000000");
//! let page = EventsQuery::new(datetime!(2026-01-01 0:00 UTC), datetime!(2026-01-01 1:00 UTC))
//!     .with_limit(PageLimit::MAX);
//! assert!(page.to_query_string().ends_with("&limit=500"));
//! ```
#![deny(missing_docs)]

mod client;
pub mod contract;
mod query;
mod reply;

pub use client::{Client, ClientError, RequestError, TransportError, TransportErrorKind};
pub use contract::{Endpoint, QueryParam, event_path};
pub use hyper::StatusCode;
pub use query::{EventsQuery, PageLimit, PagingError, follow_pages};
pub use reply::{ErrorResponse, Exchange, Failure, Reply};
