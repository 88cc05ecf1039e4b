//! Errors of the store's Rust API (starting, creating buckets). Errors of S3 requests are
//! answered on the wire as S3 error documents instead.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

/// What went wrong while starting or driving a [`crate::RunningStore`].
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The listening socket could not be bound.
    #[error("cannot bind the S3 store to {addr}: {source}")]
    Bind {
        /// The address from [`crate::StoreConfig::bind`].
        addr: SocketAddr,
        /// The operating system's error.
        source: io::Error,
    },
    /// A file or directory under the data directory could not be read or written.
    #[error("S3 store I/O error at {}: {source}", path.display())]
    Io {
        /// The path the operation was about to touch.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// An object file under the data directory is not in the store's format.
    #[error("corrupt object file {}: {reason}", path.display())]
    CorruptObject {
        /// The offending file.
        path: PathBuf,
        /// Why it could not be decoded.
        reason: String,
    },
    /// A bucket name that S3 would reject (3..=63 chars of lowercase letters, digits, `-` and `.`).
    #[error("invalid bucket name {0:?}")]
    InvalidBucketName(String),
    /// The on-disk key index could not be opened, rebuilt or closed.
    #[error("S3 store key index: {0}")]
    Index(String),
    /// A blocking disk task panicked or was cancelled.
    #[error("background disk task failed: {0}")]
    Task(String),
}
