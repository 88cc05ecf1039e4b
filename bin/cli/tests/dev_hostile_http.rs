//! The real `callflow dev` binary, with its default connection limits, against hostile
//! clients over raw TCP: an idle/slowloris connection is cut off by the 10 s header read
//! timeout while other clients are served, an oversized head gets 431, percent-encoded
//! garbage gets a clean JSON 4xx, and the server still answers a normal request afterwards.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_callflow");
const QUERY: &str = "/v1/events?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z";

/// `callflow dev --port 0` on a temp data dir; killed on drop.
struct Dev {
    child: Child,
    addr: SocketAddr,
}

impl Dev {
    fn start(data_dir: &Path) -> Self {
        let mut child = Command::new(BIN)
            .args(["dev", "--port", "0", "--no-access-log", "--data-dir"])
            .arg(data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("callflow dev starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("callflow dev listening on ")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("callflow dev prints its URL");
        let addr = url
            .trim_start_matches("http://")
            .trim_end_matches("/v1")
            .parse()
            .expect("host:port");
        Self { child, addr }
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn token(data_dir: &Path) -> String {
    let output = Command::new(BIN)
        .arg("token")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--scope", "events:read"])
        .output()
        .expect("callflow token runs");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    format!("Bearer {}", stdout.lines().last().expect("token line"))
}

/// Sends `request` on a new connection and reads until the server closes it.
fn exchange(addr: SocketAddr, request: &[u8]) -> (Option<u16>, String, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream.write_all(request).expect("write");
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .expect("the server answers and closes");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok());
    let body = raw.get(split + 4..).unwrap_or_default().to_vec();
    (status, head, body)
}

fn get(target: &str, authorization: &str, extra: &str) -> Vec<u8> {
    format!(
        "GET {target} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {authorization}\r\n{extra}Connection: close\r\n\r\n"
    )
    .into_bytes()
}

fn assert_serving(addr: SocketAddr, authorization: &str) {
    let started = Instant::now();
    let (status, _, body) = exchange(addr, &get(QUERY, authorization, ""));
    assert_eq!(status, Some(200), "{}", String::from_utf8_lossy(&body));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn the_binary_cuts_off_slow_clients_and_refuses_garbage_cleanly() {
    let data = tempfile::tempdir().expect("tempdir");
    let dev = Dev::start(data.path());
    let auth = token(data.path());
    assert_serving(dev.addr, &auth);

    // Slowloris: two clients that started a head and then send one byte per second, and
    // one that sends nothing. The default header read timeout (10 s) closes all three.
    let mut slow = Vec::new();
    for prefix in [
        format!("GET {QUERY} HTTP/1.1\r\nHost: localhost\r\nX-Slow: "),
        "POST /v1/events HTTP/1.1\r\n".to_owned(),
        String::new(),
    ] {
        let addr = dev.addr;
        slow.push(std::thread::spawn(move || {
            let started = Instant::now();
            let mut stream = TcpStream::connect(addr).expect("connect");
            stream
                .set_read_timeout(Some(Duration::from_secs(1)))
                .expect("timeout");
            stream.write_all(prefix.as_bytes()).expect("write");
            let mut buf = [0u8; 256];
            loop {
                match stream.read(&mut buf) {
                    Ok(0) => return (started.elapsed(), 0),
                    Ok(n) => return (started.elapsed(), n),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                    Err(_) => return (started.elapsed(), 0),
                }
                if !prefix.is_empty() && stream.write_all(b"a").is_err() {
                    return (started.elapsed(), 0);
                }
                assert!(started.elapsed() < Duration::from_secs(30), "never cut off");
            }
        }));
    }
    // Normal clients are served while the slow ones hang on.
    for _ in 0..10 {
        assert_serving(dev.addr, &auth);
        std::thread::sleep(Duration::from_millis(500));
    }
    for client in slow {
        let (lived, response_bytes) = client.join().expect("slow client");
        assert!(
            lived >= Duration::from_secs(9) && lived < Duration::from_secs(16),
            "cut off after {lived:?}"
        );
        assert_eq!(response_bytes, 0, "a slow client got a response");
    }

    // An oversized head: 431, and the server stays up.
    let big = format!("X-Big: {}\r\n", "a".repeat(32 * 1024));
    let (status, _, _) = exchange(dev.addr, &get(QUERY, &auth, &big));
    assert_eq!(status, Some(431));
    assert_serving(dev.addr, &auth);

    // Percent-encoded garbage reaches the stage and gets its JSON error.
    for (target, code) in [
        ("/v1/events/%FF%FE%00", "invalid_event_id"),
        ("/v1/events?from=%C3%28&to=%zz", "invalid_query"),
        ("/v1/%2e%2e/%2e%2e/etc/passwd", "not_found"),
    ] {
        let (status, head, body) = exchange(dev.addr, &get(target, &auth, ""));
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert!(
            status.is_some_and(|s| (400..500).contains(&s)),
            "{target}: {status:?}"
        );
        assert!(head.contains("content-type: application/json"), "{target}");
        assert_eq!(body["code"], code, "{target}: {body}");
        assert_serving(dev.addr, &auth);
    }
}
