//! What the end-to-end suites share: a `callflow dev` child process on a free port with its
//! output, `callflow token`, and a bare HTTP/1.1 client.
// Each test file uses the part it needs.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// The `callflow` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_callflow");

/// The workspace root (where `cdktf.out/` is).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A running `callflow dev` child process with its stdout and stderr lines.
pub struct DevProcess {
    child: Child,
    /// `http://127.0.0.1:PORT/v1`.
    pub stage_url: String,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

/// Collects the lines of `stream`; sends the first `callflow dev listening on` URL to `url`.
fn collect(
    stream: impl Read + Send + 'static,
    url: Option<mpsc::Sender<String>>,
    echo: bool,
) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    std::thread::spawn(move || {
        let mut url = url;
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if let Some(found) = line.strip_prefix("callflow dev listening on ")
                && let Some(tx) = url.take()
            {
                let _ = tx.send(found.trim().to_owned());
            }
            if echo {
                eprintln!("{line}");
            }
            sink.lock().unwrap().push(line);
        }
    });
    lines
}

impl DevProcess {
    /// `callflow dev --port 0 --data-dir DIR EXTRA...` from the workspace root.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Self {
        Self::start_with_env(data_dir, extra, &[])
    }

    /// [`DevProcess::start`] with extra environment variables.
    pub fn start_with_env(data_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Self {
        Self::spawn(data_dir, extra, env, true)
    }

    /// [`DevProcess::start`] without echoing its stderr (still collected, see
    /// [`DevProcess::stderr`]): for load tests whose handlers print lines per request.
    pub fn start_quiet(data_dir: &Path, extra: &[&str]) -> Self {
        Self::spawn(data_dir, extra, &[], false)
    }

    fn spawn(data_dir: &Path, extra: &[&str], env: &[(&str, &str)], echo_stderr: bool) -> Self {
        // In process mode the handler binaries are built by `callflow dev` itself when
        // missing or stale.
        let mut child = Command::new(BIN)
            .args(["dev", "--port", "0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .envs(env.iter().copied())
            .current_dir(workspace())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("callflow dev starts");
        let (tx, rx) = mpsc::channel();
        let stdout = collect(child.stdout.take().expect("piped stdout"), Some(tx), false);
        let stderr = collect(
            child.stderr.take().expect("piped stderr"),
            None,
            echo_stderr,
        );
        let stage_url = match rx.recv_timeout(Duration::from_secs(300)) {
            Ok(url) => url,
            Err(_) => panic!("no URL printed; stderr: {:#?}", stderr.lock().unwrap()),
        };
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
            stdout,
            stderr,
        }
    }

    /// The stage URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.stage_url)
    }

    /// Stdout so far.
    pub fn stdout(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// Stderr so far.
    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Stdout once `done` holds (at most 5 s).
    pub fn stdout_until(&self, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        Self::until(&self.stdout, done)
    }

    /// Stderr once `done` holds (at most 5 s).
    pub fn stderr_until(&self, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        Self::until(&self.stderr, done)
    }

    fn until(lines: &Mutex<Vec<String>>, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        for _ in 0..100 {
            let out = lines.lock().unwrap().clone();
            if done(&out) {
                return out;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        lines.lock().unwrap().clone()
    }

    /// The process id of `callflow dev`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL (no signal handler runs, nothing is drained, flushed or closed), then reaps
    /// the process; returns its exit status.
    pub fn kill_hard(mut self) -> std::process::ExitStatus {
        // `Child::kill` is SIGKILL on Unix.
        self.child.kill().expect("SIGKILL is delivered");
        self.child.wait().expect("the killed process is reaped")
    }

    /// Ctrl-C, then waits for a clean exit.
    pub fn stop(mut self) {
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

/// `callflow token` for the data dir: the JWT on the last line of stdout.
pub fn token(data_dir: &Path, scopes: &[&str]) -> String {
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

/// `Bearer <token>`.
pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A response as the client saw it.
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: hyper::HeaderMap,
    /// The JSON body (`null` when it is not JSON).
    pub body: Value,
}

/// One HTTP/1.1 request on a fresh connection.
pub async fn send(method: Method, url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
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
    Reply {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

/// `POST /events` with `body` as JSON.
pub async fn post(dev: &DevProcess, auth: &str, body: &Value, extra: &[(&str, &str)]) -> Reply {
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

/// `GET path` on the stage.
pub async fn get(dev: &DevProcess, auth: &str, path: &str) -> Reply {
    send(
        Method::GET,
        &dev.url(path),
        &[("authorization", auth)],
        Vec::new(),
    )
    .await
}

/// The reply is the error `code` with `status` and a request id.
pub fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.body["code"], code, "{}", reply.body);
    assert!(reply.body["requestId"].is_string(), "{}", reply.body);
}
