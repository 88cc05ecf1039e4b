//! Serving the backend over HTTP/1.1 on a TCP listener, and the [`RunningStore`] handle.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use s3s::auth::SimpleAuth;
use s3s::service::{S3Service, S3ServiceBuilder};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tracing::{debug, warn};

use crate::backend::Backend;
use crate::catalog::Catalog;
use crate::config::StoreConfig;
use crate::error::StoreError;
use crate::faults::FaultInjector;
use crate::group_commit::{GroupCommit, GroupCommitStats};
use crate::key_index::IndexStart;
use crate::names::BucketName;
use crate::request_log::RequestLog;

/// How long [`RunningStore::shutdown`] waits for in-flight requests before dropping them.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A store serving S3 on a local socket. Dropping it without [`RunningStore::shutdown`] stops
/// accepting connections in the background.
#[derive(Debug)]
pub struct RunningStore {
    local_addr: SocketAddr,
    access_key: String,
    secret_key: String,
    catalog: Arc<Catalog>,
    log: RequestLog,
    faults: FaultInjector,
    group: Option<Arc<GroupCommit>>,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
    connections: Arc<AtomicUsize>,
}

impl RunningStore {
    /// Opens (or creates) the data dir, indexes existing objects, binds `config.bind` and
    /// serves in a spawned task. Must be called inside a Tokio runtime.
    pub async fn start(config: StoreConfig) -> Result<RunningStore, StoreError> {
        let data_dir = config.data_dir.clone();
        let cache = config.index_cache_bytes;
        let catalog = tokio::task::spawn_blocking(move || Catalog::open(&data_dir, cache))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))??;
        let catalog = Arc::new(catalog);
        let log = RequestLog::with_capacity(config.request_log_capacity);
        let faults = FaultInjector::new(config.fault_seed);
        let group = if config.group_commit && GroupCommit::available() {
            let dir = config.data_dir.clone();
            let group = tokio::task::spawn_blocking(move || GroupCommit::open(&dir))
                .await
                .map_err(|e| StoreError::Task(e.to_string()))?
                .map_err(|source| StoreError::Io {
                    path: config.data_dir.clone(),
                    source,
                })?;
            Some(Arc::new(group))
        } else {
            None
        };
        let backend = Backend::new(
            Arc::clone(&catalog),
            log.clone(),
            faults.clone(),
            group.clone(),
        );
        let mut builder = S3ServiceBuilder::new(backend);
        builder.set_auth(SimpleAuth::from_single(
            config.access_key.as_str(),
            config.secret_key.as_str(),
        ));
        let service = builder.build();

        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|source| StoreError::Bind {
                addr: config.bind,
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| StoreError::Bind {
            addr: config.bind,
            source,
        })?;
        let (stop, stop_rx) = watch::channel(false);
        let connections = Arc::new(AtomicUsize::new(0));
        let server = tokio::spawn(serve(listener, service, stop_rx, Arc::clone(&connections)));
        debug!(%local_addr, data_dir = %config.data_dir.display(), "S3 store listening");
        Ok(RunningStore {
            local_addr,
            access_key: config.access_key,
            secret_key: config.secret_key,
            catalog,
            log,
            faults,
            group,
            stop,
            server: Some(server),
            connections,
        })
    }

    /// How many client connections are open right now (a gauge: clients that pool
    /// connections without bound show up here first).
    pub fn open_connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// The base URL of the store, e.g. `http://127.0.0.1:40123` (path-style addressing).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// The address the store listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The access key requests must be signed with.
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// The secret key requests must be signed with.
    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }

    /// A handle on the log of served requests.
    pub fn request_log(&self) -> RequestLog {
        self.log.clone()
    }

    /// Whether the key index was trusted at start or rebuilt from the object files.
    pub fn index_start(&self) -> IndexStart {
        self.catalog.index_start()
    }

    /// How many object writes shared how many file-system syncs, when group commit is on.
    pub fn group_commit_stats(&self) -> Option<GroupCommitStats> {
        self.group.as_ref().map(|g| g.stats())
    }

    /// A handle to inject faults into served requests.
    pub fn faults(&self) -> FaultInjector {
        self.faults.clone()
    }

    /// Creates bucket `name` unless it exists (not recorded in the request log).
    pub async fn ensure_bucket(&self, name: &str) -> Result<(), StoreError> {
        let name = BucketName::parse(name)
            .ok_or_else(|| StoreError::InvalidBucketName(name.to_owned()))?;
        self.catalog.create_bucket(&name).await.map(|_| ())
    }

    /// Stops accepting connections, lets in-flight requests finish (at most 10 s), then closes
    /// the key index cleanly so the next start on this data dir trusts it instead of
    /// rebuilding it. Every acknowledged write is on disk by then.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(server) = self.server.take()
            && let Err(e) = server.await
        {
            warn!(error = %e, "S3 store server task failed");
        }
        let catalog = Arc::clone(&self.catalog);
        match tokio::task::spawn_blocking(move || catalog.index().close()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                warn!(error = %e, "key index not closed cleanly; the next start rebuilds it")
            }
            Err(e) => warn!(error = %e, "key index close task failed; the next start rebuilds it"),
        }
    }
}

impl Drop for RunningStore {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Accepts connections until `stop` turns true, then drains them.
async fn serve(
    listener: TcpListener,
    service: S3Service,
    mut stop: watch::Receiver<bool>,
    open: Arc<AtomicUsize>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _peer)) => stream,
                    Err(e) => {
                        warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                // Without this, small responses wait for the peer's delayed ACK (~40 ms each).
                if let Err(e) = stream.set_nodelay(true) {
                    warn!(error = %e, "cannot set TCP_NODELAY");
                }
                let counted = OpenConnection::new(Arc::clone(&open));
                let connection = serve_connection(stream, service.clone(), stop.clone());
                connections.spawn(async move {
                    connection.await;
                    drop(counted);
                });
            }
            _ = stop.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        warn!("S3 store shutdown: in-flight requests did not finish in time; aborting them");
        connections.abort_all();
    }
}

/// Counts one open connection in the gauge for as long as it lives.
struct OpenConnection(Arc<AtomicUsize>);

impl OpenConnection {
    fn new(gauge: Arc<AtomicUsize>) -> Self {
        gauge.fetch_add(1, Ordering::Relaxed);
        Self(gauge)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    service: S3Service,
    mut stop: watch::Receiver<bool>,
) {
    let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        _ = stop.changed() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = result {
        debug!(error = %e, "connection ended with an error");
    }
}
