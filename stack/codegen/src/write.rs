//! Writing generated files so that a failure leaves the previous output untouched: everything
//! goes to a temporary directory beside the target, which then replaces it in two renames.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::CodegenError;

/// Replaces directory `dir` with exactly `files` (relative name → contents). On any error the
/// previous contents of `dir` stay as they were.
pub fn write_dir(dir: &Path, files: &BTreeMap<String, String>) -> Result<(), CodegenError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| CodegenError::Io { path, source }
    };
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let staging = parent.join(format!(".{name}.new-{}", std::process::id()));
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let result = (|| {
        std::fs::create_dir_all(&staging).map_err(io(&staging))?;
        for (rel, contents) in files {
            let path = staging.join(rel);
            if let Some(p) = path.parent() {
                std::fs::create_dir_all(p).map_err(io(p))?;
            }
            std::fs::write(&path, contents).map_err(io(&path))?;
        }
        if dir.exists() {
            std::fs::rename(dir, &old).map_err(io(dir))?;
        }
        if let Err(e) = std::fs::rename(&staging, dir) {
            let _ = std::fs::rename(&old, dir);
            return Err(io(dir)(e));
        }
        let _ = std::fs::remove_dir_all(&old);
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}
