//! Synthesis benchmark (in-process): the Callflow stack once, and 100 copies of it, built and
//! rendered to the bytes `callflow synth` writes. `cargo bench -p callflow-stack --bench synth`.
//!
//! The whole-process figures (wall time and peak memory of `callflow synth`) come from
//! `scripts/bench-synth.sh`, which runs the release binary.

use std::time::{Duration, Instant};

use callflow_stack::callflow::{AppConfig, callflow_app};

fn config(copies: usize) -> AppConfig {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../callflow.toml"))
        .expect("callflow.toml");
    let base = AppConfig::from_toml(&text).expect("valid").stacks.remove(0);
    let stacks = (0..copies)
        .map(|i| {
            let mut c = base.clone();
            if copies > 1 {
                c.stack_name = format!("callflow-{i:03}");
                c.environment = format!("env{i:03}");
            }
            c
        })
        .collect();
    AppConfig { stacks }
}

fn measure(copies: usize, runs: usize) -> (Duration, Duration, usize) {
    let config = config(copies);
    let mut times = Vec::with_capacity(runs);
    let mut bytes = 0;
    for _ in 0..runs {
        let start = Instant::now();
        // What `callflow synth` does before writing: parallel synth + render to text.
        let rendered = callflow_app(&config).render().expect("synth");
        let files = rendered.files();
        bytes = files.values().map(String::len).sum();
        std::hint::black_box(&files);
        times.push(start.elapsed());
    }
    times.sort();
    (times[runs / 2], times[runs * 99 / 100], bytes)
}

fn main() {
    // `cargo test --all-targets` runs bench binaries without `--bench`: one quick pass proves
    // the bench still works without spending test time on measurement.
    if !std::env::args().any(|a| a == "--bench") {
        let (p50, _, bytes) = measure(100, 1);
        println!(
            "bench smoke run: 100 stacks in {:.1} ms ({bytes} bytes)",
            ms(p50)
        );
        return;
    }
    // Warm up allocator and caches.
    let _ = measure(1, 5);
    let (one_p50, one_p99, one_bytes) = measure(1, 200);
    let (hundred_p50, hundred_p99, hundred_bytes) = measure(100, 20);
    println!(
        "synth 1 stack:    p50 {:>8.3} ms  p99 {:>8.3} ms  ({one_bytes} bytes)",
        ms(one_p50),
        ms(one_p99)
    );
    println!(
        "synth 100 stacks: p50 {:>8.3} ms  p99 {:>8.3} ms  ({hundred_bytes} bytes)",
        ms(hundred_p50),
        ms(hundred_p99)
    );
    println!(
        "ratio 100/1: {:.1}x",
        hundred_p50.as_secs_f64() / one_p50.as_secs_f64()
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
