//! Logical ids: the `name` in a Terraform address `type.name`.

use std::fmt;

use super::error::StackError;

/// A Terraform identifier naming one element of a stack (`events` in `aws_s3_bucket.events`).
///
/// Renaming a logical id replaces the real infrastructure behind it, so ids are chosen by the
/// stack author, checked, and snapshot-tested rather than derived from anything that may move.
/// ```
/// use callflow_dsl::LogicalId;
/// assert!(LogicalId::parse("event_storer").is_ok());
/// assert!(LogicalId::parse("9lives").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LogicalId(String);

impl LogicalId {
    /// Parses a Terraform identifier: a letter or `_` first, then letters, digits, `_` or `-`.
    pub fn parse(s: &str) -> Result<Self, StackError> {
        let mut chars = s.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if first_ok && rest_ok && s.len() <= 64 {
            Ok(Self(s.to_string()))
        } else {
            Err(StackError::InvalidId { id: s.to_string() })
        }
    }

    /// Wraps a string already reported as invalid, so synthesis can go on collecting errors.
    pub(crate) fn unchecked(s: &str) -> Self {
        Self(s.to_string())
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LogicalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
