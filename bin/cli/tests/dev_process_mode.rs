//! End to end in process mode: the real `callflow` binary runs `callflow dev --lambda process`
//! on a free port; the stage invokes the real `callflow-authorizer`, `callflow-event-storer`
//! and `callflow-event-retriever` binaries through the local Runtime API, configured from the
//! committed `cdktf.out`. The suite stores, reads, pages, retries idempotently, checks every
//! error status, and reads the functions' START/END/REPORT lines.

mod support;

use hyper::Method;
use serde_json::{Value, json};

use support::{DevProcess, assert_error, get, post, send, workspace};

/// `callflow dev --lambda process --log-level info`, configured from the committed cdktf.out.
fn start(data_dir: &std::path::Path) -> DevProcess {
    let synth_dir = workspace().join("cdktf.out");
    let synth_dir = synth_dir.to_str().expect("UTF-8 path");
    DevProcess::start(
        data_dir,
        &[
            "--lambda",
            "process",
            "--log-level",
            "info",
            "--synth-dir",
            synth_dir,
        ],
    )
}

/// `Bearer` and a `callflow token` for the data dir.
fn token(data_dir: &std::path::Path, scopes: &[&str]) -> String {
    support::bearer(&support::token(data_dir, scopes))
}

fn rfc3339(offset_seconds: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::seconds(offset_seconds))
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// An event `minutes` before now (the storer accepts timestamps near the time of receipt).
fn event(call_id: &str, sequence: u64, minutes_ago: i64) -> Value {
    json!({
        "callId": call_id,
        "eventType": "call.ringing",
        "timestamp": rfc3339(-60 * minutes_ago),
        "direction": "inbound",
        "from": "+4930123456",
        "to": "+4940654321",
        "sequence": sequence,
        "attributes": {"queue": "support"},
        "payload": {"n": sequence}
    })
}

/// Lines of `function` (`[name] ...`) starting with `prefix`.
fn tagged<'a>(lines: &'a [String], function: &str, prefix: &str) -> Vec<&'a String> {
    let tag = format!("[{function}] {prefix}");
    lines.iter().filter(|l| l.starts_with(&tag)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dev_suite_passes_against_the_real_handler_binaries() {
    let data = tempfile::tempdir().unwrap();
    let dev = start(data.path());
    let rw = token(data.path(), &["events:read", "events:write"]);
    let read_only = token(data.path(), &["events:read"]);
    let range = format!("from={}&to={}", rfc3339(-86_400), rfc3339(3_600));

    // The banner lists each function with its environment from the stack.
    let banner = dev.stdout().join("\n");
    for function in [
        "callflow-prod-authorizer",
        "callflow-prod-event-storer",
        "callflow-prod-event-retriever",
    ] {
        assert!(
            banner.contains(&format!("function {function} (")),
            "{banner}"
        );
    }
    assert!(
        banner.contains("TOKEN_SIGNING_KEY=****"),
        "secrets are masked: {banner}"
    );

    let mut ids = Vec::new();
    for n in 0..7 {
        let reply = post(&dev, &rw, &event("call-proc", n, 30 - n as i64), &[]).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        let id = reply.body["eventId"].as_str().unwrap().to_owned();
        assert_eq!(
            reply.headers["location"].to_str().unwrap(),
            format!("/events/{id}")
        );
        assert_eq!(reply.body["event"]["principal"], "local-developer");
        ids.push(id);
    }

    // Idempotent retries: same callId + sequence, and the same Idempotency-Key.
    let retry = post(&dev, &rw, &event("call-proc", 3, 27), &[]).await;
    assert_eq!(retry.status, 200, "{}", retry.body);
    assert_eq!(retry.body["eventId"], ids[3].as_str());
    let keyed =
        json!({"callId": "call-keyed", "eventType": "call.ended", "timestamp": rfc3339(-5)});
    let first = post(&dev, &rw, &keyed, &[("idempotency-key", "k-1")]).await;
    let again = post(&dev, &rw, &keyed, &[("idempotency-key", "k-1")]).await;
    assert_eq!(
        (first.status, again.status),
        (201, 200),
        "{} {}",
        first.body,
        again.body
    );
    assert_eq!(first.body["eventId"], again.body["eventId"]);

    let got = get(&dev, &rw, &format!("/events/{}", ids[2])).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.body["payload"]["n"], 2);

    // Paged query: 3 + 3 + 1, in order.
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..10 {
        let mut path = format!("/events?{range}&callId=call-proc&limit=3");
        if let Some(token) = &next {
            path.push_str(&format!("&nextToken={token}"));
        }
        let page = get(&dev, &read_only, &path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        seen.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["eventId"].as_str().unwrap().to_owned()),
        );
        match page.body["nextToken"].as_str() {
            Some(token) => next = Some(token.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ids);

    // Every error status.
    let no_token = send(
        Method::GET,
        &dev.url(&format!("/events?{range}")),
        &[],
        Vec::new(),
    )
    .await;
    assert_error(&no_token, 401, "unauthorized");
    assert_error(
        &get(&dev, "Bearer nope", &format!("/events?{range}")).await,
        401,
        "unauthorized",
    );
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
    let big = json!({"callId": "c", "eventType": "call.ringing", "timestamp": rfc3339(0), "payload": "x".repeat(70 * 1024)});
    assert_error(&post(&dev, &rw, &big, &[]).await, 413, "payload_too_large");
    let text = send(
        Method::POST,
        &dev.url("/events"),
        &[("authorization", &rw), ("content-type", "text/plain")],
        b"hello".to_vec(),
    )
    .await;
    assert_error(&text, 415, "unsupported_media_type");
    let invalid = json!({"callId": "", "eventType": "call.bogus", "timestamp": "yesterday"});
    assert_error(
        &post(&dev, &rw, &invalid, &[]).await,
        422,
        "validation_failed",
    );
    let malformed = send(
        Method::POST,
        &dev.url("/events"),
        &[("authorization", &rw), ("content-type", "application/json")],
        b"{not json".to_vec(),
    )
    .await;
    assert_error(&malformed, 400, "malformed_json");
    assert_error(
        &get(&dev, &rw, &format!("/events?from={}", rfc3339(0))).await,
        400,
        "invalid_query",
    );

    // The functions' platform lines: three tokens, three authorizer invocations (the policy
    // cache answers the rest); one REPORT per START for each function.
    let lines =
        dev.stderr_until(|lines| tagged(lines, "callflow-prod-authorizer", "REPORT").len() >= 3);
    let authorizer_reports = tagged(&lines, "callflow-prod-authorizer", "REPORT RequestId: ");
    assert_eq!(
        authorizer_reports.len(),
        3,
        "rw, read-only and the invalid token: {lines:#?}"
    );
    for function in [
        "callflow-prod-authorizer",
        "callflow-prod-event-storer",
        "callflow-prod-event-retriever",
    ] {
        let starts = tagged(&lines, function, "START RequestId: ").len();
        let reports = tagged(&lines, function, "REPORT RequestId: ");
        assert!(starts > 0, "{function} ran");
        assert_eq!(starts, reports.len(), "{function}: a REPORT per START");
        assert_eq!(starts, tagged(&lines, function, "END RequestId: ").len());
        assert!(
            reports[0].contains("\tInit Duration: "),
            "cold start: {}",
            reports[0]
        );
        assert!(
            reports
                .iter()
                .all(|r| r.contains("Max Memory Used: ") && !r.contains("Max Memory Used: 0 MB")),
            "{reports:?}"
        );
    }
    assert!(
        !tagged(&lines, "callflow-prod-event-storer", "{").is_empty(),
        "the storer's own JSON log lines are tagged with its name"
    );

    // Restart: the events are still there.
    dev.stop();
    let dev = start(data.path());
    let all = get(&dev, &rw, &format!("/events?{range}&limit=500")).await;
    assert_eq!(all.body["count"], 8, "{}", all.body);
    dev.stop();
}
