//! Concurrent conditional PUTs (`If-None-Match: *`, as the storer writes events) of ~220-byte
//! objects through aws-sdk-s3 against the embedded store, with group commit off and on,
//! alternating in one run so both see the same machine: ops/s, p50, p99, and file-system syncs
//! per PUT with group commit.
//!
//! ```text
//! cargo run -p callflow-s3store --release --example bench_group_commit -- [PUTS] [CONCURRENCY] [ROUNDS]
//! ```
//! Defaults: 2000 PUTs, 32 concurrent, 2 rounds of each mode. Data goes to fresh temp dirs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use callflow_s3store::{RunningStore, StoreConfig};
use tokio::sync::Semaphore;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn round(
    group_commit: bool,
    puts: usize,
    concurrency: usize,
) -> Result<String, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = RunningStore::start(StoreConfig {
        group_commit,
        ..StoreConfig::new(dir.path())
    })
    .await?;
    store.ensure_bucket("bench").await?;
    let client = store.sdk_client();
    let permits = Arc::new(Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(puts);
    for i in 0..puts {
        let client = client.clone();
        let permit = Arc::clone(&permits).acquire_owned().await?;
        tasks.push(tokio::spawn(async move {
            let body = format!(
                r#"{{"callId":"call-{i:08}","eventType":"call.answered","timestamp":"2026-11-25T10:00:00Z","direction":"inbound","from":"+15551230000","to":"+15559870000","sequence":{i},"attributes":{{"queue":"support"}},"principal":"bench-client"}}"#
            );
            let t = Instant::now();
            let result = client
                .put_object()
                .bucket("bench")
                .key(format!("events/2026/11/25/{i:08}.json"))
                .if_none_match("*")
                .body(ByteStream::from(body.into_bytes()))
                .send()
                .await;
            drop(permit);
            result.map(|_| t.elapsed())
        }));
    }
    let mut latencies = Vec::with_capacity(puts);
    for task in tasks {
        latencies.push(task.await??);
    }
    let total = started.elapsed();
    latencies.sort();
    let syncs = store
        .group_commit_stats()
        .map(|s| format!(", {:.3} syncs/PUT", s.syncs as f64 / puts as f64))
        .unwrap_or_default();
    store.shutdown().await;
    Ok(format!(
        "group commit {:>3}: {puts} PUTs x{concurrency} in {:.2} s = {:>6.0} PUT/s, p50 {:>6.2} ms, p99 {:>6.2} ms{syncs}",
        if group_commit { "on" } else { "off" },
        total.as_secs_f64(),
        puts as f64 / total.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
    ))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut next = |default: usize| -> Result<usize, Box<dyn std::error::Error>> {
        Ok(args
            .next()
            .map(|a| a.parse())
            .transpose()?
            .unwrap_or(default))
    };
    let puts = next(2000)?;
    let concurrency = next(32)?;
    let rounds = next(2)?;
    for r in 0..rounds {
        // Alternate which mode goes first so neither always runs on a warmer machine.
        let order = if r % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for group_commit in order {
            println!("{}", round(group_commit, puts, concurrency).await?);
        }
    }
    Ok(())
}
