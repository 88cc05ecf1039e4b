//! `GET /events/{eventId}`: one GET, 404 for unknown ids, 400 for malformed ones.

use callflow_s3store::Operation;

use crate::common::{Fixture, body_json, event};

#[tokio::test]
async fn get_by_id_is_one_s3_get() {
    let f = Fixture::start().await;
    let stored = f
        .post(event("CA-1", "call.ringing", "2025-06-01T10:00:00Z"))
        .await;
    let id = stored["eventId"].as_str().expect("id").to_owned();
    let log = f.store.request_log();
    log.clear();
    let resp = f.get(&id).await;
    assert_eq!(resp.status_code, 200);
    assert_eq!(body_json(&resp), stored["event"]);
    let ops: Vec<_> = log
        .snapshot()
        .into_iter()
        .map(|r| (r.operation, r.target))
        .collect();
    assert_eq!(
        ops,
        vec![(
            Operation::GetObject,
            Some(format!("events/2025/06/01/{id}.json"))
        )]
    );
}

#[tokio::test]
async fn unknown_and_malformed_ids() {
    let f = Fixture::start().await;
    let log = f.store.request_log();
    log.clear();
    let resp = f.get("01972aef-11fa-7af9-8c56-27622b56fb77").await;
    assert_eq!(resp.status_code, 404);
    assert_eq!(body_json(&resp)["code"], "not_found");
    assert_eq!(log.count(Operation::GetObject), 1);
    for bad in [
        "nope",
        "6f1c5a9e-4d0b-4c57-9f3a-2a2b1c0d9e8f",
        "01972aef11fa",
    ] {
        log.clear();
        let resp = f.get(bad).await;
        assert_eq!(resp.status_code, 400, "{bad}");
        let body = body_json(&resp);
        assert_eq!(body["code"], "invalid_event_id");
        assert_eq!(body["requestId"], "req-42");
        assert!(
            log.snapshot().is_empty(),
            "a malformed id costs no S3 request"
        );
    }
}
