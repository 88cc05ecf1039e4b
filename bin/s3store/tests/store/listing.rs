//! ListObjectsV2 through the SDK: prefix, delimiter, start-after, pagination.

use futures::StreamExt as _;

use crate::common::{BUCKET, Fixture, fixture};

async fn put_all(f: &Fixture, keys: &[String]) {
    futures::stream::iter(keys.iter().cloned())
        .for_each_concurrent(16, |key| async move {
            f.put(&key, key.as_bytes()).await;
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefix_delimiter_and_start_after() {
    let f = fixture().await;
    let keys: Vec<String> = [
        "calls/c1/e1",
        "calls/c1/e2",
        "calls/c2/e1",
        "days/2026-11-24/x",
        "days/2026-11-25/y",
        "days/2026-11-25/z",
        "top",
    ]
    .iter()
    .map(|k| (*k).to_owned())
    .collect();
    put_all(&f, &keys).await;

    let out = f
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("days/2026-11-25/")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let listed: Vec<_> = out.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(listed, vec!["days/2026-11-25/y", "days/2026-11-25/z"]);
    assert_eq!(out.key_count(), Some(2));
    assert_eq!(out.is_truncated(), Some(false));
    for object in out.contents() {
        assert_eq!(
            object.size(),
            Some(object.key().map_or(0, |k| k.len() as i64))
        );
        assert!(object.e_tag().is_some_and(|e| e.len() == 34));
        assert!(object.last_modified().is_some());
    }

    let out = f
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .delimiter("/")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let prefixes: Vec<_> = out
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    let listed: Vec<_> = out.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(prefixes, vec!["calls/", "days/"]);
    assert_eq!(listed, vec!["top"]);
    assert_eq!(out.key_count(), Some(3));

    let out = f
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("calls/")
        .delimiter("/")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let prefixes: Vec<_> = out
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, vec!["calls/c1/", "calls/c2/"]);
    assert!(out.contents().is_empty());

    let out = f
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .start_after("days/2026-11-24/x")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let listed: Vec<_> = out.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(
        listed,
        vec!["days/2026-11-25/y", "days/2026-11-25/z", "top"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_over_more_than_1000_keys() {
    let f = fixture().await;
    let keys: Vec<String> = (0..1105).map(|i| format!("p/{i:05}")).collect();
    put_all(&f, &keys).await;
    f.put("q/outside-prefix", b"x").await;

    // Without max-keys a page holds at most 1000 keys.
    let first = f
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("p/")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(first.key_count(), Some(1000));
    assert_eq!(first.is_truncated(), Some(true));

    // The SDK paginator follows continuation tokens with a small page size.
    let mut pages = f
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("p/")
        .max_keys(250)
        .into_paginator()
        .send();
    let mut listed = Vec::new();
    let mut page_sizes = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.unwrap_or_else(|e| panic!("{e:?}"));
        page_sizes.push(page.key_count().unwrap_or(-1));
        listed.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key())
                .map(str::to_owned),
        );
    }
    assert_eq!(page_sizes, vec![250, 250, 250, 250, 105]);
    assert_eq!(listed, keys);

    // A bad token is rejected rather than silently restarting the listing.
    let bad = f
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .continuation_token("not-a-token")
        .send()
        .await;
    assert_eq!(
        crate::common::failure(bad),
        (400, "InvalidArgument".to_owned())
    );
}
