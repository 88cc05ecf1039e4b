//! The consistency audit: acknowledged vs stored, through the API and directly in the store.
//!
//! The promise checked: every event answered 2xx is readable by id, appears exactly once in
//! its call's query, and is stored as exactly one object; two acknowledgements of one
//! idempotency key name the same event.
//!
//! One case is allowed and reported separately: a POST that finally failed (the client gave
//! up) may still have left its event object behind, because a fault can hit after the store
//! applied the PutObject (or between the event PUT and its index PUT). Such an object is
//! *stored but unacknowledged*; replaying the request with the same `Idempotency-Key`
//! ([`reconcile`]) answers `200` with that very event and completes its index entry, after
//! which the audit is clean. Any other object nobody was acknowledged for is a failure.

use std::collections::{BTreeMap, BTreeSet};

use callflow_client::{Endpoint, EventsQuery, Failure, PageLimit, PagingError, follow_pages};
use callflow_core::layout;
use callflow_core::{CallId, StoredEvent};
use futures::StreamExt;
use time::OffsetDateTime;

use crate::api_client::{ApiClient, PostOutcome, body_text};
use crate::workload::{PostRecord, WorkloadRecord, answer_label};

/// Requests the audit runs at once.
const AUDIT_CONCURRENCY: usize = 16;
/// Pages of one call's query the audit follows at most.
const MAX_PAGES: usize = 10_000;

/// The `idempotencyKey` attribute the workload gives every event (empty when absent).
fn idempotency_attribute(event: &StoredEvent) -> String {
    event
        .event
        .attributes
        .as_ref()
        .and_then(|a| a.get("idempotencyKey").cloned())
        .unwrap_or_default()
}

/// What the audit found. Consistent when `lost`, `duplicates` and `unexpected` are empty.
#[derive(Debug, Clone, Default)]
pub struct AuditReport {
    /// POSTs answered 2xx (duplicates of a key included).
    pub acknowledged_posts: usize,
    /// Distinct events acknowledged.
    pub acknowledged_events: usize,
    /// Acknowledged events read back by id with the right content.
    pub verified_by_id: usize,
    /// Acknowledged events found exactly once in their call's query.
    pub verified_in_query: usize,
    /// Acknowledged events stored as exactly one object (when the store was audited).
    pub verified_in_store: Option<usize>,
    /// Acknowledged events missing (by id, in their query, or in the store), with why.
    pub lost: Vec<String>,
    /// Events stored or listed more than once, or one key acknowledged with two ids.
    pub duplicates: Vec<String>,
    /// Events of finally-failed requests that exist anyway (the documented case).
    pub stored_unacknowledged: Vec<String>,
    /// Events nobody asked for (neither acknowledged nor a failed request's).
    pub unexpected: Vec<String>,
}

impl AuditReport {
    /// No loss, no duplicate, nothing unexpected.
    pub fn is_consistent(&self) -> bool {
        self.lost.is_empty() && self.duplicates.is_empty() && self.unexpected.is_empty()
    }
}

impl std::fmt::Display for AuditReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "audit: {} acknowledged POSTs = {} events; verified by id {}, in query {}, in store {}",
            self.acknowledged_posts,
            self.acknowledged_events,
            self.verified_by_id,
            self.verified_in_query,
            self.verified_in_store
                .map_or_else(|| "-".to_owned(), |n| n.to_string()),
        )?;
        writeln!(
            f,
            "  lost {}, duplicates {}, stored but unacknowledged {} (documented), unexpected {}",
            self.lost.len(),
            self.duplicates.len(),
            self.stored_unacknowledged.len(),
            self.unexpected.len()
        )?;
        for line in self
            .lost
            .iter()
            .chain(&self.duplicates)
            .chain(&self.unexpected)
            .take(10)
        {
            writeln!(f, "  ! {line}")?;
        }
        Ok(())
    }
}

/// Direct access to the store for the audit (not through the fault proxy).
#[derive(Debug, Clone)]
pub struct StoreAccess {
    /// A client of the store.
    pub client: aws_sdk_s3::Client,
    /// The events bucket.
    pub bucket: String,
}

/// The acknowledged events of a record: id → (key, call id); and the keys that failed.
struct Expectations<'a> {
    events: BTreeMap<String, &'a PostRecord>,
    failed_keys: BTreeSet<&'a str>,
    acknowledged_posts: usize,
    conflicts: Vec<String>,
}

fn expectations(record: &WorkloadRecord) -> Expectations<'_> {
    let mut by_key: BTreeMap<&str, String> = BTreeMap::new();
    let mut events = BTreeMap::new();
    let mut conflicts = Vec::new();
    let mut acknowledged_posts = 0;
    for post in &record.posts {
        if let PostOutcome::Acknowledged { event_id, .. } = &post.outcome {
            acknowledged_posts += 1;
            match by_key.get(post.key.as_str()) {
                Some(first) if first != event_id => conflicts.push(format!(
                    "key {} acknowledged as {first} and as {event_id}",
                    post.key
                )),
                Some(_) => {}
                None => {
                    by_key.insert(&post.key, event_id.clone());
                    events.insert(event_id.clone(), post);
                }
            }
        }
    }
    let failed_keys = record
        .failed()
        .map(|p| p.key.as_str())
        .filter(|k| !by_key.contains_key(k))
        .collect();
    Expectations {
        events,
        failed_keys,
        acknowledged_posts,
        conflicts,
    }
}

/// Audits `record` through the API (every acknowledged id by GET, every call by a paged
/// query over `from..to`) and, when given, directly in the store.
pub async fn audit(
    client: &ApiClient,
    record: &WorkloadRecord,
    from: OffsetDateTime,
    to: OffsetDateTime,
    store: Option<&StoreAccess>,
) -> AuditReport {
    let exp = expectations(record);
    let mut report = AuditReport {
        acknowledged_posts: exp.acknowledged_posts,
        acknowledged_events: exp.events.len(),
        duplicates: exp.conflicts.clone(),
        ..AuditReport::default()
    };
    // By id.
    let checks = futures::stream::iter(exp.events.iter().map(|(id, post)| async move {
        let reply = client.with_retries(|| client.api().get_event(id)).await;
        let request = format!(
            "{} {}",
            Endpoint::GetEvent.method(),
            callflow_client::event_path(id)
        );
        match reply {
            Ok(r)
                if r.status() == 200
                    && r.result.as_ref().is_ok_and(|e| {
                        e.event_id.to_string() == *id && idempotency_attribute(e) == post.key
                    }) =>
            {
                Ok(())
            }
            Ok(r) => Err(format!(
                "{request} answered {}: {}",
                r.status(),
                body_text(&r.exchange)
            )),
            Err(e) => Err(format!("{request}: {e}")),
        }
    }))
    .buffer_unordered(AUDIT_CONCURRENCY)
    .collect::<Vec<_>>()
    .await;
    for check in checks {
        match check {
            Ok(()) => report.verified_by_id += 1,
            Err(e) => report.lost.push(e),
        }
    }
    // By call.
    let mut calls: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (id, post) in &exp.events {
        calls.entry(&post.call_id).or_default().insert(id);
    }
    for post in &record.posts {
        calls.entry(&post.call_id).or_default();
    }
    let listed = futures::stream::iter(
        calls
            .keys()
            .map(|call| async move { (*call, query_call(client, call, from, to).await) }),
    )
    .buffer_unordered(AUDIT_CONCURRENCY)
    .collect::<Vec<_>>()
    .await;
    for (call, result) in listed {
        let expected = &calls[call];
        let ids = match result {
            Ok(ids) => ids,
            Err(e) => {
                report.lost.extend(
                    expected
                        .iter()
                        .map(|id| format!("{id}: query of {call}: {e}")),
                );
                continue;
            }
        };
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for id in &ids {
            *counts.entry(id.0.as_str()).or_default() += 1;
        }
        for id in expected {
            match counts.get(id) {
                Some(1) => report.verified_in_query += 1,
                Some(n) => report
                    .duplicates
                    .push(format!("{id} listed {n} times in the query of {call}")),
                None => report
                    .lost
                    .push(format!("{id} missing from the query of {call}")),
            }
        }
        for (id, key) in &ids {
            if !expected.contains(id.as_str()) {
                classify_unacknowledged(&mut report, &exp, id, key, "in the query");
            }
        }
    }
    if let Some(store) = store {
        audit_store(store, &exp, record, &mut report).await;
    }
    report.stored_unacknowledged.sort();
    report.stored_unacknowledged.dedup();
    report
}

fn classify_unacknowledged(
    report: &mut AuditReport,
    exp: &Expectations<'_>,
    id: &str,
    key: &str,
    where_: &str,
) {
    if exp.failed_keys.contains(key) {
        report
            .stored_unacknowledged
            .push(format!("{id} (key {key})"));
    } else {
        report.unexpected.push(format!(
            "{id} {where_} (key {key:?}) was never acknowledged"
        ));
    }
}

/// Every (eventId, idempotency key) in `call`'s query over `from..to`, all pages (of the
/// largest size), each page retried like a POST.
async fn query_call(
    client: &ApiClient,
    call: &str,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<Vec<(String, String)>, String> {
    let query = EventsQuery::new(from, to)
        .with_call_id(CallId::parse(call)?)
        .with_limit(PageLimit::MAX);
    let items = follow_pages(&query, MAX_PAGES, |page| async move {
        let reply = client
            .with_retries(|| client.api().query_events(&page))
            .await
            .map_err(|e| e.to_string())?;
        let body = body_text(&reply.exchange);
        if reply.status() != 200 {
            return Err(format!("answered {}: {body}", reply.status()));
        }
        reply.result.map_err(|e| {
            let reason = match e {
                Failure::Unexpected { reason, .. } => reason,
                other => other.to_string(),
            };
            format!("not a query page ({reason}): {body}")
        })
    })
    .await
    .map_err(|e| match e {
        PagingError::Page(e) => e,
        PagingError::TooManyPages(_) => "more than 10,000 pages".to_owned(),
    })?;
    Ok(items
        .iter()
        .map(|item| (item.event_id.to_string(), idempotency_attribute(item)))
        .collect())
}

async fn list_keys(store: &StoreAccess, prefix: &str) -> Result<Vec<String>, String> {
    let mut keys = Vec::new();
    let mut pages = store
        .client
        .list_objects_v2()
        .bucket(&store.bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_sdk_s3::error::DisplayErrorContext(e).to_string())?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
    }
    Ok(keys)
}

async fn read_event(store: &StoreAccess, key: &str) -> Result<StoredEvent, String> {
    let out = store
        .client
        .get_object()
        .bucket(&store.bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| aws_sdk_s3::error::DisplayErrorContext(e).to_string())?;
    let bytes = out
        .body
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .into_bytes();
    serde_json::from_slice(&bytes).map_err(|e| format!("{key}: {e}"))
}

async fn audit_store(
    store: &StoreAccess,
    exp: &Expectations<'_>,
    record: &WorkloadRecord,
    report: &mut AuditReport,
) {
    let run_calls: BTreeSet<&str> = record.posts.iter().map(|p| p.call_id.as_str()).collect();
    let (event_keys, index_keys) = match (
        list_keys(store, layout::EVENTS_PREFIX).await,
        list_keys(store, layout::CALL_INDEX_PREFIX).await,
    ) {
        (Ok(e), Ok(i)) => (e, i),
        (Err(e), _) | (_, Err(e)) => {
            report.lost.push(format!("listing the store failed: {e}"));
            return;
        }
    };
    let index: BTreeSet<&str> = index_keys.iter().map(String::as_str).collect();
    let read = futures::stream::iter(
        event_keys
            .iter()
            .map(|key| async move { (key, read_event(store, key).await) }),
    )
    .buffer_unordered(AUDIT_CONCURRENCY)
    .collect::<Vec<_>>()
    .await;
    // idempotency key → event ids stored for it (this run's calls only).
    let mut objects_by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut stored_ids: BTreeMap<String, StoredEvent> = BTreeMap::new();
    for (object_key, event) in read {
        let event = match event {
            Ok(e) => e,
            Err(e) => {
                report
                    .unexpected
                    .push(format!("unreadable object {object_key}: {e}"));
                continue;
            }
        };
        if !run_calls.contains(event.event.call_id.as_str()) {
            continue;
        }
        let key = idempotency_attribute(&event);
        let id = event.event_id.to_string();
        objects_by_key.entry(key).or_default().push(id.clone());
        stored_ids.insert(id, event);
    }
    for (key, ids) in &objects_by_key {
        if ids.len() > 1 {
            report.duplicates.push(format!(
                "key {key} stored as {} objects: {ids:?}",
                ids.len()
            ));
        }
    }
    let mut verified = 0;
    for (id, post) in &exp.events {
        match stored_ids.get(id) {
            Some(event) => {
                let index_key = layout::call_index_key(&event.event.call_id, &event.event_id);
                if index.contains(index_key.as_str()) {
                    verified += 1;
                } else {
                    report.lost.push(format!(
                        "{id} (key {}) has no index entry {index_key}",
                        post.key
                    ));
                }
            }
            None => report.lost.push(format!(
                "{id} (key {}) has no object in the store",
                post.key
            )),
        }
    }
    for (id, event) in &stored_ids {
        if !exp.events.contains_key(id) {
            let key = idempotency_attribute(event);
            classify_unacknowledged(report, exp, id, &key, "in the store");
        }
    }
    report.verified_in_store = Some(verified);
}

/// Replays every finally-failed request (same key, same body) until it is acknowledged, so
/// objects stored without acknowledgement get acknowledged (200) and their index completed.
/// Returns the replays' record; add it to the workload's with [`WorkloadRecord::extend`].
pub async fn reconcile(client: &ApiClient, record: &WorkloadRecord) -> WorkloadRecord {
    let exp = expectations(record);
    let mut replays = WorkloadRecord::default();
    let mut seen = BTreeSet::new();
    for post in record.failed() {
        if !exp.failed_keys.contains(post.key.as_str()) || !seen.insert(post.key.as_str()) {
            continue;
        }
        let mut answers = Vec::new();
        let outcome = client
            .post_event(&post.body, &post.key, |a| answers.push(answer_label(a)))
            .await;
        for a in answers {
            *replays.attempts_by_answer.entry(a).or_default() += 1;
        }
        replays.posts.push(PostRecord {
            outcome,
            ..post.clone()
        });
    }
    replays
}
