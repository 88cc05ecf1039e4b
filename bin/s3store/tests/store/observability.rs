//! The request log and fault injection, as tests of other crates use them.

use aws_sdk_s3::config::retry::RetryConfig;
use callflow_s3store::{FaultError, FaultPolicy, Operation, RequestRecord};

use crate::common::{BUCKET, failure, fixture};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_log_records_operation_bucket_and_target() {
    let f = fixture().await;
    f.put("calls/c1/e1", b"x").await;
    f.put("calls/c2/e1", b"y").await;
    let log = f.store.request_log();
    log.clear();

    assert_eq!(f.get("calls/c1/e1").await, b"x");
    f.client
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("calls/c2/")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let _ = f
        .client
        .head_object()
        .bucket(BUCKET)
        .key("absent")
        .send()
        .await;

    assert_eq!(
        log.snapshot(),
        vec![
            RequestRecord {
                operation: Operation::GetObject,
                bucket: Some(BUCKET.to_owned()),
                target: Some("calls/c1/e1".to_owned()),
                error_code: None,
                keys_listed: None,
            },
            RequestRecord {
                operation: Operation::ListObjectsV2,
                bucket: Some(BUCKET.to_owned()),
                target: Some("calls/c2/".to_owned()),
                error_code: None,
                keys_listed: Some(1),
            },
            RequestRecord {
                operation: Operation::HeadObject,
                bucket: Some(BUCKET.to_owned()),
                target: Some("absent".to_owned()),
                error_code: Some("NoSuchKey".to_owned()),
                keys_listed: None,
            },
        ]
    );
    assert_eq!(log.count(Operation::GetObject), 1);
    assert_eq!(log.count(Operation::PutObject), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_slowdown_hits_the_configured_fraction_deterministically() {
    let f = fixture().await;
    f.put("k", b"v").await;
    let client = aws_sdk_s3::Client::from_conf(
        f.store
            .sdk_config_builder()
            .retry_config(RetryConfig::disabled())
            .build(),
    );
    let faults = f.store.faults();

    let mut runs = Vec::new();
    for _ in 0..2 {
        faults.reseed(7);
        faults.set(
            Operation::GetObject,
            FaultPolicy::fail(0.25, FaultError::SlowDown),
        );
        let mut outcomes = Vec::new();
        for _ in 0..200 {
            let result = client.get_object().bucket(BUCKET).key("k").send().await;
            outcomes.push(match result {
                Ok(_) => None,
                Err(e) => Some(failure::<_, ()>(Err(e))),
            });
        }
        runs.push(outcomes);
    }
    assert_eq!(runs[0], runs[1], "same seed, same faults");
    let failures: Vec<_> = runs[0].iter().flatten().collect();
    assert!(
        failures.iter().all(|f| **f == (503, "SlowDown".to_owned())),
        "{failures:?}"
    );
    assert!(
        (30..=70).contains(&failures.len()),
        "{} of 200 failed",
        failures.len()
    );

    // Other operations are untouched; clearing turns faults off.
    assert!(
        client
            .head_object()
            .bucket(BUCKET)
            .key("k")
            .send()
            .await
            .is_ok()
    );
    faults.clear();
    for _ in 0..20 {
        assert!(
            client
                .get_object()
                .bucket(BUCKET)
                .key("k")
                .send()
                .await
                .is_ok()
        );
    }
    // Failed requests are in the log with their error code.
    let slowdowns = f
        .store
        .request_log()
        .snapshot()
        .iter()
        .filter(|r| r.error_code.as_deref() == Some("SlowDown"))
        .count();
    assert_eq!(slowdowns, failures.len() * 2);

    // InternalError is a 500.
    faults.set(
        Operation::PutObject,
        FaultPolicy::fail(1.0, FaultError::InternalError),
    );
    let put = client
        .put_object()
        .bucket(BUCKET)
        .key("k2")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"x"))
        .send()
        .await;
    assert_eq!(failure(put), (500, "InternalError".to_owned()));
}
