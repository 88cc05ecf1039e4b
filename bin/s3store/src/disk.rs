//! Where things live under the data dir, and durable file replacement.
//!
//! ```text
//! <data_dir>/buckets/<bucket>/bucket.json                 creation time
//! <data_dir>/buckets/<bucket>/objects/<aa>/<sha256(key)>  one object file (see `record`)
//! <data_dir>/buckets/<bucket>/objects/<aa>/.tmp-*         in-flight writes, removed at start
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::group_commit::GroupCommit;
use crate::names::{BucketName, ObjectKey};

/// Prefix of temporary files; anything starting with it is garbage after a crash.
pub(crate) const TMP_PREFIX: &str = ".tmp-";
/// The file recording a bucket's creation.
pub(crate) const BUCKET_MARKER: &str = "bucket.json";

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Paths of buckets and objects under one data dir.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    root: PathBuf,
}

impl Layout {
    /// A layout rooted at `data_dir`.
    pub fn new(data_dir: &Path) -> Self {
        Self {
            root: data_dir.to_path_buf(),
        }
    }

    /// The directory holding one directory per bucket.
    pub fn buckets_dir(&self) -> PathBuf {
        self.root.join("buckets")
    }

    /// The directory of one bucket.
    pub fn bucket_dir(&self, bucket: &BucketName) -> PathBuf {
        self.buckets_dir().join(bucket.as_str())
    }

    /// The directory under which a bucket's object files are sharded.
    pub fn objects_dir(&self, bucket: &BucketName) -> PathBuf {
        self.bucket_dir(bucket).join("objects")
    }

    /// The file of one object.
    pub fn object_path(&self, bucket: &BucketName, key: &ObjectKey) -> PathBuf {
        let stem = key.file_stem();
        self.objects_dir(bucket).join(&stem[..2]).join(stem)
    }
}

/// Creates `dir` (and missing parents) and makes each new entry durable by syncing its parent.
pub(crate) fn create_dir_durably(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dir_durably(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(e),
    }
    if let Some(parent) = dir.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Replaces `path` with `bytes` so that after a crash the file holds either the old or the new
/// content, never a mix: write a temp file in the same directory, make it durable, rename it over
/// `path`, make the rename durable. Returns only when the new content is durable.
///
/// Without `group` the file and then its directory are fsynced by this call alone; with it the
/// two flushes are shared with concurrent writers (each waits for a file-system sync that
/// started after its write, see [`GroupCommit::flush`]).
pub(crate) fn write_durably(
    path: &Path,
    bytes: &[u8],
    group: Option<&GroupCommit>,
) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "object path has no parent"))?;
    create_dir_durably(dir)?;
    let tmp = temp_path(dir, path);
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        file.write_all(bytes)?;
        match group {
            Some(group) => {
                drop(file);
                group.flush()?;
            }
            None => file.sync_all()?,
        }
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    match group {
        Some(group) => group.flush(),
        None => sync_dir(dir),
    }
}

/// A fresh temp file name beside `path` in `dir`.
fn temp_path(dir: &Path, path: &Path) -> PathBuf {
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("object");
    dir.join(format!(
        "{TMP_PREFIX}{file_name}-{}-{}",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Removes `path` durably; `Ok(false)` when it did not exist.
pub(crate) fn remove_durably(path: &Path) -> io::Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    }
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(true)
}

/// Fsyncs a directory so that renames and unlinks in it survive a crash.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_durably_replaces_and_leaves_no_temp_files() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("a/b/file");
        write_durably(&path, b"one", None)?;
        write_durably(&path, b"two", None)?;
        assert_eq!(fs::read(&path)?, b"two");
        let names: Vec<_> = fs::read_dir(dir.path().join("a/b"))?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()?;
        assert_eq!(names, vec![std::ffi::OsString::from("file")]);
        assert!(remove_durably(&path)?);
        assert!(!remove_durably(&path)?);
        Ok(())
    }

    #[test]
    fn object_paths_stay_under_the_bucket() {
        let layout = Layout::new(Path::new("/data"));
        let bucket = BucketName::parse("events").unwrap_or_else(|| panic!("valid name"));
        for key in ["../../../x", "a/../../b", "..", "/"] {
            let key = ObjectKey::parse(key).unwrap_or_else(|| panic!("valid key"));
            let path = layout.object_path(&bucket, &key);
            assert!(
                path.starts_with("/data/buckets/events/objects/"),
                "{}",
                path.display()
            );
            assert_eq!(path.components().count(), 7, "{}", path.display());
        }
    }
}
