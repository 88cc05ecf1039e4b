//! The buckets of one data dir and the ordered key index of their objects.
//!
//! Bucket names and creation times are kept in memory (there are few). Objects are not: their
//! headers are read from their files (HEAD, GET, conditional writes) and listings come from the
//! on-disk [`KeyIndex`], so memory does not grow with the number of stored objects.

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
use crate::key_index::{IndexStart, KeyIndex, ObjectVisitor};
use crate::names::BucketName;
use crate::record::{self, ObjectMeta};

/// One bucket: its name and creation time.
#[derive(Debug)]
pub(crate) struct Bucket {
    pub name: BucketName,
    pub created: SystemTime,
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
    index: KeyIndex,
    index_start: IndexStart,
}

impl Catalog {
    /// Opens `data_dir` (creating it if needed), removes leftover temp files and opens the key
    /// index, rebuilding it from the object files unless it was closed cleanly. Blocking: call
    /// from `spawn_blocking`.
    pub fn open(data_dir: &Path, index_cache_bytes: usize) -> Result<Self, StoreError> {
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
            let bucket = Bucket {
                name: name.clone(),
                created,
            };
            buckets.insert(name, Arc::new(bucket));
        }
        for name in buckets.keys() {
            for_each_object_file(&layout.objects_dir(name), |_| Ok(()))?;
        }
        let (index, opened) = KeyIndex::open(data_dir, index_cache_bytes, |visit| {
            read_object_headers(&layout, buckets.keys(), visit)
        })?;
        Ok(Self {
            layout,
            buckets: RwLock::new(buckets),
            create_lock: tokio::sync::Mutex::new(()),
            index,
            index_start: opened,
        })
    }

    /// The ordered index of object keys.
    pub fn index(&self) -> &KeyIndex {
        &self.index
    }

    /// Whether the index was trusted or rebuilt at start.
    pub fn index_start(&self) -> IndexStart {
        self.index_start
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
            disk::write_durably(&task_marker_path, &marker, None)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
        .map_err(io_at(&marker_path))?;
        let bucket = Bucket {
            name: name.clone(),
            created: UNIX_EPOCH + Duration::from_millis(record::unix_millis(created)),
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

/// Calls `visit` with the path of every object file under `objects_dir`, deleting the temp
/// files of writes a crash interrupted.
fn for_each_object_file(
    objects_dir: &Path,
    mut visit: impl FnMut(&Path) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let shards = match fs::read_dir(objects_dir) {
        Ok(shards) => shards,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
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
            visit(&path)?;
        }
    }
    Ok(())
}

/// Reads the header of every object file of `buckets` (for rebuilding the key index).
fn read_object_headers<'b>(
    layout: &Layout,
    buckets: impl Iterator<Item = &'b BucketName>,
    visit: &mut ObjectVisitor<'_>,
) -> Result<(), StoreError> {
    for bucket in buckets {
        for_each_object_file(&layout.objects_dir(bucket), |path| {
            let meta = read_object_header(path)?.ok_or_else(|| StoreError::CorruptObject {
                path: path.to_path_buf(),
                reason: "vanished while the store was starting".to_owned(),
            })?;
            visit(bucket, meta)
        })?;
    }
    Ok(())
}

/// The header of the object file at `path`; `None` when there is no such file.
pub(crate) fn read_object_header(path: &Path) -> Result<Option<ObjectMeta>, StoreError> {
    let handle = match fs::File::open(path) {
        Ok(handle) => handle,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_at(path)(e)),
    };
    let len = handle.metadata().map_err(io_at(path))?.len();
    record::read_header(io::BufReader::new(handle), len)
        .map(Some)
        .map_err(|e| StoreError::CorruptObject {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
}
