//! Embedded S3-compatible object store (an [`s3s`] backend): per-key locking, durable
//! conditional writes, request log, fault injection.
//!
//! The store serves the operations the Callflow handlers use — CreateBucket, HeadBucket,
//! ListBuckets, PutObject (with `If-None-Match: *` / `If-Match`), GetObject, HeadObject,
//! DeleteObject, ListObjectsV2 — over HTTP/1.1 with SigV4 checked and path-style addressing.
//!
//! Each object is one file (header + body) replaced by write-temp, fsync, rename, fsync-dir;
//! a PUT is acknowledged only after that. With group commit (the default on Linux,
//! [`StoreConfig::group_commit`]) the two flushes are shared: concurrent PUTs write their
//! temp files, wait together for one `syncfs` of the file system, rename, and wait together
//! for one more, so under load many PUTs cost two flushes in all, with the same guarantee. A conditional PUT checks and writes under its key's
//! lock, so concurrent conditional creates of one key yield exactly one winner. Listings come
//! from an ordered key index on disk (redb, derived from the object files and rebuilt from them
//! after a crash), so memory stays flat however many objects are stored.
//!
//! ```no_run
//! # async fn demo() -> Result<(), callflow_s3store::StoreError> {
//! use callflow_s3store::{RunningStore, StoreConfig};
//!
//! let store = RunningStore::start(StoreConfig::new("/tmp/s3store")).await?;
//! store.ensure_bucket("events").await?;
//! println!("S3 endpoint: {}", store.endpoint());
//! store.shutdown().await;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod backend;
mod catalog;
mod config;
mod disk;
mod error;
mod faults;
mod group_commit;
mod key_index;
mod listing;
mod locks;
mod names;
mod record;
mod request_log;
#[cfg(feature = "sdk-client")]
mod sdk;
mod server;

pub use config::StoreConfig;
pub use error::StoreError;
pub use faults::{FaultError, FaultInjector, FaultPolicy};
pub use group_commit::GroupCommitStats;
pub use key_index::IndexStart;
pub use names::{BucketName, MAX_KEY_BYTES, ObjectKey};
pub use request_log::{Operation, RequestLog, RequestRecord};
pub use server::RunningStore;
