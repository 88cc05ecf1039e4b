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
}
