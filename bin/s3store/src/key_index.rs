//! The on-disk ordered index of object keys that answers ListObjectsV2: a [`redb`] database
//! beside the object files, mapping each bucket's keys to (size, last modified, MD5).
//!
//! The object files are the truth and the index is derived from them. It lives on disk so the
//! store's memory does not grow with the number of objects: redb's page cache is bounded by
//! [`crate::StoreConfig::index_cache_bytes`], and nothing else is kept per object.
//!
//! - Writers update the index right after the object file is durable, still under the key's
//!   lock, so a listing never misses an acknowledged object and never shows a deleted one.
//!   These commits are not fsynced; every [`CHECKPOINT_EVERY`]th one is, which bounds what redb
//!   keeps in memory between durable commits.
//! - [`KeyIndex::close`] makes the index durable and writes [`CLEAN_MARKER`]. A start that finds
//!   the marker trusts the index (and removes the marker before serving); any other start (a
//!   crash, a kill, a data dir from an older store) rebuilds it from the object files.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

use redb::{Database, Durability, ReadableDatabase as _, TableDefinition, TableError};
use tracing::{info, warn};

use crate::disk;
use crate::listing::{self, ListPage, ListQuery};
use crate::names::{BucketName, hex, unhex};
use crate::record::ObjectMeta;

/// The index database, in the data dir.
pub(crate) const INDEX_FILE: &str = "index.redb";
/// Present only while the index is known to match the object files (between a clean close and
/// the next start).
pub(crate) const CLEAN_MARKER: &str = "index.closed-cleanly";
/// One commit in this many is durable (fsynced); the others are not (see the module docs).
pub(crate) const CHECKPOINT_EVERY: u64 = 1024;
/// Inserts per commit while rebuilding the index from the object files.
const REBUILD_BATCH: usize = 10_000;

/// A row: body size in bytes, last modified (ms since the epoch), MD5 of the body.
type Row = (u64, u64, [u8; 16]);

/// Receives each object file's bucket and header while the index is rebuilt.
pub(crate) type ObjectVisitor<'a> =
    dyn FnMut(&BucketName, ObjectMeta) -> Result<(), crate::StoreError> + 'a;

/// What a listing shows of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    /// The object key.
    pub key: String,
    /// Body length in bytes.
    pub size: u64,
    /// Milliseconds since the Unix epoch.
    pub last_modified_ms: u64,
    /// MD5 of the body (the ETag).
    pub md5: [u8; 16],
}

impl IndexEntry {
    /// The entry of an object, from its header; `None` if its ETag is not a hex MD5.
    pub fn of(meta: &ObjectMeta) -> Option<Self> {
        let md5 = unhex(&meta.etag)?.try_into().ok()?;
        Some(Self {
            key: meta.key.clone(),
            size: meta.size,
            last_modified_ms: meta.last_modified_ms,
            md5,
        })
    }

    /// The ETag as S3 shows it (lowercase hex, unquoted).
    pub fn etag(&self) -> String {
        hex(&self.md5)
    }

    fn row(&self) -> Row {
        (self.size, self.last_modified_ms, self.md5)
    }
}

/// Why the index could not be read or written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum IndexError {
    /// redb failed (I/O, corruption, a second process on the same file).
    #[error("key index: {0}")]
    Db(#[from] redb::Error),
    /// A file next to the index (the clean marker) could not be written or removed.
    #[error("key index marker {}: {source}", path.display())]
    Marker {
        /// The marker file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The index was closed (the store is shutting down).
    #[error("key index is closed")]
    Closed,
}

fn db_error(error: impl Into<redb::Error>) -> IndexError {
    IndexError::Db(error.into())
}

/// The name of a bucket's table.
fn table_name(bucket: &BucketName) -> String {
    format!("objects/{bucket}")
}

/// The ordered key index of every bucket of one data dir.
#[derive(Debug)]
pub(crate) struct KeyIndex {
    /// `None` once closed.
    db: RwLock<Option<Database>>,
    marker: PathBuf,
    commits: AtomicU64,
}

/// How the store found its key index at start (see [`crate::RunningStore::index_start`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexStart {
    /// The index had been closed cleanly and is used as it is (no object file was read).
    Trusted,
    /// The index was missing, unreadable or not closed cleanly, and was rebuilt from the
    /// headers of this many object files.
    Rebuilt {
        /// Object files indexed.
        objects: u64,
    },
}

impl KeyIndex {
    /// Opens the index of `data_dir`, rebuilding it unless it was closed cleanly. `objects`
    /// yields each bucket with the headers of its object files, read only when rebuilding.
    /// Blocking.
    pub fn open(
        data_dir: &Path,
        cache_bytes: usize,
        objects: impl FnOnce(&mut ObjectVisitor<'_>) -> Result<(), crate::StoreError>,
    ) -> Result<(Self, IndexStart), crate::StoreError> {
        let path = data_dir.join(INDEX_FILE);
        let marker = data_dir.join(CLEAN_MARKER);
        let builder = || {
            let mut builder = Database::builder();
            builder.set_cache_size(cache_bytes);
            builder
        };
        if marker.exists() {
            match builder().open(&path) {
                Ok(db) => {
                    // From here on a crash must lead to a rebuild.
                    disk::remove_durably(&marker).map_err(|source| crate::StoreError::Io {
                        path: marker.clone(),
                        source,
                    })?;
                    return Ok((Self::new(db, marker), IndexStart::Trusted));
                }
                Err(e) => {
                    warn!(error = %e, path = %path.display(), "key index unreadable; rebuilding")
                }
            }
        }
        Self::rebuild(builder(), &path, marker, objects)
    }

    fn new(db: Database, marker: PathBuf) -> Self {
        Self {
            db: RwLock::new(Some(db)),
            marker,
            commits: AtomicU64::new(0),
        }
    }

    fn rebuild(
        builder: redb::Builder,
        path: &Path,
        marker: PathBuf,
        objects: impl FnOnce(&mut ObjectVisitor<'_>) -> Result<(), crate::StoreError>,
    ) -> Result<(Self, IndexStart), crate::StoreError> {
        let index_error = |e: IndexError| crate::StoreError::Index(e.to_string());
        let io_error = |source| crate::StoreError::Io {
            path: path.to_path_buf(),
            source,
        };
        disk::remove_durably(&marker).map_err(io_error)?;
        disk::remove_durably(path).map_err(io_error)?;
        let db = builder.create(path).map_err(|e| index_error(db_error(e)))?;
        let index = Self::new(db, marker);
        let mut batch = Vec::with_capacity(1024);
        let mut total = 0u64;
        objects(&mut |bucket: &BucketName, meta: ObjectMeta| {
            batch.push((bucket.clone(), meta));
            if batch.len() == REBUILD_BATCH {
                total += index.insert_batch(&batch).map_err(index_error)?;
                batch.clear();
            }
            Ok(())
        })?;
        total += index.insert_batch(&batch).map_err(index_error)?;
        index.checkpoint().map_err(index_error)?;
        info!(objects = total, path = %path.display(), "key index rebuilt from the object files");
        Ok((index, IndexStart::Rebuilt { objects: total }))
    }

    /// Inserts headers of object files (rebuild), one non-durable commit.
    fn insert_batch(&self, batch: &[(BucketName, ObjectMeta)]) -> Result<u64, IndexError> {
        let mut inserted = 0;
        self.write(Durability::None, |txn| {
            for same_bucket in batch.chunk_by(|a, b| a.0 == b.0) {
                let name = table_name(&same_bucket[0].0);
                let mut table = txn
                    .open_table(TableDefinition::<&str, Row>::new(&name))
                    .map_err(db_error)?;
                for (_, meta) in same_bucket {
                    let Some(entry) = IndexEntry::of(meta) else {
                        warn!(key = %meta.key, "object with a non-MD5 ETag left out of the index");
                        continue;
                    };
                    table
                        .insert(entry.key.as_str(), entry.row())
                        .map_err(db_error)?;
                    inserted += 1;
                }
            }
            Ok(())
        })?;
        Ok(inserted)
    }

    /// Runs `f` in a write transaction and commits it with `durability`.
    fn write(
        &self,
        durability: Durability,
        f: impl FnOnce(&redb::WriteTransaction) -> Result<(), IndexError>,
    ) -> Result<(), IndexError> {
        let guard = self.db.read().unwrap_or_else(PoisonError::into_inner);
        let Some(db) = guard.as_ref() else {
            // Closed, so the marker is on disk; this change will not be in the index, so the
            // next start must rebuild it.
            drop(guard);
            disk::remove_durably(&self.marker).map_err(|source| IndexError::Marker {
                path: self.marker.clone(),
                source,
            })?;
            return Err(IndexError::Closed);
        };
        let mut txn = db.begin_write().map_err(db_error)?;
        txn.set_durability(durability).map_err(db_error)?;
        f(&txn)?;
        txn.commit().map_err(db_error)
    }

    /// The durability of the next writer's commit: every [`CHECKPOINT_EVERY`]th is durable.
    fn next_durability(&self) -> Durability {
        if (self.commits.fetch_add(1, Ordering::Relaxed) + 1).is_multiple_of(CHECKPOINT_EVERY) {
            Durability::Immediate
        } else {
            Durability::None
        }
    }

    /// Records a written object. Call with the key's lock held, after the file is durable.
    /// Blocking.
    pub fn insert(&self, bucket: &BucketName, entry: &IndexEntry) -> Result<(), IndexError> {
        let name = table_name(bucket);
        self.write(self.next_durability(), |txn| {
            let mut table = txn
                .open_table(TableDefinition::<&str, Row>::new(&name))
                .map_err(db_error)?;
            table
                .insert(entry.key.as_str(), entry.row())
                .map_err(db_error)?;
            Ok(())
        })
    }

    /// Forgets a deleted object. Call with the key's lock held, after the unlink is durable.
    /// Blocking.
    pub fn remove(&self, bucket: &BucketName, key: &str) -> Result<(), IndexError> {
        let name = table_name(bucket);
        self.write(self.next_durability(), |txn| {
            let mut table = txn
                .open_table(TableDefinition::<&str, Row>::new(&name))
                .map_err(db_error)?;
            table.remove(key).map_err(db_error)?;
            Ok(())
        })
    }

    /// Lists one page of `bucket` for `query`. Blocking (reads pages the cache does not hold).
    pub fn list(
        &self,
        bucket: &BucketName,
        query: &ListQuery<'_>,
    ) -> Result<ListPage<IndexEntry>, IndexError> {
        let guard = self.db.read().unwrap_or_else(PoisonError::into_inner);
        let db = guard.as_ref().ok_or(IndexError::Closed)?;
        let txn = db.begin_read().map_err(db_error)?;
        let name = table_name(bucket);
        let table = match txn.open_table(TableDefinition::<&str, Row>::new(&name)) {
            Ok(table) => table,
            // No object was ever written to this bucket.
            Err(TableError::TableDoesNotExist(_)) => {
                let none = std::iter::empty::<Result<(String, IndexEntry), IndexError>>();
                return listing::list_page(none, query);
            }
            Err(e) => return Err(db_error(e)),
        };
        let range = table
            .range::<&str>((query.start(), std::ops::Bound::Unbounded))
            .map_err(db_error)?;
        let entries = range.map(|item| {
            let (key, row) = item.map_err(db_error)?;
            let key = key.value().to_owned();
            let (size, last_modified_ms, md5) = row.value();
            let entry = IndexEntry {
                key: key.clone(),
                size,
                last_modified_ms,
                md5,
            };
            Ok((key, entry))
        });
        listing::list_page(entries, query)
    }

    /// Makes every commit so far durable. Blocking.
    pub fn checkpoint(&self) -> Result<(), IndexError> {
        self.write(Durability::Immediate, |_| Ok(()))
    }

    /// Makes the index durable, closes it and marks it clean, so the next start trusts it.
    /// Later writes fail with [`IndexError::Closed`] and remove the marker again (their objects
    /// are durable, so the next start rebuilds the index to include them). Blocking.
    pub fn close(&self) -> Result<(), IndexError> {
        let mut guard = self.db.write().unwrap_or_else(PoisonError::into_inner);
        let Some(db) = guard.take() else {
            return Ok(());
        };
        let mut txn = db.begin_write().map_err(db_error)?;
        txn.set_durability(Durability::Immediate)
            .map_err(db_error)?;
        txn.commit().map_err(db_error)?;
        db.close().map_err(db_error)?;
        disk::write_durably(
            &self.marker,
            b"the key index matches the object files\n",
            None,
        )
        .map_err(|source| IndexError::Marker {
            path: self.marker.clone(),
            source,
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket() -> BucketName {
        BucketName::parse("events").unwrap_or_else(|| panic!("valid bucket name"))
    }

    fn entry(key: &str) -> IndexEntry {
        IndexEntry {
            key: key.to_owned(),
            size: 3,
            last_modified_ms: 1_700_000_000_000,
            md5: [7; 16],
        }
    }

    fn all(index: &KeyIndex) -> Vec<String> {
        let query = ListQuery {
            prefix: "",
            delimiter: None,
            resume_after: None,
            max_keys: 1000,
        };
        index
            .list(&bucket(), &query)
            .unwrap_or_else(|e| panic!("{e}"))
            .objects
            .into_iter()
            .map(|e| e.key)
            .collect()
    }

    fn open(dir: &Path) -> (KeyIndex, IndexStart) {
        KeyIndex::open(dir, 1 << 20, |_| Ok(())).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_write_after_close_removes_the_clean_marker() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (index, _) = open(dir.path());
        index
            .insert(&bucket(), &entry("k1"))
            .unwrap_or_else(|e| panic!("{e}"));
        index.close().unwrap_or_else(|e| panic!("{e}"));
        assert!(dir.path().join(CLEAN_MARKER).exists());
        // A straggling writer (its object file is already durable) cannot be indexed any more:
        // the marker goes, so the next start rebuilds instead of trusting a stale index.
        assert!(matches!(
            index.insert(&bucket(), &entry("k2")),
            Err(IndexError::Closed)
        ));
        assert!(!dir.path().join(CLEAN_MARKER).exists());
        drop(index);
        let (_, start) = open(dir.path());
        assert_eq!(start, IndexStart::Rebuilt { objects: 0 });
    }

    #[test]
    fn many_non_durable_commits_stay_listed_and_survive_a_clean_close() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (index, _) = open(dir.path());
        let total = usize::try_from(CHECKPOINT_EVERY).unwrap_or(1024) * 2 + 5;
        let mut keys: Vec<String> = (0..total).map(|i| format!("k/{i:05}")).collect();
        for key in &keys {
            index
                .insert(&bucket(), &entry(key))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        index
            .remove(&bucket(), "k/00003")
            .unwrap_or_else(|e| panic!("{e}"));
        keys.remove(3);
        let page = all(&index);
        assert_eq!(page.len(), 1000);
        assert_eq!(page[..], keys[..1000]);
        index.close().unwrap_or_else(|e| panic!("{e}"));
        drop(index);
        let (index, start) = open(dir.path());
        assert_eq!(start, IndexStart::Trusted);
        assert_eq!(all(&index)[..], keys[..1000]);
    }
}
