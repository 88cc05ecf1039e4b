//! Where events are stored: the embedded S3-compatible store under the data directory, or
//! any S3 endpoint. Either way the handlers talk to it through `aws-sdk-s3`.

use std::path::Path;
use std::time::Duration;

use aws_sdk_s3::config::{Region, SharedHttpClient};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use callflow_core::{BucketName, EventStore, IndexKey};
use callflow_s3store::{RunningStore, StoreConfig};

/// The bucket of the embedded store.
pub const DEV_BUCKET: &str = "callflow-events";

/// Idle connections the handlers keep to one S3 endpoint. Every handler runs in this process
/// and a query reads up to 16 objects at once, so bursts open many connections; without a
/// bound the pool keeps the largest burst it ever saw (hundreds of sockets, each with its
/// buffers on both ends when the store is embedded), and the server's memory grows with it.
pub const POOL_MAX_IDLE_PER_ENDPOINT: usize = 32;

/// How long an idle pooled connection is kept before it is closed.
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(20);

/// The SDK's HTTP client with a bounded connection pool (see [`POOL_MAX_IDLE_PER_ENDPOINT`]).
fn bounded_http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .pool_max_idle_per_host(POOL_MAX_IDLE_PER_ENDPOINT)
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .build_https()
}

/// Which store to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageChoice {
    /// The embedded store, persisting under `<data_dir>/s3`.
    Embedded,
    /// An S3-compatible server (MinIO, moto, ...): path-style addressing, credentials and
    /// region from the default AWS chain (region `us-east-1` when none is set); the bucket is
    /// created when missing.
    Endpoint {
        /// `http(s)://host:port`.
        url: String,
        /// The bucket.
        bucket: BucketName,
    },
    /// Real Amazon S3 with the default AWS credential chain; the bucket must exist.
    Aws {
        /// The bucket.
        bucket: BucketName,
    },
}

/// How the embedded store makes each acknowledged PUT durable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EmbeddedFsync {
    /// Concurrent PUTs share file-system syncs (group commit; the default where the platform
    /// has `syncfs`, else the same as [`EmbeddedFsync::PerObject`]).
    #[default]
    Group,
    /// Each PUT syncs its own file and directory (the store's behaviour before group commit;
    /// kept to compare against).
    PerObject,
}

/// Starting the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The embedded store did not start.
    #[error("embedded S3 store: {0}")]
    Embedded(#[from] callflow_s3store::StoreError),
    /// The bucket name is invalid.
    #[error("bucket: {0}")]
    Bucket(String),
}

/// The running storage.
#[derive(Debug)]
pub struct Storage {
    events: EventStore,
    embedded: Option<RunningStore>,
    description: String,
}

impl Storage {
    /// Opens the chosen store (starting the embedded one under `<data_dir>/s3`, syncing as
    /// `fsync` says); `index_key` keys the by-type index's party digests.
    pub async fn open(
        choice: &StorageChoice,
        data_dir: &Path,
        index_key: &IndexKey,
        fsync: EmbeddedFsync,
    ) -> Result<Self, StorageError> {
        match choice {
            StorageChoice::Embedded => {
                // The request log is a test facility; a long-running server keeps none, so its
                // memory stays flat under load.
                let config = StoreConfig {
                    request_log_capacity: 0,
                    group_commit: fsync == EmbeddedFsync::Group
                        && StoreConfig::default().group_commit,
                    ..StoreConfig::new(data_dir.join("s3"))
                };
                let store = RunningStore::start(config).await?;
                store.ensure_bucket(DEV_BUCKET).await?;
                let bucket = BucketName::parse(DEV_BUCKET).map_err(StorageError::Bucket)?;
                let client = aws_sdk_s3::Client::from_conf(
                    store
                        .sdk_config_builder()
                        .http_client(bounded_http_client())
                        .build(),
                );
                let description = format!(
                    "embedded S3 store at {} (bucket {DEV_BUCKET}, files under {})",
                    store.endpoint(),
                    data_dir.join("s3").display()
                );
                Ok(Self {
                    events: EventStore::new(client, bucket, index_key.clone()),
                    embedded: Some(store),
                    description,
                })
            }
            StorageChoice::Endpoint { url, bucket } => {
                let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
                    .load()
                    .await;
                let mut builder = aws_sdk_s3::config::Builder::from(&shared)
                    .endpoint_url(url)
                    .force_path_style(true)
                    .http_client(bounded_http_client());
                if shared.region().is_none() {
                    builder = builder.region(Region::new("us-east-1"));
                }
                let client = aws_sdk_s3::Client::from_conf(builder.build());
                if client
                    .head_bucket()
                    .bucket(bucket.as_str())
                    .send()
                    .await
                    .is_err()
                    && let Err(e) = client.create_bucket().bucket(bucket.as_str()).send().await
                {
                    tracing::warn!(error = %e, bucket = bucket.as_str(), "could not create the bucket");
                }
                Ok(Self {
                    events: EventStore::new(client, bucket.clone(), index_key.clone()),
                    embedded: None,
                    description: format!("S3 endpoint {url} (bucket {})", bucket.as_str()),
                })
            }
            StorageChoice::Aws { bucket } => {
                let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
                    .load()
                    .await;
                let client = aws_sdk_s3::Client::new(&shared);
                Ok(Self {
                    events: EventStore::new(client, bucket.clone(), index_key.clone()),
                    embedded: None,
                    description: format!("Amazon S3 (bucket {})", bucket.as_str()),
                })
            }
        }
    }

    /// The event store the handlers use.
    pub fn event_store(&self) -> EventStore {
        self.events.clone()
    }

    /// The embedded store, when it is the one in use.
    pub fn embedded(&self) -> Option<&RunningStore> {
        self.embedded.as_ref()
    }

    /// One line saying where events go.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Stops the embedded store after its in-flight requests (every acknowledged write is on
    /// disk when this returns).
    pub async fn shutdown(self) {
        if let Some(store) = self.embedded {
            store.shutdown().await;
        }
    }
}
