//! A stored event: response, object, metadata, index entry, request count.

use callflow_s3store::Operation;

use crate::common::{BUCKET, Fixture, body_json, event, header, post};

#[tokio::test]
async fn a_new_event_is_stored_with_its_two_index_entries_in_three_puts() {
    let f = Fixture::start().await;
    let log = f.store.request_log();
    log.clear();
    let resp = f.storer.handle(post(&event("CA-1").to_string(), &[])).await;
    assert_eq!(resp.status_code, 201, "{:?}", resp.body);
    let body = body_json(&resp);
    let id = body["eventId"].as_str().expect("eventId").to_owned();
    let key = format!("events/2025/06/01/{id}.json");
    assert_eq!(body["key"], key);
    assert_eq!(
        header(&resp, "location"),
        Some(format!("/events/{id}").as_str())
    );
    assert_eq!(header(&resp, "content-type"), Some("application/json"));
    assert_eq!(body["event"]["principal"], "client-1");
    assert_eq!(body["event"]["callId"], "CA-1");
    assert_eq!(body["event"]["receivedAt"], body["receivedAt"]);
    assert!(
        id.starts_with("01972aef-11fa-7"),
        "the id carries the event time: {id}"
    );

    // Exactly the event object and its two index entries, written by three PUTs and nothing
    // else; the by-type entry names the parties by keyed digests only.
    let ops: Vec<_> = log.snapshot().iter().map(|r| r.operation).collect();
    assert_eq!(ops, vec![Operation::PutObject; 3]);
    assert_eq!(f.keys("events/").await, vec![key.clone()]);
    let digest = |a: &str| {
        crate::common::index_key()
            .digest(&callflow_core::PartyAddress::parse(a).expect("address"))
            .to_string()
    };
    assert_eq!(
        f.keys("metadata/indexes/").await,
        vec![
            format!("metadata/indexes/by-call/CA-1/{id}"),
            format!(
                "metadata/indexes/by-type/2025/06/01/call.answered/{id}.inbound.{}.{}",
                digest("+14155550100"),
                digest("sip:support@example.com")
            ),
        ]
    );

    let obj = f
        .client
        .get_object()
        .bucket(BUCKET)
        .key(&key)
        .send()
        .await
        .expect("object");
    assert_eq!(obj.content_type(), Some("application/json"));
    let meta = obj.metadata().expect("metadata");
    assert_eq!(meta.get("callid").map(String::as_str), Some("CA-1"));
    assert_eq!(
        meta.get("eventtype").map(String::as_str),
        Some("call.answered")
    );
    let stored: serde_json::Value =
        serde_json::from_slice(&obj.body.collect().await.expect("body").into_bytes())
            .expect("json");
    assert_eq!(
        stored, body["event"],
        "the bucket holds what the response says"
    );
}

#[tokio::test]
async fn base64_bodies_are_decoded() {
    use base64::Engine;
    let f = Fixture::start().await;
    let mut req = post("", &[]);
    req.body = Some(base64::engine::general_purpose::STANDARD.encode(event("CA-b64").to_string()));
    req.is_base64_encoded = true;
    let resp = f.storer.handle(req).await;
    assert_eq!(resp.status_code, 201, "{:?}", resp.body);
    assert_eq!(f.keys("events/").await.len(), 1);
}

#[tokio::test]
async fn events_without_idempotency_are_distinct_objects() {
    let f = Fixture::start().await;
    let body = event("CA-2").to_string();
    let a = body_json(&f.storer.handle(post(&body, &[])).await);
    let b = body_json(&f.storer.handle(post(&body, &[])).await);
    assert_ne!(a["eventId"], b["eventId"]);
    assert_eq!(f.keys("events/").await.len(), 2);
    assert_eq!(f.keys("metadata/indexes/by-call/CA-2/").await.len(), 2);
}
