//! `callflow dev` killed with SIGKILL in the middle of concurrent POSTs, restarted on the same
//! data directory and audited (issue #26): the embedded store's promise that an event answered
//! 2xx is stored, readable with the body that was answered and stored once, and that a retry
//! with the same `Idempotency-Key` (even with a re-stamped body) never stores a second copy.
//!
//! Each test runs the real `callflow` binary as `callflow dev` with the embedded store (no
//! `--s3-endpoint`) in a temp `--data-dir`, and three times over: drives 48 POSTs in flight
//! (unique keys, 10% repeated keys with re-stamped bodies, one POST in 16 re-sending a key of an
//! earlier round), SIGKILLs the process after 150, 250 or 200 acknowledgements, restarts it on
//! the same data dir (in the next round's `--lambda` mode: the tests alternate the real
//! handler binaries, the default, and `--lambda in-process`) and checks:
//!
//! - every event acknowledged so far, in any round, is read back by id with exactly the
//!   `event` its 2xx answer carried, and every acknowledgement of a key named the same event;
//! - a key acknowledged before a kill is answered 200 (not stored anew) after it;
//! - every POST that got no answer is replayed with its key and a re-stamped body and is
//!   acknowledged; then the store, listed and read directly, holds exactly the acknowledged
//!   events, each once, with one idempotency record, one by-call and one by-type entry;
//! - everything the store lists is of a known kind and as long as listed (every object is read
//!   after the last kill), and no `.tmp-` file of an interrupted write is left on disk.
//!
//! At the end `callflow_loadtest::audit` checks everything once more through the API (by id,
//! each call's query) and in the store. Group commit (`--embedded-fsync group`, the default)
//! and per-object fsync are held to the same promise, one test each.
//!
//! What this does and does not test: SIGKILL ends the process, not the machine. The kernel's
//! page cache survives it, so a write the process finished (even without any fsync) is still
//! there after the restart. This tests the crash consistency of what the process acknowledged:
//! the order of write, rename, index update and answer, the recovery at start (temp files
//! removed, key index rebuilt from the object files) and the idempotency protocol across a
//! crash. It does not test durability against power loss: that depends on the fsync/syncfs
//! ordering, which is not observable from here.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use callflow_core::idempotency::IdempotencyRecord;
use callflow_core::{StoredEvent, layout};
use callflow_loadtest::audit::StoreAccess;
use callflow_loadtest::workload::{PlannedPost, PostRecord, answer_label, rfc3339};
use callflow_loadtest::{
    ApiClient, AuditReport, ClientRetryPolicy, PostOutcome, PostWorkload, WorkloadRecord, audit,
};
use serde_json::Value;
use time::OffsetDateTime;

use support::DevProcess;

/// The bucket `callflow dev` keeps its events in.
const BUCKET: &str = callflow_dev::DEV_BUCKET;
/// Requests the audit's own checks run at once.
const CHECK_CONCURRENCY: usize = 16;

/// One crash test: how `callflow dev` runs and how hard it is pushed.
#[derive(Debug, Clone, Copy)]
struct CrashRun {
    /// `--embedded-fsync`: `group` or `per-object`.
    fsync: &'static str,
    /// `--lambda` of each round (`process` or `in-process`): load, kill, restart (in the next
    /// round's mode, the first round's after the last), check; as many rounds as modes.
    lambda_modes: [&'static str; 3],
    /// POSTs planned per round (the kill comes long before all are sent).
    posts_per_round: usize,
    /// POSTs in flight.
    concurrency: usize,
    /// Seed of the rounds' workloads (round `r` uses `seed + r`).
    seed: u64,
}

impl CrashRun {
    /// Acknowledgements of round `round` after which `callflow dev` is killed.
    fn kill_after(&self, round: usize) -> usize {
        [150, 250, 200][round % 3]
    }

    /// The `--lambda` mode `callflow dev` runs in during round `round`.
    fn lambda(&self, round: usize) -> &'static str {
        self.lambda_modes[round % self.lambda_modes.len()]
    }
}

/// `callflow dev` with the embedded store on `data_dir`, in round `round`'s Lambda mode.
fn start_dev(data_dir: &Path, run: &CrashRun, round: usize) -> DevProcess {
    DevProcess::start_quiet(
        data_dir,
        &[
            "--lambda",
            run.lambda(round),
            "--embedded-fsync",
            run.fsync,
            "--no-access-log",
            "--log-level",
            "off",
            "--throttle-burst",
            "100000",
            "--throttle-rate",
            "100000",
            "--usage-burst",
            "100000",
            "--usage-rate",
            "100000",
            "--usage-quota",
            "1000000000",
        ],
    )
}

/// A client of the embedded store of a running `callflow dev` (its endpoint from the banner,
/// the store's default credentials), reading directly, not through the API.
fn embedded_store(dev: &DevProcess) -> StoreAccess {
    const MARK: &str = "embedded S3 store at ";
    let banner = dev.stdout_until(|lines| lines.iter().any(|l| l.contains(MARK)));
    let endpoint = banner
        .iter()
        .find_map(|l| l.split(MARK).nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("the banner names the embedded store: {banner:#?}"))
        .to_owned();
    let defaults = callflow_s3store::StoreConfig::default();
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            defaults.access_key,
            defaults.secret_key,
            None,
            None,
            "callflow-dev-embedded-store",
        ))
        .force_path_style(true)
        .build();
    StoreAccess {
        client: aws_sdk_s3::Client::from_conf(config),
        bucket: BUCKET.to_owned(),
    }
}

/// Runs `f` over `items`, `limit` at a time, on the runtime's threads.
async fn concurrently<T, R, Fut>(
    items: impl IntoIterator<Item = T>,
    limit: usize,
    f: impl Fn(T) -> Fut,
) -> Vec<R>
where
    Fut: Future<Output = R> + Send + 'static,
    R: Send + 'static,
{
    let permits = Arc::new(tokio::sync::Semaphore::new(limit));
    let mut tasks = tokio::task::JoinSet::new();
    for item in items {
        let permit = Arc::clone(&permits)
            .acquire_owned()
            .await
            .expect("the semaphore stays open");
        let work = f(item);
        tasks.spawn(async move {
            let result = work.await;
            drop(permit);
            result
        });
    }
    tasks.join_all().await
}

/// What the POSTs of one round did up to and through the kill.
#[derive(Default)]
struct RoundLoad {
    record: WorkloadRecord,
    /// (event id, the `event` of the 2xx answer) per acknowledged POST.
    acknowledged: Vec<(String, Value)>,
    /// POSTs sent but not yet finished when the kill came.
    in_flight_at_kill: usize,
    /// Acknowledgements when the kill came.
    acknowledged_at_kill: usize,
    /// The handler processes (process mode) alive just before the kill.
    handler_processes: Vec<ProcessId>,
}

/// The counters and results the load's workers share.
#[derive(Default)]
struct LoadState {
    next: AtomicUsize,
    started: AtomicUsize,
    finished: AtomicUsize,
    acknowledged: AtomicUsize,
    stop: AtomicBool,
    result: Mutex<RoundLoad>,
}

/// Sends `plan` with `concurrency` workers; once `kill_after` POSTs are acknowledged, kills
/// `dev` with SIGKILL and sends no new POST (those in flight retry against the dead port and
/// fail). Every sent POST's outcome is recorded.
async fn load_then_kill(
    client: &ApiClient,
    plan: Vec<PlannedPost>,
    concurrency: usize,
    kill_after: usize,
    dev: DevProcess,
) -> RoundLoad {
    let plan: Arc<[PlannedPost]> = plan.into();
    let state = Arc::new(LoadState::default());
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, plan, state) = (client.clone(), Arc::clone(&plan), Arc::clone(&state));
        workers.spawn(async move {
            while !state.stop.load(Ordering::SeqCst) {
                let Some(post) = plan.get(state.next.fetch_add(1, Ordering::SeqCst)) else {
                    break;
                };
                state.started.fetch_add(1, Ordering::SeqCst);
                let mut answers = Vec::new();
                let mut answered_event = None;
                let outcome = client
                    .post_event(&post.body, &post.key, |attempt| {
                        answers.push(answer_label(attempt));
                        if let Ok(reply) = attempt
                            && matches!(reply.status, 200 | 201)
                        {
                            answered_event = reply.json().map(|body| body["event"].clone());
                        }
                    })
                    .await;
                let mut result = state.result.lock().unwrap_or_else(PoisonError::into_inner);
                for answer in answers {
                    *result.record.attempts_by_answer.entry(answer).or_default() += 1;
                }
                if let PostOutcome::Acknowledged { event_id, .. } = &outcome {
                    let event = answered_event.expect("a 2xx answer carries the event");
                    result.acknowledged.push((event_id.clone(), event));
                    state.acknowledged.fetch_add(1, Ordering::SeqCst);
                }
                result.record.posts.push(PostRecord {
                    key: post.key.clone(),
                    call_id: post.call_id.clone(),
                    body: Arc::clone(&post.body),
                    outcome,
                });
                drop(result);
                state.finished.fetch_add(1, Ordering::SeqCst);
            }
        });
    }
    while state.acknowledged.load(Ordering::SeqCst) < kill_after {
        assert!(
            state.finished.load(Ordering::SeqCst) < plan.len(),
            "the load ended before {kill_after} acknowledgements"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let handler_processes = child_processes(dev.pid());
    let in_flight_at_kill =
        state.started.load(Ordering::SeqCst) - state.finished.load(Ordering::SeqCst);
    let acknowledged_at_kill = state.acknowledged.load(Ordering::SeqCst);
    let status = tokio::task::spawn_blocking(move || dev.kill_hard())
        .await
        .expect("kill task");
    state.stop.store(true, Ordering::SeqCst);
    assert_eq!(status.signal(), Some(9), "killed by SIGKILL: {status}");
    workers.join_all().await;
    let mut load =
        std::mem::take(&mut *state.result.lock().unwrap_or_else(PoisonError::into_inner));
    load.in_flight_at_kill = in_flight_at_kill;
    load.acknowledged_at_kill = acknowledged_at_kill;
    load.handler_processes = handler_processes;
    load
}

/// A process seen in `/proc`: its pid and start time (which tells it from a later process
/// that reuses the pid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ProcessId {
    pid: u32,
    start_ticks: u64,
}

/// The live children of `pid` (from `/proc`).
fn child_processes(pid: u32) -> Vec<ProcessId> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|child| {
            let stat = process_stat(child)?;
            (stat.parent == pid).then_some(ProcessId {
                pid: child,
                start_ticks: stat.start_ticks,
            })
        })
        .collect()
}

/// What `/proc/<pid>/stat` says of a process.
struct ProcessStat {
    state: char,
    parent: u32,
    start_ticks: u64,
}

fn process_stat(pid: u32) -> Option<ProcessStat> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid ... starttime(22nd field) ...`; comm may hold spaces and `)`.
    let fields: Vec<&str> = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .collect();
    Some(ProcessStat {
        state: fields.first()?.chars().next()?,
        parent: fields.get(1)?.parse().ok()?,
        start_ticks: fields.get(19)?.parse().ok()?,
    })
}

/// Waits up to `within` for the processes to exit (zombies count as exited); SIGKILLs and
/// returns those still running then.
fn reap_orphans(processes: &[ProcessId], within: Duration) -> Vec<ProcessId> {
    let running = |p: &ProcessId| {
        process_stat(p.pid).is_some_and(|s| s.start_ticks == p.start_ticks && s.state != 'Z')
    };
    let deadline = Instant::now() + within;
    while Instant::now() < deadline && processes.iter().any(running) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left: Vec<ProcessId> = processes.iter().copied().filter(running).collect();
    for process in &left {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &process.pid.to_string()])
            .status();
    }
    left
}

/// Temp files (`.tmp-*`, writes in progress) under the embedded store's object directories.
fn temp_files(data_dir: &Path) -> Vec<PathBuf> {
    let objects = data_dir.join("s3/buckets").join(BUCKET).join("objects");
    let mut found = Vec::new();
    for shard in std::fs::read_dir(objects).into_iter().flatten().flatten() {
        for file in std::fs::read_dir(shard.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if file.file_name().to_string_lossy().starts_with(".tmp-") {
                found.push(file.path());
            }
        }
    }
    found
}

/// The events answered 2xx so far: event id → the `event` of its answer, and idempotency key
/// (the workload's `attributes.idempotencyKey`) → event id.
#[derive(Debug, Default)]
struct Answered {
    events: BTreeMap<String, Value>,
    ids_by_key: BTreeMap<String, String>,
}

impl Answered {
    /// Adds acknowledgements, checking that every acknowledgement of an event id carried the
    /// same event and every acknowledgement of a key the same event id.
    fn note(&mut self, acknowledged: Vec<(String, Value)>) {
        for (id, event) in acknowledged {
            let key = event["attributes"]["idempotencyKey"]
                .as_str()
                .unwrap_or_else(|| panic!("an answered event carries its key: {event}"))
                .to_owned();
            let first_id = self.ids_by_key.entry(key.clone()).or_insert(id.clone());
            assert_eq!(*first_id, id, "key {key} acknowledged as two events");
            match self.events.get(&id) {
                Some(first) => assert_eq!(
                    first, &event,
                    "two acknowledgements of {id} answered different events"
                ),
                None => {
                    self.events.insert(id, event);
                }
            }
        }
    }
}

/// GETs every answered event by id and compares it with the `event` of its 2xx answer;
/// returns the differences.
async fn read_back(client: &ApiClient, answered: &BTreeMap<String, Value>) -> Vec<String> {
    let checks = concurrently(answered.clone(), CHECK_CONCURRENCY, |(id, event)| {
        let client = client.clone();
        async move {
            match client.with_retries(|| client.api().get_event(&id)).await {
                Ok(reply) if reply.status() == 200 => match reply.exchange.json() {
                    Some(stored) if stored == event => None,
                    stored => Some(format!("{id}: read back {stored:?}, acknowledged {event}")),
                },
                Ok(reply) => Some(format!("{id}: GET answered {}", reply.status())),
                Err(e) => Some(format!("{id}: GET failed: {e}")),
            }
        }
    })
    .await;
    checks.into_iter().flatten().collect()
}

/// Replays every POST of `record` that got no 2xx and whose key no other POST got one for:
/// same key, body re-stamped with the current time (a client rebuilding its event), 16 at a
/// time. Each must be acknowledged now that the server is up.
async fn replay_unacknowledged(client: &ApiClient, record: &WorkloadRecord) -> RoundLoad {
    let acknowledged: BTreeSet<&str> = record
        .posts
        .iter()
        .filter(|p| matches!(p.outcome, PostOutcome::Acknowledged { .. }))
        .map(|p| p.key.as_str())
        .collect();
    let mut seen = BTreeSet::new();
    let unanswered: Vec<PostRecord> = record
        .failed()
        .filter(|p| !acknowledged.contains(p.key.as_str()) && seen.insert(p.key.as_str()))
        .cloned()
        .collect();
    let replayed = concurrently(unanswered, CHECK_CONCURRENCY, |post| {
        let client = client.clone();
        async move {
            let mut body = (*post.body).clone();
            body["timestamp"] = rfc3339(OffsetDateTime::now_utc()).into();
            let mut answers = Vec::new();
            let mut answered_event = None;
            let outcome = client
                .post_event(&body, &post.key, |attempt| {
                    answers.push(answer_label(attempt));
                    if let Ok(reply) = attempt
                        && matches!(reply.status, 200 | 201)
                    {
                        answered_event = reply.json().map(|b| b["event"].clone());
                    }
                })
                .await;
            let replay = PostRecord {
                body: Arc::new(body),
                outcome,
                ..post
            };
            (replay, answers, answered_event)
        }
    })
    .await;
    let mut replays = RoundLoad::default();
    for (replay, answers, answered_event) in replayed {
        for answer in answers {
            *replays.record.attempts_by_answer.entry(answer).or_default() += 1;
        }
        match &replay.outcome {
            PostOutcome::Acknowledged { event_id, .. } => replays.acknowledged.push((
                event_id.clone(),
                answered_event.expect("a 2xx answer carries the event"),
            )),
            PostOutcome::Failed { .. } => panic!(
                "the replay of key {} failed: {:?}",
                replay.key, replay.outcome
            ),
        }
        replays.record.posts.push(replay);
    }
    replays
}

/// What the direct look at the store found.
#[derive(Debug, Default)]
struct StoreContents {
    /// Event id → its event objects (1 each when consistent).
    events: BTreeMap<String, usize>,
    /// Event ids the idempotency records name.
    records: BTreeMap<String, usize>,
    /// Event ids of by-call entries.
    by_call: BTreeMap<String, usize>,
    /// Event ids of by-type entries.
    by_type: BTreeMap<String, usize>,
    /// Objects listed.
    objects: usize,
    /// Objects that are not what their key says, unreadable, or not as long as listed.
    problems: Vec<String>,
}

/// Lists the whole bucket and reads what it lists: every object with `read_everything`,
/// otherwise the idempotency records only (events then count by their key, and index entries
/// must be listed empty). What is read must be readable, as long as listed and of its kind.
async fn store_contents(store: &StoreAccess, read_everything: bool) -> StoreContents {
    let mut listed = Vec::new();
    let mut continuation = None;
    loop {
        let page = store
            .client
            .list_objects_v2()
            .bucket(&store.bucket)
            .set_continuation_token(continuation)
            .send()
            .await
            .expect("the store lists the bucket");
        listed.extend(
            page.contents()
                .iter()
                .map(|o| (o.key().unwrap_or_default().to_owned(), o.size())),
        );
        continuation = page.next_continuation_token().map(str::to_owned);
        if continuation.is_none() {
            break;
        }
    }
    let read = concurrently(listed.clone(), CHECK_CONCURRENCY, |(key, size)| {
        let store = store.clone();
        async move {
            if !read_everything && !key.starts_with(layout::IDEMPOTENCY_PREFIX) {
                return (key, size, None);
            }
            let body = match store
                .client
                .get_object()
                .bucket(&store.bucket)
                .key(&key)
                .send()
                .await
            {
                Ok(out) => out
                    .body
                    .collect()
                    .await
                    .map(|b| b.into_bytes().to_vec())
                    .map_err(|e| e.to_string()),
                Err(e) => Err(aws_sdk_s3::error::DisplayErrorContext(e).to_string()),
            };
            (key, size, Some(body))
        }
    })
    .await;
    let mut contents = StoreContents {
        objects: listed.len(),
        ..StoreContents::default()
    };
    for (key, size, body) in read {
        let body = match body {
            Some(Ok(body)) => {
                if size != Some(body.len() as i64) {
                    contents.problems.push(format!(
                        "{key}: listed with size {size:?}, read {} bytes",
                        body.len()
                    ));
                }
                Some(body)
            }
            Some(Err(e)) => {
                contents
                    .problems
                    .push(format!("{key}: listed, unreadable: {e}"));
                continue;
            }
            None => None,
        };
        if let Err(problem) = contents.count(&key, size, body.as_deref()) {
            contents.problems.push(format!("{key}: {problem}"));
        }
    }
    contents
}

impl StoreContents {
    /// Counts one listed object under the event id it is for; `body` when it was read.
    fn count(&mut self, key: &str, size: Option<i64>, body: Option<&[u8]>) -> Result<(), String> {
        let (map, id) = if key.starts_with(layout::EVENTS_PREFIX) {
            let id = match body {
                Some(body) => {
                    let event = serde_json::from_slice::<StoredEvent>(body)
                        .map_err(|e| format!("not an event: {e}"))?;
                    if layout::event_key(&event.event_id) != key {
                        return Err(format!("holds event {}", event.event_id));
                    }
                    event.event_id.to_string()
                }
                None => layout::event_id_from_event_key(key)
                    .ok_or("not an event key")?
                    .to_string(),
            };
            (&mut self.events, id)
        } else if key.starts_with(layout::IDEMPOTENCY_PREFIX) {
            let record = serde_json::from_slice::<IdempotencyRecord>(body.unwrap_or_default())
                .map_err(|e| format!("not an idempotency record: {e}"))?;
            (&mut self.records, record.event.event_id.to_string())
        } else if let Some(rest) = key.strip_prefix(layout::CALL_INDEX_PREFIX) {
            let id = rest.rsplit('/').next().unwrap_or_default();
            (&mut self.by_call, id.to_owned())
        } else if let Some(rest) = key.strip_prefix(layout::TYPE_INDEX_PREFIX) {
            let name = rest.rsplit('/').next().unwrap_or_default();
            let id = name.split('.').next().unwrap_or_default();
            (&mut self.by_type, id.to_owned())
        } else {
            return Err("unknown kind of object".to_owned());
        };
        if key.starts_with(layout::INDEXES_PREFIX) && size != Some(0) {
            return Err(format!("an index entry listed with size {size:?}"));
        }
        *map.entry(id).or_default() += 1;
        Ok(())
    }
}

/// The promise after a restart and the replays: one event, one record, one entry of each
/// index per key, nothing else, nothing torn.
fn assert_one_of_everything(contents: &StoreContents, keys: usize) {
    assert!(
        contents.problems.is_empty(),
        "{} bad objects: {:#?}",
        contents.problems.len(),
        &contents.problems[..contents.problems.len().min(20)]
    );
    for (what, map) in [
        ("events", &contents.events),
        ("idempotency records", &contents.records),
        ("by-call entries", &contents.by_call),
        ("by-type entries", &contents.by_type),
    ] {
        let twice: Vec<_> = map.iter().filter(|(_, n)| **n != 1).collect();
        assert!(twice.is_empty(), "{what} more than once: {twice:?}");
        assert_eq!(map.len(), keys, "{what}: one per idempotency key");
        assert!(
            map.keys().eq(contents.events.keys()),
            "{what} name exactly the stored events"
        );
    }
}

/// The rounds' plans: a seeded workload per round (10% repeated keys, re-stamped), plus one
/// POST in 16 re-sending a key of an earlier round with a re-stamped body.
fn round_plan(run: &CrashRun, round: usize, earlier: &[PlannedPost]) -> Vec<PlannedPost> {
    let workload = PostWorkload {
        concurrency: run.concurrency,
        duplicate_fraction: 0.10,
        calls: 40,
        seed: run.seed + round as u64,
        restamp_duplicates: true,
        ..PostWorkload::new(run.posts_per_round, format!("crash-{}-r{round}", run.fsync))
    };
    let mut plan = workload.plan();
    if !earlier.is_empty() {
        for (n, i) in (5..plan.len()).step_by(16).enumerate() {
            let mut again = earlier[(n * 7919 + round * 104_729) % earlier.len()].clone();
            let mut body = (*again.body).clone();
            body["timestamp"] = rfc3339(OffsetDateTime::now_utc()).into();
            again.body = Arc::new(body);
            plan[i] = again;
        }
    }
    plan
}

async fn killed_mid_load_and_restarted(run: CrashRun) {
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("temp dir");
    let data_dir = tmp.path().join("dev");
    let data = data_dir.clone();
    let mut dev = tokio::task::spawn_blocking(move || start_dev(&data, &run, 0))
        .await
        .expect("start");
    let token = support::token(&data_dir, &["events:read", "events:write"]);
    let retry = ClientRetryPolicy {
        max_attempts: 3,
        request_timeout: Duration::from_secs(15),
        ..ClientRetryPolicy::default()
    };
    let client = ApiClient::new(&dev.stage_url, &token, retry);
    let from = OffsetDateTime::now_utc() - time::Duration::minutes(10);

    let mut record = WorkloadRecord::default();
    let mut answered = Answered::default();
    let mut sent_earlier: Vec<PlannedPost> = Vec::new();
    let mut in_flight_at_kills = 0;
    let mut replayed = 0;
    let mut stored_before_answer = 0;
    let rounds = run.lambda_modes.len();
    for round in 0..rounds {
        let plan = round_plan(&run, round, &sent_earlier);
        let load_started = Instant::now();
        let load = load_then_kill(
            &client,
            plan.clone(),
            run.concurrency,
            run.kill_after(round),
            dev,
        )
        .await;
        let load_time = load_started.elapsed();
        let temp_files_at_kill = temp_files(&data_dir).len();
        let reap_started = Instant::now();
        let handlers = load.handler_processes.clone();
        let orphans_left =
            tokio::task::spawn_blocking(move || reap_orphans(&handlers, Duration::from_secs(15)))
                .await
                .expect("reap task");
        print!(
            "round {round} ({} {}): SIGKILL after {} acknowledgements, {} POSTs in flight, {} handler processes (exited {:.1} s after), {temp_files_at_kill} temp files on disk; load {:.1} s\n{}",
            run.lambda(round),
            run.fsync,
            load.acknowledged_at_kill,
            load.in_flight_at_kill,
            load.handler_processes.len(),
            reap_started.elapsed().as_secs_f64(),
            load_time.as_secs_f64(),
            load.record
        );
        assert!(
            orphans_left.is_empty(),
            "handler processes {orphans_left:?} outlived the killed callflow dev by 15 s"
        );
        assert!(load.in_flight_at_kill > 0, "the kill came mid-load");
        assert!(
            load.record.failed().count() > 0,
            "POSTs in flight at the kill got no answer"
        );
        in_flight_at_kills += load.in_flight_at_kill;
        // A key acknowledged before this round is answered 200 (never stored anew).
        for post in &load.record.posts {
            if answered.ids_by_key.contains_key(&post.key) {
                assert!(
                    matches!(
                        post.outcome,
                        PostOutcome::Acknowledged { status: 200, .. } | PostOutcome::Failed { .. }
                    ),
                    "key {} acknowledged in an earlier round: {:?}",
                    post.key,
                    post.outcome
                );
            }
        }
        let sent: BTreeSet<&str> = load.record.posts.iter().map(|p| p.key.as_str()).collect();
        let mut known: BTreeSet<String> = sent_earlier.iter().map(|p| p.key.clone()).collect();
        sent_earlier.extend(
            plan.into_iter()
                .filter(|p| sent.contains(p.key.as_str()) && known.insert(p.key.clone())),
        );
        answered.note(load.acknowledged);
        record.extend(load.record);

        let restart_started = Instant::now();
        let data = data_dir.clone();
        dev = tokio::task::spawn_blocking(move || start_dev(&data, &run, round + 1))
            .await
            .expect("restart");
        let restart_time = restart_started.elapsed();
        client.set_stage_url(&dev.stage_url);
        let store = embedded_store(&dev);

        // Every event acknowledged so far (this round's and earlier rounds'), as answered.
        let check_started = Instant::now();
        let differences = read_back(&client, &answered.events).await;
        assert!(
            differences.is_empty(),
            "{} acknowledged events read back differently (or not at all): {:#?}",
            differences.len(),
            &differences[..differences.len().min(10)]
        );
        // The unanswered POSTs again, with their keys and re-stamped bodies.
        let replays = replay_unacknowledged(&client, &record).await;
        replayed += replays.record.sent();
        stored_before_answer += count_status(&replays.record, 200);
        println!(
            "replayed {} unanswered keys with re-stamped bodies: {} answered 200 (stored before the kill), {} answered 201",
            replays.record.sent(),
            count_status(&replays.record, 200),
            count_status(&replays.record, 201)
        );
        let replayed_events: BTreeMap<String, Value> =
            replays.acknowledged.iter().cloned().collect();
        answered.note(replays.acknowledged);
        record.extend(replays.record);
        let differences = read_back(&client, &replayed_events).await;
        assert!(differences.is_empty(), "{differences:#?}");
        // In the store: exactly the acknowledged events, each once, with its record and
        // index entries, and nothing torn.
        let last_round = round + 1 == rounds;
        let contents = store_contents(&store, last_round).await;
        assert_one_of_everything(&contents, answered.ids_by_key.len());
        let distinct: BTreeSet<&str> = record.posts.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            answered.ids_by_key.len(),
            distinct.len(),
            "every key acknowledged"
        );
        assert!(
            contents.events.keys().eq(answered.events.keys()),
            "the store holds exactly the acknowledged events"
        );
        let left = temp_files(&data_dir);
        assert!(
            left.is_empty(),
            "temp files left after the restart: {left:?}"
        );
        println!(
            "restart {:.1} s, checks {:.1} s: {} keys, {} objects, each event once",
            restart_time.as_secs_f64(),
            check_started.elapsed().as_secs_f64(),
            distinct.len(),
            contents.objects
        );
    }
    // Once at the end: the whole audit through the API (by id, every call's query) and the
    // store.
    let store = embedded_store(&dev);
    let to = OffsetDateTime::now_utc() + time::Duration::hours(1);
    let report = audit(&client, &record, from, to, Some(&store)).await;
    print!("final {report}");
    assert_settled(&report, &record);
    println!(
        "{} fsync, --lambda {:?}: {rounds} kills ({in_flight_at_kills} POSTs in flight at them), {} POSTs, {} acknowledged, {replayed} replayed ({stored_before_answer} of them stored before the kill), {} events; lost 0, duplicates 0; {:.1} s",
        run.fsync,
        run.lambda_modes,
        record.sent(),
        record.acknowledged(),
        report.acknowledged_events,
        started.elapsed().as_secs_f64()
    );
    tokio::task::spawn_blocking(move || dev.stop())
        .await
        .expect("clean stop");
}

fn count_status(record: &WorkloadRecord, status: u16) -> usize {
    record
        .posts
        .iter()
        .filter(|p| matches!(p.outcome, PostOutcome::Acknowledged { status: s, .. } if s == status))
        .count()
}

/// After the replays: consistent, nothing stored unacknowledged, every key acknowledged and
/// each of its events verified by id, in its query and in the store.
fn assert_settled(report: &AuditReport, record: &WorkloadRecord) {
    assert!(report.is_consistent(), "{report}");
    assert!(report.stored_unacknowledged.is_empty(), "{report}");
    let distinct: BTreeSet<&str> = record.posts.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(report.acknowledged_events, distinct.len(), "{report}");
    assert_eq!(
        report.verified_by_id, report.acknowledged_events,
        "{report}"
    );
    assert_eq!(
        report.verified_in_query, report.acknowledged_events,
        "{report}"
    );
    assert_eq!(
        report.verified_in_store,
        Some(report.acknowledged_events),
        "{report}"
    );
}

/// Group commit (the default): killed in process mode (the real handler binaries, the
/// default), in-process mode, process mode again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn group_commit_keeps_every_acknowledged_event_exactly_once_across_kill_9() {
    killed_mid_load_and_restarted(CrashRun {
        fsync: "group",
        lambda_modes: ["process", "in-process", "process"],
        posts_per_round: 2_000,
        concurrency: 48,
        seed: 26,
    })
    .await;
}

/// Per-object fsync, held to the same promise: in-process, process, in-process.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn per_object_fsync_keeps_every_acknowledged_event_exactly_once_across_kill_9() {
    killed_mid_load_and_restarted(CrashRun {
        fsync: "per-object",
        lambda_modes: ["in-process", "process", "in-process"],
        posts_per_round: 2_000,
        concurrency: 48,
        seed: 226,
    })
    .await;
}
