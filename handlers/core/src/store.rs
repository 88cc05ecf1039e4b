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
use crate::index::{self, EntryFilter, EntryName, IndexKey};
use crate::layout;
use crate::model::{EventType, StoredEvent};
use crate::query::EventFilter;
use crate::token::Position;

/// Default number of concurrent GETs when a query reads many objects.
pub const DEFAULT_READ_CONCURRENCY: usize = 16;
/// Default number of objects a query page may read before it returns (possibly short) with a
/// token, so a sparse filter over a large range cannot run past the Lambda timeout.
pub const DEFAULT_SCAN_BUDGET: usize = 2_000;
/// Default number of ListObjectsV2 requests one query page may make before it returns
/// (possibly short) with a token: 200 pages list up to 200,000 index keys.
pub const DEFAULT_LIST_BUDGET: usize = 200;

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
    /// How many ListObjectsV2 requests this page made (for tests and logs).
    pub list_requests: usize,
}

/// Which listing a query takes its candidates from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryPlan {
    /// `events/` day prefixes: every event of the range is read (a bare time range).
    Days,
    /// One call's by-call index (a `callId` filter).
    CallIndex,
    /// The by-type index: only entries whose names admit the filter are read.
    TypeIndex,
}

impl QueryPlan {
    /// The plan [`EventStore::query`] takes for `filter`.
    pub fn for_filter(filter: &EventFilter) -> Self {
        if filter.call_id.is_some() {
            QueryPlan::CallIndex
        } else if index::serves(filter) {
            QueryPlan::TypeIndex
        } else {
            QueryPlan::Days
        }
    }
}

/// Progress of [`EventStore::backfill`]: the last event indexed and the counts so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackfillProgress {
    /// The last event whose entries are written; a resumed backfill starts after it.
    pub last: Option<EventId>,
    /// Events indexed so far.
    pub events: usize,
    /// Keys under `events/` that are not event objects, skipped.
    pub skipped: usize,
}

/// The store: an S3 client and a bucket, built once per cold start.
#[derive(Debug, Clone)]
pub struct EventStore {
    client: Client,
    bucket: BucketName,
    index_key: IndexKey,
    read_concurrency: usize,
    scan_budget: usize,
    list_budget: usize,
}

impl EventStore {
    /// A store over `client` and `bucket` with default read concurrency and budgets;
    /// `index_key` computes the party digests of the by-type index.
    ///
    /// The client's retries and timeouts are replaced by [`StorageRetryPolicy::default`], so
    /// every store retries the same documented way whoever built the client; use
    /// [`EventStore::with_retry_policy`] for another policy.
    pub fn new(client: Client, bucket: BucketName, index_key: IndexKey) -> Self {
        Self {
            client,
            bucket,
            index_key,
            read_concurrency: DEFAULT_READ_CONCURRENCY,
            scan_budget: DEFAULT_SCAN_BUDGET,
            list_budget: DEFAULT_LIST_BUDGET,
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

    /// Sets how many ListObjectsV2 requests one query page may make (at least 1).
    pub fn with_list_budget(mut self, n: usize) -> Self {
        self.list_budget = n.max(1);
        self
    }

    /// The bucket.
    pub fn bucket(&self) -> &BucketName {
        &self.bucket
    }

    /// Writes a new event with `If-None-Match: *`, then its two index entries (at most 3 PUTs).
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

    /// Writes the (empty) index entries of an event, by call and by type, both at once;
    /// idempotent (the same event always has the same two keys).
    pub async fn put_index_entry(&self, event: &StoredEvent) -> Result<(), StoreError> {
        let by_call = layout::call_index_key(&event.event.call_id, &event.event_id);
        let by_type = layout::type_index_key(
            &event.event.event_type,
            &EntryName::of(event, &self.index_key),
        );
        futures::future::try_join(self.put_empty(by_call), self.put_empty(by_type)).await?;
        Ok(())
    }

    /// An empty object at `key` (an index entry).
    async fn put_empty(&self, key: String) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(self.bucket.as_str())
            .key(key)
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
    /// Candidates come from the listing [`QueryPlan::for_filter`] picks; every listing is in
    /// id (millisecond) order starting at the later of the range start and the cursor.
    /// Objects are read in batches that end on a millisecond boundary, so every event at or
    /// before the returned cursor has been considered. A page is short only at the end of the
    /// range, or when it spent its budget of reads or LIST requests first (then it carries a
    /// token).
    pub async fn query(
        &self,
        filter: &EventFilter,
        after: Option<Position>,
        limit: usize,
    ) -> Result<QueryPage, StoreError> {
        self.query_with(QueryPlan::for_filter(filter), filter, after, limit)
            .await
    }

    /// [`EventStore::query`] from a given listing; [`QueryPlan::Days`] answers any filter
    /// (it reads every event of the range), the index plans only their own filters. For
    /// comparisons and for ranges stored before the by-type index existed.
    pub async fn query_with(
        &self,
        plan: QueryPlan,
        filter: &EventFilter,
        after: Option<Position>,
        limit: usize,
    ) -> Result<QueryPage, StoreError> {
        let limit = limit.max(1);
        let start = after.map_or(filter.from, |p| p.timestamp.max(filter.from));
        let start_ms = crate::id::unix_millis(start).unwrap_or(0);
        let end_ms = crate::id::unix_millis(filter.to).unwrap_or(u64::MAX);
        let source = match (plan, &filter.call_id) {
            (QueryPlan::CallIndex, Some(call)) => Source::Call(layout::call_index_prefix(call)),
            (QueryPlan::TypeIndex, _) => Source::Types {
                event_type: filter.event_type.clone(),
                admit: EntryFilter::of(filter, &self.index_key),
            },
            _ => Source::Days,
        };
        let mut lister = CandidateLister::new(source, start, filter.to, start_ms, end_ms);
        let batch_size = (limit + 1).clamp(8, 256);
        let mut matches: Vec<StoredEvent> = Vec::new();
        let mut considered: Option<Position> = None;
        let mut objects_read = 0;
        // Objects past the cursor: only these count against the budget, so a page that
        // re-reads the cursor's millisecond always makes progress.
        let mut objects_new = 0;
        let mut exhausted = false;
        let mut stopped_at: Option<Position> = None;
        loop {
            let batch = lister.next_batch(self, batch_size, after).await?;
            let ids = match batch {
                Batch::Ids(ids) => ids,
                Batch::Exhausted => {
                    exhausted = true;
                    break;
                }
                Batch::BudgetSpent { ids, through } => {
                    stopped_at = Some(through);
                    ids
                }
            };
            let events: Vec<Option<StoredEvent>> = futures::stream::iter(ids)
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
            if stopped_at.is_some() || matches.len() > limit || objects_new >= self.scan_budget {
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
            considered.max(stopped_at).or(after)
        };
        Ok(QueryPage {
            items: matches,
            next,
            objects_read,
            list_requests: lister.lists,
        })
    }

    /// Writes the index entries of every event stored in `from..to` (by event id time),
    /// starting after `resume_after` when given: idempotent (entries are rewritten with the
    /// same keys) and resumable (pass the last [`BackfillProgress::last`] back in).
    /// `progress` is called after each listed page of up to 1,000 events.
    pub async fn backfill(
        &self,
        from: time::OffsetDateTime,
        to: time::OffsetDateTime,
        resume_after: Option<EventId>,
        mut progress: impl FnMut(&BackfillProgress),
    ) -> Result<BackfillProgress, StoreError> {
        let start = resume_after.map_or(from, |id| id.time().max(from));
        let start_ms = crate::id::unix_millis(start).unwrap_or(0);
        let end_ms = crate::id::unix_millis(to).unwrap_or(u64::MAX);
        let mut state = BackfillProgress {
            last: resume_after,
            events: 0,
            skipped: 0,
        };
        for day in layout::utc_days(start, to) {
            let prefix = layout::day_prefix(day);
            let mut start_after = Some(match resume_after {
                Some(id) if layout::utc_day(id.time()) == day => layout::event_key(&id),
                _ => layout::start_after_millis(&prefix, start_ms),
            });
            let mut continuation: Option<String> = None;
            loop {
                let (keys, next) = self
                    .list_page(
                        &prefix,
                        start_after.take().as_deref(),
                        continuation.as_deref(),
                        MAX_LIST_KEYS,
                    )
                    .await?;
                let mut ids = Vec::with_capacity(keys.len());
                let mut past_end = false;
                for key in &keys {
                    match layout::event_id_from_event_key(key) {
                        // Keys sort by time: nothing after this one is in range.
                        Some(id) if id.unix_millis() >= end_ms => {
                            past_end = true;
                            break;
                        }
                        Some(id) => ids.push(id),
                        None => state.skipped += 1,
                    }
                }
                let indexed: Vec<Option<EventId>> = futures::stream::iter(ids)
                    .map(|id| async move {
                        match self.get(&id).await? {
                            Some(event) => {
                                self.put_index_entry(&event).await?;
                                Ok::<_, StoreError>(Some(id))
                            }
                            None => Ok(None),
                        }
                    })
                    .buffered(self.read_concurrency)
                    .try_collect()
                    .await?;
                for id in indexed.into_iter().flatten() {
                    state.events += 1;
                    state.last = Some(id);
                }
                progress(&state);
                continuation = next;
                if past_end || continuation.is_none() {
                    break;
                }
            }
        }
        Ok(state)
    }

    /// The common prefixes under `prefix` with delimiter `/`: one LIST per 1,000 of them.
    async fn list_folders(&self, prefix: &str) -> Result<(Vec<String>, usize), StoreError> {
        let mut folders = Vec::new();
        let mut continuation: Option<String> = None;
        let mut lists = 0;
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(self.bucket.as_str())
                .prefix(prefix)
                .delimiter("/")
                .set_continuation_token(continuation.take())
                .send()
                .await
                .map_err(|e| classify("ListObjectsV2", &e))?;
            lists += 1;
            folders.extend(
                out.common_prefixes()
                    .iter()
                    .filter_map(|p| p.prefix().map(str::to_owned)),
            );
            continuation = match out.is_truncated() {
                Some(true) => out.next_continuation_token().map(str::to_owned),
                _ => None,
            };
            if continuation.is_none() {
                return Ok((folders, lists));
            }
        }
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

/// Where a query's candidate ids come from.
enum Source {
    /// Every event of each day of the range.
    Days,
    /// One call's by-call index (this prefix).
    Call(String),
    /// The by-type index of each day of the range: one type's folder, or every type folder
    /// of the day merged by id; entries whose names `admit` refuses are not read.
    Types {
        event_type: Option<EventType>,
        admit: EntryFilter,
    },
}

/// One listed prefix, read a LIST page at a time.
struct PrefixStream {
    prefix: String,
    continuation: Option<String>,
    started: bool,
    buffer: VecDeque<EventId>,
    done: bool,
    /// The millisecond of the last key listed (admitted or not).
    last_listed_ms: Option<u64>,
    /// The first millisecond this stream can hold (its day's, or the query's start).
    floor_ms: u64,
}

impl PrefixStream {
    fn new(prefix: String, floor_ms: u64) -> Self {
        Self {
            prefix,
            continuation: None,
            started: false,
            buffer: VecDeque::new(),
            done: false,
            last_listed_ms: None,
            floor_ms,
        }
    }

    /// Every key of a millisecond at or before this one has been listed and buffered or
    /// refused (`None`: not even the floor's predecessor is known to be complete).
    fn complete_through(&self) -> Option<u64> {
        if self.done {
            return Some(u64::MAX);
        }
        match self.buffer.front() {
            Some(head) => head.unix_millis().checked_sub(1),
            None => self.last_listed_ms.unwrap_or(self.floor_ms).checked_sub(1),
        }
    }
}

/// What [`CandidateLister::next_batch`] produced.
enum Batch {
    /// Ids to read (never empty).
    Ids(Vec<EventId>),
    /// The listing is over.
    Exhausted,
    /// The page's LIST budget is spent: read `ids` (maybe none); every key up to `through`
    /// has been considered and none after it.
    BudgetSpent {
        ids: Vec<EventId>,
        through: Position,
    },
}

/// Lists candidate event ids in id order from a [`Source`], a LIST page at a time.
struct CandidateLister {
    source: Source,
    /// Days still to list, in order (empty for [`Source::Call`] once started).
    days: VecDeque<time::Date>,
    /// The current day's streams (one, or one per type folder), merged by id.
    streams: Vec<PrefixStream>,
    start_ms: u64,
    end_ms: u64,
    /// LIST requests made.
    lists: usize,
    done: bool,
}

enum Head {
    /// The stream with the smallest next id.
    Stream(usize),
    Exhausted,
    BudgetSpent,
}

impl CandidateLister {
    fn new(
        source: Source,
        start: time::OffsetDateTime,
        end: time::OffsetDateTime,
        start_ms: u64,
        end_ms: u64,
    ) -> Self {
        let mut days = VecDeque::new();
        let mut streams = Vec::new();
        match &source {
            Source::Call(prefix) => streams.push(PrefixStream::new(prefix.clone(), start_ms)),
            Source::Days | Source::Types { .. } => days.extend(layout::utc_days(start, end)),
        }
        Self {
            source,
            days,
            streams,
            start_ms,
            end_ms,
            lists: 0,
            done: false,
        }
    }

    /// LIST page size: as many keys as the batch needs when every key is read; a whole page
    /// when names are filtered (refused keys cost nothing but the listing).
    fn page_size(&self, batch: usize) -> usize {
        match self.source {
            Source::Types { .. } => MAX_LIST_KEYS,
            Source::Days | Source::Call(_) => batch,
        }
    }

    /// Opens the next day's streams: false when there is none.
    async fn open_next_day(&mut self, store: &EventStore) -> Result<bool, StoreError> {
        let Some(day) = self.days.pop_front() else {
            return Ok(false);
        };
        let day_ms = crate::id::unix_millis(day.midnight().assume_utc()).unwrap_or(0);
        let floor = day_ms.max(self.start_ms);
        self.streams = match &self.source {
            Source::Days => vec![PrefixStream::new(layout::day_prefix(day), floor)],
            Source::Call(_) => Vec::new(),
            Source::Types {
                event_type: Some(t),
                ..
            } => vec![PrefixStream::new(layout::type_index_prefix(day, t), floor)],
            Source::Types {
                event_type: None, ..
            } => {
                let (folders, lists) = store
                    .list_folders(&layout::type_index_day_prefix(day))
                    .await?;
                self.lists += lists;
                folders
                    .into_iter()
                    .map(|f| PrefixStream::new(f, floor))
                    .collect()
            }
        };
        Ok(true)
    }

    /// Lists one more page of stream `i`.
    async fn fill(
        &mut self,
        store: &EventStore,
        i: usize,
        page_size: usize,
    ) -> Result<(), StoreError> {
        let start_ms = self.start_ms;
        let end_ms = self.end_ms;
        let stream = &mut self.streams[i];
        let start_after =
            (!stream.started).then(|| layout::start_after_millis(&stream.prefix, start_ms));
        let (keys, next) = store
            .list_page(
                &stream.prefix,
                start_after.as_deref(),
                stream.continuation.as_deref(),
                page_size,
            )
            .await?;
        self.lists += 1;
        stream.started = true;
        for key in keys {
            let Some(name) = key.strip_prefix(&stream.prefix) else {
                continue;
            };
            let parsed = match &self.source {
                Source::Days => layout::event_id_from_event_key(&key).map(|id| (id, true)),
                Source::Call(_) => {
                    layout::event_id_from_index_key(&stream.prefix, &key).map(|id| (id, true))
                }
                Source::Types { admit, .. } => {
                    index::EntryName::parse(name).map(|e| (e.event_id, admit.admits(&e)))
                }
            };
            let Some((id, admitted)) = parsed else {
                tracing::warn!(%key, "skipping a key that is not an event id");
                continue;
            };
            if id.unix_millis() > end_ms {
                // Keys sort by time: nothing later in this prefix can be in range.
                stream.done = true;
                break;
            }
            stream.last_listed_ms = Some(id.unix_millis());
            if admitted && id.unix_millis() >= start_ms {
                stream.buffer.push_back(id);
            }
        }
        stream.continuation = next;
        if stream.continuation.is_none() {
            stream.done = true;
        }
        Ok(())
    }

    /// The stream whose next id is smallest, listing what must be listed to know it.
    async fn head(
        &mut self,
        store: &EventStore,
        page_size: usize,
        budget: usize,
    ) -> Result<Head, StoreError> {
        loop {
            if self.done {
                return Ok(Head::Exhausted);
            }
            let mut i = 0;
            while i < self.streams.len() {
                let stream = &self.streams[i];
                if stream.buffer.is_empty() && !stream.done {
                    if self.lists >= budget {
                        return Ok(Head::BudgetSpent);
                    }
                    self.fill(store, i, page_size).await?;
                    // Refilled or done: look at the same stream again.
                    continue;
                }
                i += 1;
            }
            let best = self
                .streams
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.buffer.front().map(|id| (*id, i)))
                .min();
            if let Some((_, i)) = best {
                return Ok(Head::Stream(i));
            }
            if matches!(self.source, Source::Call(_)) || !self.open_next_day(store).await? {
                self.done = true;
            }
        }
    }

    /// Up to about `n` ids, extended so the batch ends on a millisecond boundary. When the
    /// LIST budget runs out first, the batch ends before the first millisecond not yet
    /// completely listed, and says how far it got (always past `after`, so pages progress).
    async fn next_batch(
        &mut self,
        store: &EventStore,
        n: usize,
        after: Option<Position>,
    ) -> Result<Batch, StoreError> {
        let page_size = self.page_size(n);
        let mut batch: Vec<EventId> = Vec::with_capacity(n);
        let mut budget = store.list_budget;
        loop {
            match self.head(store, page_size, budget).await? {
                Head::Exhausted => break,
                Head::Stream(i) => {
                    let Some(&next) = self.streams[i].buffer.front() else {
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
                    self.streams[i].buffer.pop_front();
                }
                Head::BudgetSpent => {
                    if let Some(through) = self.budget_cursor(after) {
                        let last_ms = through.event_id.unix_millis();
                        batch.retain(|id| id.unix_millis() <= last_ms);
                        return Ok(Batch::BudgetSpent {
                            ids: batch,
                            through,
                        });
                    }
                    // No millisecond past the cursor is complete yet: allow one more page per
                    // stream, so the page ends as soon as one is.
                    budget = self.lists + self.streams.len().max(1);
                }
            }
        }
        Ok(if batch.is_empty() {
            Batch::Exhausted
        } else {
            Batch::Ids(batch)
        })
    }

    /// The last position of the latest millisecond every stream of the current day has listed
    /// completely, if that is past `after`.
    fn budget_cursor(&self, after: Option<Position>) -> Option<Position> {
        let through_ms = self
            .streams
            .iter()
            .map(PrefixStream::complete_through)
            .min()
            .flatten()?;
        if through_ms == u64::MAX || through_ms < self.start_ms {
            return None;
        }
        let last = Position {
            timestamp: time::OffsetDateTime::from_unix_timestamp_nanos(
                i128::from(through_ms) * 1_000_000 + 999_999,
            )
            .ok()?,
            event_id: EventId::last_of_millisecond(through_ms)?,
        };
        after.is_none_or(|a| last > a).then_some(last)
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
