//! End to end: the real `callflow` binary runs `callflow dev` on a free port with a temp data
//! directory; a real HTTP client stores, reads and queries events, checks the error answers,
//! and restarts the server to see that nothing was lost.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const BIN: &str = env!("CARGO_BIN_EXE_callflow");

/// A running `callflow dev` child process.
struct DevProcess {
    child: Child,
    stage_url: String,
    stdout: Arc<Mutex<Vec<String>>>,
}

impl DevProcess {
    fn start(data_dir: &Path, extra: &[&str]) -> Self {
        Self::start_with_env(data_dir, extra, &[])
    }

    fn start_with_env(data_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(BIN)
            .args(["dev", "--port", "0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("callflow dev starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (url_tx, url_rx) = mpsc::channel();
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            let mut url_tx = Some(url_tx);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("callflow dev listening on ")
                    && let Some(tx) = url_tx.take()
                {
                    let _ = tx.send(url.trim().to_owned());
                }
                sink.lock().unwrap().push(line);
            }
        });
        let stage_url = url_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("callflow dev prints the URL it listens on");
        assert!(
            stage_url.starts_with("http://127.0.0.1:") && stage_url.ends_with("/v1"),
            "{stage_url}"
        );
        assert!(
            !stage_url.contains(":0/"),
            "the bound port is printed, not 0"
        );
        Self {
            child,
            stage_url,
            stdout: lines,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.stage_url)
    }

    fn stdout(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// Stdout once a line satisfying `done` has been printed (at most 5 s).
    fn stdout_until(&self, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        for _ in 0..100 {
            let out = self.stdout();
            if done(&out) {
                return out;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.stdout()
    }

    /// Ctrl-C, then waits for a clean exit.
    fn stop(mut self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "callflow dev exited with {status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("callflow dev did not stop within 10 s of SIGINT");
    }
}

impl Drop for DevProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `callflow token` for the data dir: the token is the last line of stdout.
fn token(data_dir: &Path, scopes: &[&str]) -> String {
    let mut command = Command::new(BIN);
    command.arg("token").arg("--data-dir").arg(data_dir);
    for scope in scopes {
        command.args(["--scope", scope]);
    }
    let output = command.output().expect("callflow token runs");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let token = stdout.lines().last().expect("a token line").to_owned();
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    token
}

/// A response as the client saw it.
struct Reply {
    status: u16,
    headers: hyper::HeaderMap,
    body: Value,
}

/// One HTTP/1.1 request on a fresh connection.
async fn send(method: Method, url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
    let rest = url.strip_prefix("http://").expect("http url");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let stream = tokio::net::TcpStream::connect(authority).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", authority);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = sender
        .send_request(request.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
    }
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn post(dev: &DevProcess, auth: &str, body: &Value, extra: &[(&str, &str)]) -> Reply {
    let mut headers = vec![
        ("authorization", auth),
        ("content-type", "application/json"),
    ];
    headers.extend_from_slice(extra);
    send(
        Method::POST,
        &dev.url("/events"),
        &headers,
        serde_json::to_vec(body).unwrap(),
    )
    .await
}

async fn get(dev: &DevProcess, auth: &str, path: &str) -> Reply {
    send(
        Method::GET,
        &dev.url(path),
        &[("authorization", auth)],
        Vec::new(),
    )
    .await
}

/// The hour the tests' events happen in: the start of the hour two hours ago, so every event
/// lies inside the storer's acceptance window (14 days before to 5 minutes after receipt).
fn base_hour() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc() - time::Duration::hours(2);
    t.replace_minute(0)
        .and_then(|t| t.replace_second(0))
        .and_then(|t| t.replace_nanosecond(0))
        .unwrap()
}

/// `minutes` after [`base_hour`], as RFC 3339.
fn at(minutes: i64) -> String {
    (base_hour() + time::Duration::minutes(minutes))
        .format(&Rfc3339)
        .unwrap()
}

/// A query range around [`base_hour`] that holds every test event.
fn range() -> String {
    format!("from={}&to={}", at(-60), at(180))
}

fn event(call_id: &str, sequence: u64, minute: u32) -> Value {
    json!({
        "callId": call_id,
        "eventType": "call.ringing",
        "timestamp": at(i64::from(minute)),
        "direction": "inbound",
        "from": "+4930123456",
        "to": "+4940654321",
        "sequence": sequence,
        "attributes": {"queue": "support"},
        "payload": {"n": sequence}
    })
}

fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.body["code"], code, "{}", reply.body);
    assert!(reply.body["requestId"].is_string(), "{}", reply.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn store_get_query_errors_and_restart() {
    let data = tempfile::tempdir().unwrap();
    let dev = DevProcess::start(data.path(), &["--authorizer-ttl", "300"]);
    let rw = bearer(&token(data.path(), &["events:read", "events:write"]));
    let read_only = bearer(&token(data.path(), &["events:read"]));

    // Store 7 events of one call; the first answer is 201 with Location.
    let mut ids = Vec::new();
    for n in 0..7 {
        let reply = post(&dev, &rw, &event("call-e2e", n, n as u32), &[]).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        let id = reply.body["eventId"].as_str().unwrap().to_owned();
        assert_eq!(
            reply.headers["location"].to_str().unwrap(),
            format!("/events/{id}")
        );
        assert_eq!(reply.body["event"]["principal"], "local-developer");
        ids.push(id);
    }

    // Idempotent retry: same callId + sequence → 200 with the same id, also re-stamped;
    // Idempotency-Key too.
    let retry = post(&dev, &rw, &event("call-e2e", 3, 3), &[]).await;
    assert_eq!(retry.status, 200, "{}", retry.body);
    assert_eq!(retry.body["eventId"], ids[3].as_str());
    let restamped = post(&dev, &rw, &event("call-e2e", 3, 33), &[]).await;
    assert_eq!(restamped.status, 200, "{}", restamped.body);
    assert_eq!(restamped.body["eventId"], ids[3].as_str());
    let keyed = json!({"callId": "call-keyed", "eventType": "call.ended", "timestamp": at(60)});
    let first = post(&dev, &rw, &keyed, &[("idempotency-key", "k-1")]).await;
    let again = post(&dev, &rw, &keyed, &[("idempotency-key", "k-1")]).await;
    assert_eq!((first.status, again.status), (201, 200));
    assert_eq!(first.body["eventId"], again.body["eventId"]);

    // Get by id.
    let got = get(&dev, &rw, &format!("/events/{}", ids[2])).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.body["eventId"], ids[2].as_str());
    assert_eq!(got.body["payload"]["n"], 2);
    assert_eq!(got.body["attributes"]["queue"], "support");

    // Query with pagination: 3 + 3 + 1, in timestamp order, no duplicates.
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = format!("/events?{}&callId=call-e2e&limit=3", range());
        if let Some(token) = &next {
            path.push_str(&format!("&nextToken={token}"));
        }
        let page = get(&dev, &read_only, &path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        pages += 1;
        let items = page.body["items"].as_array().unwrap();
        assert_eq!(page.body["count"], items.len());
        seen.extend(
            items
                .iter()
                .map(|i| i["eventId"].as_str().unwrap().to_owned()),
        );
        match page.body["nextToken"].as_str() {
            Some(token) => next = Some(token.to_owned()),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(seen, ids, "every event once, in order, over {pages} pages");

    // Errors: 401 without a token, 403 for a read-only token on POST, 404 for an unknown
    // id, 413, 415, 422, 400.
    let no_token = send(
        Method::GET,
        &dev.url(&format!("/events?{}", range())),
        &[],
        Vec::new(),
    )
    .await;
    assert_error(&no_token, 401, "unauthorized");
    let bad_token = get(&dev, "Bearer nope", &format!("/events?{}", range())).await;
    assert_error(&bad_token, 401, "unauthorized");
    assert_error(
        &post(&dev, &read_only, &event("c", 1, 1), &[]).await,
        403,
        "forbidden",
    );
    let unknown = "019a3f6e-2c80-7a3b-9c1d-0123456789ab";
    assert_error(
        &get(&dev, &rw, &format!("/events/{unknown}")).await,
        404,
        "not_found",
    );
    assert_error(
        &get(&dev, &rw, "/events/not-an-id").await,
        400,
        "invalid_event_id",
    );
    assert_error(&get(&dev, &rw, "/no/such/route").await, 404, "not_found");
    let big = json!({"callId": "c", "eventType": "call.ringing", "timestamp": at(0),
        "payload": "x".repeat(70 * 1024)});
    assert_error(&post(&dev, &rw, &big, &[]).await, 413, "payload_too_large");
    let text = send(
        Method::POST,
        &dev.url("/events"),
        &[("authorization", &rw), ("content-type", "text/plain")],
        b"hello".to_vec(),
    )
    .await;
    assert_error(&text, 415, "unsupported_media_type");
    let invalid =
        json!({"callId": "", "eventType": "call.bogus", "timestamp": "yesterday", "extra": 1});
    let rejected = post(&dev, &rw, &invalid, &[]).await;
    assert_error(&rejected, 422, "validation_failed");
    let paths: Vec<&str> = rejected.body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    for path in ["$.callId", "$.eventType", "$.timestamp"] {
        assert!(paths.contains(&path), "{path} in {paths:?}");
    }
    let malformed = send(
        Method::POST,
        &dev.url("/events"),
        &[("authorization", &rw), ("content-type", "application/json")],
        b"{not json".to_vec(),
    )
    .await;
    assert_error(&malformed, 400, "malformed_json");
    assert_error(
        &get(&dev, &rw, "/events?from=2026-11-01T00:00:00Z").await,
        400,
        "invalid_query",
    );

    // The access log went to stdout, one JSON line per request.
    let log_lines: Vec<Value> = dev
        .stdout()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("requestId").is_some())
        .collect();
    assert!(
        log_lines
            .iter()
            .any(|l| l["status"] == "201" && l["principalId"] == "local-developer")
    );
    assert!(log_lines.iter().any(|l| l["status"] == "401"));

    // Ctrl-C, restart on the same data dir: every event is still there, the same token works.
    dev.stop();
    let dev = DevProcess::start(data.path(), &[]);
    for id in &ids {
        let got = get(&dev, &rw, &format!("/events/{id}")).await;
        assert_eq!(got.status, 200, "{id} after restart: {}", got.body);
    }
    let all = get(&dev, &rw, &format!("/events?{}&limit=500", range())).await;
    assert_eq!(all.body["count"], 8, "{}", all.body);
    let replay = post(&dev, &rw, &event("call-e2e", 0, 0), &[]).await;
    assert_eq!(replay.status, 200, "idempotency survives the restart");
    dev.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_and_the_jwks_endpoint() {
    let data = tempfile::tempdir().unwrap();
    let dev = DevProcess::start(
        data.path(),
        &[
            "--throttle-burst",
            "2",
            "--throttle-rate",
            "0.001",
            "--no-access-log",
        ],
    );
    let rw = bearer(&token(data.path(), &["events:read", "events:write"]));
    let path = format!("/events?{}", range());
    assert_eq!(get(&dev, &rw, &path).await.status, 200);
    assert_eq!(get(&dev, &rw, &path).await.status, 200);
    let throttled = get(&dev, &rw, &path).await;
    assert_error(&throttled, 429, "throttled");
    assert!(throttled.headers.contains_key("retry-after"));

    let base = dev.stage_url.trim_end_matches("/v1").to_owned();
    let jwks = send(
        Method::GET,
        &format!("{base}/.well-known/jwks.json"),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(jwks.status, 200);
    assert_eq!(jwks.body["keys"][0]["alg"], "ES256");
    assert!(
        dev.stdout()
            .iter()
            .all(|l| !l.starts_with("{\"requestId\"")),
        "--no-access-log"
    );
    dev.stop();
}

#[test]
fn the_banner_prints_a_working_token_and_curl_lines() {
    let data = tempfile::tempdir().unwrap();
    let dev = DevProcess::start(data.path(), &[]);
    let out = dev.stdout_until(|out| out.iter().filter(|l| l.starts_with("curl ")).count() == 2);
    let token_line = out
        .iter()
        .find(|l| l.starts_with("export TOKEN="))
        .expect("a token line");
    let curls: Vec<&String> = out.iter().filter(|l| l.starts_with("curl ")).collect();
    assert_eq!(curls.len(), 2, "{out:?}");
    assert!(curls[0].contains(&format!("{}/events", dev.stage_url)));
    assert!(curls[1].contains("from="));
    let token = token_line.trim_start_matches("export TOKEN=").to_owned();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let reply = runtime.block_on(post(
        &dev,
        &bearer(&token),
        &json!({"callId": "call-1", "eventType": "call.initiated", "timestamp": at(0)}),
        &[],
    ));
    assert_eq!(reply.status, 201, "{}", reply.body);
    dev.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_endpoint_points_the_handlers_at_another_s3_server() {
    // Another S3-compatible server (a separate embedded store) with its own credentials.
    let store_dir = tempfile::tempdir().unwrap();
    let store =
        callflow_s3store::RunningStore::start(callflow_s3store::StoreConfig::new(store_dir.path()))
            .await
            .unwrap();
    let data = tempfile::tempdir().unwrap();
    let endpoint = store.endpoint();
    let dev = DevProcess::start_with_env(
        data.path(),
        &["--s3-endpoint", &endpoint, "--s3-bucket", "other-events"],
        &[
            ("AWS_ACCESS_KEY_ID", store.access_key()),
            ("AWS_SECRET_ACCESS_KEY", store.secret_key()),
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    let banner = dev
        .stdout_until(|out| out.iter().any(|l| l.contains("storage:")))
        .join("\n");
    assert!(banner.contains(&endpoint), "{banner}");
    let rw = bearer(&token(data.path(), &["events:read", "events:write"]));
    let stored = post(&dev, &rw, &event("call-ext", 1, 1), &[]).await;
    assert_eq!(stored.status, 201, "{}", stored.body);
    let id = stored.body["eventId"].as_str().unwrap().to_owned();
    assert_eq!(get(&dev, &rw, &format!("/events/{id}")).await.status, 200);
    dev.stop();
    // The object is in that server's bucket (created on start), not under the data dir.
    let key = stored.body["key"].as_str().unwrap();
    let object = store_dir.path().join("buckets").join("other-events");
    assert!(object.is_dir(), "bucket created on the other server");
    assert!(
        !data.path().join("s3").exists(),
        "no embedded store was started"
    );
    assert!(key.contains(&id));
    store.shutdown().await;
}

/// The number of events a full query over [`range`] returns (all pages).
async fn stored_count(dev: &DevProcess, auth: &str) -> usize {
    let mut count = 0;
    let mut next: Option<String> = None;
    loop {
        let mut path = format!("/events?{}&limit=500", range());
        if let Some(token) = &next {
            path.push_str(&format!("&nextToken={token}"));
        }
        let page = get(dev, auth, &path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        count += page.body["items"].as_array().map_or(0, Vec::len);
        match page.body["nextToken"].as_str() {
            Some(token) => next = Some(token.to_owned()),
            None => return count,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_never_duplicate_and_reused_keys_lose_nothing_silently() {
    let data = tempfile::tempdir().unwrap();
    let dev = DevProcess::start(data.path(), &["--no-access-log"]);
    let rw = bearer(&token(data.path(), &["events:read", "events:write"]));
    let key = [("idempotency-key", "e2e-restamp")];

    // A client that builds its event when it sends: the retry an hour later is still a retry.
    let mut sent = json!({"callId": "call-R", "eventType": "call.answered", "timestamp": at(0)});
    let first = post(&dev, &rw, &sent, &key).await;
    assert_eq!(first.status, 201, "{}", first.body);
    sent["timestamp"] = at(60).into();
    let retry = post(&dev, &rw, &sent, &key).await;
    assert_eq!(retry.status, 200, "{}", retry.body);
    assert_eq!(retry.body["eventId"], first.body["eventId"]);
    assert_eq!(
        retry.body["event"]["timestamp"],
        first.body["event"]["timestamp"]
    );

    // The key reused for other events: refused, naming the stored event; nothing stored.
    for other in [
        json!({"callId": "call-OTHER", "eventType": "call.answered", "timestamp": at(0)}),
        json!({"callId": "call-R", "eventType": "call.ended", "timestamp": at(0)}),
    ] {
        let refused = post(&dev, &rw, &other, &key).await;
        assert_error(&refused, 422, "idempotency_key_reused");
        assert_eq!(refused.body["eventId"], first.body["eventId"]);
    }
    // A sequence number stores one event; another event with it is a conflict.
    let seq =
        json!({"callId": "call-S", "eventType": "call.ringing", "timestamp": at(1), "sequence": 7});
    let stored = post(&dev, &rw, &seq, &[]).await;
    assert_eq!(stored.status, 201, "{}", stored.body);
    let mut later = seq.clone();
    later["timestamp"] = at(2).into();
    assert_eq!(post(&dev, &rw, &later, &[]).await.status, 200);
    later["eventType"] = "call.answered".into();
    let conflict = post(&dev, &rw, &later, &[]).await;
    assert_error(&conflict, 409, "sequence_conflict");
    assert_eq!(conflict.body["eventId"], stored.body["eventId"]);
    assert_eq!(
        stored_count(&dev, &rw).await,
        2,
        "one event per key and per sequence"
    );

    // 50 concurrent requests with one key and five different bodies: one event.
    let dev = Arc::new(dev);
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let (dev, rw) = (Arc::clone(&dev), rw.clone());
            tokio::spawn(async move {
                let body = json!({"callId": format!("call-C{}", i % 5),
                    "eventType": "call.ringing", "timestamp": at(10 + i / 5)});
                post(&dev, &rw, &body, &[("idempotency-key", "e2e-burst")]).await
            })
        })
        .collect();
    let mut by_status = std::collections::BTreeMap::<u16, usize>::new();
    let mut ids = std::collections::BTreeSet::new();
    for task in tasks {
        let reply = task.await.unwrap();
        *by_status.entry(reply.status).or_default() += 1;
        ids.insert(
            reply.body["eventId"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
        assert!(matches!(reply.status, 200 | 201 | 422), "{}", reply.body);
    }
    assert_eq!(by_status.get(&201), Some(&1), "{by_status:?}");
    assert_eq!(by_status.get(&200), Some(&9), "{by_status:?}");
    assert_eq!(by_status.get(&422), Some(&40), "{by_status:?}");
    assert_eq!(ids.len(), 1, "every answer names the one stored event");
    assert_eq!(stored_count(&dev, &rw).await, 3);

    // Implausible timestamps: refused with the window named, nothing stored.
    for ts in ["1970-01-01T00:00:00Z", "2099-01-01T00:00:00Z"] {
        let reply = post(
            &dev,
            &rw,
            &json!({"callId": "call-T", "eventType": "call.ended", "timestamp": ts}),
            &[],
        )
        .await;
        assert_error(&reply, 422, "timestamp_out_of_window");
        let message = reply.body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("14 days before to 5 minutes after receipt"),
            "{message}"
        );
    }
    assert_eq!(stored_count(&dev, &rw).await, 3);
    match Arc::try_unwrap(dev) {
        Ok(dev) => dev.stop(),
        Err(_) => panic!("the tasks hold no handle any more"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_acceptance_window_flags_reach_the_storer() {
    let data = tempfile::tempdir().unwrap();
    let dev = DevProcess::start(data.path(), &["--no-access-log", "--event-max-age", "60"]);
    let rw = bearer(&token(data.path(), &["events:read", "events:write"]));
    let now = OffsetDateTime::now_utc().format(&Rfc3339).unwrap();
    let fresh = json!({"callId": "call-W", "eventType": "call.ended", "timestamp": now});
    assert_eq!(post(&dev, &rw, &fresh, &[]).await.status, 201);
    // Two hours old: inside the stack's 14 days, outside the minute this server was given.
    let old = json!({"callId": "call-W", "eventType": "call.ended", "timestamp": at(0)});
    let refused = post(&dev, &rw, &old, &[]).await;
    assert_error(&refused, 422, "timestamp_out_of_window");
    let message = refused.body["message"].as_str().unwrap_or_default();
    assert!(message.contains("from 1 minute before"), "{message}");
    dev.stop();
}
