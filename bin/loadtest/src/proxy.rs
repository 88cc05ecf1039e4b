//! The fault-injecting HTTP proxy in front of an S3-compatible store.
//!
//! Requests keep their `Host` header, so SigV4 signatures made for the proxy's address verify
//! at the store. Each client connection gets its own upstream connection (opened lazily), so
//! the store sees the client's connection reuse.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::fault_plan::{Fault, FaultPlan, RequestClass};

/// Counts of what the proxy saw and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultStats {
    /// Requests received, per class.
    pub requests: BTreeMap<RequestClass, u64>,
    /// Faults injected, per (class, fault).
    pub injected: BTreeMap<(RequestClass, Fault), u64>,
    /// Requests the store could not be reached for (answered by a reset).
    pub upstream_errors: u64,
}

impl FaultStats {
    /// All requests received.
    pub fn total_requests(&self) -> u64 {
        self.requests.values().sum()
    }

    /// Injected faults that made an attempt fail (not counting added latency).
    pub fn total_failures(&self) -> u64 {
        self.injected
            .iter()
            .filter(|((_, f), _)| f.is_failure())
            .map(|(_, n)| n)
            .sum()
    }

    /// Requests of the storage classes (PutObject, GetObject, ListObjects).
    pub fn storage_requests(&self) -> u64 {
        self.requests
            .iter()
            .filter(|(c, _)| **c != RequestClass::Other)
            .map(|(_, n)| n)
            .sum()
    }
}

impl std::fmt::Display for FaultStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total = self.storage_requests().max(1);
        writeln!(
            f,
            "proxy: {} storage requests, {} failed by injection ({:.1}%), {} upstream errors",
            self.storage_requests(),
            self.total_failures(),
            100.0 * self.total_failures() as f64 / total as f64,
            self.upstream_errors
        )?;
        for ((class, fault), n) in &self.injected {
            writeln!(f, "  {:<12} {:<22} {n}", class.name(), fault.name())?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct Counters {
    requests: Mutex<BTreeMap<RequestClass, u64>>,
    injected: Mutex<BTreeMap<(RequestClass, Fault), u64>>,
    upstream_errors: AtomicU64,
}

struct Shared {
    upstream: SocketAddr,
    plan: FaultPlan,
    enabled: AtomicBool,
    counters: Counters,
}

impl Shared {
    fn decide(&self, class: RequestClass, key: &str) -> Option<Fault> {
        *lock(&self.counters.requests).entry(class).or_default() += 1;
        if !self.enabled.load(Ordering::Relaxed) {
            return None;
        }
        let fault = self.plan.decide(class, key)?;
        *lock(&self.counters.injected)
            .entry((class, fault))
            .or_default() += 1;
        Some(fault)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running fault proxy on `127.0.0.1`.
pub struct FaultProxy {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("local_addr", &self.local_addr)
            .field("upstream", &self.shared.upstream)
            .finish_non_exhaustive()
    }
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream` applying `plan` (enabled).
    pub async fn start(upstream: SocketAddr, plan: FaultPlan) -> std::io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        let local_addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            plan,
            enabled: AtomicBool::new(true),
            counters: Counters::default(),
        });
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared), stop_rx));
        Ok(Self {
            local_addr,
            shared,
            stop,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`: the S3 endpoint clients use.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Turns fault injection on or off (requests are still forwarded and counted).
    pub fn set_enabled(&self, enabled: bool) {
        self.shared.enabled.store(enabled, Ordering::Relaxed);
    }

    /// What the proxy has seen and done so far.
    pub fn stats(&self) -> FaultStats {
        FaultStats {
            requests: lock(&self.shared.counters.requests).clone(),
            injected: lock(&self.shared.counters.injected).clone(),
            upstream_errors: self.shared.counters.upstream_errors.load(Ordering::Relaxed),
        }
    }

    /// Stops accepting connections (open ones end with their clients).
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(serve_connection(stream, Arc::clone(&shared)));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "fault proxy: accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            _ = stop.changed() => break,
        }
    }
}

/// A client connection: the reset flag and the lazily opened upstream connection.
struct Connection {
    shared: Arc<Shared>,
    reset: Arc<AtomicBool>,
    upstream: tokio::sync::Mutex<Option<SendRequest<Full<Bytes>>>>,
}

/// The request was aborted on purpose (the connection is reset instead of answered).
#[derive(Debug, thiserror::Error)]
#[error("fault proxy: connection reset ({0})")]
struct Aborted(&'static str);

async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    let reset = Arc::new(AtomicBool::new(false));
    let connection = Arc::new(Connection {
        shared,
        reset: Arc::clone(&reset),
        upstream: tokio::sync::Mutex::new(None),
    });
    let io = TokioIo::new(ResettableStream {
        inner: stream,
        reset,
    });
    let service = hyper::service::service_fn(move |request| {
        let connection = Arc::clone(&connection);
        async move { connection.handle(request).await }
    });
    if let Err(e) = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await
    {
        tracing::debug!(error = %e, "fault proxy: connection ended");
    }
}

impl Connection {
    async fn handle(&self, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Aborted> {
        let class = RequestClass::of(
            request.method(),
            request.uri().path(),
            request.uri().query(),
        );
        // Path-style: `/<bucket>/<key>`.
        let key = request
            .uri()
            .path()
            .trim_start_matches('/')
            .split_once('/')
            .map_or("", |(_, key)| key);
        let fault = self.shared.decide(class, key);
        let (parts, body) = request.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|_| Aborted("request body"))?
            .to_bytes();
        let forward = Request::from_parts(parts, Full::new(body));
        let mix = self.shared.plan.mix(class).unwrap_or_default();
        match fault {
            None => self.forward(forward).await,
            Some(Fault::Latency) => {
                tokio::time::sleep(mix.latency).await;
                self.forward(forward).await
            }
            Some(Fault::SlowDown) => Ok(s3_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "SlowDown",
                "Please reduce your request rate. (injected fault)",
            )),
            Some(Fault::InternalError) => Ok(s3_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "We encountered an internal error. Please try again. (injected fault)",
            )),
            Some(Fault::ResetBeforeForward) => self.abort("before forwarding"),
            Some(Fault::ResetAfterForward) => {
                // The store applies the request; its answer is thrown away.
                let _ = self.forward(forward).await;
                self.abort("after forwarding")
            }
            Some(Fault::Stall) => {
                let late = Arc::clone(&self.shared);
                let hold = mix.stall_for;
                tokio::spawn(async move {
                    tokio::time::sleep(hold).await;
                    if deliver_on_new_connection(late.upstream, forward)
                        .await
                        .is_err()
                    {
                        late.counters
                            .upstream_errors
                            .fetch_add(1, Ordering::Relaxed);
                    }
                });
                tokio::time::sleep(hold).await;
                self.abort("stalled")
            }
        }
    }

    fn abort(&self, why: &'static str) -> Result<Response<Full<Bytes>>, Aborted> {
        self.reset.store(true, Ordering::Relaxed);
        Err(Aborted(why))
    }

    async fn forward(
        &self,
        request: Request<Full<Bytes>>,
    ) -> Result<Response<Full<Bytes>>, Aborted> {
        let mut upstream = self.upstream.lock().await;
        let sender = match upstream.take() {
            Some(s) if !s.is_closed() => s,
            _ => match connect(self.shared.upstream).await {
                Ok(s) => s,
                Err(_) => {
                    self.note_upstream_error();
                    return self.abort("upstream unreachable");
                }
            },
        };
        let mut sender = sender;
        let result = match sender.ready().await {
            Ok(()) => send(&mut sender, request).await,
            Err(_) => Err(()),
        };
        *upstream = Some(sender);
        match result {
            Ok(response) => Ok(response),
            Err(()) => {
                *upstream = None;
                self.note_upstream_error();
                self.abort("upstream failed")
            }
        }
    }

    fn note_upstream_error(&self) {
        self.shared
            .counters
            .upstream_errors
            .fetch_add(1, Ordering::Relaxed);
    }
}

async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>, ()> {
    let stream = TcpStream::connect(addr).await.map_err(|_| ())?;
    let _ = stream.set_nodelay(true);
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|_| ())?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

async fn send(
    sender: &mut SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> Result<Response<Full<Bytes>>, ()> {
    let response = sender.send_request(request).await.map_err(|_| ())?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|_| ())?.to_bytes();
    Ok(Response::from_parts(parts, Full::new(body)))
}

async fn deliver_on_new_connection(
    addr: SocketAddr,
    request: Request<Full<Bytes>>,
) -> Result<(), ()> {
    let mut sender = connect(addr).await?;
    send(&mut sender, request).await.map(|_| ())
}

fn s3_error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault-proxy</RequestId></Error>"
    );
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/xml"),
    );
    response
}

/// A TCP stream that closes with RST (SO_LINGER 0) when its reset flag is set.
struct ResettableStream {
    inner: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for ResettableStream {
    fn drop(&mut self) {
        if self.reset.load(Ordering::Relaxed) {
            // Linger 0 makes close send RST at once; it cannot block.
            #[allow(deprecated)]
            let _ = self.inner.set_linger(Some(Duration::ZERO));
        }
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
