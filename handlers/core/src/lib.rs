//! Call-flow event core: event model, validation, ids, S3 key layout, index, continuation
//! tokens, the store over `aws-sdk-s3`, error codes and handler configuration.
//!
//! The storer and retriever Lambdas are thin layers over this crate; it is the one source of
//! the storage layout (see [`layout`]).
#![deny(missing_docs)]

pub mod config;
pub mod error;
pub mod http;
pub mod id;
pub mod idempotency;
pub mod index;
pub mod layout;
pub mod model;
pub mod query;
pub mod s3_http;
pub mod store;
pub mod telemetry;
pub mod token;
pub mod validate;
pub mod window;
pub mod wire;

pub use config::{BucketName, Config, ConfigError};
pub use error::{ApiError, ErrorCode, FieldError};
pub use id::{EventId, IdempotencyKey, IdempotencySource};
pub use idempotency::{Fingerprint, IdempotencyClaim, IdempotencyRecord};
pub use index::IndexKey;
pub use model::{CallEvent, CallId, Direction, EventType, PartyAddress, Principal, StoredEvent};
pub use query::{EventFilter, EventQuery};
pub use store::{EventStore, PutOutcome, QueryPage, StoreError, StoreOutcome};
pub use token::{Position, TokenError, TokenSigner};
pub use window::AcceptanceWindow;
