//! The facts the Callflow stack and the Callflow handlers share about a deployment, written
//! once: which handler binaries exist, which environment variables each reads (the stack sets
//! exactly these; each handler's `Config::from_lookup` reads only these), the prefixes of
//! the S3 key layout (the handlers write under them; the stack's IAM scopes and lifecycle rules
//! are computed from them), and the API Gateway stage's name and access-log format ([`stage`]:
//! the stack deploys them, `callflow dev` serves the same).
//!
//! The crate has no dependencies, so the stack can use it without linking the handlers' AWS
//! SDK, and the handlers and `callflow dev` without the stack.
//!
//! ```
//! use callflow_deployment::{Handler, env};
//! assert_eq!(Handler::EventStorer.binary_name(), "callflow-event-storer");
//! assert!(Handler::EventRetriever.environment().iter().any(|v| v.name == env::TOKEN_SIGNING_KEY));
//! ```
#![deny(missing_docs)]

pub mod env;
pub mod key_layout;
pub mod stage;

pub use env::{EnvVar, SetBy};

/// One of the service's three Lambda handlers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Handler {
    /// The TOKEN authorizer.
    Authorizer,
    /// `POST /events`.
    EventStorer,
    /// `GET /events`, `GET /events/{eventId}`.
    EventRetriever,
}

impl Handler {
    /// Every handler, in a fixed order.
    pub const ALL: [Handler; 3] = [Self::Authorizer, Self::EventStorer, Self::EventRetriever];

    /// Short name, e.g. `event-storer`: the spec's `x-callflow-lambda` value and the suffix of
    /// the deployed function's name.
    pub const fn short_name(self) -> &'static str {
        match self {
            Self::Authorizer => "authorizer",
            Self::EventStorer => "event-storer",
            Self::EventRetriever => "event-retriever",
        }
    }

    /// Crate and binary name, e.g. `callflow-event-storer`; the Lambda zip is
    /// `target/lambda/<binary>/bootstrap.zip`.
    pub const fn binary_name(self) -> &'static str {
        match self {
            Self::Authorizer => "callflow-authorizer",
            Self::EventStorer => "callflow-event-storer",
            Self::EventRetriever => "callflow-event-retriever",
        }
    }

    /// The handler whose [`short_name`](Self::short_name) is `name`.
    pub fn from_short_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.short_name() == name)
    }

    /// Every environment variable the handler reads, and who sets it.
    pub fn environment(self) -> Vec<EnvVar> {
        let groups = match self {
            Self::Authorizer => env::AUTHORIZER,
            Self::EventStorer => env::EVENT_STORER,
            Self::EventRetriever => env::EVENT_RETRIEVER,
        };
        groups.iter().flat_map(|g| g.iter().copied()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_binaries_are_prefixed() {
        for h in Handler::ALL {
            assert_eq!(Handler::from_short_name(h.short_name()), Some(h));
            assert_eq!(h.binary_name(), format!("callflow-{}", h.short_name()));
        }
        assert_eq!(Handler::from_short_name("storer"), None);
    }

    #[test]
    fn each_variable_is_listed_once_per_handler() {
        for h in Handler::ALL {
            let mut names: Vec<_> = h.environment().iter().map(|v| v.name).collect();
            let n = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), n, "{h:?} lists a variable twice");
        }
    }
}
