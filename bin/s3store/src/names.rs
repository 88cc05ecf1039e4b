//! Bucket names and object keys, parsed once at the boundary.

use std::fmt;

use sha2::{Digest, Sha256};

/// Longest object key S3 accepts, in UTF-8 bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// A bucket name that S3 accepts (it doubles as a directory name under the data dir).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BucketName(String);

impl BucketName {
    /// Parses a bucket name with the same rules as S3 (and as `s3s` applies to requests).
    pub fn parse(name: &str) -> Option<Self> {
        s3s::path::check_bucket_name(name).then(|| Self(name.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BucketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An S3 object key: 1..=1024 bytes of UTF-8, any characters (including `/`, `..`, spaces).
///
/// Keys never become paths directly: the file of an object is named by the SHA-256 of its key
/// (see [`ObjectKey::file_stem`]) and the key itself is stored inside the file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// Parses a key; `None` when it is empty or longer than [`MAX_KEY_BYTES`].
    pub fn parse(key: &str) -> Option<Self> {
        (!key.is_empty() && key.len() <= MAX_KEY_BYTES).then(|| Self(key.to_owned()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The file name of this key's object: lowercase hex SHA-256 of the key (64 characters,
    /// only `[0-9a-f]`, so it can never escape its directory).
    pub fn file_stem(&self) -> String {
        hex(&Sha256::digest(self.0.as_bytes()))
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lowercase hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Inverse of [`hex`]; `None` for odd length or non-hex digits.
pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let hi = char::from(pair[0]).to_digit(16)?;
            let lo = char::from(pair[1]).to_digit(16)?;
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stem_is_plain_hex_for_hostile_keys() {
        for key in ["../../etc/passwd", "a/../../b", "/abs", "sp ace/ü/🎉", ".."] {
            let stem = ObjectKey::parse(key)
                .map(|k| k.file_stem())
                .unwrap_or_default();
            assert_eq!(stem.len(), 64, "{key}");
            assert!(stem.bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
        }
    }

    #[test]
    fn key_length_limits() {
        assert!(ObjectKey::parse("").is_none());
        assert!(ObjectKey::parse(&"k".repeat(MAX_KEY_BYTES)).is_some());
        assert!(ObjectKey::parse(&"k".repeat(MAX_KEY_BYTES + 1)).is_none());
    }

    #[test]
    fn hex_round_trip() {
        let bytes = b"\x00\x7f\xffabc";
        assert_eq!(unhex(&hex(bytes)).as_deref(), Some(&bytes[..]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }

    #[test]
    fn bucket_names_follow_s3_rules() {
        assert!(BucketName::parse("events-dev").is_some());
        assert!(BucketName::parse("Events").is_none());
        assert!(BucketName::parse("..").is_none());
        assert!(BucketName::parse("a").is_none());
    }
}
