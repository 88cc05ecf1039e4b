//! Restart persistence, graceful shutdown, authentication.

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use callflow_s3store::{FaultPolicy, Operation, RunningStore, StoreConfig};

use crate::common::{BUCKET, config, failure, fixture};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_a_restart_on_the_same_dir() {
    let f = fixture().await;
    let etag = f.put("calls/c1/e1", b"persisted").await;
    f.client
        .put_object()
        .bucket(BUCKET)
        .key("typed")
        .content_type("application/json")
        .metadata("k", "v")
        .body(ByteStream::from_static(b"{}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    f.put("deleted", b"gone").await;
    f.client
        .delete_object()
        .bucket(BUCKET)
        .key("deleted")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let crate::common::Fixture { store, dir, .. } = f;
    store.shutdown().await;
    // A crashed writer's temp file must not turn into an object.
    let shard = dir
        .path()
        .join("data/buckets")
        .join(BUCKET)
        .join("objects/00");
    std::fs::create_dir_all(&shard).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(shard.join(".tmp-leftover"), b"partial").unwrap_or_else(|e| panic!("{e}"));

    let store = RunningStore::start(config(&dir))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let client = store.sdk_client();
    let got = client
        .get_object()
        .bucket(BUCKET)
        .key("calls/c1/e1")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(got.e_tag(), Some(etag.as_str()));
    let body = got
        .body
        .collect()
        .await
        .map(|b| b.into_bytes())
        .unwrap_or_default();
    assert_eq!(&body[..], b"persisted");
    let head = client
        .head_object()
        .bucket(BUCKET)
        .key("typed")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(head.content_type(), Some("application/json"));
    assert_eq!(
        head.metadata().and_then(|m| m.get("k")).map(String::as_str),
        Some("v")
    );
    let listed = client
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let keys: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, vec!["calls/c1/e1", "typed"]);
    assert!(!shard.join(".tmp-leftover").exists());
    // Conditional create still sees the persisted object.
    let again = client
        .put_object()
        .bucket(BUCKET)
        .key("calls/c1/e1")
        .if_none_match("*")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await;
    assert_eq!(failure(again).0, 412);
    store.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_waits_for_in_flight_requests() {
    let f = fixture().await;
    f.put("slow", b"still answered").await;
    f.store.faults().set(
        Operation::GetObject,
        FaultPolicy::delay(Duration::from_millis(300)),
    );
    let client = f.client.clone();
    let in_flight =
        tokio::spawn(async move { client.get_object().bucket(BUCKET).key("slow").send().await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let endpoint = f.store.local_addr();
    f.store.shutdown().await;
    let got = match in_flight.await {
        Ok(Ok(got)) => got,
        other => panic!("in-flight GET failed: {other:?}"),
    };
    let body = got
        .body
        .collect()
        .await
        .map(|b| b.into_bytes())
        .unwrap_or_default();
    assert_eq!(&body[..], b"still answered");
    // And the port no longer accepts connections.
    assert!(tokio::net::TcpStream::connect(endpoint).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_signed_with_another_secret_are_rejected() {
    let f = fixture().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let impostor = RunningStore::start(StoreConfig {
        secret_key: "wrong-secret".to_owned(),
        access_key: "test-access".to_owned(),
        ..StoreConfig::new(dir.path())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    // A client configured with the wrong secret, pointed at the real store.
    let client = aws_sdk_s3::Client::from_conf(
        impostor
            .sdk_config_builder()
            .endpoint_url(f.store.endpoint())
            .build(),
    );
    let (status, code) = failure(client.list_objects_v2().bucket(BUCKET).send().await);
    assert_eq!((status, code.as_str()), (403, "SignatureDoesNotMatch"));
    let unknown_key = aws_sdk_s3::Client::from_conf(
        f.store
            .sdk_config_builder()
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "nobody", "x", None, None, "test",
            ))
            .build(),
    );
    assert_eq!(failure(unknown_key.list_buckets().send().await).0, 403);
    impostor.shutdown().await;
}
