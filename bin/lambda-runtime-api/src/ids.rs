//! Identifiers: a function's name and an invocation's request id.

use std::fmt;

/// An invocation's request id (`Lambda-Runtime-Aws-Request-Id`): a random UUID, as Lambda's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(String);

impl RequestId {
    /// A fresh random id.
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// The id as sent in headers and paths.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A name Lambda accepts for a function: 1 to 64 of `A-Z a-z 0-9 - _`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FunctionName(String);

/// A function name Lambda would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a Lambda function name (1-64 of A-Z a-z 0-9 - _)")]
pub struct InvalidFunctionName(pub String);

impl FunctionName {
    /// Checks `name`.
    pub fn parse(name: &str) -> Result<Self, InvalidFunctionName> {
        let valid = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if valid {
            Ok(Self(name.to_owned()))
        } else {
            Err(InvalidFunctionName(name.to_owned()))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FunctionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_follow_lambda_rules() {
        assert!(FunctionName::parse("callflow-prod-event_storer").is_ok());
        for bad in ["", "has space", "dots.are.not", &"x".repeat(65)] {
            assert!(FunctionName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn request_ids_are_distinct_uuids() {
        let (a, b) = (RequestId::random(), RequestId::random());
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 36);
    }
}
