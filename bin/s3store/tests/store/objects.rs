//! Object round trips, metadata, deletes, missing buckets, hostile keys.

use std::path::Path;

use aws_sdk_s3::primitives::ByteStream;

use crate::common::{BUCKET, failure, fixture};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_get_head_round_trip_keeps_body_etag_type_and_metadata() {
    let f = fixture().await;
    let body = br#"{"callId":"c-1","eventType":"call.initiated"}"#;
    let put = f
        .client
        .put_object()
        .bucket(BUCKET)
        .key("events/2026/11/25/e1.json")
        .content_type("application/json")
        .metadata("call-id", "c-1")
        .metadata("schema", "v1")
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let etag = put.e_tag.clone().unwrap_or_default();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() == 34,
        "{etag}"
    );

    let got = f
        .client
        .get_object()
        .bucket(BUCKET)
        .key("events/2026/11/25/e1.json")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(got.content_type(), Some("application/json"));
    assert_eq!(got.e_tag(), Some(etag.as_str()));
    assert_eq!(got.content_length(), Some(body.len() as i64));
    let metadata = got.metadata().cloned().unwrap_or_default();
    assert_eq!(metadata.get("call-id").map(String::as_str), Some("c-1"));
    assert_eq!(metadata.get("schema").map(String::as_str), Some("v1"));
    let bytes = got
        .body
        .collect()
        .await
        .map(|b| b.into_bytes())
        .unwrap_or_default();
    assert_eq!(&bytes[..], &body[..]);

    let head = f
        .client
        .head_object()
        .bucket(BUCKET)
        .key("events/2026/11/25/e1.json")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(head.content_length(), Some(body.len() as i64));
    assert_eq!(head.content_type(), Some("application/json"));
    assert_eq!(head.e_tag(), Some(etag.as_str()));
    assert_eq!(
        head.metadata()
            .and_then(|m| m.get("call-id"))
            .map(String::as_str),
        Some("c-1")
    );
    assert!(head.last_modified().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etag_is_quoted_hex_md5_of_the_body() {
    let f = fixture().await;
    // md5("hello") = 5d41402abc4b2a76b9719d911017c592
    assert_eq!(
        f.put("k", b"hello").await,
        "\"5d41402abc4b2a76b9719d911017c592\""
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overwrite_delete_and_missing_key() {
    let f = fixture().await;
    f.put("k", b"one").await;
    f.put("k", b"two").await;
    assert_eq!(f.get("k").await, b"two");
    f.client
        .delete_object()
        .bucket(BUCKET)
        .key("k")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let (status, code) = failure(f.client.get_object().bucket(BUCKET).key("k").send().await);
    assert_eq!((status, code.as_str()), (404, "NoSuchKey"));
    let (status, _) = failure(f.client.head_object().bucket(BUCKET).key("k").send().await);
    assert_eq!(status, 404);
    // Deleting a missing key succeeds, as on S3.
    assert!(
        f.client
            .delete_object()
            .bucket(BUCKET)
            .key("k")
            .send()
            .await
            .is_ok()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_bucket_is_no_such_bucket_and_never_created_by_put() {
    let f = fixture().await;
    let put = f
        .client
        .put_object()
        .bucket("nope")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await;
    assert_eq!(failure(put), (404, "NoSuchBucket".to_owned()));
    let get = f.client.get_object().bucket("nope").key("k").send().await;
    assert_eq!(failure(get), (404, "NoSuchBucket".to_owned()));
    let list = f.client.list_objects_v2().bucket("nope").send().await;
    assert_eq!(failure(list), (404, "NoSuchBucket".to_owned()));
    assert_eq!(
        failure(f.client.head_bucket().bucket("nope").send().await).0,
        404
    );

    let buckets = f
        .client
        .list_buckets()
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let names: Vec<_> = buckets.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, vec![BUCKET]);
    assert!(!f.data_dir().join("buckets/nope").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_bucket_then_head_and_list() {
    let f = fixture().await;
    f.client
        .create_bucket()
        .bucket("second-bucket")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(
        f.client
            .head_bucket()
            .bucket("second-bucket")
            .send()
            .await
            .is_ok()
    );
    let again = f
        .client
        .create_bucket()
        .bucket("second-bucket")
        .send()
        .await;
    assert_eq!(failure(again), (409, "BucketAlreadyOwnedByYou".to_owned()));
    let buckets = f
        .client
        .list_buckets()
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let names: Vec<_> = buckets.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, vec![BUCKET, "second-bucket"]);
}

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_keys_round_trip_and_stay_inside_the_data_dir() {
    let f = fixture().await;
    let keys = [
        "../../../escape",
        "a/../../b",
        "..",
        "./.",
        "with space/and+plus",
        "ünïcødé/日本語/🎉",
        "trailing/slash/",
        "/leading-slash",
        "percent%2F..%2F",
        "a//double",
    ];
    for (i, key) in keys.iter().enumerate() {
        f.put(key, format!("body-{i}").as_bytes()).await;
    }
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(f.get(key).await, format!("body-{i}").as_bytes(), "{key}");
    }
    let listed = f
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let listed: Vec<_> = listed
        .contents()
        .iter()
        .filter_map(|o| o.key())
        .map(str::to_owned)
        .collect();
    let mut expected: Vec<_> = keys.iter().map(|k| (*k).to_owned()).collect();
    expected.sort();
    assert_eq!(listed, expected, "listing is sorted by UTF-8 bytes");

    // Nothing was written next to the data dir; every file is inside it.
    let mut outside = Vec::new();
    files_under(f.dir.path(), &mut outside);
    assert!(
        outside.iter().all(|p| p.starts_with(f.data_dir())),
        "{outside:?}"
    );
    assert_eq!(
        std::fs::read_dir(f.dir.path())
            .map(|d| d.count())
            .unwrap_or(0),
        1,
        "only the data dir under the temp dir"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flexible_checksums_are_verified_stored_and_returned() {
    use aws_sdk_s3::types::ChecksumMode;
    let f = fixture().await;
    // The SDK sends a CRC32 trailer by default; the store keeps it and returns it on request.
    f.put("sum", b"hello").await;
    let got = f
        .client
        .get_object()
        .bucket(BUCKET)
        .key("sum")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    // CRC32("hello") = 0x3610a686
    assert_eq!(got.checksum_crc32(), Some("NhCmhg=="));

    let wrong_crc = f
        .client
        .put_object()
        .bucket(BUCKET)
        .key("bad-crc")
        .checksum_crc32("AAAAAA==")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await;
    assert_eq!(failure(wrong_crc), (400, "BadDigest".to_owned()));
    let wrong_md5 = f
        .client
        .put_object()
        .bucket(BUCKET)
        .key("bad-md5")
        .content_md5("AAAAAAAAAAAAAAAAAAAAAA==")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await;
    assert_eq!(failure(wrong_md5), (400, "BadDigest".to_owned()));
    let listed = f
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let keys: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, vec!["sum"], "rejected uploads store nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_get_returns_the_slice() {
    let f = fixture().await;
    f.put("r", b"0123456789").await;
    let got = f
        .client
        .get_object()
        .bucket(BUCKET)
        .key("r")
        .range("bytes=2-5")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(got.content_range(), Some("bytes 2-5/10"));
    let body = got
        .body
        .collect()
        .await
        .map(|b| b.into_bytes())
        .unwrap_or_default();
    assert_eq!(&body[..], b"2345");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_objects_are_objects() {
    let f = fixture().await;
    assert_eq!(
        f.put("marker", b"").await,
        "\"d41d8cd98f00b204e9800998ecf8427e\""
    );
    assert_eq!(f.get("marker").await, b"");
    let head = f
        .client
        .head_object()
        .bucket(BUCKET)
        .key("marker")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(head.content_length(), Some(0));
}
