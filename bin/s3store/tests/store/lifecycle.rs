//! Restart persistence, graceful shutdown, authentication.

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use callflow_s3store::{FaultPolicy, IndexStart, Operation, RunningStore, StoreConfig};

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

/// Keys listed in [`BUCKET`], all pages.
async fn listed_keys(client: &aws_sdk_s3::Client) -> Vec<String> {
    let mut keys = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .list_objects_v2()
            .bucket(BUCKET)
            .max_keys(7)
            .set_continuation_token(token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key())
                .map(str::to_owned),
        );
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            return keys;
        }
    }
}

/// Copies a directory tree (a snapshot of a live data dir is what a crash leaves behind: every
/// acknowledged object file, and an index without its clean marker).
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{e}"));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{e}")) {
        let entry = entry.unwrap_or_else(|e| panic!("{e}"));
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_restart_trusts_the_key_index_and_a_crash_rebuilds_it() {
    let f = fixture().await;
    assert_eq!(f.store.index_start(), IndexStart::Rebuilt { objects: 0 });
    let mut expected: Vec<String> = (0..40)
        .map(|i| format!("calls/c{}/e{i:03}", i % 3))
        .collect();
    for key in &expected {
        f.put(key, key.as_bytes()).await;
    }
    f.put("doomed", b"deleted before the crash").await;
    f.client
        .delete_object()
        .bucket(BUCKET)
        .key("doomed")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    expected.sort();
    assert_eq!(listed_keys(&f.client).await, expected);

    // A crash: the data dir as it is while the store runs, with no clean close.
    let crashed = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    copy_tree(&f.data_dir(), &crashed.path().join("data"));
    assert!(!crashed.path().join("data/index.closed-cleanly").exists());

    let crate::common::Fixture { store, dir, .. } = f;
    store.shutdown().await;
    assert!(dir.path().join("data/index.closed-cleanly").exists());

    // Clean restart: the index is used as it is, and is right.
    let store = RunningStore::start(config(&dir))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(store.index_start(), IndexStart::Trusted);
    assert!(
        !dir.path().join("data/index.closed-cleanly").exists(),
        "a running store must not leave the marker: a crash now must lead to a rebuild"
    );
    let client = store.sdk_client();
    assert_eq!(listed_keys(&client).await, expected);
    // Writes after a trusted start are indexed as before.
    client
        .put_object()
        .bucket(BUCKET)
        .key("after-restart")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(
        listed_keys(&client)
            .await
            .contains(&"after-restart".to_owned())
    );
    store.shutdown().await;

    // Restart after the crash: rebuilt from the object files, every acknowledged key listed,
    // the deleted one not.
    let store = RunningStore::start(config(&crashed))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(store.index_start(), IndexStart::Rebuilt { objects: 40 });
    assert_eq!(listed_keys(&store.sdk_client()).await, expected);
    store.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_key_index_is_rebuilt_from_the_object_files() {
    let f = fixture().await;
    for key in ["a", "b/1", "b/2"] {
        f.put(key, b"v").await;
    }
    let crate::common::Fixture { store, dir, .. } = f;
    store.shutdown().await;
    // Marked clean, but the index file is garbage.
    std::fs::write(dir.path().join("data/index.redb"), vec![0xA5; 8192])
        .unwrap_or_else(|e| panic!("{e}"));
    let store = RunningStore::start(config(&dir))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(store.index_start(), IndexStart::Rebuilt { objects: 3 });
    assert_eq!(
        listed_keys(&store.sdk_client()).await,
        vec!["a", "b/1", "b/2"]
    );
    store.shutdown().await;
}
