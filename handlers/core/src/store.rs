//! The event store over `aws-sdk-s3`: conditional writes, single-GET reads, index listings and
//! paged queries with bounded read concurrency.

use std::collections::VecDeque;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use futures::{StreamExt, TryStreamExt};

use crate::config::{BucketName, StorageRetryPolicy};
use crate::id::EventId;
use crate::idempotency::{Fingerprint, IdempotencyClaim, IdempotencyRecord};
use crate::layout;
use crate::model::StoredEvent;
use crate::query::EventFilter;
use crate::token::Position;

/// Default number of concurrent GETs when a query reads many objects.
pub const DEFAULT_READ_CONCURRENCY: usize = 16;
/// Default number of objects a query page may read before it returns (possibly short) with a
/// token, so a sparse filter over a large range cannot run past the Lambda timeout.
pub const DEFAULT_SCAN_BUDGET: usize = 2_000;

/// The most keys S3 returns in one ListObjectsV2 page.
const MAX_LIST_KEYS: usize = 1_000;
const CONFLICT_RETRIES: usize = 5;

/// A storage failure, classified for the API.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Throttling, 5xx, timeouts or connection failures after the SDK's own retries.
    #[error("storage unavailable during {operation}: {detail}")]
    Unavailable {
        /// The S3 operation.
        operation: &'static str,
        /// What the SDK reported.
        detail: String,
    },
    /// Any other S3 error (access denied, missing bucket, ...): not worth retrying.
    #[error("storage error during {operation}: {detail}")]
    Rejected {
        /// The S3 operation.
        operation: &'static str,
        /// What the SDK reported.
        detail: String,
    },
    /// An object under `events/` that is not a stored event.
    #[error("object {key} is not a stored event: {reason}")]
    Corrupt {
        /// Its key.
        key: String,
        /// Why it does not parse.
        reason: String,
    },
}

/// The outcome of writing a new event.
#[derive(Debug, Clone, PartialEq)]
pub enum PutOutcome {
    /// The object was created (and its index entry written).
    Created,
    /// An object with this id exists already (an idempotent retry): here it is, and its index
    /// entry has been (re)written.
    AlreadyExists(Box<StoredEvent>),
}

/// The outcome of [`EventStore::store`]: what the request gets.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreOutcome {
    /// This request stored the event (answer 201).
    Created(StoredEvent),
    /// The same event was stored before, by this request's first attempt or a concurrent
    /// one: here it is as stored (answer 200).
    Replayed(StoredEvent),
    /// The key or sequence number stores another event: here it is; nothing was written.
    Conflict(Box<StoredEvent>),
}

/// One page of a query.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryPage {
    /// Matching events in (timestamp, eventId) order.
    pub items: Vec<StoredEvent>,
    /// Where the next page starts, if the range may hold more matches.
    pub next: Option<Position>,
    /// How many event objects this page read (for tests and logs).
    pub objects_read: usize,
}

/// The store: an S3 client and a bucket, built once per cold start.
#[derive(Debug, Clone)]
pub struct EventStore {
    client: Client,
    bucket: BucketName,
    read_concurrency: usize,
    scan_budget: usize,
}

impl EventStore {
    /// A store over `client` and `bucket` with default read concurrency and scan budget.
    ///
    /// The client's retries and timeouts are replaced by [`StorageRetryPolicy::default`], so
    /// every store retries the same documented way whoever built the client; use
    /// [`EventStore::with_retry_policy`] for another policy.
    pub fn new(client: Client, bucket: BucketName) -> Self {
        Self {
            client,
            bucket,
            read_concurrency: DEFAULT_READ_CONCURRENCY,
            scan_budget: DEFAULT_SCAN_BUDGET,
        }
        .with_retry_policy(&StorageRetryPolicy::default())
    }

    /// Replaces the S3 client's retry and timeout configuration by `policy`.
    pub fn with_retry_policy(mut self, policy: &StorageRetryPolicy) -> Self {
        let conf = policy.apply(self.client.config().to_builder()).build();
        self.client = Client::from_conf(conf);
        self
    }

    /// Sets how many GETs a query runs at once (at least 1).
    pub fn with_read_concurrency(mut self, n: usize) -> Self {
        self.read_concurrency = n.max(1);
        self
    }

    /// Sets how many objects one query page may read (at least 1).
    pub fn with_scan_budget(mut self, n: usize) -> Self {
        self.scan_budget = n.max(1);
        self
    }

    /// The bucket.
    pub fn bucket(&self) -> &BucketName {
        &self.bucket
    }

    /// Writes a new event with `If-None-Match: *`, then its index entry (at most 2 PUTs).
    /// When the id exists already, reads the stored event back instead of overwriting it.
    pub async fn put_new(&self, event: &StoredEvent) -> Result<PutOutcome, StoreError> {
        let key = layout::event_key(&event.event_id);
        let body = serde_json::to_vec(event).map_err(|e| StoreError::Corrupt {
            key: key.clone(),
            reason: e.to_string(),
        })?;
        let metadata = [
            ("callid", event.event.call_id.as_str()),
            ("eventtype", event.event.event_type.as_str()),
        ];
        if self.put_if_absent(&key, body, &metadata).await? {
            self.put_index_entry(event).await?;
            return Ok(PutOutcome::Created);
        }
        let existing = self
            .get(&event.event_id)
            .await?
            .ok_or_else(|| vanished_after_412(&key))?;
        self.put_index_entry(&existing).await?;
        Ok(PutOutcome::AlreadyExists(Box::new(existing)))
    }

    /// Stores `event` once per `claim` (see [`crate::idempotency`]), or with no claim once.
    ///
    /// With a claim: a conditional PUT of the claim's record holding `event`, then
    /// [`EventStore::put_new`] (3 PUTs for a first request, one more than without a key). A
    /// request whose claim exists already compares its [`Fingerprint`] with the event stored
    /// (or, when the first request died before storing it, the event the record holds, which
    /// it then stores): equal is a replay, different a conflict that writes nothing.
    pub async fn store(
        &self,
        event: &StoredEvent,
        claim: Option<&IdempotencyClaim>,
    ) -> Result<StoreOutcome, StoreError> {
        let Some(claim) = claim else {
            return self.write_event(event).await;
        };
        let record_key = claim.record_key();
        let record = IdempotencyRecord::new(event.clone());
        let body = serde_json::to_vec(&record).map_err(|e| StoreError::Corrupt {
            key: record_key.clone(),
            reason: e.to_string(),
        })?;
        if self.put_if_absent(&record_key, body, &[]).await? {
            return self.write_event(event).await;
        }
        let claimed = self
            .get_json::<IdempotencyRecord>(&record_key)
            .await?
            .ok_or_else(|| vanished_after_412(&record_key))?;
        self.settle_claim(&claimed, event).await
    }

    /// What a request that may not write (its timestamp is outside the acceptance window)
    /// learns from its claim: `None` when the claim was never made, else the outcome as for
    /// [`EventStore::store`]. Writes only to complete a first request that died between its
    /// record and its event.
    pub async fn lookup_claim(
        &self,
        event: &StoredEvent,
        claim: &IdempotencyClaim,
    ) -> Result<Option<StoreOutcome>, StoreError> {
        match self
            .get_json::<IdempotencyRecord>(&claim.record_key())
            .await?
        {
            None => Ok(None),
            Some(claimed) => self.settle_claim(&claimed, event).await.map(Some),
        }
    }

    /// Compares `request` with the event a claim stored (or must still store).
    async fn settle_claim(
        &self,
        claimed: &IdempotencyRecord,
        request: &StoredEvent,
    ) -> Result<StoreOutcome, StoreError> {
        let wanted = Fingerprint::of(&request.event);
        match self.get(&claimed.event.event_id).await? {
            Some(stored) if Fingerprint::of(&stored.event) == wanted => {
                // Heals an index entry lost with a crash after the event's PUT.
                self.put_index_entry(&stored).await?;
                Ok(StoreOutcome::Replayed(stored))
            }
            Some(stored) => Ok(StoreOutcome::Conflict(Box::new(stored))),
            None if Fingerprint::of(&claimed.event.event) == wanted => {
                self.write_event(&claimed.event).await
            }
            None => Ok(StoreOutcome::Conflict(Box::new(claimed.event.clone()))),
        }
    }

    /// [`EventStore::put_new`], judged against the request: an existing object with another
    /// fingerprint is a conflict.
    async fn write_event(&self, event: &StoredEvent) -> Result<StoreOutcome, StoreError> {
        Ok(match self.put_new(event).await? {
            PutOutcome::Created => StoreOutcome::Created(event.clone()),
            PutOutcome::AlreadyExists(existing)
                if Fingerprint::of(&existing.event) == Fingerprint::of(&event.event) =>
            {
                StoreOutcome::Replayed(*existing)
            }
            PutOutcome::AlreadyExists(existing) => StoreOutcome::Conflict(existing),
        })
    }

    /// A `PutObject` with `If-None-Match: *`: `true` when it created the object, `false`
    /// when one exists (412). Retries S3's 409 ConditionalRequestConflict (a concurrent
    /// conditional write of the same key in flight) until one writer wins.
    async fn put_if_absent(
        &self,
        key: &str,
        body: Vec<u8>,
        metadata: &[(&str, &str)],
    ) -> Result<bool, StoreError> {
        let mut attempt = 0;
        loop {
            let mut put = self
                .client
                .put_object()
                .bucket(self.bucket.as_str())
                .key(key)
                .if_none_match("*")
                .content_type("application/json");
            for (name, value) in metadata {
                put = put.metadata(*name, *value);
            }
            match put.body(ByteStream::from(body.clone())).send().await {
                Ok(_) => return Ok(true),
                Err(e) => match status_of(&e) {
                    Some(412) => return Ok(false),
                    Some(409) if attempt < CONFLICT_RETRIES => {
                        attempt += 1;
                        tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
                    }
                    _ => return Err(classify("PutObject", &e)),
                },
            }
        }
    }

    /// Writes the (empty) by-call index entry of an event; idempotent.
    pub async fn put_index_entry(&self, event: &StoredEvent) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(self.bucket.as_str())
            .key(layout::call_index_key(
                &event.event.call_id,
                &event.event_id,
            ))
            .body(ByteStream::from_static(b""))
            .send()
            .await
            .map_err(|e| classify("PutObject", &e))?;
        Ok(())
    }

    /// Reads one event by id: one GET. `None` when there is none.
    pub async fn get(&self, id: &EventId) -> Result<Option<StoredEvent>, StoreError> {
        // Not through `get_json`: one more future layer puts the retriever's `main` past
        // rustc's layout depth limit.
        let key = layout::event_key(id);
        let Some(bytes) = self.get_bytes(&key).await? else {
            return Ok(None);
        };
        parse_object(&key, &bytes.into_bytes())
    }

    /// One object parsed as JSON: one GET. `None` when there is none; an object that does
    /// not parse is [`StoreError::Corrupt`].
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let Some(bytes) = self.get_bytes(key).await? else {
            return Ok(None);
        };
        parse_object(key, &bytes.into_bytes())
    }

    /// The body of one object: one GET. `None` when there is none.
    async fn get_bytes(
        &self,
        key: &str,
    ) -> Result<Option<aws_sdk_s3::primitives::AggregatedBytes>, StoreError> {
        let out = match self
            .client
            .get_object()
            .bucket(self.bucket.as_str())
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) if status_of(&e) == Some(404) => return Ok(None),
            Err(e) => return Err(classify("GetObject", &e)),
        };
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| StoreError::Unavailable {
                operation: "GetObject",
                detail: e.to_string(),
            })?;
        Ok(Some(bytes))
    }

    /// One page of events matching `filter` after `after`, at most `limit` items.
    ///
    /// Candidates come from the by-call index when the filter names a call, else from the day
    /// prefixes of the range; both list in id (millisecond) order starting at the later of the
    /// range start and the cursor. Objects are read in batches that end on a millisecond
    /// boundary, so every event at or before the returned cursor has been considered.
    pub async fn query(
        &self,
        filter: &EventFilter,
        after: Option<Position>,
        limit: usize,
    ) -> Result<QueryPage, StoreError> {
        let limit = limit.max(1);
        let start = after.map_or(filter.from, |p| p.timestamp.max(filter.from));
        let start_ms = crate::id::unix_millis(start).unwrap_or(0);
        let end_ms = crate::id::unix_millis(filter.to).unwrap_or(u64::MAX);
        let mut lister = match &filter.call_id {
            Some(call) => {
                CandidateLister::call_index(layout::call_index_prefix(call), start_ms, end_ms)
            }
            None => CandidateLister::days(start, filter.to, start_ms, end_ms),
        };
        let batch_size = (limit + 1).clamp(8, 256);
        let mut matches: Vec<StoredEvent> = Vec::new();
        let mut considered: Option<Position> = None;
        let mut objects_read = 0;
        // Objects past the cursor: only these count against the budget, so a page that
        // re-reads the cursor's millisecond always makes progress.
        let mut objects_new = 0;
        let mut exhausted = false;
        loop {
            let batch = lister.next_batch(self, batch_size).await?;
            if batch.is_empty() {
                exhausted = true;
                break;
            }
            let events: Vec<Option<StoredEvent>> = futures::stream::iter(batch)
                .map(|id| async move { self.get(&id).await })
                .buffered(self.read_concurrency)
                .try_collect()
                .await?;
            for event in events.into_iter().flatten() {
                objects_read += 1;
                let pos = event.position();
                considered = considered.max(Some(pos));
                if after.is_some_and(|a| pos <= a) {
                    continue;
                }
                objects_new += 1;
                if filter.matches(&event) {
                    matches.push(event);
                }
            }
            if matches.len() > limit || objects_new >= self.scan_budget {
                break;
            }
        }
        matches.sort_by_key(StoredEvent::position);
        let next = if matches.len() > limit {
            matches.truncate(limit);
            matches.last().map(StoredEvent::position)
        } else if exhausted {
            None
        } else {
            considered.or(after)
        };
        Ok(QueryPage {
            items: matches,
            next,
            objects_read,
        })
    }

    /// One ListObjectsV2 page of at most `max_keys` keys: a query asks for about the page it
    /// needs, so its cost does not grow with the number of events under the prefix.
    async fn list_page(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        continuation: Option<&str>,
        max_keys: usize,
    ) -> Result<(Vec<String>, Option<String>), StoreError> {
        let max_keys = i32::try_from(max_keys.clamp(1, MAX_LIST_KEYS)).unwrap_or(1000);
        let out = self
            .client
            .list_objects_v2()
            .bucket(self.bucket.as_str())
            .prefix(prefix)
            .max_keys(max_keys)
            .set_start_after(start_after.map(str::to_owned))
            .set_continuation_token(continuation.map(str::to_owned))
            .send()
            .await
            .map_err(|e| classify("ListObjectsV2", &e))?;
        let keys = out
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect();
        let next = match out.is_truncated() {
            Some(true) => out.next_continuation_token().map(str::to_owned),
            _ => None,
        };
        Ok((keys, next))
    }
}

/// Lists candidate event ids in id order, from one call's index or a range of day prefixes.
struct CandidateLister {
    /// Prefixes still to list, in order; the first has `start_after` applied.
    prefixes: VecDeque<(String, ListKind)>,
    start_ms: u64,
    end_ms: u64,
    continuation: Option<String>,
    started: bool,
    buffer: VecDeque<EventId>,
    done: bool,
}

#[derive(Clone, Copy)]
enum ListKind {
    Day,
    CallIndex,
}

impl CandidateLister {
    fn call_index(prefix: String, start_ms: u64, end_ms: u64) -> Self {
        Self::new(
            VecDeque::from([(prefix, ListKind::CallIndex)]),
            start_ms,
            end_ms,
        )
    }

    fn days(
        start: time::OffsetDateTime,
        end: time::OffsetDateTime,
        start_ms: u64,
        end_ms: u64,
    ) -> Self {
        let mut prefixes = VecDeque::new();
        let mut day = layout::utc_day(start);
        // `end` is exclusive: a range ending at midnight does not need that day.
        let last = layout::utc_day(end - time::Duration::nanoseconds(1));
        while day <= last {
            prefixes.push_back((layout::day_prefix(day), ListKind::Day));
            match day.next_day() {
                Some(d) => day = d,
                None => break,
            }
        }
        Self::new(prefixes, start_ms, end_ms)
    }

    fn new(prefixes: VecDeque<(String, ListKind)>, start_ms: u64, end_ms: u64) -> Self {
        Self {
            prefixes,
            start_ms,
            end_ms,
            continuation: None,
            started: false,
            buffer: VecDeque::new(),
            done: false,
        }
    }

    /// Ensures the buffer holds at least one id unless the listing is over, listing pages of
    /// up to `page_size` keys.
    async fn fill(&mut self, store: &EventStore, page_size: usize) -> Result<(), StoreError> {
        while self.buffer.is_empty() && !self.done {
            let Some((prefix, kind)) = self.prefixes.front().cloned() else {
                self.done = true;
                break;
            };
            let start_after = (!self.started && self.continuation.is_none())
                .then(|| layout::start_after_millis(&prefix, self.start_ms));
            let (keys, next) = store
                .list_page(
                    &prefix,
                    start_after.as_deref(),
                    self.continuation.as_deref(),
                    page_size,
                )
                .await?;
            self.started = true;
            for key in keys {
                let id = match kind {
                    ListKind::Day => layout::event_id_from_event_key(&key),
                    ListKind::CallIndex => layout::event_id_from_index_key(&prefix, &key),
                };
                let Some(id) = id else {
                    tracing::warn!(%key, "skipping a key that is not an event id");
                    continue;
                };
                if id.unix_millis() > self.end_ms {
                    // Keys sort by time: nothing later in any prefix can be in range.
                    self.done = true;
                    break;
                }
                if id.unix_millis() >= self.start_ms {
                    self.buffer.push_back(id);
                }
            }
            if self.done {
                break;
            }
            self.continuation = next;
            if self.continuation.is_none() {
                self.prefixes.pop_front();
            }
        }
        Ok(())
    }

    /// Up to about `n` ids, extended so the batch ends on a millisecond boundary.
    async fn next_batch(
        &mut self,
        store: &EventStore,
        n: usize,
    ) -> Result<Vec<EventId>, StoreError> {
        let mut batch: Vec<EventId> = Vec::with_capacity(n);
        loop {
            self.fill(store, n).await?;
            let Some(&next) = self.buffer.front() else {
                break;
            };
            let full = batch.len() >= n;
            if full
                && batch
                    .last()
                    .is_some_and(|l| l.unix_millis() != next.unix_millis())
            {
                break;
            }
            batch.push(next);
            self.buffer.pop_front();
        }
        Ok(batch)
    }
}

/// An object's body parsed as JSON; one that does not parse is [`StoreError::Corrupt`].
fn parse_object<T: serde::de::DeserializeOwned>(
    key: &str,
    bytes: &[u8],
) -> Result<Option<T>, StoreError> {
    serde_json::from_slice(bytes)
        .map(Some)
        .map_err(|e| StoreError::Corrupt {
            key: key.to_owned(),
            reason: e.to_string(),
        })
}

/// An object that refused a conditional PUT (412: it exists) but cannot be read: transient.
fn vanished_after_412(key: &str) -> StoreError {
    StoreError::Unavailable {
        operation: "GetObject",
        detail: format!("{key} answered 412 to a conditional PUT but is not readable"),
    }
}

fn status_of<E, R>(e: &SdkError<E, R>) -> Option<u16>
where
    R: HasStatus,
{
    e.raw_response().map(HasStatus::status_code)
}

/// The HTTP status of a raw SDK response.
trait HasStatus {
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

/// Maps an SDK error (after its retries) to unavailable (retry later) or rejected.
fn classify<E, R>(operation: &'static str, e: &SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: HasStatus + std::fmt::Debug,
{
    let detail = match e.code() {
        Some(code) => format!("{code}: {}", e.message().unwrap_or("")),
        None => format!("{}", aws_sdk_s3::error::DisplayErrorContext(e)),
    };
    let transient = match e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(_) => {
            let status = status_of(e).unwrap_or(0);
            status >= 500
                || status == 429
                || matches!(
                    e.code(),
                    Some("SlowDown" | "Throttling" | "ThrottlingException" | "RequestTimeout")
                )
        }
        _ => false,
    };
    if transient {
        StoreError::Unavailable { operation, detail }
    } else {
        StoreError::Rejected { operation, detail }
    }
}
