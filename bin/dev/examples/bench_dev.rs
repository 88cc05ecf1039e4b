//! Load benchmark of `callflow dev`: requests/s and p50/p99 latency of `POST /events` and
//! `GET /events/{id}` at 64 (and 1) concurrent keep-alive connections, compared with a bare
//! conditional `PutObject` on the same embedded store; afterwards every acknowledged event is
//! read back and counted.
//!
//! ```text
//! cargo run --release -p callflow-dev --example bench_dev -- [REQUESTS] [CONNECTIONS]
//! ```
//! Defaults: 4,000 requests per phase, 64 connections. The server runs in this process on
//! its own 2-thread runtime (throttling raised, access log off), the load generator on another.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use callflow_dev::{DevConfig, DevServer, DiscardSink, ThrottleLimits};
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

fn event_body(run: u64, i: usize) -> String {
    format!(
        r#"{{"callId":"bench-{run}-{}","eventType":"call.ringing","timestamp":"2026-11-01T12:{:02}:{:02}Z","direction":"inbound","from":"+4930123456","to":"+4940654321","sequence":{i},"attributes":{{"queue":"support"}},"payload":{{"n":{i}}}}}"#,
        i % 500,
        (i / 60) % 60,
        i % 60
    )
}

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

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let total: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(4_000);
    let connections: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(64);
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
        let auth = authorization.clone();
        let gets = Arc::clone(&ids);
        let (get, _) = run_phase(
            &format!("GET /events/{{id}}   c={connections}"),
            addr,
            connections,
            total,
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
    server_runtime.block_on(server.shutdown());
    Ok(())
}
