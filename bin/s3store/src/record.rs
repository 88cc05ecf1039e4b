//! The on-disk format of one object: one file holding a header and the body, so that data,
//! metadata and ETag are replaced together by a single atomic rename.
//!
//! Layout: `CFS3OBJ1` (8 bytes magic) · header length (u32 little endian) · header (JSON) · body.

use std::collections::BTreeMap;
use std::io::Read;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

const MAGIC: &[u8; 8] = b"CFS3OBJ1";
const PREFIX_LEN: usize = MAGIC.len() + 4;
/// Refuse headers larger than this when decoding (metadata is capped at 2 KiB by S3).
const MAX_HEADER_LEN: usize = 1 << 20;

/// Flexible checksums (base64, as S3 returns them) computed over the stored body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredChecksums {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32c: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc64nvme: Option<String>,
}

/// Everything about an object except its body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ObjectMeta {
    /// The S3 key (the file name is only its hash).
    pub key: String,
    /// Body length in bytes.
    pub size: u64,
    /// Lowercase hex MD5 of the body, without quotes.
    pub etag: String,
    /// Milliseconds since the Unix epoch.
    pub last_modified_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// User metadata (`x-amz-meta-*` without the prefix).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub checksums: StoredChecksums,
}

impl ObjectMeta {
    /// `last_modified_ms` as a time.
    pub fn last_modified(&self) -> SystemTime {
        system_time(self.last_modified_ms)
    }
}

/// Milliseconds since the Unix epoch as a time.
pub(crate) fn system_time(unix_millis: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(unix_millis)
}

/// Milliseconds since the epoch for `now`, saturating on clocks before 1970.
pub(crate) fn unix_millis(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Why bytes are not an object file.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RecordError {
    #[error("too short or wrong magic")]
    BadMagic,
    #[error("header length {0} out of range")]
    BadHeaderLength(usize),
    #[error("header is not valid JSON: {0}")]
    BadHeader(#[from] serde_json::Error),
    #[error("body is {actual} bytes, header says {expected}")]
    SizeMismatch { expected: u64, actual: u64 },
    #[error("read failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Serializes an object into the bytes of its file.
pub(crate) fn encode(meta: &ObjectMeta, body: &[u8]) -> Vec<u8> {
    // Serializing a struct of strings and maps cannot fail.
    let header = serde_json::to_vec(meta).unwrap_or_default();
    let header_len = u32::try_from(header.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(PREFIX_LEN + header.len() + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&header_len.to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(body);
    out
}

/// Splits the bytes of an object file into its header and the byte range of its body.
pub(crate) fn decode(bytes: &[u8]) -> Result<(ObjectMeta, std::ops::Range<usize>), RecordError> {
    let header_len = parse_prefix(bytes.get(..PREFIX_LEN).ok_or(RecordError::BadMagic)?)?;
    let body_start = PREFIX_LEN + header_len;
    let header = bytes
        .get(PREFIX_LEN..body_start)
        .ok_or(RecordError::BadHeaderLength(header_len))?;
    let meta: ObjectMeta = serde_json::from_slice(header)?;
    let actual = (bytes.len() - body_start) as u64;
    if actual != meta.size {
        return Err(RecordError::SizeMismatch {
            expected: meta.size,
            actual,
        });
    }
    Ok((meta, body_start..bytes.len()))
}

/// Reads only the header of an object file (used when indexing the data dir at start).
pub(crate) fn read_header(mut reader: impl Read, file_len: u64) -> Result<ObjectMeta, RecordError> {
    let mut prefix = [0u8; PREFIX_LEN];
    reader
        .read_exact(&mut prefix)
        .map_err(|_| RecordError::BadMagic)?;
    let header_len = parse_prefix(&prefix)?;
    let mut header = vec![0u8; header_len];
    reader.read_exact(&mut header)?;
    let meta: ObjectMeta = serde_json::from_slice(&header)?;
    let actual = file_len.saturating_sub((PREFIX_LEN + header_len) as u64);
    if actual != meta.size {
        return Err(RecordError::SizeMismatch {
            expected: meta.size,
            actual,
        });
    }
    Ok(meta)
}

fn parse_prefix(prefix: &[u8]) -> Result<usize, RecordError> {
    if prefix.len() < PREFIX_LEN || &prefix[..MAGIC.len()] != MAGIC {
        return Err(RecordError::BadMagic);
    }
    let mut len = [0u8; 4];
    len.copy_from_slice(&prefix[MAGIC.len()..PREFIX_LEN]);
    let header_len = usize::try_from(u32::from_le_bytes(len)).unwrap_or(usize::MAX);
    if header_len == 0 || header_len > MAX_HEADER_LEN {
        return Err(RecordError::BadHeaderLength(header_len));
    }
    Ok(header_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ObjectMeta {
        ObjectMeta {
            key: "events/2026/ü ../x".to_owned(),
            size: 5,
            etag: "5d41402abc4b2a76b9719d911017c592".to_owned(),
            last_modified_ms: 1_700_000_000_123,
            content_type: Some("application/json".to_owned()),
            metadata: BTreeMap::from([("call-id".to_owned(), "c1".to_owned())]),
            checksums: StoredChecksums {
                crc32: Some("NhCmhg==".to_owned()),
                ..StoredChecksums::default()
            },
        }
    }

    #[test]
    fn round_trip() {
        let bytes = encode(&sample(), b"hello");
        let (meta, body) = decode(&bytes)
            .map_err(|e| e.to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(meta, sample());
        assert_eq!(&bytes[body], b"hello");
        let header_only = read_header(&bytes[..], bytes.len() as u64).map_err(|e| e.to_string());
        assert_eq!(header_only, Ok(sample()));
    }

    #[test]
    fn truncated_file_is_rejected() {
        let bytes = encode(&sample(), b"hello");
        assert!(matches!(
            decode(&bytes[..bytes.len() - 1]),
            Err(RecordError::SizeMismatch { .. })
        ));
        assert!(matches!(decode(&bytes[..6]), Err(RecordError::BadMagic)));
        assert!(decode(b"not an object file at all").is_err());
    }
}
