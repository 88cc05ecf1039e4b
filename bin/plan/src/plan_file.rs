//! Plans made elsewhere (`callflow plan --plan-file FILE`): a `terraform show -json` document,
//! or a binary plan file (`terraform plan -out=FILE`) that the terraform CLI shows as JSON.

use std::path::{Path, PathBuf};

use crate::document::{DocumentError, PlanDocument};
use crate::terraform::{TerraformCli, TerraformError};

/// Why a saved plan could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    /// The file could not be read.
    #[error("cannot read the plan file {path}: {source}. Check the path")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system error.
        source: std::io::Error,
    },
    /// The file is JSON but not a plan document.
    #[error(
        "{path} is not a terraform plan document: {source}. Pass `terraform show -json <planfile>` output or the binary plan file itself"
    )]
    Document {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: DocumentError,
    },
    /// A binary plan file, and terraform could not show it.
    #[error(
        "{path} is a binary plan file and terraform could not show it: {source}. Run from the directory the plan was made in (terraform needs its initialized providers), or pass `terraform show -json` output instead"
    )]
    Terraform {
        /// The file.
        path: PathBuf,
        /// What terraform said.
        source: TerraformError,
    },
}

/// Whether `bytes` look like JSON (the first non-blank byte is `{`) rather than a binary plan
/// (a zip archive).
pub fn is_json(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{')
}

/// Reads the plan in `path`: JSON is parsed directly; anything else is taken as a binary plan
/// and shown with `terraform show -json` (terraform located by `terraform`, run in the current
/// directory, which must be the one the plan was made in when the plan needs providers).
pub fn read_plan_file(
    path: &Path,
    terraform: impl FnOnce() -> Result<TerraformCli, TerraformError>,
) -> Result<PlanDocument, PlanFileError> {
    let bytes = std::fs::read(path).map_err(|source| PlanFileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if is_json(&bytes) {
        let text = String::from_utf8_lossy(&bytes);
        return PlanDocument::from_json(&text).map_err(|source| PlanFileError::Document {
            path: path.to_path_buf(),
            source,
        });
    }
    let wrap = |source| PlanFileError::Terraform {
        path: path.to_path_buf(),
        source,
    };
    let cli = terraform().map_err(wrap)?;
    let absolute = std::path::absolute(path).map_err(|source| PlanFileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    cli.show_json(Path::new("."), &absolute).map_err(wrap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_recognised_by_its_first_byte() {
        assert!(is_json(b"  \n{\"format_version\":\"1.2\"}"));
        assert!(!is_json(b"PK\x03\x04"));
        assert!(!is_json(b""));
    }
}
