//! Throughput of the real handlers against the embedded store on loopback:
//! `cargo run --release -p callflow-event-retriever --example handlers_bench [-- N]`.
//! Stores N events (default 1000) through the storer without a key, N with an
//! `Idempotency-Key` (one conditional PUT more), replays those N re-stamped, reads each by id,
//! then pages through a one-day range query (limit 500) and a one-call query.

use std::time::{Duration, Instant};

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use aws_lambda_events::encodings::Body;
use callflow_core::{AcceptanceWindow, BucketName, EventStore, IndexKey, TokenSigner};
use callflow_event_retriever::EventRetriever;
use callflow_event_storer::EventStorer;
use callflow_s3store::{RunningStore, StoreConfig};
use serde_json::{Value, json};

fn request(
    method: &str,
    path: &str,
    id: Option<&str>,
    params: Value,
    body: Option<String>,
) -> ApiGatewayProxyRequest {
    keyed_request(method, path, id, params, body, None)
}

fn keyed_request(
    method: &str,
    path: &str,
    id: Option<&str>,
    params: Value,
    body: Option<String>,
    key: Option<&str>,
) -> ApiGatewayProxyRequest {
    let mut headers = json!({"Content-Type": "application/json"});
    if let Some(key) = key {
        headers["Idempotency-Key"] = key.into();
    }
    serde_json::from_value(json!({
        "path": path, "httpMethod": method,
        "headers": headers,
        "queryStringParameters": params,
        "pathParameters": id.map(|i| json!({"eventId": i})),
        "requestContext": {"requestId": "bench", "httpMethod": method, "authorizer": {"sub": "bench"}},
        "body": body
    }))
    .expect("request")
}

fn body(resp: &aws_lambda_events::apigw::ApiGatewayProxyResponse) -> Value {
    match &resp.body {
        Some(Body::Text(t)) => serde_json::from_str(t).expect("json"),
        _ => Value::Null,
    }
}

fn report(what: &str, n: usize, mut lat: Vec<Duration>, total: Duration) {
    lat.sort();
    let p = |q: f64| {
        lat.get(((lat.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or_default()
    };
    println!(
        "{what:<32} {n:>6} ops  {:>8.0} ops/s  p50 {:>7.2?}  p99 {:>7.2?}",
        n as f64 / total.as_secs_f64(),
        p(0.5),
        p(0.99)
    );
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir()?;
    let store = RunningStore::start(StoreConfig::new(dir.path().join("data"))).await?;
    store.ensure_bucket("events").await?;
    let events = EventStore::new(
        store.sdk_client(),
        BucketName::parse("events")?,
        IndexKey::new(vec![9; 32])?,
    );
    let storer = EventStorer::new(events.clone(), "bench", AcceptanceWindow::any());
    let retriever = EventRetriever::new(events, TokenSigner::new(vec![7; 32]), "bench");

    let mut ids = Vec::with_capacity(3 * n);
    // (label, key prefix, first event index, status, seconds the body is re-stamped by)
    let phases = [
        ("POST /events (no key)", None, 0, 201, 0),
        ("POST /events (Idempotency-Key)", Some("k"), n, 201, 0),
        ("POST replay, re-stamped", Some("k"), n, 200, 7),
    ];
    for (what, key_prefix, first, status, restamp) in phases {
        let mut lat = Vec::with_capacity(n);
        let start = Instant::now();
        for i in first..first + n {
            let e = json!({"callId": format!("CA{}", i % 50), "eventType": "call.ringing",
                "timestamp": format!("2025-06-01T10:{:02}:{:02}.{:03}Z", (i / 60_000) % 60, ((i / 1000) + restamp) % 60, i % 1000),
                "from": "+14155550100", "payload": {"i": i}});
            let key = key_prefix.map(|p| format!("{p}-{i}"));
            let t = Instant::now();
            let resp = storer
                .handle(keyed_request(
                    "POST",
                    "/events",
                    None,
                    Value::Null,
                    Some(e.to_string()),
                    key.as_deref(),
                ))
                .await;
            lat.push(t.elapsed());
            assert_eq!(resp.status_code, status, "{what}");
            if status == 201 {
                ids.push(
                    body(&resp)["eventId"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
        }
        report(what, n, lat, start.elapsed());
    }

    let mut lat = Vec::with_capacity(n);
    let start = Instant::now();
    for id in &ids {
        let t = Instant::now();
        let resp = retriever
            .handle(request(
                "GET",
                &format!("/events/{id}"),
                Some(id),
                Value::Null,
                None,
            ))
            .await;
        lat.push(t.elapsed());
        assert_eq!(resp.status_code, 200);
    }
    report("GET /events/{id}", ids.len(), lat, start.elapsed());

    for (what, extra) in [
        ("GET /events (day, 500/page)", json!({})),
        ("GET /events (one call)", json!({"callId": "CA7"})),
    ] {
        let mut params =
            json!({"from": "2025-06-01T00:00:00Z", "to": "2025-06-02T00:00:00Z", "limit": "500"});
        if let (Some(p), Some(x)) = (params.as_object_mut(), extra.as_object()) {
            p.extend(x.clone());
        }
        let (mut items, mut pages, mut lat) = (0, 0, Vec::new());
        let start = Instant::now();
        loop {
            let t = Instant::now();
            let b = body(
                &retriever
                    .handle(request("GET", "/events", None, params.clone(), None))
                    .await,
            );
            lat.push(t.elapsed());
            pages += 1;
            items += b["count"].as_u64().unwrap_or(0) as usize;
            match b["nextToken"].as_str() {
                Some(tok) => params["nextToken"] = tok.into(),
                None => break,
            }
        }
        let total = start.elapsed();
        report(what, pages, lat, total);
        println!(
            "{:<28} {items} events, {:.0} events/s",
            "",
            items as f64 / total.as_secs_f64()
        );
    }
    store.shutdown().await;
    Ok(())
}
