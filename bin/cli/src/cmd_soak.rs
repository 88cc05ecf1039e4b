//! `callflow soak`: mixed load against a local `callflow dev`, bounded in time and count, with
//! latency percentiles, error counts, server RSS and a final consistency audit.

use std::net::IpAddr;
use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::Context;
use callflow_loadtest::{ApiClient, ClientRetryPolicy, OperationMix, SoakConfig, run_soak};

use crate::progress::Progress;

/// Arguments of `callflow soak`.
#[derive(clap::Args, Debug)]
pub struct SoakArgs {
    /// The stage URL of `callflow dev`, e.g. http://127.0.0.1:3000/v1 (loopback only).
    #[arg(long)]
    url: String,
    /// A bearer token with events:read and events:write.
    #[arg(long, env = "CALLFLOW_TOKEN", conflicts_with = "token_command")]
    token: Option<String>,
    /// A shell command printing the token on its last line, e.g.
    /// "callflow token --data-dir .callflow".
    #[arg(long)]
    token_command: Option<String>,
    /// Target requests per second (all operations together).
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// Requests in flight at most.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// How long to send load: seconds, or a number with s, m or h.
    #[arg(long, default_value = "60s", value_parser = crate::cmd_token::parse_ttl)]
    duration: Duration,
    /// Stop after this many operations even if time is left.
    #[arg(long, default_value_t = 1_000_000)]
    max_requests: u64,
    /// Operation weights.
    #[arg(long, default_value = "write=40,read=40,query=20")]
    mix: OperationMix,
    /// The server's process id: its RSS (VmRSS) is reported at start and end.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Call ids the writes spread over.
    #[arg(long, default_value_t = 200)]
    calls: usize,
    /// Seed of the operation choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Refuses anything but a loopback `http://` URL.
fn check_loopback(url: &str) -> anyhow::Result<()> {
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("--url {url:?}: only http:// URLs on loopback are allowed"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    let loopback = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        anyhow::bail!("--url {url:?}: soak only drives a local server (127.0.0.1, ::1, localhost)");
    }
    Ok(())
}

fn token(args: &SoakArgs) -> anyhow::Result<String> {
    if let Some(t) = &args.token {
        return Ok(t.trim().to_owned());
    }
    let command = args
        .token_command
        .as_deref()
        .context("give --token, CALLFLOW_TOKEN or --token-command")?;
    let output = Command::new("sh")
        .args(["-c", command])
        .output()
        .with_context(|| format!("running --token-command {command:?}"))?;
    if !output.status.success() {
        anyhow::bail!(
            "--token-command {command:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_owned())
        .with_context(|| format!("--token-command {command:?} printed nothing"))
}

/// Runs the soak and prints the report. Exit status: 0 consistent, 1 the audit found lost,
/// duplicated or unexpected events, 2 error.
pub fn run(args: &SoakArgs) -> anyhow::Result<ExitCode> {
    check_loopback(&args.url)?;
    if !(args.rate > 0.0 && args.rate.is_finite()) {
        anyhow::bail!("--rate must be a positive number");
    }
    if args.concurrency == 0 || args.concurrency > 4096 {
        anyhow::bail!("--concurrency must be between 1 and 4096");
    }
    let token = token(args)?;
    let run_id = format!(
        "soak-{}",
        time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000
    );
    let config = SoakConfig {
        rate: args.rate,
        concurrency: args.concurrency,
        duration: args.duration,
        max_requests: args.max_requests,
        mix: args.mix,
        server_pid: args.server_pid,
        run_id,
        calls: args.calls,
        seed: args.seed,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let progress = Progress::new(Some(args.duration.as_secs().max(1)));
    progress.log(&format!(
        "callflow soak: {} ops/s, {} workers, for {:?} (at most {} operations) against {}",
        args.rate, args.concurrency, args.duration, args.max_requests, args.url
    ));
    let report = runtime.block_on(async {
        let client = ApiClient::new(&args.url, &token, ClientRetryPolicy::default());
        let soak = run_soak(&client, &config);
        tokio::pin!(soak);
        let started = std::time::Instant::now();
        loop {
            tokio::select! {
                report = &mut soak => break report,
                () = tokio::time::sleep(std::time::Duration::from_millis(250)) => {
                    let elapsed = started.elapsed();
                    let phase = if elapsed < args.duration { "load" } else { "audit" };
                    progress.update(elapsed.as_secs().min(args.duration.as_secs()), phase);
                }
            }
        }
    });
    progress.finish();
    print!("{report}");
    Ok(if report.audit.is_consistent() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls() {
        for ok in [
            "http://127.0.0.1:3000/v1",
            "http://localhost:3000/v1",
            "http://[::1]:3000/v1",
            "http://127.0.0.2/v1",
        ] {
            assert!(check_loopback(ok).is_ok(), "{ok}");
        }
        for bad in [
            "https://127.0.0.1:3000/v1",
            "http://10.0.0.1:3000/v1",
            "http://example.com/v1",
            "http://127.0.0.1.example.com/v1",
        ] {
            assert!(check_loopback(bad).is_err(), "{bad}");
        }
    }
}
