//! Per-key mutual exclusion for writers: a fixed array of async mutexes, one chosen by the hash
//! of (bucket, key). Two writers of the same key always meet on the same mutex, so a
//! conditional write's check and its write happen as one step. Different keys rarely share a
//! shard; when they do they merely wait for each other.

use std::hash::{DefaultHasher, Hash, Hasher};

use tokio::sync::{Mutex, MutexGuard};

const SHARDS: usize = 256;

/// The lock table.
#[derive(Debug)]
pub(crate) struct KeyLocks {
    shards: Box<[Mutex<()>]>,
}

impl Default for KeyLocks {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(())).collect(),
        }
    }
}

impl KeyLocks {
    /// Waits for and holds the lock of `key` in `bucket` until the guard is dropped.
    pub async fn lock(&self, bucket: &str, key: &str) -> MutexGuard<'_, ()> {
        let mut hasher = DefaultHasher::new();
        (bucket, key).hash(&mut hasher);
        let index = usize::try_from(hasher.finish() % SHARDS as u64).unwrap_or(0);
        self.shards[index].lock().await
    }
}
