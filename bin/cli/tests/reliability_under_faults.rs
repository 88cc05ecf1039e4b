//! Reliability of `callflow dev` under storage faults and restarts: the promise that an event
//! answered 2xx is stored exactly once and can be read back.
//!
//! Each test starts a `callflow-s3store` and a `FaultProxy` in front of it (both in this
//! process, on loopback), runs the real `callflow` binary as `callflow dev --s3-endpoint
//! <proxy>`, drives POSTs with unique and duplicated idempotency keys, then audits through
//! the API and directly in the store (bypassing the proxy).
//!
//! `cargo test -p callflow-cli --test reliability_under_faults` runs the 2,000-POST variant,
//! the targeted lost-answer cases and the restart; the 10,000-POST run is
//! `-- --ignored ten_thousand`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use callflow_loadtest::audit::StoreAccess;
use callflow_loadtest::workload::run_planned;
use callflow_loadtest::{
    ApiClient, AuditReport, ClientRetryPolicy, Fault, FaultMix, FaultPlan, FaultProxy, PostOutcome,
    PostWorkload, RequestClass, WorkloadRecord, audit, reconcile,
};
use callflow_s3store::{RunningStore, StoreConfig};
use time::OffsetDateTime;

const BIN: &str = env!("CARGO_BIN_EXE_callflow");
const BUCKET: &str = "callflow-events";

/// `callflow dev` as a child process.
struct DevProcess {
    child: Child,
    stage_url: String,
}

impl DevProcess {
    fn start(data_dir: &Path, store: &StoreCredentials, endpoint: &str, port: u16) -> Self {
        let mut child = Command::new(BIN)
            .args(["dev", "--port", &port.to_string(), "--data-dir"])
            .arg(data_dir)
            .args(["--s3-endpoint", endpoint, "--s3-bucket", BUCKET])
            .args(["--no-access-log", "--log-level", "off"])
            .args(["--throttle-burst", "100000", "--throttle-rate", "100000"])
            .env("AWS_ACCESS_KEY_ID", &store.access)
            .env("AWS_SECRET_ACCESS_KEY", &store.secret)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("callflow dev starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("callflow dev listening on ")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let stage_url = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("callflow dev prints its URL");
        Self { child, stage_url }
    }

    fn port(&self) -> u16 {
        self.stage_url
            .trim_end_matches("/v1")
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port in the URL")
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGINT, then waits for a clean exit (in-flight requests are finished first).
    fn interrupt(mut self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(status.success(), "callflow dev exited with {status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("callflow dev did not stop within 20 s of SIGINT");
    }
}

impl Drop for DevProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn token(data_dir: &Path) -> String {
    let out = Command::new(BIN)
        .args(["token", "--data-dir"])
        .arg(data_dir)
        .output()
        .expect("callflow token runs");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .expect("a token")
        .to_owned()
}

/// Store, proxy, `callflow dev` and a client.
struct Rig {
    _tmp: tempfile::TempDir,
    data_dir: PathBuf,
    store: RunningStore,
    proxy: FaultProxy,
    dev: Option<DevProcess>,
    client: ApiClient,
}

impl Rig {
    async fn start(plan: FaultPlan, retry: ClientRetryPolicy) -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let store = RunningStore::start(StoreConfig::new(tmp.path().join("s3")))
            .await
            .expect("store starts");
        store.ensure_bucket(BUCKET).await.expect("bucket");
        let proxy = FaultProxy::start(store.local_addr(), plan)
            .await
            .expect("proxy starts");
        let data_dir = tmp.path().join("dev");
        let dev = {
            let (data_dir, endpoint) = (data_dir.clone(), proxy.endpoint());
            let credentials = StoreCredentials::of(&store);
            tokio::task::spawn_blocking(move || {
                DevProcess::start(&data_dir, &credentials, &endpoint, 0)
            })
            .await
            .expect("spawned")
        };
        let token = token(&data_dir);
        let client = ApiClient::new(&dev.stage_url, &token, retry);
        Self {
            _tmp: tmp,
            data_dir,
            store,
            proxy,
            dev: Some(dev),
            client,
        }
    }

    /// SIGINT `callflow dev` and start it again on the same port and data directory.
    async fn restart_dev(&mut self) {
        let dev = self.dev.take().expect("running");
        let port = dev.port();
        let credentials = StoreCredentials::of(&self.store);
        let (data_dir, endpoint) = (self.data_dir.clone(), self.proxy.endpoint());
        let dev = tokio::task::spawn_blocking(move || {
            dev.interrupt();
            DevProcess::start(&data_dir, &credentials, &endpoint, port)
        })
        .await
        .expect("restart");
        self.client.set_stage_url(&dev.stage_url);
        self.dev = Some(dev);
    }

    fn store_access(&self) -> StoreAccess {
        StoreAccess {
            client: self.store.sdk_client(),
            bucket: BUCKET.to_owned(),
        }
    }

    /// Audits while the faults go on (reads by id and queries meet them too), replays
    /// finally-failed POSTs with faults off, audits again; asserts the promise and returns
    /// the final report.
    async fn audit_and_reconcile(
        &self,
        record: &mut WorkloadRecord,
        base: OffsetDateTime,
    ) -> AuditReport {
        let (from, to) = (
            base - time::Duration::minutes(5),
            base + time::Duration::hours(1),
        );
        let store = self.store_access();
        let first = audit(&self.client, record, from, to, Some(&store)).await;
        print!("under faults: {first}");
        assert!(first.is_consistent(), "{first}");
        self.proxy.set_enabled(false);
        let replays = reconcile(&self.client, record).await;
        println!("reconciled {} finally-failed keys", replays.sent());
        assert!(
            replays
                .posts
                .iter()
                .all(|p| matches!(p.outcome, PostOutcome::Acknowledged { .. })),
            "every replay is acknowledged once faults stop"
        );
        record.extend(replays);
        let last = audit(&self.client, record, from, to, Some(&store)).await;
        print!("after reconcile: {last}");
        assert!(last.is_consistent(), "{last}");
        assert!(last.stored_unacknowledged.is_empty(), "{last}");
        let distinct: std::collections::BTreeSet<&str> =
            record.posts.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            last.acknowledged_events,
            distinct.len(),
            "every key acknowledged"
        );
        assert_eq!(last.verified_by_id, last.acknowledged_events);
        assert_eq!(last.verified_in_query, last.acknowledged_events);
        assert_eq!(last.verified_in_store, Some(last.acknowledged_events));
        last
    }
}

/// The store's static credentials, passed to `callflow dev` through the AWS variables.
struct StoreCredentials {
    access: String,
    secret: String,
}

impl StoreCredentials {
    fn of(store: &RunningStore) -> Self {
        Self {
            access: store.access_key().to_owned(),
            secret: store.secret_key().to_owned(),
        }
    }
}

/// The 20% storage-fault plan of the issue: every fault kind, on PUT, GET and LIST.
fn twenty_percent_faults(seed: u64) -> FaultPlan {
    FaultPlan::storage_failures(seed, 0.20, FaultMix::default())
}

fn assert_faults_were_injected(proxy: &FaultProxy) {
    let stats = proxy.stats();
    print!("{stats}");
    let rate = stats.total_failures() as f64 / stats.storage_requests().max(1) as f64;
    assert!((0.15..0.25).contains(&rate), "failure rate {rate}");
    for fault in [
        Fault::SlowDown,
        Fault::InternalError,
        Fault::ResetBeforeForward,
        Fault::ResetAfterForward,
        Fault::Stall,
    ] {
        assert!(
            stats
                .injected
                .get(&(RequestClass::PutObject, fault))
                .copied()
                .unwrap_or(0)
                > 0,
            "no {fault:?} on PutObject"
        );
    }
}

async fn posts_under_twenty_percent_faults(posts: usize) {
    let rig = Rig::start(twenty_percent_faults(7), ClientRetryPolicy::default()).await;
    let workload = PostWorkload {
        concurrency: 32,
        duplicate_fraction: 0.10,
        calls: 50,
        ..PostWorkload::new(posts, "faults")
    };
    let started = Instant::now();
    let mut record = callflow_loadtest::run_posts(&rig.client, &workload).await;
    print!("{record}");
    println!("load took {:.1} s", started.elapsed().as_secs_f64());
    assert_eq!(record.sent(), posts);
    assert_faults_were_injected(&rig.proxy);
    assert!(
        record.attempts_by_answer.get("200").copied().unwrap_or(0) > 0,
        "duplicated keys were answered 200"
    );
    rig.audit_and_reconcile(&mut record, workload.base_time)
        .await;
    let stats = rig.proxy.stats();
    for class in [RequestClass::GetObject, RequestClass::ListObjects] {
        assert!(
            stats
                .injected
                .keys()
                .any(|(c, f)| *c == class && f.is_failure()),
            "the audit's reads met faults on {class:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_thousand_posts_under_twenty_percent_storage_faults_are_stored_exactly_once() {
    posts_under_twenty_percent_faults(2_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "10,000 POSTs: run with -- --ignored ten_thousand"]
async fn ten_thousand_posts_under_twenty_percent_storage_faults_are_stored_exactly_once() {
    posts_under_twenty_percent_faults(10_000).await;
}

/// One keyed POST, one client attempt, while the first PUT of a key under `prefix` is
/// applied but its answer lost (the connection is reset after forwarding). Asserts the
/// client's one attempt got `status`, exactly one fault was injected, and the audit finds one
/// event, stored once.
async fn one_post_with_a_lost_put_answer_under(prefix: &str, run_id: &str, status: u16) {
    let plan = FaultPlan::none(1)
        .with_rule(
            RequestClass::PutObject,
            1.0,
            FaultMix::only(Fault::ResetAfterForward),
        )
        .only_keys_under(prefix)
        .with_fault_limit(1);
    let no_retries = ClientRetryPolicy {
        max_attempts: 1,
        ..ClientRetryPolicy::default()
    };
    let rig = Rig::start(plan, no_retries).await;
    let mut record = callflow_loadtest::run_posts(
        &rig.client,
        &PostWorkload {
            duplicate_fraction: 0.0,
            ..PostWorkload::new(1, run_id)
        },
    )
    .await;
    let outcome = &record.posts[0].outcome;
    assert!(
        matches!(outcome, PostOutcome::Acknowledged { status: s, attempts: 1, .. } if *s == status),
        "{outcome:?}"
    );
    assert_eq!(rig.proxy.stats().total_failures(), 1);
    let report = rig
        .audit_and_reconcile(&mut record, OffsetDateTime::now_utc())
        .await;
    assert_eq!(report.acknowledged_events, 1);
}

/// The store applies the event PUT but the answer is lost: the SDK retries the conditional
/// PUT, gets 412, the storer reads the object back and answers 200 with the original event,
/// on the client's first attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_put_answer_is_deduplicated_by_the_conditional_retry_and_answered_200() {
    one_post_with_a_lost_put_answer_under(callflow_core::layout::EVENTS_PREFIX, "lost-answer", 200)
        .await;
}

/// The store applies the idempotency record's PUT but its answer is lost: the SDK's retry
/// gets 412, the storer finds its own record, stores the event it holds and answers 201 on the
/// client's first attempt; one event, nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_record_answer_is_completed_by_the_conditional_retry_and_answered_201() {
    one_post_with_a_lost_put_answer_under(
        callflow_core::layout::IDEMPOTENCY_PREFIX,
        "lost-record-answer",
        201,
    )
    .await;
}

/// Every attempt's answer is lost: the client gets a final 503 although the event object
/// exists (the documented case). The audit reports it as stored but unacknowledged, not as
/// an error; replaying with the same key answers 200 with that event and completes its index.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_final_503_after_an_applied_put_is_reported_and_reconciled_by_replay() {
    let plan = FaultPlan::none(1)
        .with_rule(
            RequestClass::PutObject,
            1.0,
            FaultMix::only(Fault::ResetAfterForward),
        )
        .only_keys_under(callflow_core::layout::EVENTS_PREFIX);
    let one_attempt = ClientRetryPolicy {
        max_attempts: 1,
        ..ClientRetryPolicy::default()
    };
    let rig = Rig::start(plan, one_attempt).await;
    let workload = PostWorkload {
        duplicate_fraction: 0.0,
        ..PostWorkload::new(3, "final-503")
    };
    let mut record = callflow_loadtest::run_posts(&rig.client, &workload).await;
    for post in &record.posts {
        assert!(
            matches!(
                post.outcome,
                PostOutcome::Failed {
                    last_status: Some(503),
                    ..
                }
            ),
            "{:?}",
            post.outcome
        );
    }
    rig.proxy.set_enabled(false);
    let store = rig.store_access();
    let from = workload.base_time - time::Duration::minutes(5);
    let to = workload.base_time + time::Duration::hours(1);
    let before = audit(&rig.client, &record, from, to, Some(&store)).await;
    print!("{before}");
    assert!(before.is_consistent(), "{before}");
    assert_eq!(before.acknowledged_events, 0);
    assert_eq!(
        before.stored_unacknowledged.len(),
        3,
        "the objects exist without acknowledgement: {before}"
    );
    let replays = reconcile(&rig.client, &record).await;
    assert!(
        replays
            .posts
            .iter()
            .all(|p| matches!(p.outcome, PostOutcome::Acknowledged { status: 200, .. })),
        "a replay finds the stored event: 200, not 201"
    );
    record.extend(replays);
    let after = audit(&rig.client, &record, from, to, Some(&store)).await;
    assert!(
        after.is_consistent() && after.stored_unacknowledged.is_empty(),
        "{after}"
    );
    assert_eq!(
        after.verified_in_query, 3,
        "the replay wrote the index entries"
    );
}

/// `callflow dev` is interrupted (SIGINT) and restarted on the same port and data directory
/// while 3,000 POSTs run under 20% storage faults; clients retry through the gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restarting_callflow_dev_mid_load_loses_and_duplicates_nothing() {
    let patient = ClientRetryPolicy {
        max_attempts: 40,
        ..ClientRetryPolicy::default()
    };
    let mut rig = Rig::start(twenty_percent_faults(11), patient).await;
    let workload = PostWorkload {
        concurrency: 32,
        duplicate_fraction: 0.10,
        calls: 50,
        ..PostWorkload::new(3_000, "restart")
    };
    let plan = workload.plan();
    let progress = Arc::new(AtomicUsize::new(0));
    let load = {
        let (client, progress) = (rig.client.clone(), Arc::clone(&progress));
        tokio::spawn(async move { run_planned(&client, &plan, 32, progress).await })
    };
    while progress.load(Ordering::Relaxed) < 1_000 {
        assert!(!load.is_finished(), "load ended early");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid_before = rig.dev.as_ref().map(DevProcess::pid);
    rig.restart_dev().await;
    let done_at_restart = progress.load(Ordering::Relaxed);
    println!("restarted callflow dev after {done_at_restart} POSTs");
    assert!(done_at_restart < 3_000, "the restart happened mid-load");
    assert_ne!(pid_before, rig.dev.as_ref().map(DevProcess::pid));
    let mut record = load.await.expect("load task");
    print!("{record}");
    assert_eq!(record.sent(), 3_000);
    assert!(
        record
            .attempts_by_answer
            .get("connection")
            .copied()
            .unwrap_or(0)
            > 0,
        "some requests met the restart"
    );
    rig.audit_and_reconcile(&mut record, workload.base_time)
        .await;
}
