//! `callflow verify` API smoke checks: against a deliberately broken server (auth disabled, wrong
//! GET body) it fails loudly; against `callflow dev` every check passes.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

const BIN: &str = env!("CARGO_BIN_EXE_callflow");

fn verify_api(url: &str, extra: &[&str]) -> Output {
    Command::new(BIN)
        .arg("verify")
        .arg("--synth-dir")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../cdktf.out"))
        .args(["--skip-infra", "--api-url", url, "--format", "json"])
        .args(extra)
        .output()
        .expect("callflow runs")
}

/// A server that accepts anything without credentials and returns the wrong event on GET.
async fn broken_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|req: Request<Incoming>| async move {
                    let (status, body) = if req.method() == hyper::Method::POST {
                        (
                            201,
                            // A complete StoreResponse: the smoke POST reads it as the typed body.
                            r#"{"eventId":"0190a0a0-0000-7000-8000-000000000001","key":"k","receivedAt":"2026-01-01T00:00:00Z","event":{"callId":"x","eventType":"call.initiated","timestamp":"2026-01-01T00:00:00Z","eventId":"0190a0a0-0000-7000-8000-000000000001","receivedAt":"2026-01-01T00:00:00Z","principal":"p"}}"#,
                        )
                    } else {
                        (
                            200,
                            r#"{"callId":"someone-else","eventId":"0190a0a0-0000-7000-8000-000000000001"}"#,
                        )
                    };
                    Ok::<_, std::convert::Infallible>(
                        Response::builder()
                            .status(status)
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from(body)))
                            .unwrap(),
                    )
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_auth_and_with_a_wrong_body_fails_loudly() {
    let addr = broken_server().await;
    let url = format!("http://{addr}");
    let out = tokio::task::spawn_blocking(move || {
        verify_api(&url, &["--token", "t1", "--read-only-token", "t2"])
    })
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = |name: &str| {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == name)
            .unwrap_or_else(|| panic!("no row {name}: {report:#}"))
            .clone()
    };
    let no_token = row("api POST /events with no token");
    assert_eq!(
        (
            no_token["verdict"].as_str(),
            no_token["expected"].as_str(),
            no_token["actual"].as_str()
        ),
        (Some("fail"), Some("401 (Unauthorized)"), Some("201"))
    );
    assert!(no_token["fix"].as_str().unwrap().contains("authorizer"));
    assert_eq!(row("api POST /events with bad token")["verdict"], "fail");
    assert_eq!(
        row("api POST /events with a token without events:write")["actual"],
        "201"
    );
    let get = row("api GET /events/{eventId} (smoke event)");
    assert_eq!(get["verdict"], "fail");
    assert!(
        get["actual"]
            .as_str()
            .unwrap()
            .contains("differs in callId"),
        "{get}"
    );
    assert_eq!(
        row("api GET /events?callId= (smoke event)")["verdict"],
        "fail"
    );
    // A server that stores whatever it is sent under a reused key loses data silently.
    let reused = row("api POST /events with the same key, another event (refused)");
    assert_eq!(reused["verdict"], "fail", "{reused}");
    assert!(
        reused["actual"].as_str().unwrap().starts_with("201"),
        "{reused}"
    );
}

#[test]
fn missing_tokens_are_an_error_that_says_which_flags_to_pass() {
    let out = verify_api("http://127.0.0.1:9", &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--token-command"), "{stderr}");
}

struct Dev(Child);

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn callflow_dev_passes_every_api_check() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["dev", "--port", "0", "--no-access-log", "--data-dir"])
        .arg(data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let dev = Dev(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("callflow dev listening on ") {
                let _ = tx.send(url.trim().to_owned());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("callflow dev prints its URL");
    let token = |scope: &str| format!("{BIN} token --data-dir '{}' {scope}", data.path().display());
    let out = verify_api(
        &url,
        &[
            "--token-command",
            &token(""),
            "--read-only-token-command",
            &token("--scope events:read"),
        ],
    );
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["total"], 8, "{report:#}");
    drop(dev);
}
