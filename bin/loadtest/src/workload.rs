//! The POST workload: unique and duplicated idempotency keys at a fixed concurrency, every
//! outcome recorded for the audit.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::api_client::{ApiClient, PostOutcome};

/// The shape of a POST workload.
#[derive(Debug, Clone)]
pub struct PostWorkload {
    /// POSTs to send (each with its retries).
    pub posts: usize,
    /// POSTs in flight at once.
    pub concurrency: usize,
    /// Fraction of POSTs that repeat an earlier POST's key and body (a client resubmitting).
    pub duplicate_fraction: f64,
    /// Number of distinct call ids the events spread over.
    pub calls: usize,
    /// Seed of the duplicate choice.
    pub seed: u64,
    /// Prefix of keys and call ids, unique per run.
    pub run_id: String,
    /// Timestamp of the first event; event `i` is `i` milliseconds later.
    pub base_time: OffsetDateTime,
    /// Whether a duplicate POST carries its own send time as `timestamp` (a client that
    /// rebuilds its event when it resubmits) instead of the first POST's body byte for byte.
    pub restamp_duplicates: bool,
}

impl PostWorkload {
    /// `posts` POSTs, 32 at a time, 10% duplicates, over 100 calls, events from now.
    pub fn new(posts: usize, run_id: impl Into<String>) -> Self {
        Self {
            posts,
            concurrency: 32,
            duplicate_fraction: 0.10,
            calls: 100,
            seed: 1,
            run_id: run_id.into(),
            base_time: OffsetDateTime::now_utc(),
            restamp_duplicates: true,
        }
    }

    /// The planned POSTs in send order: (idempotency key, call id, body).
    pub fn plan(&self) -> Vec<PlannedPost> {
        let mut rng = StdRng::seed_from_u64(self.seed);
        let mut plan: Vec<PlannedPost> = Vec::with_capacity(self.posts);
        let calls = self.calls.max(1);
        for i in 0..self.posts {
            if !plan.is_empty() && rng.gen_bool(self.duplicate_fraction.clamp(0.0, 1.0)) {
                let mut earlier = plan[rng.gen_range(0..plan.len())].clone();
                if self.restamp_duplicates {
                    let mut body = (*earlier.body).clone();
                    body["timestamp"] =
                        rfc3339(self.base_time + time::Duration::milliseconds(i as i64)).into();
                    earlier.body = Arc::new(body);
                }
                plan.push(earlier);
                continue;
            }
            let key = format!("{}-{i}", self.run_id);
            let call_id = format!("{}-call-{}", self.run_id, i % calls);
            let timestamp = self.base_time + time::Duration::milliseconds(i as i64);
            let body = event_body(&call_id, timestamp, &key);
            plan.push(PlannedPost {
                key,
                call_id,
                body: Arc::new(body),
            });
        }
        plan
    }
}

/// The JSON body of a test event; `attributes.idempotencyKey` lets the store audit tie an
/// object to the request that wrote it.
pub fn event_body(call_id: &str, timestamp: OffsetDateTime, key: &str) -> Value {
    json!({
        "callId": call_id,
        "eventType": "call.dtmf",
        "timestamp": rfc3339(timestamp),
        "direction": "inbound",
        "from": "+15550100",
        "to": "+15550199",
        "attributes": { "idempotencyKey": key },
        "payload": { "digits": "42" },
    })
}

/// `t` as RFC 3339, the way a client writes an event's `timestamp`.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// One planned POST.
#[derive(Debug, Clone)]
pub struct PlannedPost {
    /// Its `Idempotency-Key`.
    pub key: String,
    /// Its call.
    pub call_id: String,
    /// Its body.
    pub body: Arc<Value>,
}

/// One sent POST and what finally became of it.
#[derive(Debug, Clone)]
pub struct PostRecord {
    /// Its `Idempotency-Key`.
    pub key: String,
    /// Its call.
    pub call_id: String,
    /// Its body (for replays).
    pub body: Arc<Value>,
    /// The final outcome.
    pub outcome: PostOutcome,
}

/// Everything a workload did.
#[derive(Debug, Clone, Default)]
pub struct WorkloadRecord {
    /// Every POST, in completion order.
    pub posts: Vec<PostRecord>,
    /// HTTP attempts by answer: status code, or `"connection"` / `"timeout"`.
    pub attempts_by_answer: BTreeMap<String, u64>,
}

impl WorkloadRecord {
    /// POSTs sent (not counting retries).
    pub fn sent(&self) -> usize {
        self.posts.len()
    }

    /// HTTP requests made, retries included.
    pub fn http_requests(&self) -> u64 {
        self.attempts_by_answer.values().sum()
    }

    /// POSTs that got a 2xx.
    pub fn acknowledged(&self) -> usize {
        self.posts
            .iter()
            .filter(|p| matches!(p.outcome, PostOutcome::Acknowledged { .. }))
            .count()
    }

    /// POSTs that never got a 2xx.
    pub fn failed(&self) -> impl Iterator<Item = &PostRecord> {
        self.posts
            .iter()
            .filter(|p| matches!(p.outcome, PostOutcome::Failed { .. }))
    }

    /// Adds another record's POSTs and counts (e.g. the part after a restart).
    pub fn extend(&mut self, other: WorkloadRecord) {
        self.posts.extend(other.posts);
        for (k, n) in other.attempts_by_answer {
            *self.attempts_by_answer.entry(k).or_default() += n;
        }
    }
}

impl std::fmt::Display for WorkloadRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unique: std::collections::BTreeSet<&str> =
            self.posts.iter().map(|p| p.key.as_str()).collect();
        writeln!(
            f,
            "workload: {} POSTs ({} distinct keys), {} HTTP requests, {} acknowledged, {} failed",
            self.sent(),
            unique.len(),
            self.http_requests(),
            self.acknowledged(),
            self.failed().count()
        )?;
        let answers: Vec<String> = self
            .attempts_by_answer
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect();
        writeln!(f, "  attempts by answer: {}", answers.join(", "))
    }
}

/// Sends `planned[from..]` with `concurrency` workers, recording every outcome. `progress`
/// counts completed POSTs (e.g. to restart the server mid-load).
pub async fn run_planned(
    client: &ApiClient,
    planned: &[PlannedPost],
    concurrency: usize,
    progress: Arc<AtomicUsize>,
) -> WorkloadRecord {
    let next = Arc::new(AtomicUsize::new(0));
    let record = Arc::new(Mutex::new(WorkloadRecord::default()));
    let planned: Arc<[PlannedPost]> = Arc::from(planned.to_vec());
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (client, next, record, planned, progress) = (
            client.clone(),
            Arc::clone(&next),
            Arc::clone(&record),
            Arc::clone(&planned),
            Arc::clone(&progress),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(post) = planned.get(i) else { break };
                let mut answers: Vec<String> = Vec::new();
                let outcome = client
                    .post_event(&post.body, &post.key, |attempt| {
                        answers.push(answer_label(attempt));
                    })
                    .await;
                let mut r = record.lock().unwrap_or_else(PoisonError::into_inner);
                for a in answers {
                    *r.attempts_by_answer.entry(a).or_default() += 1;
                }
                r.posts.push(PostRecord {
                    key: post.key.clone(),
                    call_id: post.call_id.clone(),
                    body: Arc::clone(&post.body),
                    outcome,
                });
                drop(r);
                progress.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    let mut r = record.lock().unwrap_or_else(PoisonError::into_inner);
    std::mem::take(&mut *r)
}

/// Runs a whole workload.
pub async fn run_posts(client: &ApiClient, workload: &PostWorkload) -> WorkloadRecord {
    run_planned(
        client,
        &workload.plan(),
        workload.concurrency,
        Arc::new(AtomicUsize::new(0)),
    )
    .await
}

/// The statistics label of one attempt's result.
pub fn answer_label(
    result: &Result<crate::api_client::Reply, crate::api_client::ApiError>,
) -> String {
    match result {
        Ok(reply) => reply.status.to_string(),
        Err(crate::api_client::ApiError::Timeout(_)) => "timeout".to_owned(),
        Err(crate::api_client::ApiError::Connection(_)) => "connection".to_owned(),
        Err(crate::api_client::ApiError::Invalid(_)) => "invalid".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_repeats_earlier_posts_exactly() {
        for restamp_duplicates in [false, true] {
            let w = PostWorkload {
                duplicate_fraction: 0.3,
                restamp_duplicates,
                ..PostWorkload::new(1_000, "t")
            };
            let plan = w.plan();
            assert_eq!(plan.len(), 1_000);
            let mut by_key: BTreeMap<&str, &Value> = BTreeMap::new();
            let mut dups = 0;
            let mut restamped = 0;
            for p in &plan {
                if let Some(first) = by_key.insert(&p.key, &p.body) {
                    let mut unstamped = (*p.body).clone();
                    unstamped["timestamp"] = first["timestamp"].clone();
                    assert_eq!(first, &unstamped, "a duplicate resends the same event");
                    restamped += usize::from(first["timestamp"] != p.body["timestamp"]);
                    dups += 1;
                }
            }
            assert!((200..400).contains(&dups), "{dups}");
            if restamp_duplicates {
                assert!(restamped > dups / 2, "{restamped} of {dups} re-stamped");
            } else {
                assert_eq!(restamped, 0);
            }
        }
    }
}
