//! Sequential PUT then GET of ~220-byte objects through aws-sdk-s3 against the embedded store
//! on loopback, reporting ops/s, p50 and p99.
//!
//! ```text
//! cargo run -p callflow-s3store --release --example bench_put_get -- [COUNT]
//! ```
//! COUNT defaults to 1000. Data goes to a fresh temp dir (so PUTs pay real fsyncs there).

use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use callflow_s3store::{RunningStore, StoreConfig};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn report(name: &str, mut latencies: Vec<Duration>, total: Duration) {
    latencies.sort();
    println!(
        "{name}: {} ops in {:.2} s = {:.0} ops/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        total.as_secs_f64(),
        latencies.len() as f64 / total.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1000);
    let dir = tempfile::tempdir()?;
    let store = RunningStore::start(StoreConfig::new(dir.path())).await?;
    store.ensure_bucket("bench").await?;
    let client = store.sdk_client();
    let body = |i: usize| {
        format!(
            r#"{{"callId":"call-{i:08}","eventType":"call.answered","timestamp":"2026-11-25T10:00:00Z","direction":"inbound","from":"+15551230000","to":"+15559870000","sequence":{i},"attributes":{{"queue":"support"}},"principal":"bench-client"}}"#
        )
    };
    println!("object size: {} bytes", body(0).len());

    let mut latencies = Vec::with_capacity(count);
    let started = Instant::now();
    for i in 0..count {
        let t = Instant::now();
        client
            .put_object()
            .bucket("bench")
            .key(format!("events/{i:08}.json"))
            .content_type("application/json")
            .if_none_match("*")
            .body(ByteStream::from(body(i).into_bytes()))
            .send()
            .await?;
        latencies.push(t.elapsed());
    }
    report("PUT (If-None-Match: *)", latencies, started.elapsed());

    let mut latencies = Vec::with_capacity(count);
    let started = Instant::now();
    for i in 0..count {
        let t = Instant::now();
        let out = client
            .get_object()
            .bucket("bench")
            .key(format!("events/{i:08}.json"))
            .send()
            .await?;
        let bytes = out.body.collect().await?.into_bytes();
        latencies.push(t.elapsed());
        if bytes.len() != body(i).len() {
            return Err(format!("object {i}: {} bytes back", bytes.len()).into());
        }
    }
    report("GET", latencies, started.elapsed());
    store.shutdown().await;
    Ok(())
}
