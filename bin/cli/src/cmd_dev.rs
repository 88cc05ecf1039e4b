//! `callflow dev`: the whole service on 127.0.0.1 with embedded storage and local auth.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use callflow_core::BucketName;
use callflow_dev::stack_functions::{find_synth_dir, stack_document};
use callflow_dev::{
    AccessLogSink, AuthorizerTtl, BinaryDir, DEFAULT_DATA_DIR, DEFAULT_PORT, DEFAULT_SUBJECT,
    DevConfig, DevServer, DiscardSink, EmbeddedFsync, LambdaMode, PlanLimits, ProcessOptions,
    StdoutSink, StorageChoice, ThrottleLimits, UsagePlans,
};
use callflow_openapi::Scope;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Lifetime of the token printed at start.
const BANNER_TOKEN_TTL: Duration = Duration::from_secs(12 * 3600);

/// The handler crates process mode runs.
const HANDLER_CRATES: [&str; 3] = [
    "callflow-authorizer",
    "callflow-event-storer",
    "callflow-event-retriever",
];

/// How the Lambda functions run.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LambdaArg {
    /// The real handler binaries, one process per execution environment, behind a local
    /// Lambda Runtime API, configured from the synthesized stack (what ships is what runs).
    Process,
    /// The handler functions called inside this process (no build, no cdktf.out needed).
    InProcess,
}

/// How the embedded store syncs acknowledged writes.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncArg {
    /// Group commit: concurrent PUTs share one file-system sync.
    Group,
    /// One object's file and directory fsyncs to itself.
    PerObject,
}

/// Arguments of `callflow dev`.
#[derive(clap::Args, Debug)]
pub struct DevArgs {
    /// How the Lambda functions run. `process` (default) starts the real handler binaries
    /// with the environment, memory, timeout and reserved concurrency of the synthesized
    /// stack; `in-process` calls the handler functions directly.
    #[arg(
        long,
        value_enum,
        default_value = "process",
        env = "CALLFLOW_DEV_LAMBDA"
    )]
    lambda: LambdaArg,
    /// Process mode: the synth output to read the functions from. Default: `cdktf.out` in
    /// the current directory or the nearest parent that has one.
    #[arg(long, value_name = "DIR")]
    synth_dir: Option<PathBuf>,
    /// Process mode: the stack of the synth output (needed when it has several).
    #[arg(long, value_name = "NAME")]
    stack: Option<String>,
    /// Process mode: where the handler executables are. Default: beside this `callflow`
    /// executable (the workspace's `target/<profile>`).
    #[arg(long, value_name = "DIR")]
    lambda_bin_dir: Option<PathBuf>,
    /// Process mode: environments per function at most (beyond it: throttled, 500).
    /// Default: the function's reserved concurrency in the stack.
    #[arg(long, value_name = "N")]
    lambda_concurrency: Option<std::num::NonZeroUsize>,
    /// Process mode: seconds an idle environment lives before it is stopped.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    lambda_idle_timeout: u64,
    /// Process mode: do not build missing or stale handler binaries; fail with the command
    /// that builds them instead.
    #[arg(long)]
    no_build: bool,
    /// Port on 127.0.0.1; 0 picks a free one (the URL printed says which).
    #[arg(long, default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Where the signing key and the embedded store's files live.
    #[arg(long, default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// Use this S3-compatible server (MinIO, moto, ...) instead of the embedded store;
    /// credentials and region from the usual AWS environment variables.
    #[arg(long, value_name = "URL")]
    s3_endpoint: Option<String>,
    /// How the embedded store makes acknowledged writes durable: `group` (concurrent PUTs
    /// share file-system syncs) or `per-object` (each PUT syncs its own file and directory,
    /// to compare against). Both acknowledge a write only once it is on disk.
    #[arg(long, value_enum, default_value_t = FsyncArg::Group)]
    embedded_fsync: FsyncArg,
    /// Bucket for --s3-endpoint (created if missing). Without --s3-endpoint: use this
    /// existing bucket on Amazon S3 with your AWS credentials.
    #[arg(long, value_name = "BUCKET")]
    s3_bucket: Option<String>,
    /// Authorizer result cache TTL in seconds (0 disables it, at most 3600). Default: the
    /// spec's 300.
    #[arg(long, value_name = "SECONDS")]
    authorizer_ttl: Option<u64>,
    /// Stage throttling burst. Default: the deployed stage's (200).
    #[arg(long)]
    throttle_burst: Option<i64>,
    /// Stage throttling rate in requests per second. Default: the deployed stage's (100).
    #[arg(long)]
    throttle_rate: Option<f64>,
    /// Default usage plan's burst per client (the plan of every client the synthesized
    /// stack lists in no other plan). Default: the synthesized stack's plan `default`.
    #[arg(long, value_name = "N")]
    usage_burst: Option<i64>,
    /// Default usage plan's rate per client, requests per second. Default: the stack's.
    #[arg(long, value_name = "PER_SECOND")]
    usage_rate: Option<f64>,
    /// Default usage plan's requests per client per UTC day. Default: the stack's.
    #[arg(long, value_name = "N")]
    usage_quota: Option<i64>,
    /// Handler log filter (JSON lines on stderr), e.g. `info` or `callflow_core=debug`.
    #[arg(long, default_value = "warn")]
    log_level: String,
    /// Do not print the JSON access log lines to stdout.
    #[arg(long)]
    no_access_log: bool,
    /// Oldest accepted event timestamp, in seconds before receipt. Default: the stack's
    /// (`[acceptance_window]` in callflow.toml, 14 days).
    #[arg(long, value_name = "SECONDS")]
    event_max_age: Option<u64>,
    /// Newest accepted event timestamp, in seconds after receipt. Default: the stack's (300).
    #[arg(long, value_name = "SECONDS")]
    event_max_future: Option<u64>,
}

impl DevArgs {
    fn config(&self) -> anyhow::Result<DevConfig> {
        let bucket = |name: &str| BucketName::parse(name).map_err(anyhow::Error::msg);
        let storage = match (&self.s3_endpoint, &self.s3_bucket) {
            (None, None) => StorageChoice::Embedded,
            (Some(url), bucket_name) => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    anyhow::bail!("--s3-endpoint {url:?} must start with http:// or https://");
                }
                StorageChoice::Endpoint {
                    url: url.clone(),
                    bucket: bucket(bucket_name.as_deref().unwrap_or(callflow_dev::DEV_BUCKET))?,
                }
            }
            (None, Some(name)) => StorageChoice::Aws {
                bucket: bucket(name)?,
            },
        };
        let defaults = DevConfig::default();
        let authorizer_ttl = match self.authorizer_ttl {
            Some(seconds) => AuthorizerTtl::from_secs(seconds)?,
            None => defaults.authorizer_ttl,
        };
        let throttle = ThrottleLimits::new(
            self.throttle_burst
                .unwrap_or(i64::from(defaults.throttle.burst())),
            self.throttle_rate
                .unwrap_or(defaults.throttle.rate_per_second()),
        )?;
        let access_log: Arc<dyn AccessLogSink> = if self.no_access_log {
            Arc::new(DiscardSink)
        } else {
            Arc::new(StdoutSink)
        };
        let lambda = match self.lambda {
            LambdaArg::InProcess => LambdaMode::InProcess,
            LambdaArg::Process => LambdaMode::Process(self.process_options()?),
        };
        let usage_plans = self.usage_plans()?;
        Ok(DevConfig {
            usage_plans: Some(usage_plans),
            lambda,
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, self.port)),
            data_dir: self.data_dir.clone(),
            storage,
            embedded_fsync: match self.embedded_fsync {
                FsyncArg::Group => EmbeddedFsync::Group,
                FsyncArg::PerObject => EmbeddedFsync::PerObject,
            },
            authorizer_ttl,
            throttle,
            access_log,
            acceptance_window: (self.event_max_age.is_some() || self.event_max_future.is_some())
                .then(|| {
                    let default = callflow_core::AcceptanceWindow::default();
                    callflow_core::AcceptanceWindow {
                        max_age: self
                            .event_max_age
                            .map_or(default.max_age, Duration::from_secs),
                        max_future: self
                            .event_max_future
                            .map_or(default.max_future, Duration::from_secs),
                    }
                }),
        })
    }
}

impl DevArgs {
    /// The usage plans of the synthesized stack (`--synth-dir`, else the nearest
    /// `cdktf.out` if any; without one the defaults of `callflow.toml`), with the default
    /// plan's limits replaced by `--usage-burst` / `--usage-rate` / `--usage-quota`.
    fn usage_plans(&self) -> anyhow::Result<UsagePlans> {
        let synth_dir = match &self.synth_dir {
            Some(dir) => Some(dir.clone()),
            None => find_synth_dir(&std::env::current_dir()?).ok(),
        };
        let plans = match synth_dir {
            Some(dir) => {
                let (_, path, document) = stack_document(&dir, self.stack.as_deref())?;
                UsagePlans::from_document(&document)
                    .with_context(|| format!("usage plans of {}", path.display()))?
                    .unwrap_or_default()
            }
            None => UsagePlans::default(),
        };
        if self.usage_burst.is_none() && self.usage_rate.is_none() && self.usage_quota.is_none() {
            return Ok(plans);
        }
        let current = plans.default_plan();
        let default = PlanLimits::new(
            self.usage_burst
                .unwrap_or(i64::from(current.throttle.burst())),
            self.usage_rate
                .unwrap_or(current.throttle.rate_per_second()),
            self.usage_quota
                .unwrap_or(i64::try_from(current.quota_per_day).unwrap_or(i64::MAX)),
        )?;
        Ok(plans.with_default(default))
    }

    /// Process mode's options; the handler binaries built first when missing or stale
    /// (unless `--no-build`).
    fn process_options(&self) -> anyhow::Result<ProcessOptions> {
        let synth_dir = match &self.synth_dir {
            Some(dir) => dir.clone(),
            None => find_synth_dir(&std::env::current_dir()?)?,
        };
        let binaries = match &self.lambda_bin_dir {
            Some(dir) => BinaryDir::new(dir),
            None => BinaryDir::beside_current_exe().context("locating this executable")?,
        };
        let workspace = synth_dir
            .canonicalize()
            .ok()
            .and_then(|dir| dir.parent().map(ToOwned::to_owned))
            .filter(|root| root.join("Cargo.toml").is_file());
        let problems = binaries.check(&HANDLER_CRATES, workspace.as_deref());
        if !problems.is_empty() {
            let command = binaries.build_command(&HANDLER_CRATES);
            for problem in &problems {
                eprintln!("callflow dev: {problem}");
            }
            match (&workspace, self.no_build) {
                (Some(root), false) => {
                    eprintln!("callflow dev: building the handlers: {command}");
                    binaries.build(&HANDLER_CRATES, root)?;
                }
                _ => anyhow::bail!(
                    "the handler binaries are missing or stale; build them with `{command}` (or run with --lambda in-process)"
                ),
            }
        }
        let mut options = ProcessOptions::new(synth_dir, binaries);
        options.stack = self.stack.clone();
        options.max_environments = self.lambda_concurrency;
        options.idle_timeout = Duration::from_secs(self.lambda_idle_timeout);
        options.log_level = Some(self.log_level.clone());
        Ok(options)
    }
}

/// Threads of Tokio's blocking pool, where the embedded store's file and index work runs (and
/// any other `spawn_blocking`, such as the HTTP client's DNS lookups). With
/// Tokio's defaults (up to 512, idle ones retired after 10 s) a 32-connection soak kept
/// retiring and starting threads (20 → 32 alive over 100 s), each new one with its own
/// allocator heap, and the server's RSS kept climbing; 16 long-lived threads held it flat.
const DISK_THREADS: usize = 16;

/// How long an idle disk thread waits for work before it exits (Tokio's default is 10 s,
/// which under bursty load retired and re-created threads all the time).
const DISK_THREAD_KEEP_ALIVE: Duration = Duration::from_secs(120);

/// Runs until Ctrl-C or SIGTERM, then shuts down cleanly.
pub fn run(args: &DevArgs) -> anyhow::Result<ExitCode> {
    let config = args.config()?;
    init_logging(&args.log_level)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(DISK_THREADS)
        .thread_keep_alive(DISK_THREAD_KEEP_ALIVE)
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let server = DevServer::start(config.clone())
            .await
            .context("starting callflow dev")?;
        print_banner(&server, &config);
        wait_for_stop_signal().await?;
        eprintln!("callflow dev: stopping (finishing in-flight requests)");
        server.shutdown().await;
        eprintln!("callflow dev: stopped");
        Ok(ExitCode::SUCCESS)
    })
}

fn init_logging(filter: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .with_context(|| format!("--log-level {filter:?}"))?;
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init()
        .map_err(|e| anyhow::anyhow!("{e}"))
}

async fn wait_for_stop_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate()).context("SIGTERM handler")?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.context("Ctrl-C handler")?,
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await.context("Ctrl-C handler")?;
    Ok(())
}

fn print_banner(server: &DevServer, config: &DevConfig) {
    let stage_url = server.stage_url();
    let token = server.identity().issue(
        DEFAULT_SUBJECT,
        &[Scope::EventsRead, Scope::EventsWrite],
        BANNER_TOKEN_TTL,
    );
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(OffsetDateTime::now_utc());
    let rfc3339 = |t: OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
    let from = rfc3339(now - time::Duration::hours(1));
    let to = rfc3339(now + time::Duration::hours(1));
    let storage = server
        .storage()
        .map(|s| s.description().to_owned())
        .unwrap_or_default();
    println!("callflow dev listening on {stage_url}");
    println!("  storage:    {storage}");
    println!(
        "  auth:       JWKS at {} (key {}); tokens: callflow token --data-dir {}",
        server.jwks_url(),
        server.identity().key_path().display(),
        config.data_dir.display()
    );
    println!(
        "  gateway:    authorizer cache {}, throttling burst {} / {} req/s; Ctrl-C stops",
        config.authorizer_ttl,
        config.throttle.burst(),
        config.throttle.rate_per_second()
    );
    if let Some(plans) = &config.usage_plans {
        let plan = plans.default_plan();
        println!(
            "  usage plan: per client (the token's client claim): default plan burst {} / {} req/s, {} a day; clients the stack lists get their plan",
            plan.throttle.burst(),
            plan.throttle.rate_per_second(),
            plan.quota_per_day
        );
    }
    match (server.lambdas(), &config.lambda) {
        (Some(lambdas), LambdaMode::Process(options)) => {
            println!(
                "  lambda:     process mode: handler binaries behind a local Runtime API, configured from {}; their log lines on stderr",
                options.synth_dir.display()
            );
            print!("{}", lambdas.describe());
        }
        _ => println!("  lambda:     in-process (handler functions called directly)"),
    }
    println!();
    println!("# a token with events:read and events:write, valid 12 h:");
    println!("export TOKEN={token}");
    println!(
        "curl -sS -X POST {stage_url}/events -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -d '{{\"callId\":\"call-1\",\"eventType\":\"call.initiated\",\"timestamp\":\"{}\"}}'",
        rfc3339(now)
    );
    println!(
        "curl -sS \"{stage_url}/events?callId=call-1&from={from}&to={to}\" -H \"Authorization: Bearer $TOKEN\""
    );
    println!();
}
