//! Retries map to the same id; the conditional PUTs keep exactly one object; a reused key or
//! sequence number with another event is refused and writes nothing.

use callflow_core::{
    EventId, IdempotencyClaim, IdempotencyKey, IdempotencyRecord, Principal, StoredEvent,
};
use callflow_s3store::Operation;
use futures::future::join_all;

use crate::common::{Fixture, body_json, event, post, post_as};

#[tokio::test]
async fn the_same_request_twice_leaves_one_object_and_returns_the_original() {
    let f = Fixture::start().await;
    let body = event("CA-3").to_string();
    let headers = [("Idempotency-Key", "order-77")];
    let first = f.storer.handle(post(&body, &headers)).await;
    let second = f.storer.handle(post(&body, &headers)).await;
    assert_eq!(first.status_code, 201);
    assert_eq!(second.status_code, 200, "a replay is 200");
    let (a, b) = (body_json(&first), body_json(&second));
    assert_eq!(a["eventId"], b["eventId"]);
    assert_eq!(
        a["receivedAt"], b["receivedAt"],
        "the original event, not a new one"
    );
    assert_eq!(a["event"], b["event"]);
    assert_eq!(f.keys("events/").await.len(), 1);
    assert_eq!(f.index_entries().await, (1, 1), "one entry in each index");
}

#[tokio::test]
async fn call_id_and_sequence_are_an_idempotency_key() {
    let f = Fixture::start().await;
    let mut e = event("CA-4");
    e["sequence"] = 7.into();
    let first = f.storer.handle(post(&e.to_string(), &[])).await;
    let second = f.storer.handle(post(&e.to_string(), &[])).await;
    assert_eq!((first.status_code, second.status_code), (201, 200));
    e["sequence"] = 8.into();
    let third = f.storer.handle(post(&e.to_string(), &[])).await;
    assert_eq!(third.status_code, 201);
    assert_eq!(f.keys("events/").await.len(), 2);
}

#[tokio::test]
async fn fifty_concurrent_duplicates_leave_exactly_one_object() {
    let f = Fixture::start().await;
    let body = event("CA-5").to_string();
    let headers = [("Idempotency-Key", "burst-1")];
    let responses = join_all((0..50).map(|_| f.storer.handle(post(&body, &headers)))).await;
    let created = responses.iter().filter(|r| r.status_code == 201).count();
    let replayed = responses.iter().filter(|r| r.status_code == 200).count();
    assert_eq!((created, replayed), (1, 49));
    let ids: std::collections::BTreeSet<String> = responses
        .iter()
        .map(|r| {
            body_json(r)["eventId"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(f.keys("events/").await.len(), 1);
    assert_eq!(f.index_entries().await, (1, 1), "one entry in each index");
}

/// Every object under `prefix` with its body, for "nothing was written" checks.
async fn snapshot(f: &Fixture, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for key in f.keys(prefix).await {
        let obj = f
            .client
            .get_object()
            .bucket(crate::common::BUCKET)
            .key(&key)
            .send()
            .await
            .expect("get");
        let bytes = obj
            .body
            .collect()
            .await
            .expect("body")
            .into_bytes()
            .to_vec();
        out.push((key, bytes));
    }
    out
}

#[tokio::test]
async fn a_restamped_retry_with_the_same_key_returns_the_first_event() {
    let f = Fixture::start().await;
    let headers = [("Idempotency-Key", "restamp-1")];
    let mut e = event("CA-R");
    let first = f.storer.handle(post(&e.to_string(), &headers)).await;
    assert_eq!(first.status_code, 201);
    for later in ["2025-06-01T11:00:00.250Z", "2025-06-02T00:00:01+02:00"] {
        e["timestamp"] = later.into();
        let retry = f.storer.handle(post(&e.to_string(), &headers)).await;
        assert_eq!(retry.status_code, 200, "{:?}", retry.body);
        let (a, b) = (body_json(&first), body_json(&retry));
        assert_eq!(a["eventId"], b["eventId"]);
        assert_eq!(
            b["event"]["timestamp"], "2025-06-01T10:00:00.25Z",
            "the stored event is the first one"
        );
    }
    assert_eq!(f.keys("events/").await.len(), 1);
    assert_eq!(f.index_entries().await, (1, 1), "one entry in each index");
    assert_eq!(f.keys("metadata/idempotency/key/").await.len(), 1);
}

#[tokio::test]
async fn a_reused_key_with_another_event_is_refused_and_writes_nothing() {
    let f = Fixture::start().await;
    let headers = [("Idempotency-Key", "reused-1")];
    let first = f
        .storer
        .handle(post(&event("CA-A").to_string(), &headers))
        .await;
    assert_eq!(first.status_code, 201);
    let stored_id = body_json(&first)["eventId"].clone();
    let before = snapshot(&f, "").await;
    let mut other_type = event("CA-A");
    other_type["eventType"] = "call.ended".into();
    for body in [event("CA-B"), other_type] {
        let resp = f.storer.handle(post(&body.to_string(), &headers)).await;
        assert_eq!(resp.status_code, 422, "{:?}", resp.body);
        let err = body_json(&resp);
        assert_eq!(err["code"], "idempotency_key_reused");
        assert_eq!(
            err["eventId"], stored_id,
            "the error names the stored event"
        );
        assert!(
            err["message"]
                .as_str()
                .is_some_and(|m| m.contains(stored_id.as_str().unwrap_or("?"))),
            "{err}"
        );
    }
    assert_eq!(snapshot(&f, "").await, before, "nothing was written");
}

#[tokio::test]
async fn keys_are_scoped_per_principal() {
    let f = Fixture::start().await;
    let headers = [("Idempotency-Key", "shared-key")];
    let a = f
        .storer
        .handle(post_as("client-a", &event("CA-P").to_string(), &headers))
        .await;
    let b = f
        .storer
        .handle(post_as("client-b", &event("CA-Q").to_string(), &headers))
        .await;
    assert_eq!((a.status_code, b.status_code), (201, 201));
    assert_ne!(body_json(&a)["eventId"], body_json(&b)["eventId"]);
    assert_eq!(f.keys("events/").await.len(), 2);
}

#[tokio::test]
async fn a_call_sequence_stores_one_event_whatever_the_timestamp() {
    let f = Fixture::start().await;
    let mut e = event("call-S");
    e["sequence"] = 7.into();
    let first = f.storer.handle(post(&e.to_string(), &[])).await;
    assert_eq!(first.status_code, 201);
    e["timestamp"] = "2025-06-01T10:00:01.250Z".into();
    let again = f.storer.handle(post(&e.to_string(), &[])).await;
    assert_eq!(again.status_code, 200, "{:?}", again.body);
    assert_eq!(body_json(&again)["eventId"], body_json(&first)["eventId"]);
    let before = snapshot(&f, "").await;
    e["eventType"] = "call.ended".into();
    let conflict = f.storer.handle(post(&e.to_string(), &[])).await;
    assert_eq!(conflict.status_code, 409, "{:?}", conflict.body);
    let err = body_json(&conflict);
    assert_eq!(err["code"], "sequence_conflict");
    assert_eq!(err["eventId"], body_json(&first)["eventId"]);
    assert_eq!(snapshot(&f, "").await, before, "nothing was written");
    assert_eq!(f.keys("metadata/indexes/by-call/call-S/").await.len(), 1);
}

#[tokio::test]
async fn fifty_concurrent_requests_with_one_key_and_different_bodies_store_one_event() {
    let f = Fixture::start().await;
    let headers = [("Idempotency-Key", "burst-mixed")];
    // Five distinct events, ten requests each, every one re-stamped differently.
    let bodies: Vec<String> = (0..50)
        .map(|i| {
            let mut e = event(&format!("CA-M{}", i % 5));
            e["timestamp"] = format!("2025-06-01T10:00:{:02}.000Z", i).into();
            e.to_string()
        })
        .collect();
    let responses = join_all(bodies.iter().map(|b| f.storer.handle(post(b, &headers)))).await;
    let created: Vec<usize> = (0..50)
        .filter(|&i| responses[i].status_code == 201)
        .collect();
    assert_eq!(created.len(), 1, "exactly one request stores");
    let winner_call = created[0] % 5;
    let stored = body_json(&responses[created[0]])["eventId"].clone();
    for (i, r) in responses.iter().enumerate() {
        let body = body_json(r);
        if i % 5 == winner_call {
            assert!(matches!(r.status_code, 200 | 201), "{i}: {body}");
            assert_eq!(body["eventId"], stored);
        } else {
            assert_eq!(r.status_code, 422, "{i}: {body}");
            assert_eq!(body["code"], "idempotency_key_reused");
            assert_eq!(body["eventId"], stored);
        }
    }
    assert_eq!(f.keys("events/").await.len(), 1);
    assert_eq!(f.index_entries().await, (1, 1), "one entry in each index");
}

#[tokio::test]
async fn a_keyed_request_costs_one_conditional_put_more() {
    let f = Fixture::start().await;
    let log = f.store.request_log();
    log.clear();
    let resp = f
        .storer
        .handle(post(
            &event("CA-C").to_string(),
            &[("Idempotency-Key", "cost-1")],
        ))
        .await;
    assert_eq!(resp.status_code, 201);
    let ops: Vec<_> = log.snapshot().iter().map(|r| r.operation).collect();
    assert_eq!(
        ops,
        vec![Operation::PutObject; 4],
        "record, event, two index entries"
    );
}

#[tokio::test]
async fn a_first_request_that_died_after_its_record_is_completed_by_its_retry() {
    let f = Fixture::start().await;
    // What a crash between the two PUTs leaves: the record, no event.
    let principal = Principal::new("client-1").expect("principal");
    let key = IdempotencyKey::parse("crash-1").expect("key");
    let first_body = event("CA-X");
    let first = callflow_core::validate::validate_event(&first_body).expect("valid");
    let claim = IdempotencyClaim::Key {
        principal: principal.clone(),
        key,
    };
    let event_id = EventId::derive(first.timestamp, claim.id_source()).expect("id");
    let record = IdempotencyRecord::new(StoredEvent {
        event_id,
        event: first,
        received_at: time::OffsetDateTime::now_utc(),
        principal,
    });
    f.client
        .put_object()
        .bucket(crate::common::BUCKET)
        .key(claim.record_key())
        .body(serde_json::to_vec(&record).expect("json").into())
        .send()
        .await
        .expect("record");
    assert!(f.keys("events/").await.is_empty());

    let mut retry = first_body.clone();
    retry["timestamp"] = "2025-06-01T10:05:00Z".into();
    let resp = f
        .storer
        .handle(post(&retry.to_string(), &[("Idempotency-Key", "crash-1")]))
        .await;
    assert_eq!(resp.status_code, 201, "{:?}", resp.body);
    let body = body_json(&resp);
    assert_eq!(body["eventId"], event_id.to_string());
    assert_eq!(body["event"]["timestamp"], "2025-06-01T10:00:00.25Z");
    assert_eq!(f.keys("events/").await.len(), 1);
    assert_eq!(f.index_entries().await, (1, 1), "one entry in each index");
}
