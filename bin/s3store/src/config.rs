//! How a store is started.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

/// Configuration of [`crate::RunningStore::start`].
///
/// Build it with a struct literal and `..StoreConfig::default()` for the extras.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Directory holding the buckets and objects; created if missing. One store at a time may
    /// use it (the per-key locks live in the process). Default: `./s3store-data`.
    pub data_dir: PathBuf,
    /// Address to listen on. Default: `127.0.0.1:0` (any free port; see
    /// [`crate::RunningStore::local_addr`]).
    pub bind: SocketAddr,
    /// The one access key id that requests must be signed with (SigV4). Default: `callflow-local`.
    pub access_key: String,
    /// The secret key for [`StoreConfig::access_key`]. Default: `callflow-local-secret`.
    pub secret_key: String,
    /// How many recent requests the request log keeps (oldest dropped first); 0 disables it.
    /// Default: 100,000.
    pub request_log_capacity: usize,
    /// Seed of the fault injector's random choices. Default: 0.
    pub fault_seed: u64,
    /// Memory for the page cache of the on-disk key index, in bytes: the store's memory use
    /// does not grow with the number of objects beyond this. Default: 4 MiB.
    pub index_cache_bytes: usize,
    /// Share file-system flushes between concurrent writes (group commit, see the crate docs):
    /// a PUT is still acknowledged only once its object is durable, but concurrent PUTs wait
    /// for one `syncfs` together instead of two `fsync`s each. Default: `true` where the
    /// platform has `syncfs` (Linux); `false` keeps one object's `fsync`s to itself.
    pub group_commit: bool,
}

impl StoreConfig {
    /// The defaults with `data_dir` set.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            ..Self::default()
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("s3store-data"),
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            access_key: "callflow-local".to_owned(),
            secret_key: "callflow-local-secret".to_owned(),
            request_log_capacity: 100_000,
            fault_seed: 0,
            index_cache_bytes: 4 << 20,
            group_commit: crate::group_commit::GroupCommit::available(),
        }
    }
}
