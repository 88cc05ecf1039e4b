//! An `aws_sdk_s3::Client` wired to a running store (feature `sdk-client`), for tests.

use aws_sdk_s3::config::{BehaviorVersion, Builder, Credentials, Region};

use crate::RunningStore;

impl RunningStore {
    /// SDK configuration for this store: endpoint override, its static credentials,
    /// path-style addressing, region `us-east-1`, SDK default retries. Adjust it (e.g.
    /// `.retry_config(RetryConfig::disabled())`) and build a client with
    /// `aws_sdk_s3::Client::from_conf`.
    pub fn sdk_config_builder(&self) -> Builder {
        aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(self.endpoint())
            .credentials_provider(Credentials::new(
                self.access_key(),
                self.secret_key(),
                None,
                None,
                "callflow-s3store",
            ))
            .force_path_style(true)
    }

    /// A client for this store (see [`RunningStore::sdk_config_builder`]).
    pub fn sdk_client(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(self.sdk_config_builder().build())
    }

    /// Every key of `bucket` under `prefix`, in key order, through the SDK (all pages); for
    /// tests that check what was written. Panics when the store does not answer.
    pub async fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let client = self.sdk_client();
        let mut keys = Vec::new();
        let mut continuation = None;
        loop {
            let out = client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_continuation_token(continuation)
                .send()
                .await
                .expect("the store lists keys");
            keys.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
            continuation = out.next_continuation_token().map(str::to_owned);
            if continuation.is_none() {
                return keys;
            }
        }
    }
}
