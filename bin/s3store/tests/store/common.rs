//! Shared setup: a store on a fresh temp dir, SDK error inspection.

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use callflow_s3store::{RunningStore, StoreConfig};
use tempfile::TempDir;

pub const BUCKET: &str = "events";

/// A running store with bucket [`BUCKET`], its client and its temp dir (kept alive).
pub struct Fixture {
    pub store: RunningStore,
    pub client: aws_sdk_s3::Client,
    pub dir: TempDir,
}

impl Fixture {
    pub fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    pub async fn put(&self, key: &str, body: &[u8]) -> String {
        self.client
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(ByteStream::from(body.to_vec()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("put {key}: {e:?}"))
            .e_tag
            .unwrap_or_default()
    }

    pub async fn get(&self, key: &str) -> Vec<u8> {
        let out = self
            .client
            .get_object()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("get {key}: {e:?}"));
        out.body
            .collect()
            .await
            .unwrap_or_else(|e| panic!("body of {key}: {e}"))
            .into_bytes()
            .to_vec()
    }
}

pub fn config(dir: &TempDir) -> StoreConfig {
    StoreConfig {
        data_dir: dir.path().join("data"),
        access_key: "test-access".to_owned(),
        secret_key: "test-secret".to_owned(),
        ..StoreConfig::default()
    }
}

pub async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let store = RunningStore::start(config(&dir))
        .await
        .unwrap_or_else(|e| panic!("start: {e}"));
    store
        .ensure_bucket(BUCKET)
        .await
        .unwrap_or_else(|e| panic!("bucket: {e}"));
    let client = store.sdk_client();
    Fixture { store, client, dir }
}

/// HTTP status and S3 error code of a failed SDK call.
pub fn failure<E: ProvideErrorMetadata, T: std::fmt::Debug>(
    result: Result<T, SdkError<E, HttpResponse>>,
) -> (u16, String) {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(err) => {
            let status = err.raw_response().map(|r| r.status().as_u16()).unwrap_or(0);
            let code = err.code().unwrap_or("<none>").to_owned();
            (status, code)
        }
    }
}
