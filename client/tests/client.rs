//! The client against a scripted server on loopback: what it sends, how it reads the answers.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use callflow_client::{
    Client, ErrorResponse, EventsQuery, Failure, PageLimit, PagingError, RequestError,
    TransportErrorKind,
};
use callflow_core::{CallId, ErrorCode, EventId};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use serde_json::{Value, json};
use time::macros::datetime;

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path_and_query: String,
    authorization: Option<String>,
    idempotency_key: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
}

type Answer = (u16, Vec<(&'static str, &'static str)>, String);

/// Serves `answer(request number, request)` and records every request.
async fn server(
    answer: impl Fn(usize, &Seen) -> Answer + Send + Sync + 'static,
) -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let answer = Arc::new(answer);
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (answer, log) = (Arc::clone(&answer), Arc::clone(&log));
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let (answer, log) = (Arc::clone(&answer), Arc::clone(&log));
                    async move {
                        let header = |name: &str| {
                            req.headers()
                                .get(name)
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned)
                        };
                        let mut request = Seen {
                            method: req.method().to_string(),
                            path_and_query: req.uri().path_and_query().unwrap().to_string(),
                            authorization: header("authorization"),
                            idempotency_key: header("idempotency-key"),
                            content_type: header("content-type"),
                            body: Vec::new(),
                        };
                        request.body = req.into_body().collect().await.unwrap().to_bytes().to_vec();
                        let n = {
                            let mut log = log.lock().unwrap();
                            log.push(request.clone());
                            log.len() - 1
                        };
                        let (status, headers, body) = answer(n, &request);
                        let mut response = Response::builder().status(status);
                        for (k, v) in headers {
                            response = response.header(k, v);
                        }
                        Ok::<_, std::convert::Infallible>(
                            response.body(Full::new(Bytes::from(body))).unwrap(),
                        )
                    }
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    (addr, seen)
}

const ID: &str = "0190a4f2-5c00-7000-8000-000000000000";

fn stored(call: &str) -> Value {
    json!({"callId": call, "eventType": "call.ended", "timestamp": "2026-01-01T00:00:00Z",
        "eventId": ID, "receivedAt": "2026-01-01T00:00:01Z", "principal": "svc"})
}

fn client(addr: SocketAddr) -> Client {
    Client::new(&format!("http://{addr}/v1/"), Duration::from_secs(5)).expect("a client")
}

#[tokio::test]
async fn store_sends_the_contracts_headers_and_reads_both_answers() {
    let (addr, seen) = server(|n, _| match n {
        0 => (
            201,
            vec![("content-type", "application/json")],
            json!({"eventId": ID, "key": "events/2026/01/01/x.json",
                "receivedAt": "2026-01-01T00:00:01Z", "event": stored("c-1")})
            .to_string(),
        ),
        _ => (
            422,
            vec![("retry-after", "3")],
            json!({"code": "idempotency_key_reused", "message": "used before",
                "requestId": "r-2", "eventId": ID})
            .to_string(),
        ),
    })
    .await;
    let client = client(addr).with_bearer_token("jwt");
    let event =
        json!({"callId": "c-1", "eventType": "call.ended", "timestamp": "2026-01-01T00:00:00Z"});
    let reply = client
        .store_event(&event, Some("k-1"))
        .await
        .expect("an answer");
    assert_eq!(reply.status(), 201);
    let body = reply.result.expect("a StoreResponse");
    assert_eq!(body.event_id.to_string(), ID);
    assert_eq!(body.event.event.call_id.as_str(), "c-1");

    let reply = client.store_event(&event, None).await.expect("an answer");
    assert_eq!(reply.summary(), "422 (idempotency_key_reused)");
    assert_eq!(reply.exchange.retry_after, Some(3));
    assert_eq!(
        reply.result,
        Err(Failure::Error(ErrorResponse {
            status: 422,
            code: ErrorCode::IdempotencyKeyReused,
            message: "used before".into(),
            request_id: Some("r-2".into()),
            event_id: Some(EventId::parse(ID).unwrap()),
        }))
    );

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path_and_query, "/v1/events");
    assert_eq!(seen[0].authorization.as_deref(), Some("Bearer jwt"));
    assert_eq!(seen[0].idempotency_key.as_deref(), Some("k-1"));
    assert_eq!(seen[0].content_type.as_deref(), Some("application/json"));
    assert_eq!(
        serde_json::from_slice::<Value>(&seen[0].body).unwrap(),
        event
    );
    assert_eq!(seen[1].idempotency_key, None);
}

#[tokio::test]
async fn get_and_query_all_follow_the_route_table_and_next_token() {
    let (addr, seen) = server(|_, req| {
        if req.path_and_query.starts_with("/v1/events/") {
            return (200, vec![], stored("c-1").to_string());
        }
        let page = if req.path_and_query.contains("nextToken=") {
            json!({"items": [stored("c-2")], "count": 1})
        } else {
            json!({"items": [stored("c-1")], "count": 1, "nextToken": "t/1"})
        };
        (200, vec![], page.to_string())
    })
    .await;
    let client = client(addr);
    let event = client
        .get_event(ID)
        .await
        .unwrap()
        .result
        .expect("an event");
    assert_eq!(event.event_id.to_string(), ID);

    let query = EventsQuery::new(
        datetime!(2026-01-01 0:00 UTC),
        datetime!(2026-01-02 0:00 UTC),
    )
    .with_call_id(CallId::parse("c-1").unwrap())
    .with_limit(PageLimit::MAX);
    let items = client.query_all(&query, 10).await.expect("two pages");
    let calls: Vec<&str> = items.iter().map(|e| e.event.call_id.as_str()).collect();
    assert_eq!(calls, ["c-1", "c-2"]);

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen[0].path_and_query, format!("/v1/events/{ID}"));
    assert_eq!(seen[0].authorization, None);
    let q =
        "/v1/events?from=2026-01-01T00%3A00%3A00Z&to=2026-01-02T00%3A00%3A00Z&callId=c-1&limit=500";
    assert_eq!(seen[1].path_and_query, q);
    assert_eq!(seen[2].path_and_query, format!("{q}&nextToken=t%2F1"));
    assert!(seen.iter().all(|s| s.method == "GET"));
}

#[tokio::test]
async fn a_page_that_is_an_error_stops_the_paging() {
    let (addr, _) = server(|_, _| {
        (
            400,
            vec![],
            json!({"code": "invalid_token", "message": "bad", "requestId": "r"}).to_string(),
        )
    })
    .await;
    let query = EventsQuery::new(
        datetime!(2026-01-01 0:00 UTC),
        datetime!(2026-01-02 0:00 UTC),
    );
    match client(addr).query_all(&query, 10).await {
        Err(PagingError::Page(RequestError::Answer(Failure::Error(e)))) => {
            assert_eq!((e.status, e.code), (400, ErrorCode::InvalidToken));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn no_answer_is_a_transport_error_naming_the_request() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Accepts and never answers.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let client = Client::lenient(&format!("http://{addr}"), Duration::from_millis(200));
    let error = client.get_event(ID).await.expect_err("no answer");
    assert_eq!(
        error.kind,
        TransportErrorKind::Timeout(Duration::from_millis(200))
    );
    assert_eq!(error.url, format!("http://{addr}/events/{ID}"));
    assert_eq!(
        error.to_string(),
        format!("GET http://{addr}/events/{ID}: timed out after 200ms")
    );

    let closed = Client::lenient("http://127.0.0.1:9", Duration::from_secs(5));
    let error = closed.get_event(ID).await.expect_err("refused");
    assert!(
        matches!(&error.kind, TransportErrorKind::Connection(text) if !text.is_empty()),
        "{error}"
    );
}
