//! Conditional writes: If-None-Match: * and If-Match, alone and under concurrency.

use aws_sdk_s3::primitives::ByteStream;

use crate::common::{BUCKET, failure, fixture};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_none_match_creates_once() {
    let f = fixture().await;
    let create = |body: &'static [u8]| {
        f.client
            .put_object()
            .bucket(BUCKET)
            .key("idem/k1")
            .if_none_match("*")
            .body(ByteStream::from_static(body))
            .send()
    };
    assert!(create(b"first").await.is_ok());
    assert_eq!(
        failure(create(b"second").await),
        (412, "PreconditionFailed".to_owned())
    );
    assert_eq!(f.get("idem/k1").await, b"first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_match_replaces_only_the_expected_version() {
    let f = fixture().await;
    let etag = f.put("doc", b"v1").await;
    let replace = |etag: String, body: &'static [u8]| {
        f.client
            .put_object()
            .bucket(BUCKET)
            .key("doc")
            .if_match(etag)
            .body(ByteStream::from_static(body))
            .send()
    };
    let v2 = replace(etag.clone(), b"v2")
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    // The old ETag no longer matches.
    assert_eq!(
        failure(replace(etag, b"v3").await),
        (412, "PreconditionFailed".to_owned())
    );
    assert_eq!(f.get("doc").await, b"v2");
    assert!(replace(v2.e_tag.unwrap_or_default(), b"v3").await.is_ok());
    assert_eq!(f.get("doc").await, b"v3");
    // If-Match on a missing key is 404 NoSuchKey, as on S3.
    let missing = f
        .client
        .put_object()
        .bucket(BUCKET)
        .key("missing")
        .if_match("\"5d41402abc4b2a76b9719d911017c592\"")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await;
    assert_eq!(failure(missing), (404, "NoSuchKey".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_conditional_creates_have_exactly_one_winner() {
    let f = fixture().await;
    for round in 0..3 {
        let key = format!("race/{round}");
        let tasks: Vec<_> = (0..50)
            .map(|writer| {
                let client = f.client.clone();
                let key = key.clone();
                tokio::spawn(async move {
                    let body = format!("writer-{writer:02}-").repeat(20);
                    let result = client
                        .put_object()
                        .bucket(BUCKET)
                        .key(&key)
                        .if_none_match("*")
                        .body(ByteStream::from(body.clone().into_bytes()))
                        .send()
                        .await;
                    (
                        body,
                        result.map(|_| ()).map_err(|e| failure::<_, ()>(Err(e))),
                    )
                })
            })
            .collect();
        let mut winners = Vec::new();
        let mut rejected = 0;
        for task in tasks {
            let (body, result) = task.await.unwrap_or_else(|e| panic!("{e}"));
            match result {
                Ok(()) => winners.push(body),
                Err((412, code)) if code == "PreconditionFailed" => rejected += 1,
                Err(other) => panic!("unexpected failure {other:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}");
        assert_eq!(rejected, 49, "round {round}");
        // The stored object is the winner's, whole (the SDK also validates its CRC32).
        assert_eq!(f.get(&key).await, winners[0].as_bytes(), "round {round}");
    }
}
