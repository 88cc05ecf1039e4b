//! The Runtime API over real HTTP on loopback, as a runtime uses it, including the answers
//! Lambda gives to misuse.

use std::time::{Duration, SystemTime};

use callflow_lambda_rt::api::{Invocation, Lifecycle, RuntimeReply};
use callflow_lambda_rt::{MAX_PAYLOAD_BYTES, RequestId, RuntimeApi};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::sync::oneshot;

struct Reply {
    status: u16,
    headers: hyper::HeaderMap,
    body: Bytes,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

async fn call(
    api: &str,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Reply {
    let stream = tokio::net::TcpStream::connect(api).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut request = Request::builder()
        .method(method)
        .uri(format!("/2018-06-01/runtime{path}"))
        .header("host", api);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = sender
        .send_request(request.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body,
    }
}

fn invocation(payload: &str) -> (Invocation, oneshot::Receiver<RuntimeReply>) {
    let (reply, answer) = oneshot::channel();
    (
        Invocation {
            id: RequestId::random(),
            payload: Bytes::from(payload.to_owned()),
            deadline: SystemTime::now() + Duration::from_secs(3),
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:f".to_owned(),
            trace_id: "Root=1-00000000-000000000000000000000000;Sampled=0".to_owned(),
            reply,
        },
        answer,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn next_response_and_error_with_lambdas_answers_to_misuse() {
    let mut api = RuntimeApi::start().await.unwrap();
    let address = api.address();

    // An event: next blocks until it is delivered, then carries Lambda's headers.
    let (event, answer) = invocation(r#"{"n":1}"#);
    let id = event.id.clone();
    let next = tokio::spawn({
        let address = address.clone();
        async move { call(&address, Method::GET, "/invocation/next", &[], Vec::new()).await }
    });
    assert_eq!(
        api.lifecycle().await,
        Some(Lifecycle::Ready),
        "the first next ends init"
    );
    api.deliver(event).await.unwrap();
    let next = next.await.unwrap();
    assert_eq!(next.status, 200);
    assert_eq!(next.body, r#"{"n":1}"#);
    assert_eq!(next.headers["lambda-runtime-aws-request-id"], id.as_str());
    let deadline: u128 = next.headers["lambda-runtime-deadline-ms"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        deadline
            > SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_millis()
    );
    assert!(
        next.headers["lambda-runtime-invoked-function-arn"]
            .to_str()
            .unwrap()
            .ends_with(":function:f")
    );
    assert!(
        next.headers["lambda-runtime-trace-id"]
            .to_str()
            .unwrap()
            .starts_with("Root=1-")
    );

    // A response for another id: 400 InvalidRequestID; init/error after init: 403.
    let wrong = call(
        &address,
        Method::POST,
        "/invocation/not-the-id/response",
        &[],
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(wrong.status, 400);
    assert_eq!(wrong.json()["errorType"], "InvalidRequestID");
    let late_init = call(&address, Method::POST, "/init/error", &[], b"{}".to_vec()).await;
    assert_eq!(late_init.status, 403);
    assert_eq!(late_init.json()["errorType"], "InvalidStateTransition");

    // The right id: 202; the same id again: 400 (already answered).
    let path = format!("/invocation/{id}/response");
    let ok = call(
        &address,
        Method::POST,
        &path,
        &[],
        b"{\"ok\":true}".to_vec(),
    )
    .await;
    assert_eq!(ok.status, 202);
    assert_eq!(
        answer.await.unwrap(),
        RuntimeReply::Response(Bytes::from_static(b"{\"ok\":true}"))
    );
    let twice = call(&address, Method::POST, &path, &[], b"{}".to_vec()).await;
    assert_eq!(twice.status, 400);
    assert_eq!(twice.json()["errorType"], "InvalidRequestID");

    // A malformed error document is accepted; the error type comes from the header.
    let (event, answer) = invocation("{}");
    let id = event.id.clone();
    let next = tokio::spawn({
        let address = address.clone();
        async move { call(&address, Method::GET, "/invocation/next", &[], Vec::new()).await }
    });
    api.deliver(event).await.unwrap();
    assert_eq!(next.await.unwrap().status, 200);
    let error = call(
        &address,
        Method::POST,
        &format!("/invocation/{id}/error"),
        &[("lambda-runtime-function-error-type", "Runtime.Custom")],
        b"not a document".to_vec(),
    )
    .await;
    assert_eq!(error.status, 202);
    match answer.await.unwrap() {
        RuntimeReply::Error(document) => {
            assert_eq!(document.error_type, "Runtime.Custom");
            assert_eq!(document.error_message, "not a document");
        }
        other => panic!("{other:?}"),
    }

    // A response over 6 MB: 413 RequestEntityTooLarge, and the invocation fails.
    let (event, answer) = invocation("{}");
    let id = event.id.clone();
    let next = tokio::spawn({
        let address = address.clone();
        async move { call(&address, Method::GET, "/invocation/next", &[], Vec::new()).await }
    });
    api.deliver(event).await.unwrap();
    assert_eq!(next.await.unwrap().status, 200);
    let huge = call(
        &address,
        Method::POST,
        &format!("/invocation/{id}/response"),
        &[],
        vec![b'x'; MAX_PAYLOAD_BYTES + 1],
    )
    .await;
    assert_eq!(huge.status, 413);
    assert_eq!(huge.json()["errorType"], "RequestEntityTooLarge");
    assert_eq!(answer.await.unwrap(), RuntimeReply::TooLarge);

    let unknown = call(&address, Method::GET, "/no/such/thing", &[], Vec::new()).await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn init_error_is_reported_during_init() {
    let mut api = RuntimeApi::start().await.unwrap();
    let reply = call(
        &api.address(),
        Method::POST,
        "/init/error",
        &[("lambda-runtime-function-error-type", "Runtime.InitError")],
        br#"{"errorMessage":"S3_BUCKET: is required","errorType":"Runtime.InitError"}"#.to_vec(),
    )
    .await;
    assert_eq!(reply.status, 202);
    match api.lifecycle().await {
        Some(Lifecycle::InitError(document)) => {
            assert_eq!(document.error_message, "S3_BUCKET: is required");
        }
        other => panic!("{other:?}"),
    }
}
