//! The soak driver behind `callflow soak`: mixed writes, reads by id and queries at a target
//! rate and concurrency, bounded in time and count, then a consistency audit.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use callflow_client::{EventsQuery, PageLimit};
use callflow_core::CallId;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use time::OffsetDateTime;

use crate::api_client::{ApiClient, PostOutcome, attempt_of};
use crate::audit::{AuditReport, audit};
use crate::latency::{LatencyRecorder, LatencySummary};
use crate::rss::{RssTrace, resident_set_kib};
use crate::workload::{PostRecord, WorkloadRecord, answer_label, event_body};

/// The operations a soak mixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    /// `POST /events` (with its retries on 429/503).
    Write,
    /// `GET /events/{id}` of an acknowledged event.
    Read,
    /// `GET /events?callId=..` (first page).
    Query,
}

impl Operation {
    /// Its name in the mix and the report.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Write => "write",
            Operation::Read => "read",
            Operation::Query => "query",
        }
    }
}

/// Relative weights of the operations, e.g. `write=40,read=40,query=20`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationMix {
    /// Weight of writes.
    pub write: u32,
    /// Weight of reads by id.
    pub read: u32,
    /// Weight of queries by call.
    pub query: u32,
}

impl Default for OperationMix {
    fn default() -> Self {
        Self {
            write: 40,
            read: 40,
            query: 20,
        }
    }
}

impl FromStr for OperationMix {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let mut mix = OperationMix {
            write: 0,
            read: 0,
            query: 0,
        };
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?}: expected NAME=WEIGHT"))?;
            let weight: u32 = weight
                .trim()
                .parse()
                .map_err(|_| format!("{part:?}: the weight must be a whole number"))?;
            match name.trim() {
                "write" => mix.write = weight,
                "read" => mix.read = weight,
                "query" => mix.query = weight,
                other => return Err(format!("unknown operation {other:?} (write, read, query)")),
            }
        }
        if mix.write == 0 {
            return Err("the mix needs write > 0 (reads and queries use written events)".into());
        }
        Ok(mix)
    }
}

impl OperationMix {
    fn pick(&self, rng: &mut StdRng) -> Operation {
        let total = self.write + self.read + self.query;
        let n = rng.gen_range(0..total.max(1));
        if n < self.write {
            Operation::Write
        } else if n < self.write + self.read {
            Operation::Read
        } else {
            Operation::Query
        }
    }
}

/// How to run a soak.
#[derive(Debug, Clone)]
pub struct SoakConfig {
    /// Target requests per second over all operations (each POST retry counts once).
    pub rate: f64,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Stop starting requests after this long.
    pub duration: Duration,
    /// Stop after this many operations.
    pub max_requests: u64,
    /// The operation mix.
    pub mix: OperationMix,
    /// The server process whose RSS is sampled.
    pub server_pid: Option<u32>,
    /// Prefix of keys and call ids, unique per run.
    pub run_id: String,
    /// Number of call ids writes spread over.
    pub calls: usize,
    /// Seed of the operation choice.
    pub seed: u64,
}

/// Per-operation results.
#[derive(Debug, Clone, Default)]
pub struct OperationReport {
    /// Latency of each operation from the moment the schedule says it should have started to
    /// its last answer (retries included), so a stall that delays later requests counts against
    /// them too: corrected for coordinated omission, as wrk2 does. What a client at the target
    /// rate sees; the targets apply to it.
    pub latency: LatencySummary,
    /// Latency of every HTTP exchange from its send to its answer (the server's service time).
    pub service: LatencySummary,
    /// Exchanges by answer (status code, `connection`, `timeout`).
    pub answers: BTreeMap<String, u64>,
}

/// What a soak measured.
#[derive(Debug, Clone, Default)]
pub struct SoakReport {
    /// Time spent sending load.
    pub elapsed: Duration,
    /// Operations completed.
    pub operations: u64,
    /// HTTP exchanges (POST retries included).
    pub exchanges: u64,
    /// Target rate.
    pub target_rate: f64,
    /// Per operation.
    pub per_operation: BTreeMap<Operation, OperationReport>,
    /// Server RSS sampled every 5 s from the start to the end of the load.
    pub rss: Option<RssTrace>,
    /// The final audit of every acknowledged write.
    pub audit: AuditReport,
}

impl SoakReport {
    /// Exchanges per second.
    pub fn throughput(&self) -> f64 {
        self.exchanges as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl std::fmt::Display for SoakReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "soak: {} operations, {} requests in {:.1} s = {:.1} req/s (target {:.0})",
            self.operations,
            self.exchanges,
            self.elapsed.as_secs_f64(),
            self.throughput(),
            self.target_rate
        )?;
        writeln!(
            f,
            "{:<6} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>11} {:>11}  answers",
            "op",
            "count",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "p99.9 ms",
            "max ms",
            "svc p50 ms",
            "svc p99 ms"
        )?;
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        for (op, r) in &self.per_operation {
            let answers: Vec<String> = r.answers.iter().map(|(k, n)| format!("{k}:{n}")).collect();
            writeln!(
                f,
                "{:<6} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>11.2} {:>11.2}  {}",
                op.name(),
                r.latency.count,
                ms(r.latency.p50),
                ms(r.latency.p95),
                ms(r.latency.p99),
                ms(r.latency.p999),
                ms(r.latency.max),
                ms(r.service.p50),
                ms(r.service.p99),
                answers.join(" ")
            )?;
        }
        writeln!(
            f,
            "latency: from each operation's scheduled start (coordinated omission corrected); \
             svc: each exchange's own round trip"
        )?;
        if let Some(rss) = &self.rss {
            let mib = |kib: Option<u64>| kib.unwrap_or(0) as f64 / 1024.0;
            writeln!(
                f,
                "server RSS: start {:.1} MiB, after 1 min {:.1} MiB, end {:.1} MiB, max {:.1} MiB",
                mib(rss.start()),
                mib(rss.at(RSS_WARMUP)),
                mib(rss.end()),
                mib(rss.max())
            )?;
            if let Some(growth) = rss.growth_after(RSS_WARMUP) {
                writeln!(
                    f,
                    "server RSS growth from 1 min to the end: {:+.1} MiB",
                    growth as f64 / 1024.0
                )?;
            }
            let series: Vec<String> = rss
                .every(Duration::from_secs(30))
                .iter()
                .map(|(at, kib)| format!("{}s:{:.1}", at.as_secs(), *kib as f64 / 1024.0))
                .collect();
            writeln!(f, "server RSS MiB every 30 s: {}", series.join(" "))?;
        }
        write!(f, "{}", self.audit)?;
        writeln!(
            f,
            "consistency: {}",
            if self.audit.is_consistent() {
                "OK (every acknowledged write stored exactly once and readable)"
            } else {
                "FAILED"
            }
        )
    }
}

/// One write in this many is a re-stamped replay of an earlier acknowledged write.
const REPLAY_EVERY: u64 = 20;

#[derive(Default)]
struct Shared {
    /// Per operation, from its scheduled start (see [`OperationReport::latency`]).
    latency: Mutex<BTreeMap<Operation, LatencyRecorder>>,
    /// Per exchange, its own round trip.
    service: Mutex<BTreeMap<Operation, LatencyRecorder>>,
    answers: Mutex<BTreeMap<Operation, BTreeMap<String, u64>>>,
    acknowledged: Mutex<Vec<(String, String)>>,
    writes: Mutex<WorkloadRecord>,
    exchanges: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn note(&self, op: Operation, result: &Result<crate::Reply, crate::ApiError>) {
        self.exchanges.fetch_add(1, Ordering::Relaxed);
        if let Ok(reply) = result {
            lock(&self.service)
                .entry(op)
                .or_default()
                .record(reply.elapsed);
        }
        *lock(&self.answers)
            .entry(op)
            .or_default()
            .entry(answer_label(result))
            .or_default() += 1;
    }
}

/// How often the server's RSS is sampled.
const RSS_SAMPLE_EVERY: Duration = Duration::from_secs(5);
/// RSS growth is reported from this point of the run on (after caches and pools filled).
const RSS_WARMUP: Duration = Duration::from_secs(60);

/// Runs a soak against `client`'s stage and audits what it wrote.
pub async fn run_soak(client: &ApiClient, config: &SoakConfig) -> SoakReport {
    let shared = Arc::new(Shared::default());
    let started_at = OffsetDateTime::now_utc();
    let rss = Arc::new(Mutex::new(RssTrace::default()));
    let sampler_start = Instant::now();
    let sampler = config.server_pid.map(|pid| {
        let rss = Arc::clone(&rss);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(RSS_SAMPLE_EVERY);
            loop {
                tick.tick().await;
                if let Some(kib) = resident_set_kib(pid) {
                    lock(&rss).push(sampler_start.elapsed(), kib);
                }
            }
        })
    });
    // Each operation travels with the instant the schedule wanted it started.
    let (tx, rx) = tokio::sync::mpsc::channel::<(u64, Instant)>(config.concurrency.max(1));
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let start = Instant::now();
    let mut workers = Vec::new();
    for w in 0..config.concurrency.max(1) {
        let (client, shared, rx, config) = (
            client.clone(),
            Arc::clone(&shared),
            Arc::clone(&rx),
            config.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(config.seed.wrapping_add(w as u64));
            loop {
                let next = rx.lock().await.recv().await;
                let Some((n, due)) = next else { break };
                let op = one_operation(&client, &shared, &config, &mut rng, n, started_at).await;
                lock(&shared.latency)
                    .entry(op)
                    .or_default()
                    .record(due.elapsed());
            }
        }));
    }
    let interval = Duration::from_secs_f64(1.0 / config.rate.max(0.001));
    let mut operations = 0;
    while operations < config.max_requests && start.elapsed() < config.duration {
        let due = start + interval.mul_f64(operations as f64);
        tokio::time::sleep_until(tokio::time::Instant::from_std(due)).await;
        // When every worker is busy this send waits and the schedule slips; the operation's
        // latency still counts from `due`, so the stall is not omitted.
        if tx.send((operations, due)).await.is_err() {
            break;
        }
        operations += 1;
    }
    drop(tx);
    for w in workers {
        let _ = w.await;
    }
    let elapsed = start.elapsed();
    if let Some(s) = &sampler {
        s.abort();
    }
    if let Some(kib) = config.server_pid.and_then(resident_set_kib) {
        lock(&rss).push(sampler_start.elapsed(), kib);
    }
    let rss = std::mem::take(&mut *lock(&rss));
    let writes = std::mem::take(&mut *lock(&shared.writes));
    let audit_to = OffsetDateTime::now_utc() + time::Duration::minutes(1);
    let audit = audit(
        client,
        &writes,
        started_at - time::Duration::minutes(1),
        audit_to,
        None,
    )
    .await;
    let latency = std::mem::take(&mut *lock(&shared.latency));
    let service = std::mem::take(&mut *lock(&shared.service));
    let answers = std::mem::take(&mut *lock(&shared.answers));
    let mut per_operation: BTreeMap<Operation, OperationReport> = BTreeMap::new();
    for (op, recorder) in latency {
        per_operation.entry(op).or_default().latency = recorder.summary();
    }
    for (op, recorder) in service {
        per_operation.entry(op).or_default().service = recorder.summary();
    }
    for (op, a) in answers {
        per_operation.entry(op).or_default().answers = a;
    }
    SoakReport {
        elapsed,
        operations,
        exchanges: shared.exchanges.load(Ordering::Relaxed),
        target_rate: config.rate,
        per_operation,
        rss: config.server_pid.map(|_| rss),
        audit,
    }
}

async fn one_operation(
    client: &ApiClient,
    shared: &Shared,
    config: &SoakConfig,
    rng: &mut StdRng,
    n: u64,
    started_at: OffsetDateTime,
) -> Operation {
    let mut op = config.mix.pick(rng);
    let target = {
        let acknowledged = lock(&shared.acknowledged);
        if acknowledged.is_empty() {
            None
        } else {
            Some(acknowledged[rng.gen_range(0..acknowledged.len())].clone())
        }
    };
    if target.is_none() {
        op = Operation::Write;
    }
    match (op, target) {
        (Operation::Read, Some((id, _))) => {
            let r = client.api().get_event(&id).await;
            shared.note(Operation::Read, &attempt_of(&r));
            Operation::Read
        }
        (Operation::Query, Some((_, call))) => {
            // Acknowledged, so the API accepted it as a call id.
            let Ok(call_id) = CallId::parse(&call) else {
                return Operation::Query;
            };
            let query = EventsQuery::new(
                started_at - time::Duration::minutes(1),
                OffsetDateTime::now_utc() + time::Duration::minutes(1),
            )
            .with_call_id(call_id)
            .with_limit(PageLimit::DEFAULT);
            let r = client.api().query_events(&query).await;
            shared.note(Operation::Query, &attempt_of(&r));
            Operation::Query
        }
        _ => {
            // Every REPLAY_EVERY-th write resubmits an earlier acknowledged write, rebuilt with
            // a fresh timestamp: the audit fails if that stores a second event.
            let replay = (n % REPLAY_EVERY == REPLAY_EVERY - 1)
                .then(|| {
                    let writes = lock(&shared.writes);
                    writes
                        .posts
                        .iter()
                        .rev()
                        .find(|p| matches!(p.outcome, PostOutcome::Acknowledged { .. }))
                        .map(|p| (p.key.clone(), p.call_id.clone()))
                })
                .flatten();
            let (key, call_id) = replay.unwrap_or_else(|| {
                (
                    format!("{}-w{n}", config.run_id),
                    format!("{}-call-{}", config.run_id, n % config.calls.max(1) as u64),
                )
            });
            let body = Arc::new(event_body(&call_id, OffsetDateTime::now_utc(), &key));
            let outcome = client
                .post_event(&body, &key, |a| shared.note(Operation::Write, a))
                .await;
            if let PostOutcome::Acknowledged { event_id, .. } = &outcome {
                lock(&shared.acknowledged).push((event_id.clone(), call_id.clone()));
            }
            lock(&shared.writes).posts.push(PostRecord {
                key,
                call_id,
                body,
                outcome,
            });
            Operation::Write
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_parses_and_needs_writes() {
        assert_eq!(
            "write=40,read=40,query=20".parse::<OperationMix>(),
            Ok(OperationMix::default())
        );
        assert_eq!(
            "write=1".parse::<OperationMix>(),
            Ok(OperationMix {
                write: 1,
                read: 0,
                query: 0
            })
        );
        for bad in ["read=1", "write=x", "write=1,delete=2", "write"] {
            assert!(bad.parse::<OperationMix>().is_err(), "{bad}");
        }
    }
}
