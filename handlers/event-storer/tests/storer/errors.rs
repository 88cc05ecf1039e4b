//! Rejected requests: the status, the error body, and nothing stored.

use callflow_s3store::{FaultError, FaultPolicy, Operation};
use serde_json::json;

use crate::common::{Fixture, body_json, event, header, post};

async fn assert_rejected(
    f: &Fixture,
    req: aws_lambda_events::apigw::ApiGatewayProxyRequest,
    status: i64,
    code: &str,
) -> serde_json::Value {
    let resp = f.storer.handle(req).await;
    assert_eq!(resp.status_code, status, "{:?}", resp.body);
    let body = body_json(&resp);
    assert_eq!(body["code"], code);
    assert_eq!(body["requestId"], "c6af9ac6-7b61-11e6-9a41-93e8deadbeef");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(
        f.keys("").await.is_empty(),
        "nothing is stored for a rejected request"
    );
    body
}

#[tokio::test]
async fn request_errors() {
    let f = Fixture::start().await;
    let valid = event("CA-6").to_string();

    let mut big = event("CA-6");
    big["payload"] = json!("x".repeat(70 * 1024));
    assert_rejected(&f, post(&big.to_string(), &[]), 413, "payload_too_large").await;

    assert_rejected(
        &f,
        post(&valid, &[("Content-Type", "text/plain")]),
        415,
        "unsupported_media_type",
    )
    .await;
    let mut no_type = post(&valid, &[]);
    no_type.headers.remove("content-type");
    assert_rejected(&f, no_type, 415, "unsupported_media_type").await;

    let body = assert_rejected(
        &f,
        post("{\"callId\": \"x\",\n \"eventType\" }", &[]),
        400,
        "malformed_json",
    )
    .await;
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("line 2 column"),
        "{body}"
    );
    assert!(body.get("details").is_none());

    let mut unauthenticated = post(&valid, &[]);
    unauthenticated.request_context.authorizer.fields.clear();
    assert_rejected(&f, unauthenticated, 401, "unauthorized").await;
}

#[tokio::test]
async fn validation_lists_every_problem_with_its_path() {
    let f = Fixture::start().await;
    let bad = json!({
        "callId": "bad id",
        "eventType": "call.exploded",
        "timestamp": "2025-13-01T00:00:00Z",
        "direction": "up",
        "attributes": {"foo": 1},
        "color": "red"
    });
    let body = assert_rejected(
        &f,
        post(&bad.to_string(), &[("Idempotency-Key", &"k".repeat(129))]),
        422,
        "validation_failed",
    )
    .await;
    let mut paths: Vec<&str> = body["details"]
        .as_array()
        .expect("details")
        .iter()
        .filter_map(|d| d["path"].as_str())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        vec![
            "$.attributes.foo",
            "$.callId",
            "$.color",
            "$.direction",
            "$.eventType",
            "$.headers['Idempotency-Key']",
            "$.timestamp",
        ]
    );
}

#[tokio::test]
async fn storage_failure_after_retries_is_503_with_retry_after_and_nothing_stored() {
    let f = Fixture::start().await;
    f.store.faults().set(
        Operation::PutObject,
        FaultPolicy::fail(1.0, FaultError::SlowDown),
    );
    let resp = f.storer.handle(post(&event("CA-7").to_string(), &[])).await;
    assert_eq!(resp.status_code, 503);
    assert_eq!(body_json(&resp)["code"], "storage_unavailable");
    assert!(header(&resp, "retry-after").is_some());
    let puts = f.store.request_log().count(Operation::PutObject);
    assert!(puts >= 2, "the SDK retried ({puts} PUTs)");
    f.store.faults().clear();
    assert!(f.keys("").await.is_empty());
}
