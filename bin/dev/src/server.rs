//! `callflow dev` as a running HTTP/1.1 server: the stage under `/{stage}`, the local JWKS at
//! `/.well-known/jwks.json`, graceful shutdown.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use callflow_core::{AcceptanceWindow, IndexKey, TokenSigner};
use callflow_event_retriever::EventRetriever;
use callflow_event_storer::EventStorer;
use callflow_openapi::LambdaName;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::access_log::{AccessLogSink, StdoutSink};
use crate::authorize::TokenAuthorizer;
use crate::gateway::{
    Gateway, GatewayError, GatewayRequest, GatewayResponse, MAX_PAYLOAD_BYTES, RequestBody,
    spec_authorizer_ttl,
};
use crate::integration::Integration;
use crate::lambda_process::{
    EmbeddedEndpoint, LambdaMode, LocalValues, ProcessAuthorizer, ProcessError, ProcessIntegration,
    ProcessLambdas,
};
use crate::local_auth::{LocalAuthError, LocalIdentity, continuation_key, index_key};
use crate::policy_cache::AuthorizerTtl;
use crate::storage::{EmbeddedFsync, Storage, StorageChoice, StorageError};
use crate::throttle::ThrottleLimits;
use crate::usage_plan::UsagePlans;

/// The port `callflow dev` listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 3000;
/// The data directory unless told otherwise.
pub const DEFAULT_DATA_DIR: &str = ".callflow";
/// Path of the local JWKS document.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// How long shutdown waits for in-flight requests.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Limits that keep slow or oversized clients from tying up the server (slowloris, huge
/// headers). Requests breaking them never reach the stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Time a client has to send a complete request head, counted from when the server
    /// starts waiting for it (also on an idle keep-alive connection). After it the
    /// connection is closed without a response. Default: 10 s.
    pub header_read_timeout: Duration,
    /// Time a client has to send the whole body once the head is read. After it the
    /// connection is closed without a response. Default: 30 s.
    pub body_read_timeout: Duration,
    /// Largest request head (request line and all headers), in bytes; larger heads are
    /// answered `431 Request Header Fields Too Large` and the connection is closed. API
    /// Gateway allows 10 KiB of request line and header values; the default, 16 KiB, leaves
    /// room for header names. Default: 16384.
    pub max_header_bytes: usize,
    /// Most header fields in one request; more are answered 431. Default: 100.
    pub max_headers: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            max_header_bytes: 16 * 1024,
            max_headers: 100,
        }
    }
}

/// How to run `callflow dev`.
#[derive(Clone)]
pub struct DevConfig {
    /// Listen address. Default: `127.0.0.1:3000`.
    pub bind: SocketAddr,
    /// Keys and embedded store files. Default: `./.callflow`.
    pub data_dir: PathBuf,
    /// Where events go. Default: embedded.
    pub storage: StorageChoice,
    /// How the embedded store syncs acknowledged writes. Default: group commit.
    pub embedded_fsync: EmbeddedFsync,
    /// Authorizer result TTL. Default: the spec's (300 s).
    pub authorizer_ttl: AuthorizerTtl,
    /// Stage throttling. Default: the deployed stage's (burst 200, 100/s).
    pub throttle: ThrottleLimits,
    /// Per-client usage plans, keyed by the authorizer's `usageIdentifierKey`; `None`
    /// meters no client. Default: [`UsagePlans::default`] (the default plan of
    /// `callflow.toml`'s defaults; `callflow dev` reads the synthesized stack's plans).
    pub usage_plans: Option<UsagePlans>,
    /// Access log destination. Default: stdout.
    pub access_log: Arc<dyn AccessLogSink>,
    /// How the handlers run. Default: in-process (the library's default; the `callflow`
    /// command defaults to process mode).
    pub lambda: LambdaMode,
    /// Event timestamps the storer accepts around receipt, when set: replaces the stack's
    /// `EVENT_MAX_AGE_SECONDS` / `EVENT_MAX_FUTURE_SECONDS` in process mode. Default: unset, so
    /// a handler process gets the stack's window and the in-process storer the handler's
    /// default ([`AcceptanceWindow::default`], the same values; a test ties them).
    pub acceptance_window: Option<AcceptanceWindow>,
}

impl Default for DevConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT)),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            storage: StorageChoice::Embedded,
            embedded_fsync: EmbeddedFsync::default(),
            authorizer_ttl: spec_authorizer_ttl(),
            throttle: ThrottleLimits::default(),
            usage_plans: Some(UsagePlans::default()),
            access_log: Arc::new(StdoutSink),
            lambda: LambdaMode::InProcess,
            acceptance_window: None,
        }
    }
}

/// Starting `callflow dev` failed.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    /// Keys under the data directory.
    #[error(transparent)]
    Auth(#[from] LocalAuthError),
    /// The store.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The gateway.
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    /// Process mode.
    #[error(transparent)]
    Lambda(#[from] ProcessError),
    /// The listener.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// The running service.
pub struct DevServer {
    local_addr: SocketAddr,
    identity: Arc<LocalIdentity>,
    gateway: Arc<Gateway>,
    storage: Option<Storage>,
    lambdas: Option<Arc<ProcessLambdas>>,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for DevServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevServer")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl DevServer {
    /// Loads or creates the keys, opens the store, wires the handlers into the stage and
    /// starts listening with the default [`ConnectionLimits`]. Must run inside a Tokio
    /// runtime.
    pub async fn start(config: DevConfig) -> Result<Self, DevError> {
        Self::start_with_limits(config, ConnectionLimits::default()).await
    }

    /// [`DevServer::start`] with explicit connection limits.
    pub async fn start_with_limits(
        config: DevConfig,
        limits: ConnectionLimits,
    ) -> Result<Self, DevError> {
        let identity = Arc::new(LocalIdentity::load_or_create(&config.data_dir)?);
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|source| DevError::Bind {
                addr: config.bind,
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| DevError::Bind {
            addr: config.bind,
            source,
        })?;
        let signing_key = continuation_key(&config.data_dir)?;
        let signer = TokenSigner::new(signing_key.clone());
        let index_key_text = index_key(&config.data_dir)?;
        let index_key =
            IndexKey::new(index_key_text.clone()).map_err(|e| LocalAuthError::InvalidKey {
                path: config.data_dir.join("auth").join("index-key"),
                message: e.to_string(),
            })?;
        let storage = Storage::open(
            &config.storage,
            &config.data_dir,
            &index_key,
            config.embedded_fsync,
        )
        .await?;
        let events = storage.event_store();
        let storer: Arc<dyn Integration> = Arc::new(EventStorer::new(
            events.clone(),
            "callflow-dev",
            config.acceptance_window.unwrap_or_default(),
        ));
        let retriever: Arc<dyn Integration> =
            Arc::new(EventRetriever::new(events, signer, "callflow-dev"));
        let mut authorizer: Arc<dyn TokenAuthorizer> = Arc::new(identity.authorizer()?);
        let mut handlers = vec![
            (LambdaName::EventStorer, storer),
            (LambdaName::EventRetriever, retriever),
        ];
        let mut lambdas = None;
        if let LambdaMode::Process(options) = &config.lambda {
            let values = LocalValues {
                storage: config.storage.clone(),
                embedded: storage.embedded().map(|store| EmbeddedEndpoint {
                    url: store.endpoint(),
                    access_key: store.access_key().to_owned(),
                    secret_key: store.secret_key().to_owned(),
                }),
                jwks_url: format!("http://{local_addr}{JWKS_PATH}"),
                token_signing_key: String::from_utf8_lossy(&signing_key).into_owned(),
                index_hash_key: String::from_utf8_lossy(&index_key_text).into_owned(),
                acceptance_window: config.acceptance_window,
            };
            let started = Arc::new(ProcessLambdas::start(options, &values.overrides())?);
            authorizer = Arc::new(ProcessAuthorizer(started.authorizer().clone()));
            for (lambda, integration) in &mut handlers {
                if let Some(pool) = started.handler(*lambda) {
                    *integration = Arc::new(ProcessIntegration(pool.clone()));
                }
            }
            lambdas = Some(started);
        }
        let mut builder = Gateway::builder(authorizer);
        for (lambda, integration) in handlers {
            builder = builder.integration(lambda, integration);
        }
        let gateway = builder
            .authorizer_ttl(config.authorizer_ttl)
            .throttle(config.throttle)
            .usage_plans(config.usage_plans)
            .access_log(config.access_log)
            .build()?;
        let gateway = Arc::new(gateway);
        let (stop, stop_rx) = watch::channel(false);
        let app = App {
            gateway: Arc::clone(&gateway),
            jwks: Bytes::from(identity.jwks_json()),
            limits,
        };
        let server = tokio::spawn(serve(listener, Arc::new(app), stop_rx));
        Ok(Self {
            local_addr,
            identity,
            gateway,
            storage: Some(storage),
            lambdas,
            stop,
            server: Some(server),
        })
    }

    /// The bound address (the real port when started with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// The stage URL clients call: `http://127.0.0.1:PORT/v1`.
    pub fn stage_url(&self) -> String {
        format!("{}/{}", self.base_url(), self.gateway.stage())
    }

    /// The JWKS URL.
    pub fn jwks_url(&self) -> String {
        format!("{}{JWKS_PATH}", self.base_url())
    }

    /// The signing identity (to mint tokens).
    pub fn identity(&self) -> &LocalIdentity {
        &self.identity
    }

    /// The stage.
    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }

    /// The storage in use.
    pub fn storage(&self) -> Option<&Storage> {
        self.storage.as_ref()
    }

    /// The function processes, in process mode.
    pub fn lambdas(&self) -> Option<&ProcessLambdas> {
        self.lambdas.as_deref()
    }

    /// Stops accepting, lets in-flight requests finish (at most 10 s), stops the function
    /// processes, then stops the store:
    /// every acknowledged event is on disk when this returns.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(server) = self.server.take()
            && let Err(e) = server.await
        {
            tracing::warn!(error = %e, "dev server task failed");
        }
        if let Some(lambdas) = self.lambdas.take() {
            lambdas.shutdown().await;
        }
        if let Some(storage) = self.storage.take() {
            storage.shutdown().await;
        }
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

struct App {
    gateway: Arc<Gateway>,
    jwks: Bytes,
    limits: ConnectionLimits,
}

/// The client did not send its body in time: the connection is dropped without a response.
#[derive(Debug, thiserror::Error)]
#[error("request body not received within {0:?}")]
struct BodyTimeout(Duration);

async fn serve(listener: TcpListener, app: Arc<App>, mut stop: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                connections.spawn(serve_connection(stream, peer, Arc::clone(&app), stop.clone()));
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
        tracing::warn!("in-flight requests did not finish in time; aborting them");
        connections.abort_all();
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    app: Arc<App>,
    mut stop: watch::Receiver<bool>,
) {
    let limits = app.limits;
    let service = service_fn(move |request| {
        let app = Arc::clone(&app);
        async move { app.respond(request, peer).await }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(limits.max_header_bytes)
        .max_headers(limits.max_headers)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        _ = stop.changed() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

impl App {
    async fn respond(
        &self,
        request: Request<Incoming>,
        peer: SocketAddr,
    ) -> Result<Response<Full<Bytes>>, BodyTimeout> {
        if request.uri().path() == JWKS_PATH && request.method() == hyper::Method::GET {
            let mut response = Response::new(Full::new(self.jwks.clone()));
            response.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/json"),
            );
            return Ok(response);
        }
        let (parts, body) = request.into_parts();
        let collected = tokio::time::timeout(
            self.limits.body_read_timeout,
            Limited::new(body, MAX_PAYLOAD_BYTES).collect(),
        )
        .await
        .map_err(|_| BodyTimeout(self.limits.body_read_timeout))?;
        let body = match collected {
            Ok(collected) => RequestBody::Complete(collected.to_bytes().to_vec()),
            Err(_) => RequestBody::TooLarge,
        };
        let gateway_request = GatewayRequest {
            method: parts.method,
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
            headers: parts.headers,
            body,
            source_ip: peer.ip(),
            protocol: format!("{:?}", parts.version),
        };
        Ok(to_http(self.gateway.handle(gateway_request).await))
    }
}

fn to_http(response: GatewayResponse) -> Response<Full<Bytes>> {
    let mut http = Response::new(Full::new(Bytes::from(response.body)));
    *http.status_mut() =
        hyper::StatusCode::from_u16(response.status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    *http.headers_mut() = response.headers;
    http
}
