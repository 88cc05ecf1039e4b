//! A record of every S3 operation the store served, for tests that assert access patterns
//! ("a get by id is exactly one GetObject", "a query listed only prefix X").

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

/// The S3 operations the store implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// `PUT /{bucket}`
    CreateBucket,
    /// `HEAD /{bucket}`
    HeadBucket,
    /// `GET /`
    ListBuckets,
    /// `PUT /{bucket}/{key}`
    PutObject,
    /// `GET /{bucket}/{key}`
    GetObject,
    /// `HEAD /{bucket}/{key}`
    HeadObject,
    /// `DELETE /{bucket}/{key}`
    DeleteObject,
    /// `GET /{bucket}?list-type=2`
    ListObjectsV2,
}

impl Operation {
    /// Every operation, in declaration order.
    pub const ALL: [Operation; 8] = [
        Operation::CreateBucket,
        Operation::HeadBucket,
        Operation::ListBuckets,
        Operation::PutObject,
        Operation::GetObject,
        Operation::HeadObject,
        Operation::DeleteObject,
        Operation::ListObjectsV2,
    ];

    /// The S3 API name, e.g. `"GetObject"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::CreateBucket => "CreateBucket",
            Operation::HeadBucket => "HeadBucket",
            Operation::ListBuckets => "ListBuckets",
            Operation::PutObject => "PutObject",
            Operation::GetObject => "GetObject",
            Operation::HeadObject => "HeadObject",
            Operation::DeleteObject => "DeleteObject",
            Operation::ListObjectsV2 => "ListObjectsV2",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One served request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// Which operation.
    pub operation: Operation,
    /// The bucket, for every operation except `ListBuckets`.
    pub bucket: Option<String>,
    /// The object key for object operations, the prefix for `ListObjectsV2` (`""` when the
    /// request gave none); `None` for bucket operations.
    pub target: Option<String>,
    /// The S3 error code returned (e.g. `"PreconditionFailed"`, `"SlowDown"`), `None` on success.
    pub error_code: Option<String>,
    /// How many keys a successful `ListObjectsV2` returned; `None` for other operations and
    /// failures.
    pub keys_listed: Option<usize>,
}

impl RequestRecord {
    /// Whether the request succeeded.
    pub fn succeeded(&self) -> bool {
        self.error_code.is_none()
    }
}

/// Cloneable handle on the store's request log. Holds the most recent
/// [`crate::StoreConfig::request_log_capacity`] records.
#[derive(Debug, Clone)]
pub struct RequestLog {
    inner: Arc<Mutex<LogState>>,
}

#[derive(Debug)]
struct LogState {
    records: VecDeque<RequestRecord>,
    capacity: usize,
}

impl RequestLog {
    /// An empty log keeping at most `capacity` records (oldest dropped first).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            inner: Arc::new(Mutex::new(LogState {
                records: VecDeque::new(),
                capacity,
            })),
        }
    }

    /// All records currently held, oldest first.
    pub fn snapshot(&self) -> Vec<RequestRecord> {
        self.lock().records.iter().cloned().collect()
    }

    /// Forgets all records.
    pub fn clear(&self) {
        self.lock().records.clear();
    }

    /// How many held records are of `operation`.
    pub fn count(&self, operation: Operation) -> usize {
        self.lock()
            .records
            .iter()
            .filter(|r| r.operation == operation)
            .count()
    }

    pub(crate) fn push(&self, record: RequestRecord) {
        let mut state = self.lock();
        if state.capacity == 0 {
            return;
        }
        while state.records.len() >= state.capacity {
            state.records.pop_front();
        }
        state.records.push_back(record);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LogState> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(operation: Operation) -> RequestRecord {
        RequestRecord {
            operation,
            bucket: Some("b".to_owned()),
            target: None,
            error_code: None,
            keys_listed: None,
        }
    }

    #[test]
    fn keeps_the_most_recent_records() {
        let log = RequestLog::with_capacity(2);
        log.push(record(Operation::PutObject));
        log.push(record(Operation::GetObject));
        log.push(record(Operation::HeadObject));
        let ops: Vec<_> = log.snapshot().into_iter().map(|r| r.operation).collect();
        assert_eq!(ops, vec![Operation::GetObject, Operation::HeadObject]);
        assert_eq!(log.count(Operation::HeadObject), 1);
        log.clear();
        assert!(log.snapshot().is_empty());
    }
}
