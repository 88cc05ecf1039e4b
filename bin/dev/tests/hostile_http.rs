//! Hostile HTTP clients against the running `callflow dev` server (a real listener on
//! 127.0.0.1:0, raw TCP clients): slowloris heads and bodies are cut off while other clients
//! are served, oversized heads get 431, invalid UTF-8 and percent-encoded garbage in paths
//! and queries get clean 4xx answers, ambiguous framing is refused, and the server answers a
//! normal request after each.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use callflow_dev::server::ConnectionLimits;
use callflow_dev::{DevConfig, DevServer, DiscardSink, ThrottleLimits};
use callflow_openapi::Scope;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const QUERY: &str = "/v1/events?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z";

struct Server {
    _dir: tempfile::TempDir,
    server: DevServer,
    authorization: String,
}

async fn start(limits: ConnectionLimits) -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = DevServer::start_with_limits(
        DevConfig {
            bind: "127.0.0.1:0".parse().expect("addr"),
            data_dir: dir.path().to_owned(),
            throttle: ThrottleLimits::new(100_000, 100_000.0).expect("limits"),
            access_log: Arc::new(DiscardSink),
            ..DevConfig::default()
        },
        limits,
    )
    .await
    .expect("callflow dev starts");
    let token = server.identity().issue(
        "hostile-test",
        &[Scope::EventsRead, Scope::EventsWrite],
        Duration::from_secs(600),
    );
    Server {
        _dir: dir,
        server,
        authorization: format!("Bearer {token}"),
    }
}

/// A parsed HTTP response (status and body), or how the connection ended without one.
#[derive(Debug)]
struct Answer {
    status: Option<u16>,
    headers: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// Sends raw bytes on a new connection and reads until the server closes it (requests
/// carry `Connection: close`) or 10 s pass.
async fn exchange(addr: SocketAddr, request: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut raw = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw)).await;
    assert!(
        read.is_ok(),
        "the server neither answered nor closed within 10 s"
    );
    parse(&raw)
}

fn parse(raw: &[u8]) -> Answer {
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Answer {
            status: None,
            headers: String::new(),
            body: raw.to_vec(),
        };
    };
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok());
    Answer {
        status,
        headers: head.to_ascii_lowercase(),
        body: raw[split + 4..].to_vec(),
    }
}

fn get(path: &[u8], authorization: &str) -> Vec<u8> {
    let mut request = b"GET ".to_vec();
    request.extend_from_slice(path);
    request.extend_from_slice(
        format!(
            " HTTP/1.1\r\nHost: localhost\r\nAuthorization: {authorization}\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    );
    request
}

/// A normal authorized query answers 200: the server is up and serving.
async fn assert_serving(server: &Server) {
    let answer = exchange(
        server.server.local_addr(),
        &get(QUERY.as_bytes(), &server.authorization),
    )
    .await;
    assert_eq!(answer.status, Some(200), "{answer:?}");
}

/// A 4xx from the stage: JSON with a stable `code` and a `message`.
fn assert_clean_json_4xx(answer: &Answer, what: &str) -> String {
    let status = answer.status.unwrap_or_default();
    assert!((400..500).contains(&status), "{what}: {answer:?}");
    assert!(
        answer.headers.contains("content-type: application/json"),
        "{what}: {answer:?}"
    );
    let body = answer.json();
    let code = body["code"].as_str().unwrap_or_default().to_owned();
    assert!(
        callflow_core::ErrorCode::ALL
            .iter()
            .any(|c| c.as_str() == code),
        "{what}: {body}"
    );
    assert!(body["message"].is_string(), "{what}: {body}");
    code
}

/// A client that writes `prefix`, then one more byte of `trickle` every `interval`, until the
/// server closes the connection. Returns how long the server let it live and whether any
/// response bytes came back.
async fn trickle(
    addr: SocketAddr,
    prefix: &[u8],
    trickle: &[u8],
    interval: Duration,
) -> (Duration, usize) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(prefix).await.expect("write");
    let mut sent = 0;
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        tokio::select! {
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => return (started.elapsed(), received.len()),
                Ok(n) => received.extend_from_slice(&buf[..n]),
            },
            () = tokio::time::sleep(interval) => {
                let byte = trickle[sent % trickle.len()];
                sent += 1;
                if stream.write_all(&[byte]).await.is_err() {
                    return (started.elapsed(), received.len());
                }
                assert!(started.elapsed() < Duration::from_secs(30), "never cut off");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_clients_are_cut_off_while_others_are_served() {
    let limits = ConnectionLimits {
        header_read_timeout: Duration::from_secs(2),
        body_read_timeout: Duration::from_secs(2),
        ..ConnectionLimits::default()
    };
    let server = start(limits).await;
    let addr = server.server.local_addr();
    let slow_head = format!(
        "GET {QUERY} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {}\r\nX-Slow: ",
        server.authorization
    );
    let slow_body = format!(
        "POST /v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: {}\r\n\
         Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{{",
        server.authorization
    );
    let mut slow = Vec::new();
    for _ in 0..4 {
        // Headers one byte per second.
        let head = slow_head.clone().into_bytes();
        slow.push(tokio::spawn(async move {
            trickle(addr, &head, b"abc", Duration::from_secs(1)).await
        }));
    }
    // A client that connects and never sends a byte.
    slow.push(tokio::spawn(async move {
        trickle(addr, b"", b"", Duration::from_secs(3600)).await
    }));
    // A body one byte per second after a complete head.
    let body = slow_body.into_bytes();
    slow.push(tokio::spawn(async move {
        trickle(addr, &body, b" ", Duration::from_secs(1)).await
    }));

    // Meanwhile normal clients are served promptly.
    let serving_until = Instant::now() + Duration::from_secs(3);
    let mut served = 0;
    while Instant::now() < serving_until {
        let started = Instant::now();
        assert_serving(&server).await;
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "a normal request took {:?} while slow clients were connected",
            started.elapsed()
        );
        served += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served >= 10, "only {served} normal requests served");

    for (i, client) in slow.into_iter().enumerate() {
        let (lived, response_bytes) = client.await.expect("client task");
        assert!(
            lived >= Duration::from_millis(1500) && lived < Duration::from_secs(6),
            "slow client {i} was cut off after {lived:?}"
        );
        assert_eq!(
            response_bytes, 0,
            "slow client {i} got a response instead of a closed connection"
        );
    }
    assert_serving(&server).await;
    server.server.shutdown().await;
}

#[tokio::test]
async fn oversized_heads_get_431_and_the_server_stays_up() {
    let server = start(ConnectionLimits::default()).await;
    let addr = server.server.local_addr();
    let huge_header = format!(
        "GET {QUERY} HTTP/1.1\r\nHost: localhost\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(20 * 1024)
    );
    let many_headers = format!(
        "GET {QUERY} HTTP/1.1\r\nHost: localhost\r\n{}Connection: close\r\n\r\n",
        (0..150)
            .map(|i| format!("X-H{i}: v\r\n"))
            .collect::<String>()
    );
    let long_uri = format!(
        "GET /v1/events?{} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "a=b&".repeat(8 * 1024)
    );
    for (name, request) in [
        ("one 20 KiB header", huge_header),
        ("150 headers", many_headers),
        ("32 KiB request target", long_uri),
    ] {
        let answer = exchange(addr, request.as_bytes()).await;
        assert!(
            matches!(answer.status, Some(431) | Some(414) | Some(400)),
            "{name}: {answer:?}"
        );
        assert_serving(&server).await;
    }
    // A big Authorization value inside the head limit reaches the stage: a clean 401.
    let answer = exchange(
        addr,
        &get(
            QUERY.as_bytes(),
            &format!("Bearer {}", "a".repeat(12 * 1024)),
        ),
    )
    .await;
    assert_eq!(
        assert_clean_json_4xx(&answer, "12 KiB token"),
        "unauthorized"
    );
    assert_serving(&server).await;
    server.server.shutdown().await;
}

#[tokio::test]
async fn invalid_utf8_and_percent_garbage_get_clean_4xx() {
    let server = start(ConnectionLimits::default()).await;
    let addr = server.server.local_addr();
    let auth = server.authorization.clone();
    let range = "from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z";
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "percent-encoded invalid UTF-8 event id",
            get(b"/v1/events/%FF%FE%C3%28", &auth),
            "invalid_event_id",
        ),
        (
            "percent-encoded NUL and controls in the event id",
            get(b"/v1/events/%00%0d%0a%1b", &auth),
            "invalid_event_id",
        ),
        (
            "malformed escapes in the event id",
            get(b"/v1/events/%zz%%%4", &auth),
            "invalid_event_id",
        ),
        (
            "encoded traversal in the event id",
            get(b"/v1/events/..%2f..%2fetc%2fpasswd", &auth),
            "invalid_event_id",
        ),
        (
            "traversal out of the stage",
            get(b"/v1/../../etc/passwd", &auth),
            "not_found",
        ),
        (
            "percent-encoded invalid UTF-8 in query values",
            get(b"/v1/events?from=%FF%FE&to=%C3%28", &auth),
            "invalid_query",
        ),
        (
            "malformed escapes in query names and values",
            get(b"/v1/events?%zz=%&from=%G0&to=%%", &auth),
            "invalid_query",
        ),
        (
            "NUL in a filter",
            get(format!("/v1/events?{range}&callId=%00").as_bytes(), &auth),
            "invalid_query",
        ),
        (
            "garbage nextToken",
            get(
                format!("/v1/events?{range}&nextToken=%FF%00..%2e").as_bytes(),
                &auth,
            ),
            "invalid_token",
        ),
        (
            "invalid UTF-8 in the Authorization header",
            {
                let mut request = get(QUERY.as_bytes(), "Bearer ");
                let at = request
                    .windows(7)
                    .position(|w| w == b"Bearer ")
                    .expect("bearer");
                request.splice(at + 7..at + 7, [0xff, 0xfe, 0xc3, 0x28]);
                request
            },
            "unauthorized",
        ),
    ];
    for (name, request, code) in cases {
        let answer = exchange(addr, &request).await;
        assert_eq!(assert_clean_json_4xx(&answer, name), code, "{name}");
        assert_serving(&server).await;
    }

    // Raw (not percent-encoded) invalid UTF-8 and control bytes in the request target are
    // refused by the HTTP parser before routing: a bare 400, connection closed.
    for (name, target) in [
        (
            "raw invalid UTF-8 in the path",
            b"/v1/events/\xff\xfe".to_vec(),
        ),
        (
            "raw invalid UTF-8 in the query",
            b"/v1/events?from=\xc3\x28".to_vec(),
        ),
        ("raw DEL in the path", b"/v1/events/\x7f".to_vec()),
    ] {
        let answer = exchange(addr, &get(&target, &auth)).await;
        match answer.status {
            Some(400) => {}
            Some(status) if (400..500).contains(&status) => {
                assert_clean_json_4xx(&answer, name);
            }
            _ => panic!("{name}: {answer:?}"),
        }
        assert_serving(&server).await;
    }
    server.server.shutdown().await;
}

#[tokio::test]
async fn ambiguous_framing_is_refused_and_nothing_is_smuggled() {
    let server = start(ConnectionLimits::default()).await;
    let addr = server.server.local_addr();
    let auth = &server.authorization;
    let smuggled =
        format!("GET /v1/smuggled HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\n\r\n");
    let cases = [
        (
            "Content-Length and Transfer-Encoding",
            format!(
                "POST /v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\n\
                 Content-Type: application/json\r\nContent-Length: 4\r\n\
                 Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n{smuggled}"
            ),
        ),
        (
            "two different Content-Lengths",
            format!(
                "POST /v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\n\
                 Content-Type: application/json\r\nContent-Length: 0\r\nContent-Length: 60\r\n\r\n{smuggled}"
            ),
        ),
        (
            "Transfer-Encoding that is not chunked last",
            format!(
                "POST /v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\n\
                 Content-Type: application/json\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n{smuggled}"
            ),
        ),
        (
            "obsolete line folding",
            format!(
                "POST /v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\n\
                 Content-Type: application/json\r\nContent-Length:\r\n 0\r\n\r\n{smuggled}"
            ),
        ),
        (
            "space before the colon",
            format!(
                "POST /v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\n\
                 Transfer-Encoding : chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n{smuggled}"
            ),
        ),
    ];
    for (name, request) in cases {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut raw = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw)).await;
        assert!(read.is_ok(), "{name}: connection left open");
        let text = String::from_utf8_lossy(&raw);
        let responses = text.matches("HTTP/1.1 ").count();
        assert_eq!(
            responses, 1,
            "{name}: expected exactly one answer, the smuggled request must not be served:\n{text}"
        );
        let answer = parse(&raw);
        let status = answer.status.unwrap_or_default();
        assert!((400..500).contains(&status), "{name}: {answer:?}");
        assert_serving(&server).await;
    }
    server.server.shutdown().await;
}
