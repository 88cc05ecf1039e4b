//! Process mode against real processes on loopback: the handler binaries and a misbehaving
//! double behind the local Runtime API, configured from the synthesized stack.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use callflow_dev::{
    BinaryDir, DevConfig, DevServer, DiscardSink, LambdaMode, ProcessOptions, StorageChoice,
};
use callflow_lambda_rt::{FunctionName, MemoryLogSink};
use callflow_openapi::{LambdaName, Scope};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

const HANDLERS: [&str; 3] = [
    "callflow-authorizer",
    "callflow-event-storer",
    "callflow-event-retriever",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The handler binaries beside this test's target directory, built when missing or stale.
fn handler_binaries() -> BinaryDir {
    let binaries = BinaryDir::beside_current_exe().expect("target dir");
    if !binaries.check(&HANDLERS, Some(&workspace())).is_empty() {
        binaries
            .build(&HANDLERS, &workspace())
            .expect("the handler binaries build");
    }
    binaries
}

/// The misbehaving double (`examples/lambda_double.rs`), built when missing or older than
/// its source.
fn double(binaries: &BinaryDir) -> PathBuf {
    let path = binaries
        .path()
        .join("examples")
        .join(format!("lambda_double{}", std::env::consts::EXE_SUFFIX));
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lambda_double.rs");
    if modified(&path).is_none() || modified(&path) < modified(&source) {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "-p", "callflow-dev", "--example", "lambda_double"])
            .current_dir(workspace())
            .env("CARGO_TARGET_DIR", binaries.path().parent().unwrap())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "the double builds");
    }
    path
}

/// A copy of the committed synth output with `edit` applied to the stack document.
fn synth_copy(dir: &Path, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let source = workspace().join("cdktf.out");
    let target = dir.join("cdktf.out");
    std::fs::create_dir_all(target.join("stacks/callflow")).unwrap();
    std::fs::copy(source.join("manifest.json"), target.join("manifest.json")).unwrap();
    let mut stack: Value =
        serde_json::from_slice(&std::fs::read(source.join("stacks/callflow/cdk.tf.json")).unwrap())
            .unwrap();
    edit(&mut stack);
    std::fs::write(
        target.join("stacks/callflow/cdk.tf.json"),
        serde_json::to_vec_pretty(&stack).unwrap(),
    )
    .unwrap();
    target
}

async fn start(data: &Path, options: ProcessOptions) -> DevServer {
    DevServer::start(DevConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.to_owned(),
        storage: StorageChoice::Embedded,
        access_log: Arc::new(DiscardSink),
        lambda: LambdaMode::Process(options),
        ..DevConfig::default()
    })
    .await
    .expect("callflow dev starts in process mode")
}

struct Reply {
    status: u16,
    body: Value,
}

async fn send(server: &DevServer, method: Method, path: &str, token: &str, body: &Value) -> Reply {
    let addr = server.local_addr();
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let bytes = if body.is_null() {
        Vec::new()
    } else {
        serde_json::to_vec(body).unwrap()
    };
    let request = Request::builder()
        .method(method)
        .uri(format!("/v1{path}"))
        .header("host", addr.to_string())
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(bytes)))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

fn token(server: &DevServer) -> String {
    server.identity().issue(
        "local-developer",
        &[Scope::EventsRead, Scope::EventsWrite],
        Duration::from_secs(600),
    )
}

/// Now as RFC 3339 (the storer accepts timestamps near the time of receipt).
fn now() -> String {
    now_offset(0)
}

fn now_offset(seconds: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::seconds(seconds))
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn reports(lines: &[String]) -> usize {
    lines
        .iter()
        .filter(|l| l.starts_with("REPORT RequestId: "))
        .count()
}

fn assert_internal_error(reply: &Reply, status: u16, what: &str) {
    assert_eq!(reply.status, status, "{what}: {}", reply.body);
    assert_eq!(
        reply.body["message"], "Internal server error",
        "{what}: {}",
        reply.body
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_failure_gets_api_gateways_answer_and_the_next_request_succeeds() {
    let binaries = handler_binaries();
    let double = double(&binaries);
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("init-failed-once");
    let synth = synth_copy(dir.path(), |stack| {
        let storer = &mut stack["resource"]["aws_lambda_function"]["event_storer"];
        storer["timeout"] = json!(1);
        storer["environment"]["variables"]["LAMBDA_DOUBLE_INIT_MARKER"] =
            json!(marker.display().to_string());
    });
    let logs = Arc::new(MemoryLogSink::new());
    let mut options = ProcessOptions::new(&synth, binaries);
    options
        .executables
        .insert("callflow-event-storer".into(), double);
    options.log_sink = logs.clone();
    let server = start(&dir.path().join("data"), options).await;
    let token = token(&server);
    let post = |mode: &'static str| {
        let server = &server;
        let token = &token;
        async move {
            send(
                server,
                Method::POST,
                "/events",
                token,
                &json!({"mode": mode}),
            )
            .await
        }
    };

    // Init failure (a required variable missing): 502, then a fresh environment starts.
    assert_internal_error(&post("ok").await, 502, "init failure");
    assert!(
        marker.exists(),
        "the first environment ran and failed its init"
    );
    let ok = post("ok").await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    let first_pid = ok.body["pid"].clone();

    // Warm reuse: the same process answers the next request.
    assert_eq!(post("ok").await.body["pid"], first_pid);

    // Crash, timeout (1 s in the stack copy), function error, malformed response and a
    // response over 6 MB: each 502, each followed by a success; after a crash, a timeout or
    // an oversized response in a fresh environment, otherwise in the same one.
    for mode in ["crash", "hang", "error", "malformed", "huge"] {
        assert_internal_error(&post(mode).await, 502, mode);
        let next = post("ok").await;
        assert_eq!(next.status, 201, "after {mode}: {}", next.body);
        if matches!(mode, "crash" | "hang" | "huge") {
            assert_ne!(
                next.body["pid"], first_pid,
                "a fresh environment after {mode}"
            );
        }
    }

    // Runtime API misuse: a response for an unknown request id is refused with 400.
    let misuse = post("misuse").await;
    assert_eq!(misuse.status, 201, "{}", misuse.body);
    assert_eq!(misuse.body["unknownIdStatus"], 400);

    let storer = server
        .lambdas()
        .unwrap()
        .handler(LambdaName::EventStorer)
        .unwrap();
    let name = storer.name().clone();
    let lines = logs.lines_of(&name);
    let stats = storer.stats();
    assert_eq!(reports(&lines) as u64, stats.invocations, "{lines:#?}");
    assert_eq!(stats.invocations, 14);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Task timed out after 1.00 seconds"))
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("REPORT") && l.ends_with("Status: timeout"))
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("REPORT") && l.contains("\tInit Duration: "))
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("INIT_REPORT") && l.contains("Status: error"))
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("LAMBDA_DOUBLE_REQUIRED: is required")),
        "stderr is tagged with the function"
    );
    assert!(
        lines.iter().any(|l| l == "lambda double ready"),
        "stdout too"
    );
    // 1 failed init + the first that worked + a fresh one after the crash, the timeout and
    // the oversized response each.
    assert_eq!(stats.environments_started, 5, "{stats:?}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn authorizer_failures_get_api_gateways_answers() {
    let binaries = handler_binaries();
    let double = double(&binaries);
    let dir = tempfile::tempdir().unwrap();
    let mut options = ProcessOptions::new(workspace().join("cdktf.out"), binaries);
    options
        .executables
        .insert("callflow-authorizer".into(), double);
    let logs = Arc::new(MemoryLogSink::new());
    options.log_sink = logs.clone();
    let server = start(&dir.path().join("data"), options).await;
    let unknown = "/events/019a3f6e-2c80-7a3b-9c1d-0123456789ab";
    let get = |token: &'static str| {
        let server = &server;
        async move { send(server, Method::GET, unknown, token, &Value::Null).await }
    };
    // The authorizer raising `Unauthorized`: 401; crashing, failing, answering garbage: 500.
    let unauthorized = get("Unauthorized").await;
    assert_eq!(
        unauthorized.status,
        401,
        "{}: {:#?}",
        unauthorized.body,
        logs.all()
    );
    assert_eq!(unauthorized.body["code"], "unauthorized");
    for token in ["crash", "error", "malformed"] {
        let reply = get(token).await;
        assert_eq!(reply.status, 500, "{token}: {}", reply.body);
        assert_eq!(reply.body["message"], "Internal server error", "{token}");
    }
    // An Allow policy: the real retriever answers (404: no such event).
    let allowed = get("ok").await;
    assert_eq!(allowed.status, 404, "{}", allowed.body);
    let authorizer = server.lambdas().unwrap().authorizer();
    assert_eq!(authorizer.stats().invocations, 5);
    assert_eq!(reports(&logs.lines_of(authorizer.name())), 5);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_stay_within_the_limit_and_each_invocation_is_reported() {
    let binaries = handler_binaries();
    let dir = tempfile::tempdir().unwrap();
    let logs = Arc::new(MemoryLogSink::new());
    let mut options = ProcessOptions::new(workspace().join("cdktf.out"), binaries);
    options.max_environments = std::num::NonZeroUsize::new(4);
    options.log_sink = logs.clone();
    let server = Arc::new(start(&dir.path().join("data"), options).await);
    let token = token(&server);
    let stored = send(
        &server,
        Method::POST,
        "/events",
        &token,
        &json!({"callId": "c-1", "eventType": "call.initiated", "timestamp": now()}),
    )
    .await;
    assert_eq!(stored.status, 201, "{}", stored.body);
    let path = format!("/events/{}", stored.body["eventId"].as_str().unwrap());

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (server, token, path) = (Arc::clone(&server), token.clone(), path.clone());
        tasks.spawn(async move { send(&server, Method::GET, &path, &token, &Value::Null).await });
    }
    let mut statuses = BTreeMap::new();
    while let Some(reply) = tasks.join_next().await {
        let reply = reply.unwrap();
        if reply.status == 500 {
            assert_eq!(
                reply.body["message"], "Internal server error",
                "throttled: {}",
                reply.body
            );
        }
        *statuses.entry(reply.status).or_insert(0) += 1;
    }
    let ok = statuses.get(&200).copied().unwrap_or(0);
    let throttled = statuses.get(&500).copied().unwrap_or(0);
    assert_eq!(
        ok + throttled,
        50,
        "every request answered, 200 or 500: {statuses:?}"
    );
    assert!(ok >= 4, "{statuses:?}");

    let lambdas = server.lambdas().unwrap();
    let retriever = lambdas.handler(LambdaName::EventRetriever).unwrap();
    let stats = retriever.stats();
    assert!(stats.peak_environments <= 4, "{stats:?}");
    assert_eq!(stats.invocations, ok as u64, "{stats:?}");
    assert_eq!(stats.throttles, throttled as u64, "{stats:?}");
    assert_eq!(
        reports(&logs.lines_of(retriever.name())),
        ok,
        "one REPORT per invocation"
    );
    // One token, one authorizer invocation: the policy cache holds for the other 50.
    let authorizer = lambdas.authorizer();
    assert_eq!(authorizer.stats().invocations, 1);
    assert_eq!(reports(&logs.lines_of(authorizer.name())), 1);
    match Arc::try_unwrap(server) {
        Ok(server) => server.shutdown().await,
        Err(_) => panic!("server still shared"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_environments_are_stopped() {
    let binaries = handler_binaries();
    let dir = tempfile::tempdir().unwrap();
    let mut options = ProcessOptions::new(workspace().join("cdktf.out"), binaries);
    options.idle_timeout = Duration::from_millis(200);
    options.log_sink = Arc::new(MemoryLogSink::new());
    let server = start(&dir.path().join("data"), options).await;
    let token = token(&server);
    let unknown = "/events/019a3f6e-2c80-7a3b-9c1d-0123456789ab";
    let reply = send(&server, Method::GET, unknown, &token, &Value::Null).await;
    assert_eq!(reply.status, 404, "{}", reply.body);
    let retriever = server
        .lambdas()
        .unwrap()
        .handler(LambdaName::EventRetriever)
        .unwrap();
    let pid = retriever.idle_pids()[0];
    // Stopped some time after 200 ms idle (polled for up to 10 s: no timing asserted).
    for _ in 0..200 {
        if retriever.stats().live_environments == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        retriever.stats().live_environments,
        0,
        "{:?}",
        retriever.stats()
    );
    assert_eq!(retriever.idle_stopped(), 1);
    for _ in 0..200 {
        if !Path::new(&format!("/proc/{pid}")).exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "process {pid} is gone"
    );
    // The next request starts a fresh environment.
    let again = send(&server, Method::GET, unknown, &token, &Value::Null).await;
    assert_eq!(again.status, 404, "{}", again.body);
    assert_eq!(retriever.stats().environments_started, 2);
    server.shutdown().await;
}

/// `/proc/<pid>/environ` of a running process.
fn process_environment(pid: u32) -> BTreeMap<String, String> {
    let raw = std::fs::read(format!("/proc/{pid}/environ")).expect("environ readable");
    raw.split(|b| *b == 0)
        .filter(|entry| !entry.is_empty())
        .filter_map(|entry| {
            let text = String::from_utf8_lossy(entry).into_owned();
            let (k, v) = text.split_once('=')?;
            Some((k.to_owned(), v.to_owned()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_process_receives_the_stacks_environment() {
    if !Path::new("/proc/self/environ").exists() {
        eprintln!("skipped: no procfs");
        return;
    }
    let binaries = handler_binaries();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(
        &data,
        ProcessOptions::new(workspace().join("cdktf.out"), binaries),
    )
    .await;
    let token = token(&server);
    let stored = send(
        &server,
        Method::POST,
        "/events",
        &token,
        &json!({"callId": "c-env", "eventType": "call.initiated", "timestamp": now()}),
    )
    .await;
    assert_eq!(stored.status, 201, "{}", stored.body);
    let listed = send(
        &server,
        Method::GET,
        &format!(
            "/events?callId=c-env&from={}&to={}",
            now_offset(-3600),
            now_offset(3600)
        ),
        &token,
        &Value::Null,
    )
    .await;
    assert_eq!(listed.status, 200, "{}", listed.body);

    // The stack, read here independently of callflow-dev's reader.
    let stack: Value = serde_json::from_slice(
        &std::fs::read(workspace().join("cdktf.out/stacks/callflow/cdk.tf.json")).unwrap(),
    )
    .unwrap();
    let key = std::fs::read_to_string(data.join("auth/continuation-key")).unwrap();
    let index_key = std::fs::read_to_string(data.join("auth/index-key")).unwrap();
    let jwks = server.jwks_url();
    let local: BTreeMap<&str, &str> = [
        ("S3_BUCKET", "callflow-events"),
        ("TOKEN_SIGNING_KEY", key.as_str()),
        ("INDEX_HASH_KEY", index_key.as_str()),
        ("JWKS_URL", jwks.as_str()),
        ("JWT_ISSUER", callflow_dev::DEV_ISSUER),
        ("JWT_AUDIENCE", callflow_dev::DEV_AUDIENCE),
    ]
    .into();
    let lambdas = server.lambdas().unwrap();
    let pools = [
        lambdas.authorizer(),
        lambdas.handler(LambdaName::EventStorer).unwrap(),
        lambdas.handler(LambdaName::EventRetriever).unwrap(),
    ];
    let functions = stack["resource"]["aws_lambda_function"]
        .as_object()
        .unwrap();
    assert_eq!(
        functions.len(),
        pools.len(),
        "every function of the stack runs"
    );
    for (id, function) in functions {
        let name = function["function_name"].as_str().unwrap();
        let pool = pools
            .iter()
            .find(|p| p.name() == &FunctionName::parse(name).unwrap())
            .unwrap_or_else(|| panic!("{id}: no pool for {name}"));
        let pids = pool.idle_pids();
        assert_eq!(pids.len(), 1, "{name} ran once and is warm");
        let env = process_environment(pids[0]);
        let declared = function["environment"]["variables"].as_object().unwrap();
        for (variable, value) in declared {
            let value = value.as_str().unwrap();
            let expected = match local.get(variable.as_str()) {
                Some(local) => (*local).to_owned(),
                None if value == "${var.log_level}" => stack["variable"]["log_level"]["default"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                None => value.to_owned(),
            };
            assert_eq!(env.get(variable), Some(&expected), "{name}: {variable}");
        }
        let lambda_set = [
            ("AWS_LAMBDA_FUNCTION_NAME", name.to_owned()),
            (
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                function["memory_size"].to_string(),
            ),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            (
                "AWS_REGION",
                stack["provider"]["aws"][0]["region"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            ),
            ("_HANDLER", function["handler"].as_str().unwrap().to_owned()),
        ];
        for (variable, value) in lambda_set {
            assert_eq!(env.get(variable), Some(&value), "{name}: {variable}");
        }
        assert!(env.contains_key("LAMBDA_TASK_ROOT") && env.contains_key("AWS_LAMBDA_RUNTIME_API"));
        // Nothing else leaks in from this process's environment.
        let lambda_own = [
            "AWS_LAMBDA_FUNCTION_NAME",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            "AWS_LAMBDA_FUNCTION_VERSION",
            "AWS_LAMBDA_LOG_GROUP_NAME",
            "AWS_LAMBDA_INITIALIZATION_TYPE",
            "AWS_LAMBDA_RUNTIME_API",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "_HANDLER",
            "LAMBDA_TASK_ROOT",
            "LAMBDA_RUNTIME_DIR",
            "TZ",
            "LANG",
            "PATH",
        ];
        let local_only = [
            "S3_ENDPOINT",
            "S3_FORCE_PATH_STYLE",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_EC2_METADATA_DISABLED",
        ];
        for variable in env.keys() {
            assert!(
                declared.contains_key(variable)
                    || lambda_own.contains(&variable.as_str())
                    || local_only.contains(&variable.as_str()),
                "{name}: {variable} is neither the stack's, Lambda's nor a local S3 setting"
            );
        }
    }
    server.shutdown().await;
}
