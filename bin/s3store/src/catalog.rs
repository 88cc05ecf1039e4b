//! The in-memory index of buckets and object headers, rebuilt from the data dir at start.
//!
//! The index answers HEAD, listings and existence checks without touching the disk; object
//! bodies are read from their files. Every change goes to disk first (durably), then into the
//! index, while the writer holds the key's lock (see `locks`), so the index never claims an
//! object that is not on disk.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tracing::warn;

use crate::disk::{self, BUCKET_MARKER, Layout, TMP_PREFIX};
use crate::error::StoreError;
use crate::names::BucketName;
use crate::record::{self, ObjectMeta};

/// Object headers of one bucket, ordered like S3 lists them (by UTF-8 bytes of the key).
pub(crate) type ObjectIndex = BTreeMap<String, Arc<ObjectMeta>>;

/// One bucket: its name, creation time and index.
#[derive(Debug)]
pub(crate) struct Bucket {
    pub name: BucketName,
    pub created: SystemTime,
    objects: RwLock<ObjectIndex>,
}

impl Bucket {
    /// The header of `key`, if the object exists.
    pub fn get(&self, key: &str) -> Option<Arc<ObjectMeta>> {
        self.objects
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    /// Records a written object. Call only with the key's lock held, after the write is durable.
    pub fn insert(&self, meta: Arc<ObjectMeta>) {
        self.objects
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(meta.key.clone(), meta);
    }

    /// Forgets a deleted object. Call only with the key's lock held, after the unlink is durable.
    pub fn remove(&self, key: &str) {
        self.objects
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }

    /// Runs `f` over the index under a read lock.
    pub fn with_index<T>(&self, f: impl FnOnce(&ObjectIndex) -> T) -> T {
        f(&self.objects.read().unwrap_or_else(PoisonError::into_inner))
    }
}

#[derive(Serialize, Deserialize)]
struct BucketMarker {
    created_ms: u64,
}

/// All buckets of one data dir.
#[derive(Debug)]
pub(crate) struct Catalog {
    layout: Layout,
    buckets: RwLock<BTreeMap<BucketName, Arc<Bucket>>>,
    /// Serializes bucket creation (rare) so two creators cannot both write the marker.
    create_lock: tokio::sync::Mutex<()>,
}

impl Catalog {
    /// Opens `data_dir` (creating it if needed), removes leftover temp files and indexes every
    /// object header. Blocking: call from `spawn_blocking`.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let layout = Layout::new(data_dir);
        let buckets_dir = layout.buckets_dir();
        disk::create_dir_durably(&buckets_dir).map_err(io_at(&buckets_dir))?;
        let mut buckets = BTreeMap::new();
        for entry in fs::read_dir(&buckets_dir).map_err(io_at(&buckets_dir))? {
            let entry = entry.map_err(io_at(&buckets_dir))?;
            let Some(name) = entry.file_name().to_str().and_then(BucketName::parse) else {
                continue;
            };
            let marker = entry.path().join(BUCKET_MARKER);
            let Ok(bytes) = fs::read(&marker) else {
                warn!(path = %entry.path().display(), "directory without bucket marker ignored");
                continue;
            };
            let created = serde_json::from_slice::<BucketMarker>(&bytes)
                .map(|m| UNIX_EPOCH + Duration::from_millis(m.created_ms))
                .map_err(|e| StoreError::CorruptObject {
                    path: marker.clone(),
                    reason: e.to_string(),
                })?;
            let objects = index_objects(&layout.objects_dir(&name))?;
            let bucket = Bucket {
                name: name.clone(),
                created,
                objects: RwLock::new(objects),
            };
            buckets.insert(name, Arc::new(bucket));
        }
        Ok(Self {
            layout,
            buckets: RwLock::new(buckets),
            create_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// Paths under the data dir.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The bucket called `name`, if it exists.
    pub fn bucket(&self, name: &str) -> Option<Arc<Bucket>> {
        let name = BucketName::parse(name)?;
        self.buckets
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&name)
            .cloned()
    }

    /// All buckets in name order.
    pub fn buckets(&self) -> Vec<Arc<Bucket>> {
        self.buckets
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    /// Creates a bucket durably. `Ok(false)` when it already existed.
    pub async fn create_bucket(&self, name: &BucketName) -> Result<bool, StoreError> {
        let _guard = self.create_lock.lock().await;
        if self.bucket(name.as_str()).is_some() {
            return Ok(false);
        }
        let created = SystemTime::now();
        let objects_dir = self.layout.objects_dir(name);
        let marker_path = self.layout.bucket_dir(name).join(BUCKET_MARKER);
        let marker = serde_json::to_vec(&BucketMarker {
            created_ms: record::unix_millis(created),
        })
        .unwrap_or_default();
        let task_marker_path = marker_path.clone();
        tokio::task::spawn_blocking(move || {
            disk::create_dir_durably(&objects_dir)?;
            disk::write_durably(&task_marker_path, &marker)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
        .map_err(io_at(&marker_path))?;
        let bucket = Bucket {
            name: name.clone(),
            created: UNIX_EPOCH + Duration::from_millis(record::unix_millis(created)),
            objects: RwLock::new(ObjectIndex::new()),
        };
        self.buckets
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.clone(), Arc::new(bucket));
        Ok(true)
    }
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads the header of every object file under `objects_dir`, deleting temp leftovers.
fn index_objects(objects_dir: &Path) -> Result<ObjectIndex, StoreError> {
    let mut index = ObjectIndex::new();
    let shards = match fs::read_dir(objects_dir) {
        Ok(shards) => shards,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(index),
        Err(e) => return Err(io_at(objects_dir)(e)),
    };
    for shard in shards {
        let shard = shard.map_err(io_at(objects_dir))?.path();
        if !shard.is_dir() {
            continue;
        }
        for file in fs::read_dir(&shard).map_err(io_at(&shard))? {
            let file = file.map_err(io_at(&shard))?;
            let path = file.path();
            if file.file_name().to_string_lossy().starts_with(TMP_PREFIX) {
                let _ = fs::remove_file(&path);
                continue;
            }
            let handle = fs::File::open(&path).map_err(io_at(&path))?;
            let len = handle.metadata().map_err(io_at(&path))?.len();
            let meta = record::read_header(io::BufReader::new(handle), len).map_err(|e| {
                StoreError::CorruptObject {
                    path: path.clone(),
                    reason: e.to_string(),
                }
            })?;
            index.insert(meta.key.clone(), Arc::new(meta));
        }
    }
    Ok(index)
}
