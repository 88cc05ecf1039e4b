//! Cold-start benchmark of the shipped Lambda handlers against the floor: each handler binary
//! (`callflow-authorizer`, `callflow-event-storer`, `callflow-event-retriever`) and a
//! hello-world `lambda_runtime` function (`callflow-lambda-rt`'s `hello_lambda` example) are
//! started again and again under the local Runtime API, and the Init Duration of each start
//! (process start → first `invocation/next`, as Lambda's REPORT line states it) is recorded.
//! The functions are started round-robin (floor, authorizer, storer, retriever, floor, ...)
//! so that the load of a shared machine falls on all of them alike.
//!
//! ```text
//! cargo run --release -p callflow-dev --example bench_init -- [STARTS] [--baseline DIR] [--aws-s3]
//! ```
//! Default: 30 starts per function. `--baseline DIR` measures, in the same round-robin, each
//! function again with the executable of the same name in DIR (a copy of an earlier build):
//! before and after a change in one run. `--aws-s3` gives the storer and retriever the S3
//! configuration of a deployment (AWS over HTTPS) instead of the embedded store's. The
//! handlers get the environment process mode gives them (the synthesized stack in
//! `cdktf.out/` with the local overrides of `callflow dev`:
//! the embedded S3 store, the local JWKS, issuer and audience), from a `callflow dev` server
//! running in this process; the hello-world function gets Lambda's variables only. The
//! handler binaries and the hello-world example of the same profile are built first when
//! missing or stale. Each start then answers one event, so that work a handler defers from
//! init to its first request is counted too. Prints per function: median, p90 and min Init
//! Duration, the median as a multiple of the floor's, the executable's size, the median first
//! invocation, and init plus first invocation as a multiple of the floor's; and the load
//! average before and after.
//!
//! Every executable, the floor's included, is measured as a fresh copy in a temporary
//! directory, as a deployment unpacks it, not where the linker wrote it: on this machine's
//! ext4 the same bytes started 4 % (the 1.6 MB floor) to 12 % (the 8.6 MB authorizer) sooner
//! from a copy (100 interleaved starts each), the larger binaries gaining most, so measuring
//! some in place and some copied (a `--baseline` directory is a copy) compared the files'
//! page-cache histories, not the programs.

use std::sync::Arc;
use std::time::Duration;

use callflow_dev::{BinaryDir, DevConfig, DevServer, DiscardSink, LambdaMode, ProcessOptions};
use callflow_lambda_rt::{
    Environment, FunctionConfig, FunctionName, LogSink, OutputStream, RequestId,
};
use callflow_openapi::LambdaName;
use hyper::body::Bytes;

type Error = Box<dyn std::error::Error + Send + Sync>;

const HANDLERS: [&str; 3] = [
    "callflow-authorizer",
    "callflow-event-storer",
    "callflow-event-retriever",
];

/// The hello-world example of `callflow-lambda-rt`.
const FLOOR: &str = "hello_lambda";

/// Function output is kept out of the terminal; lines on stderr are counted (a handler that
/// complains at init is worth knowing about).
#[derive(Default)]
struct CountingSink(std::sync::atomic::AtomicUsize);

impl LogSink for CountingSink {
    fn line(&self, function: &FunctionName, stream: OutputStream, line: &str) {
        if matches!(stream, OutputStream::Stderr)
            && self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 5
        {
            eprintln!("{function} (stderr): {line}");
        }
    }
}

/// The Init Durations of one function, and the durations of each start's first invocation.
struct Series {
    label: String,
    config: Arc<FunctionConfig>,
    /// The event each start answers first: what a cold start's first request costs on top of
    /// init (a handler that defers work to its first request shows it here, not in init).
    first_event: &'static [u8],
    inits: Vec<Duration>,
    firsts: Vec<Duration>,
}

/// The `p` quantile (0.0–1.0) of `durations`, nearest rank.
fn percentile(durations: &[Duration], p: f64) -> Duration {
    let mut sorted = durations.to_vec();
    sorted.sort();
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

impl Series {
    fn percentile(&self, p: f64) -> Duration {
        percentile(&self.inits, p)
    }
}

/// The floor's first event.
const HELLO_EVENT: &[u8] = b"{\"n\":1}";
/// The authorizer's: a TOKEN request with a token that is not a JWT (refused, no key lookup).
const AUTHORIZER_EVENT: &[u8] = br#"{"type":"TOKEN","authorizationToken":"Bearer not-a-jwt","methodArn":"arn:aws:execute-api:us-east-1:000000000000:bench/v1/GET/events"}"#;
/// The storer's and retriever's: a proxy request for a route the contract does not have. The
/// handler builds its S3 client (the first request's work), then answers 404 without calling
/// S3, so `--aws-s3` sends nothing off the machine either.
const UNROUTED_EVENT: &[u8] = br#"{"resource":"/bench-init","path":"/bench-init","httpMethod":"GET","headers":{},"multiValueHeaders":{},"requestContext":{"requestId":"bench-init","stage":"v1","httpMethod":"GET","resourcePath":"/bench-init"}}"#;

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// Builds the handlers (when missing or stale) and the hello-world example into the
/// directory of this example's profile; returns that directory.
fn build(workspace: &std::path::Path) -> Result<BinaryDir, Error> {
    let binaries = BinaryDir::beside_current_exe()?;
    if !binaries.check(&HANDLERS, Some(workspace)).is_empty() {
        binaries.build(&HANDLERS, workspace)?;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = std::process::Command::new(cargo);
    command
        .current_dir(workspace)
        .args(["build", "-p", "callflow-lambda-rt", "--example", FLOOR]);
    if binaries.path().file_name().is_some_and(|n| n == "release") {
        command.arg("--release");
    }
    if let Some(target) = binaries.path().parent() {
        command.env("CARGO_TARGET_DIR", target);
    }
    let status = command.status()?;
    if !status.success() {
        return Err(format!("building the {FLOOR} example failed ({status})").into());
    }
    Ok(binaries)
}

/// The command line: `[STARTS] [--baseline DIR] [--aws-s3]`.
struct Args {
    starts: usize,
    baseline: Option<std::path::PathBuf>,
    aws_s3: bool,
}

impl Args {
    fn parse() -> Result<Self, Error> {
        let mut args = Self {
            starts: 30,
            baseline: None,
            aws_s3: false,
        };
        let mut words = std::env::args().skip(1);
        while let Some(word) = words.next() {
            match word.as_str() {
                "--baseline" => {
                    args.baseline = Some(words.next().ok_or("--baseline needs a directory")?.into())
                }
                "--aws-s3" => args.aws_s3 = true,
                starts => args.starts = starts.parse()?,
            }
        }
        Ok(args)
    }
}

fn main() -> Result<(), Error> {
    let args = Args::parse()?;
    let starts = args.starts;
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let binaries = build(&workspace)?;
    let floor_exe = binaries
        .path()
        .join("examples")
        .join(format!("{FLOOR}{}", std::env::consts::EXE_SUFFIX));

    // A `callflow dev` server in process mode: the embedded store and the local JWKS the
    // handlers' environments point at, and those environments (built from the stack).
    let data = tempfile::tempdir()?;
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let options = ProcessOptions::new(workspace.join("cdktf.out"), binaries.clone());
    let server = server_runtime.block_on(DevServer::start(DevConfig {
        bind: "127.0.0.1:0".parse()?,
        data_dir: data.path().to_owned(),
        access_log: Arc::new(DiscardSink),
        lambda: LambdaMode::Process(options),
        ..DevConfig::default()
    }))?;
    let lambdas = server.lambdas().ok_or("process mode is not in use")?;
    let mut series = vec![Series {
        label: "hello-world (floor)".to_owned(),
        config: Arc::new(FunctionConfig::new(
            FunctionName::parse("hello-world")?,
            &floor_exe,
        )),
        first_event: HELLO_EVENT,
        inits: Vec::new(),
        firsts: Vec::new(),
    }];
    let pools = [
        lambdas.authorizer(),
        lambdas
            .handler(LambdaName::EventStorer)
            .ok_or("no storer")?,
        lambdas
            .handler(LambdaName::EventRetriever)
            .ok_or("no retriever")?,
    ];
    // `--aws-s3`: the storer and retriever as deployed, their S3 client for AWS over HTTPS
    // (no `S3_ENDPOINT`), instead of the embedded store's plain-HTTP endpoint. Init makes no
    // S3 request, so nothing leaves the machine.
    for (pool, artifact) in pools.into_iter().zip(HANDLERS) {
        let mut config = pool.config().clone();
        if args.aws_s3 {
            config
                .environment
                .remove(callflow_deployment::env::S3_ENDPOINT);
            config
                .environment
                .remove(callflow_deployment::env::S3_FORCE_PATH_STYLE);
        }
        series.push(Series {
            label: artifact.to_owned(),
            config: Arc::new(config),
            first_event: if artifact == HANDLERS[0] {
                AUTHORIZER_EVENT
            } else {
                UNROUTED_EVENT
            },
            inits: Vec::new(),
            firsts: Vec::new(),
        });
    }

    // Before/after in one run: `--baseline DIR` adds each function again with the executable
    // of the same name from DIR (say, a copy of the previous build's), same environment.
    if let Some(dir) = &args.baseline {
        let twins: Vec<Series> = series
            .iter()
            .filter_map(|s| {
                let name = s.config.executable.file_name()?;
                let executable = dir.join(name);
                executable.is_file().then(|| {
                    let mut config = (*s.config).clone();
                    config.executable = executable;
                    Series {
                        label: format!("{} (baseline)", s.label),
                        config: Arc::new(config),
                        first_event: s.first_event,
                        inits: Vec::new(),
                        firsts: Vec::new(),
                    }
                })
            })
            .collect();
        series.extend(twins);
    }

    // Each executable as a deployment has it: a fresh copy (see the module doc).
    let installed = tempfile::tempdir()?;
    for (i, s) in series.iter_mut().enumerate() {
        let name = s
            .config
            .executable
            .file_name()
            .ok_or("an executable has no name")?;
        let dir = installed.path().join(i.to_string());
        std::fs::create_dir(&dir)?;
        let copy = dir.join(name);
        std::fs::copy(&s.config.executable, &copy)?;
        let mut config = (*s.config).clone();
        config.executable = copy;
        s.config = Arc::new(config);
    }

    let load_before = load_average();
    println!("{starts} cold starts per function, round-robin; load average before: {load_before}");
    let sink: Arc<dyn LogSink> = Arc::new(CountingSink::default());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        // One warm-up start each (page cache, dynamic loader), not counted; the floor's
        // first environment also answers one event to show the harness works end to end.
        for s in &series {
            let mut environment = Environment::start(Arc::clone(&s.config), Arc::clone(&sink))
                .await
                .map_err(|e| format!("{}: {e}", s.label))?;
            if s.label.starts_with("hello") {
                let outcome = environment
                    .invoke(RequestId::random(), Bytes::from_static(b"{\"n\":1}"))
                    .await;
                let body = outcome.result.map_err(|e| format!("{}: {e}", s.label))?;
                if body.as_ref() != br#"{"hello":{"n":1}}"# {
                    return Err::<(), Error>(
                        format!("unexpected answer {}", String::from_utf8_lossy(&body)).into(),
                    );
                }
            }
            environment.shutdown().await;
        }
        for _ in 0..starts {
            for s in &mut series {
                let mut environment = Environment::start(Arc::clone(&s.config), Arc::clone(&sink))
                    .await
                    .map_err(|e| format!("{}: {e}", s.label))?;
                s.inits.push(environment.init_duration());
                // The first invocation: answered or refused, its duration is what the cold
                // start adds to the first request beyond init.
                let first = environment
                    .invoke(RequestId::random(), Bytes::from_static(s.first_event))
                    .await;
                s.firsts.push(first.duration);
                environment.shutdown().await;
            }
        }
        Ok(())
    })?;
    let load_after = load_average();
    server_runtime.block_on(server.shutdown());

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let floor = ms(series[0].percentile(0.5));
    let floor_cold = floor + ms(percentile(&series[0].firsts, 0.5));
    println!(
        "{:<26} {:>10} {:>10} {:>10} {:>12} {:>10} {:>11} {:>10}",
        "function", "median", "p90", "min", "median/floor", "size", "1st invoke", "init+1st"
    );
    for s in &series {
        let size = std::fs::metadata(&s.config.executable)
            .map(|m| format!("{:.1} MB", m.len() as f64 / 1e6))
            .unwrap_or_else(|_| "?".to_owned());
        let (init, first) = (ms(s.percentile(0.5)), ms(percentile(&s.firsts, 0.5)));
        println!(
            "{:<26} {:>7.2} ms {:>7.2} ms {:>7.2} ms {:>11.2}x {:>10} {:>8.2} ms {:>9.2}x",
            s.label,
            init,
            ms(s.percentile(0.9)),
            ms(s.percentile(0.0)),
            init / floor,
            size,
            first,
            (init + first) / floor_cold,
        );
    }
    println!(
        "1st invoke: median duration of each start's first invocation (the floor echoes, the \
         authorizer refuses a token that is not a JWT, the storer and retriever build their S3 \
         client and answer 404); init+1st: median init plus median first invocation, as a \
         multiple of the floor's"
    );
    println!("load average before: {load_before}; after: {load_after}");
    Ok(())
}
