//! Load benchmark of `callflow dev`: requests/s and p50/p99 latency of `POST /events` and
//! `GET /events/{id}` at 1 and 64 concurrent keep-alive connections, compared with a bare
//! conditional `PutObject` on the same embedded store; afterwards every acknowledged event is
//! read back and counted. Run in both Lambda modes (`both`, the default): in-process (the
//! handler functions called directly) and process (the real handler binaries behind the
//! local Runtime API), with the cold start (Init Duration) of each function and the overhead
//! of the Runtime API hop as process / in-process ratios.
//!
//! ```text
//! cargo run --release -p callflow-dev --example bench_dev -- [REQUESTS] [CONNECTIONS] [in-process|process|both]
//! ```
//! Defaults: 4,000 requests per phase, 64 connections, both modes. The server runs in this
//! process on its own 2-thread runtime (throttling raised, access log off), the load
//! generator on another; in process mode the handler binaries of the same profile are used
//! (built first when missing or stale).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use callflow_dev::{
    BinaryDir, DevConfig, DevServer, DiscardSink, LambdaMode, ProcessOptions, ThrottleLimits,
};
use callflow_lambda_rt::{FunctionName, LogSink, OutputStream};
use callflow_openapi::Scope;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::sync::Mutex;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Latencies of one phase.
struct Phase {
    name: String,
    latencies: Vec<Duration>,
    elapsed: Duration,
    failures: usize,
}

impl Phase {
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted[index]
    }

    fn print(&self) {
        println!(
            "{:<28} {:>7} ok {:>4} failed {:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms",
            self.name,
            self.latencies.len(),
            self.failures,
            self.latencies.len() as f64 / self.elapsed.as_secs_f64(),
            self.percentile(0.5).as_secs_f64() * 1e3,
            self.percentile(0.99).as_secs_f64() * 1e3,
        );
    }
}

async fn connect(addr: std::net::SocketAddr) -> Result<SendRequest<Full<Bytes>>, Error> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// Runs `total` requests built by `make(i)` over `connections` keep-alive connections.
/// Returns the phase and the bodies of 2xx answers.
async fn run_phase<F>(
    name: &str,
    addr: std::net::SocketAddr,
    connections: usize,
    total: usize,
    make: F,
) -> Result<(Phase, Vec<Bytes>), Error>
where
    F: Fn(usize) -> Request<Full<Bytes>> + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let next = Arc::new(AtomicUsize::new(0));
    let bodies = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..connections {
        let (make, next, bodies) = (Arc::clone(&make), Arc::clone(&next), Arc::clone(&bodies));
        let mut sender = connect(addr).await?;
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let sent = Instant::now();
                let response = sender.send_request(make(i)).await?;
                let status = response.status();
                let body = response.into_body().collect().await?.to_bytes();
                if status.is_success() {
                    latencies.push(sent.elapsed());
                    bodies.lock().await.push(body);
                } else {
                    failures += 1;
                    if failures <= 3 {
                        eprintln!("{status}: {}", String::from_utf8_lossy(&body));
                    }
                }
            }
            Ok::<_, Error>((latencies, failures))
        }));
    }
    let mut phase = Phase {
        name: name.to_owned(),
        latencies: Vec::new(),
        elapsed: Duration::ZERO,
        failures: 0,
    };
    for worker in workers {
        let (latencies, failures) = worker.await??;
        phase.latencies.extend(latencies);
        phase.failures += failures;
    }
    phase.elapsed = started.elapsed();
    let bodies = std::mem::take(&mut *bodies.lock().await);
    Ok((phase, bodies))
}

/// An event of call `bench-{run}-{i % 500}`, its timestamp within the last hour (the storer
/// accepts timestamps near the time of receipt).
fn event_body(run: u64, i: usize) -> String {
    let at = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        - time::Duration::seconds((i % 3600) as i64);
    let timestamp = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    format!(
        r#"{{"callId":"bench-{run}-{}","eventType":"call.ringing","timestamp":"{timestamp}","direction":"inbound","from":"+4930123456","to":"+4940654321","sequence":{i},"attributes":{{"queue":"support"}},"payload":{{"n":{i}}}}}"#,
        i % 500,
    )
}

/// Function log lines are dropped (the benchmark measures the hop, not the terminal).
struct NoLogs;

impl LogSink for NoLogs {
    fn line(&self, _function: &FunctionName, _stream: OutputStream, _line: &str) {}
}

/// p50 and p99 of each measured phase of one mode.
#[derive(Default)]
struct Summary {
    /// (phase name, p50, p99)
    phases: Vec<(String, Duration, Duration)>,
    /// (function, first Init Duration)
    cold_starts: Vec<(String, Duration)>,
}

impl Summary {
    fn add(&mut self, key: &str, phase: &Phase) {
        self.phases.push((
            key.to_owned(),
            phase.percentile(0.5),
            phase.percentile(0.99),
        ));
    }

    fn get(&self, key: &str) -> Option<(Duration, Duration)> {
        self.phases
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, p50, p99)| (*p50, *p99))
    }
}

const HANDLERS: [&str; 3] = [
    "callflow-authorizer",
    "callflow-event-storer",
    "callflow-event-retriever",
];

fn process_mode() -> Result<LambdaMode, Error> {
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let binaries = BinaryDir::beside_current_exe()?;
    if !binaries.check(&HANDLERS, Some(&workspace)).is_empty() {
        binaries.build(&HANDLERS, &workspace)?;
    }
    let mut options = ProcessOptions::new(workspace.join("cdktf.out"), binaries);
    options.log_sink = Arc::new(NoLogs);
    options.log_level = Some("warn".to_owned());
    Ok(LambdaMode::Process(options))
}

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let total: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(4_000);
    let connections: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(64);
    let modes = args.next().unwrap_or_else(|| "both".to_owned());
    let mut summaries = Vec::new();
    if modes == "in-process" || modes == "both" {
        println!("== in-process");
        summaries.push((
            "in-process",
            bench(LambdaMode::InProcess, total, connections)?,
        ));
    }
    if modes == "process" || modes == "both" {
        println!("== process");
        summaries.push(("process", bench(process_mode()?, total, connections)?));
    }
    for (mode, summary) in &summaries {
        for (function, init) in &summary.cold_starts {
            println!(
                "{mode}: cold start of {function}: Init Duration {:.2} ms",
                init.as_secs_f64() * 1e3
            );
        }
    }
    if let [(_, inproc), (_, process)] = summaries.as_slice() {
        println!(
            "{:<24} {:>14} {:>14} {:>14} {:>14} {:>8} {:>8}",
            "phase", "in-proc p50", "in-proc p99", "process p50", "process p99", "p50 x", "p99 x"
        );
        for (key, _, _) in &inproc.phases {
            if let (Some((a50, a99)), Some((b50, b99))) = (inproc.get(key), process.get(key)) {
                let ms = |d: Duration| d.as_secs_f64() * 1e3;
                println!(
                    "{key:<24} {:>11.2} ms {:>11.2} ms {:>11.2} ms {:>11.2} ms {:>8.2} {:>8.2}",
                    ms(a50),
                    ms(a99),
                    ms(b50),
                    ms(b99),
                    ms(b50) / ms(a50),
                    ms(b99) / ms(a99)
                );
            }
        }
    }
    Ok(())
}

fn bench(lambda: LambdaMode, total: usize, connections: usize) -> Result<Summary, Error> {
    /// Conditional PutObject of `total` ~event-sized objects with `concurrency` tasks.
    async fn bare_puts(
        client: aws_sdk_s3::Client,
        name: &str,
        concurrency: usize,
        total: usize,
        run: u64,
    ) -> Result<Phase, Error> {
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let (client, next) = (client.clone(), Arc::clone(&next));
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failures = 0;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let sent = Instant::now();
                    let put = client
                        .put_object()
                        .bucket(callflow_dev::DEV_BUCKET)
                        .key(format!("bench/{run}/{i}.json"))
                        .if_none_match("*")
                        .content_type("application/json")
                        .body(event_body(run, i).into_bytes().into())
                        .send()
                        .await;
                    match put {
                        Ok(_) => latencies.push(sent.elapsed()),
                        Err(_) => failures += 1,
                    }
                }
                (latencies, failures)
            }));
        }
        let mut phase = Phase {
            name: name.to_owned(),
            latencies: Vec::new(),
            elapsed: Duration::ZERO,
            failures: 0,
        };
        for task in tasks {
            let (latencies, failures) = task.await?;
            phase.latencies.extend(latencies);
            phase.failures += failures;
        }
        phase.elapsed = started.elapsed();
        Ok(phase)
    }

    let data = tempfile::tempdir()?;
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let server = server_runtime.block_on(DevServer::start(DevConfig {
        bind: "127.0.0.1:0".parse()?,
        data_dir: data.path().to_owned(),
        throttle: ThrottleLimits::new(1_000_000, 1_000_000.0)?,
        access_log: Arc::new(DiscardSink),
        lambda,
        ..DevConfig::default()
    }))?;
    let addr = server.local_addr();
    let token = server.identity().issue(
        "bench",
        &[Scope::EventsRead, Scope::EventsWrite],
        Duration::from_secs(3600),
    );
    let authorization = format!("Bearer {token}");
    let s3 = server
        .storage()
        .and_then(|s| s.embedded())
        .map(|store| store.sdk_client())
        .ok_or("the embedded store is in use")?;
    println!(
        "callflow dev at {} ({total} requests per phase, {connections} connections, data in {})",
        server.stage_url(),
        data.path().display()
    );

    let client_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut summary = Summary::default();
    client_runtime.block_on(async {
        let mut acknowledged: Vec<String> = Vec::new();
        let mut post_p50 = Vec::new();
        let mut put_p50 = Vec::new();
        for (run, concurrency, count) in [(1u64, 1usize, total / 8), (2, connections, total)] {
            let auth = authorization.clone();
            let (post, bodies) = run_phase(
                &format!("POST /events        c={concurrency}"),
                addr,
                concurrency,
                count,
                move |i| {
                    Request::builder()
                        .method(Method::POST)
                        .uri("/v1/events")
                        .header("host", "127.0.0.1")
                        .header("authorization", &auth)
                        .header("content-type", "application/json")
                        .body(Full::new(Bytes::from(event_body(run, i))))
                        .unwrap_or_default()
                },
            )
            .await?;
            post.print();
            summary.add(&format!("POST c={concurrency}"), &post);
            post_p50.push(post.percentile(0.5));
            for body in bodies {
                let value: serde_json::Value = serde_json::from_slice(&body)?;
                if let Some(id) = value["eventId"].as_str() {
                    acknowledged.push(id.to_owned());
                }
            }
            let puts = bare_puts(
                s3.clone(),
                &format!("bare PutObject      c={concurrency}"),
                concurrency,
                count,
                run,
            )
            .await?;
            puts.print();
            put_p50.push(puts.percentile(0.5));
        }
        let ids = Arc::new(acknowledged.clone());
        for (concurrency, count) in [(1usize, total / 8), (connections, total)] {
            let auth = authorization.clone();
            let gets = Arc::clone(&ids);
            let (get, _) = run_phase(
                &format!("GET /events/{{id}}   c={concurrency}"),
                addr,
                concurrency,
                count,
                move |i| {
                    Request::builder()
                        .uri(format!("/v1/events/{}", gets[i % gets.len()]))
                        .header("host", "127.0.0.1")
                        .header("authorization", &auth)
                        .body(Full::new(Bytes::new()))
                        .unwrap_or_default()
                },
            )
            .await?;
            get.print();
            summary.add(&format!("GET by id c={concurrency}"), &get);
        }
        for (i, c) in [1, connections].iter().enumerate() {
            println!(
                "POST p50 / bare PutObject p50 at c={c}: {:.2}",
                post_p50[i].as_secs_f64() / put_p50[i].as_secs_f64()
            );
        }
        // Every acknowledged event must be retrievable.
        let auth = authorization.clone();
        let check = Arc::clone(&ids);
        let (found, _) = run_phase("read back", addr, 16, ids.len(), move |i| {
            Request::builder()
                .uri(format!("/v1/events/{}", check[i]))
                .header("host", "127.0.0.1")
                .header("authorization", &auth)
                .body(Full::new(Bytes::new()))
                .unwrap_or_default()
        })
        .await?;
        println!(
            "acknowledged events: {}, retrievable afterwards: {}, missing: {}",
            ids.len(),
            found.latencies.len(),
            found.failures
        );
        if found.failures > 0 {
            return Err::<(), Error>("acknowledged events are missing".into());
        }
        Ok(())
    })?;
    if let Some(lambdas) = server.lambdas() {
        let pools = [
            lambdas.authorizer(),
            lambdas
                .handler(callflow_openapi::LambdaName::EventStorer)
                .ok_or("storer")?,
            lambdas
                .handler(callflow_openapi::LambdaName::EventRetriever)
                .ok_or("retriever")?,
        ];
        for pool in pools {
            let stats = pool.stats();
            if let Some(first) = stats.init_durations.first() {
                summary.cold_starts.push((pool.name().to_string(), *first));
            }
            println!(
                "{}: {} invocations, {} environments started (peak {}), {} throttled",
                pool.name(),
                stats.invocations,
                stats.environments_started,
                stats.peak_environments,
                stats.throttles
            );
        }
    }
    server_runtime.block_on(server.shutdown());
    Ok(summary)
}
