//! End to end: the real `callflow` binary runs `callflow dev` on a free port with a temp data
//! directory; a real HTTP client stores, reads and queries events, checks the error answers,
//! and restarts the server to see that nothing was lost.

mod support;

use std::sync::Arc;

use hyper::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use support::{DevProcess, assert_error, bearer, get, post, send, token};

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

#[test]
fn a_header_value_that_is_not_utf8_gets_the_storers_answer_not_a_502() {
    use std::io::{Read, Write};
    let data = tempfile::tempdir().unwrap();
    let dev = DevProcess::start(data.path(), &["--no-access-log"]);
    let rw = bearer(&token(data.path(), &["events:read", "events:write"]));
    let authority = dev
        .stage_url
        .trim_start_matches("http://")
        .trim_end_matches("/v1")
        .to_owned();
    let body =
        json!({"callId": "call-H", "eventType": "call.ended", "timestamp": at(0)}).to_string();
    let mut request = format!(
        "POST /v1/events HTTP/1.1\r\nHost: {authority}\r\nAuthorization: {rw}\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\nIdempotency-Key: caf",
        body.len()
    )
    .into_bytes();
    // An obs-text byte (HTTP allows it; it is not UTF-8).
    request.extend_from_slice(b"\xe9\r\n\r\n");
    request.extend_from_slice(body.as_bytes());
    let mut stream = std::net::TcpStream::connect(&authority).unwrap();
    stream.write_all(&request).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 422"), "{answer}");
    assert!(answer.contains("printable ASCII"), "{answer}");
    dev.stop();
}
